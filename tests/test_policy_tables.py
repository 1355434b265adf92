"""Every case of the bundled policy test tables (policies/<program>/tests/*.cases.yaml) as one pytest test.

The same cases ``policy test`` runs; a failure shows the case's file:line:col and what differed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_engine import Registry
from policy_engine.policy_tests import TestCase as PolicyCase
from policy_engine.policy_tests import coverage_gaps, load_test_cases, run_case, run_cases

ROOT = Path(__file__).resolve().parent.parent
CASES, TABLE_ERRORS = load_test_cases(ROOT / "policies")


def test_bundled_test_tables_are_valid() -> None:
    assert not TABLE_ERRORS.has_errors(), TABLE_ERRORS.render()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_case(bundled_registry: Registry, case: PolicyCase) -> None:
    result = run_case(bundled_registry, case)
    assert result.passed, f"{case.location}: {case.id}\n" + "\n".join(result.failures)


def test_bundled_policies_have_no_uncovered_rules(bundled_registry: Registry) -> None:
    """Every rule of every bundled decision is reached by a case, and every decision has a test table."""
    tabled = {(case.program, case.decision) for case in CASES}
    gaps = coverage_gaps(bundled_registry, run_cases(bundled_registry, CASES))
    missing = [
        f"{location}: {label} is not reached by any test"
        for location, label in gaps
        if _decision_of(label) in tabled
    ]
    assert not missing, "\n".join(missing)
    untabled = sorted({_decision_of(label) for _, label in gaps} - tabled)
    assert not untabled, "no test table for " + ", ".join(f"{p}/{d}" for p, d in untabled)


def _decision_of(label: str) -> tuple[str, str]:
    """``(program, decision)`` of a coverage label ``"<program> <decision>: rule <id>"``."""
    program, decision = label.split(":", 1)[0].split(" ", 1)
    return program, decision
