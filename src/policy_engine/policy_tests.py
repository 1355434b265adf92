"""Run the PM-written test tables ``policies/<program>/tests/<decision>.cases.yaml`` against a Registry."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from policy_engine.errors import (
    ErrorSet,
    EvaluationError,
    InputError,
    NotFoundError,
    PolicyCompileError,
    PolicyLoadError,
    SourceLocation,
)
from policy_engine.evaluate import DecisionRequest, decide
from policy_engine.expr.values import parse_timestamp
from policy_engine.loader import discover_test_tables, display_path
from policy_engine.model import Where
from policy_engine.registry import ProgramVersions, Registry
from policy_engine.schemas import validate_policy_tests
from policy_engine.source import SourceDocument, read_source

__all__ = (
    "ABSENT",
    "CaseResult",
    "TestCase",
    "TestReport",
    "case_request_time",
    "coverage_gaps",
    "load_test_cases",
    "run_case",
    "run_cases",
)


@dataclass(frozen=True)
class TestCase:
    """One row of a test table, with its defaults merged in."""

    program: str
    decision: str
    name: str
    input: Any
    expect: Mapping[str, Any]
    where: Where
    version: str | None = None
    at: str | None = None

    @property
    def id(self) -> str:
        """``program/decision: name``, the pytest id and the JUnit name."""
        return f"{self.program}/{self.decision}: {self.name}"

    @property
    def location(self) -> SourceLocation:
        """Where the case is written."""
        return self.where.location()


@dataclass
class CaseResult:
    """The outcome of one case."""

    case: TestCase
    failures: list[str] = field(default_factory=list)
    version: str | None = None
    matched_rules: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures


@dataclass
class TestReport:
    """Every case's result, and which rules (by source location) some case reached."""

    results: list[CaseResult] = field(default_factory=list)
    reached: set[tuple[str, str, str, str]] = field(default_factory=set)
    """``(program, version, decision, rule id)`` of every rule that answered some case."""

    @property
    def failed(self) -> list[CaseResult]:
        """The cases that failed."""
        return [r for r in self.results if not r.passed]


ABSENT = "<absent>"
"""Written as a case's input value, removes that field of the defaults (null sets it to null)."""


