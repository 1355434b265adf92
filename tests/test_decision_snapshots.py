"""Decision snapshots: every scenario of tests/scenarios/<program>/<decision>.yaml under every version.

One snapshot per program × version × decision. A change of any decision shows up as a snapshot diff;
accept a meant change with ``pytest --snapshot-update`` and say in the commit which decisions changed.
The policy digest is left out on purpose: editing a comment must not churn every snapshot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from policy_engine import EvaluationError, InputError, NotFoundError, Registry, load_registry
from policy_engine.evaluate import DecisionRequest, decide
from policy_engine.expr.values import parse_timestamp
from policy_engine.source import read_source

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"
REGISTRY = load_registry(ROOT / "policies")


def _scenario_files() -> dict[tuple[str, str], list[dict[str, Any]]]:
    files: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for path in sorted(SCENARIOS.glob("*/*.yaml")):
        data = read_source(path).data
        files[(data["program"], data["decision"])] = list(data["scenarios"])
    return files


SCENARIO_FILES = _scenario_files()


def _combinations(registry: Registry) -> list[tuple[str, str, str]]:
    out = []
    for program, decision in sorted(SCENARIO_FILES):
        for window in registry.program(program).windows:
            if decision in window.policy.decisions:
                out.append((program, window.policy.version, decision))
    return out


def _answer(program: str, version: str, decision: str, scenario: dict[str, Any]) -> dict[str, Any]:
    at = parse_timestamp(scenario.get("at", "2025-01-01T00:00:00+08:00"))
    request = DecisionRequest(program, decision, scenario["input"], at, version)
    try:
        answer = decide(REGISTRY, request).to_json()
    except (InputError, NotFoundError, EvaluationError) as exc:
        return {"name": scenario["name"], "error": {"status": exc.status, "detail": exc.detail}}
    return {
        "name": scenario["name"],
        "result": answer["result"],
        "matched_rules": answer["matched_rules"],
        "reasons": answer["reasons"],
    }


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_program_has_scenarios() -> None:
    programs = {program for program, _ in SCENARIO_FILES}
    assert programs == set(REGISTRY.programs), "each bundled program needs a scenario corpus"


@pytest.mark.parametrize(
    ("program", "version", "decision"),
    _combinations(REGISTRY),
    ids=lambda value: str(value),
)
def test_decision_snapshot(
    program: str, version: str, decision: str, snapshot_json: SnapshotAssertion
) -> None:
    scenarios = SCENARIO_FILES[(program, decision)]
    answers = [_answer(program, version, decision, s) for s in scenarios]
    assert answers == snapshot_json