def _merge(base: Any, patch: Any) -> Any:
    """Deep-merge a case's input over the defaults."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value == ABSENT:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


def _cases_of(doc: SourceDocument) -> list[TestCase]:
    data = doc.data
    defaults = data.get("defaults") or {}
    cases = []
    for index, raw in enumerate(data.get("cases") or ()):
        base_input = defaults.get("input", {})
        cases.append(
            TestCase(
                program=data["program"],
                decision=data["decision"],
                name=str(raw["name"]),
                input=_merge(base_input, raw.get("input", {})),
                expect=raw.get("expect") or {},
                where=Where(doc, f"/cases/{index}"),
                version=raw.get("version", defaults.get("version")),
                at=raw.get("at", defaults.get("at")),
            )
        )
    return cases


def load_test_cases(
    policies_dir: Path, paths: Iterable[Path] | None = None
) -> tuple[list[TestCase], ErrorSet]:
    """Read and check every test table; the cases of the good ones, and the errors of the others."""
    errors = ErrorSet()
    cases: list[TestCase] = []
    for path in paths if paths is not None else discover_test_tables(policies_dir):
        try:
            doc = read_source(path, display=display_path(path))
        except PolicyLoadError as exc:
            errors.extend(exc.errors)
            continue
        if not isinstance(doc.data, dict):
            errors.add(
                PolicyCompileError("not-a-test-table", "a test table is a YAML mapping", doc.location(""))
            )
            continue
        problems = validate_policy_tests(doc)
        if problems:
            errors.extend(problems)
            continue
        cases.extend(_cases_of(doc))
    return cases, errors


def case_request_time(case: TestCase, versions: ProgramVersions) -> datetime:
    """The request time a case is decided at.

    Its ``at``, else its decision's ``as_of`` input field, else the start of the program's latest version
    (the playground and the benchmarks use the same rule).
    """
    if case.at is not None:
        return parse_timestamp(str(case.at))
    for window in reversed(versions.windows):
        decision = window.policy.decisions.get(case.decision)
        path = decision.as_of_path if decision is not None else None
        if path is not None:
            value: Any = case.input
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str):
                try:
                    return parse_timestamp(value)
                except ValueError:
                    break
            break
    return versions.latest.effective_from


def run_case(registry: Registry, case: TestCase) -> CaseResult:
    """Evaluate one case and compare it with its expectations."""
    result = CaseResult(case)
    expect = case.expect
    try:
        at = case_request_time(case, registry.program(case.program))
        request = DecisionRequest(case.program, case.decision, case.input, at, case.version)
        decision = decide(registry, request)
    except (InputError, NotFoundError, EvaluationError) as exc:
        _check_error(result, exc, expect.get("error"))
        return result
    except ValueError as exc:
        result.failures.append(f"the case's at is not a timestamp: {exc}")
        return result
    result.version = decision.version
    result.matched_rules = decision.matched_rules
    if "error" in expect:
        result.failures.append(
            f"expected error {expect['error']}, but the decision answered {decision.result}"
        )
        return result
    compiled = registry.policy(decision.program, decision.version).decisions[decision.decision]
    for problem in compiled.output_validator.iter_errors(decision.result):
        result.failures.append(
            f"result does not match the output schema at {problem.json_path}: {problem.message}"
        )
    for key, want in (expect.get("result") or {}).items():
        got = decision.result.get(key, "<missing>")
        if not _same(want, got):
            result.failures.append(f"result.{key}: expected {_show(want)}, got {_show(got)}")
    if "matched_rules" in expect and list(expect["matched_rules"]) != list(decision.matched_rules):
        result.failures.append(
            f"matched_rules: expected {list(expect['matched_rules'])}, got {list(decision.matched_rules)}"
        )
    messages = [r.message for r in decision.reasons]
    for text in expect.get("reasons") or ():
        if not any(str(text) in m for m in messages):
            result.failures.append(f"no reason contains {str(text)!r}; reasons: {messages}")
    return result


def _check_error(result: CaseResult, exc: InputError | NotFoundError | EvaluationError, want: Any) -> None:
    pointers = [p.pointer for p in exc.problems]
    if want is None:
        result.failures.append(f"unexpected error {exc.status}: {exc.detail}")
        return
    if "status" in want and int(want["status"]) != exc.status:
        result.failures.append(f"error status: expected {want['status']}, got {exc.status} ({exc.detail})")
    if "pointer" in want and want["pointer"] not in pointers:
        result.failures.append(f"error pointer: expected {want['pointer']}, got {pointers} ({exc.detail})")


def _same(want: Any, got: Any) -> bool:
    """Whether a value in ``expect`` matches the answer; numbers in the table match money strings."""
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(map(_same, want, got))
    if isinstance(want, Decimal):
        if isinstance(got, bool) or not isinstance(got, str | int | Decimal):
            return False
        try:
            return Decimal(got) == want
        except InvalidOperation:
            return False
    if want is None:
        return got is None
    return type(want) is type(got) and bool(want == got)


def _show(value: Any) -> str:
    return "null" if value is None else repr(str(value)) if isinstance(value, Decimal) else repr(value)


def run_cases(registry: Registry, cases: Iterable[TestCase]) -> TestReport:
    """Run every case; remember which rules answered."""
    report = TestReport()
    for case in cases:
        result = run_case(registry, case)
        report.results.append(result)
        if result.version is not None:
            for rule in result.matched_rules:
                report.reached.add((case.program, result.version, case.decision, rule))
    return report


def coverage_gaps(registry: Registry, report: TestReport) -> list[tuple[SourceLocation, str]]:
    """Every written rule (and reachable ``otherwise``) that no case reached, by where it is written.

    A rule a later version inherits unchanged is the same rule: reaching it under any version covers it.
    """
    reached_at: set[SourceLocation] = set()
    everything: dict[SourceLocation, str] = {}
    for program, versions in registry.programs.items():
        for window in versions.windows:
            policy = window.policy
            for decision in policy.decisions.values():
                places = [(rule.id, rule.location) for rule in decision.rules]
                if decision.otherwise_location is not None:
                    places.append(("otherwise", decision.otherwise_location))
                for rule_id, location in places:
                    label = f"{program} {decision.name}: rule {rule_id}"
                    everything.setdefault(location, label)
                    if (program, policy.version, decision.name, rule_id) in report.reached:
                        reached_at.add(location)
    return sorted((loc, label) for loc, label in everything.items() if loc not in reached_at)
