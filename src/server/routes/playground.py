"""The playground: a browser page to try decisions, its static assets, and example inputs from policy tests.

``GET /playground`` is a plain HTML page whose script and style sheet the app serves itself from
``server/playground/`` at ``/playground/static/`` (no CDN, no network: the page's Content-Security-Policy
allows nothing but this origin). The page only calls the public API (``/v1/programs``, ``/v1/decide``) and
``GET /v1/programs/{program}/versions/{version}/decisions/{decision}/examples``: the inputs of the policy
test tables (``policies/<program>/tests/*.cases.yaml``) that the version decides without error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from policy_engine import CompiledPolicy, NotFoundError
from policy_engine.compiled import CompiledDecision
from policy_engine.expr.values import format_timestamp, parse_timestamp
from policy_engine.policy_tests import TestCase, case_request_time, load_test_cases
from policy_engine.registry import ProgramVersions, shown_name
from policy_engine.schemas import validate_input
from server.http import parts
from server.problems import Problem

__all__ = ("MAX_EXAMPLES", "ROUTES", "STATIC_DIR")

STATIC_DIR = Path(__file__).resolve().parent.parent / "playground"
"""The page, its script and its style sheet (package data of ``server``)."""

MAX_EXAMPLES = 20

_EXAMPLES_ENCODER = msgspec.json.Encoder(decimal_format="number")
"""Example inputs keep the numbers of the tables as JSON numbers (money may be a number or a string)."""

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class _Table:
    fingerprint: tuple[int, int]
    cases: tuple[TestCase, ...]


_tables: dict[Path, _Table] = {}
_tables_lock = threading.Lock()


def _cases_of_table(policy_dir: Path, path: Path) -> tuple[TestCase, ...]:
    """The cases of one test table, read again only when the file changed; none when it has errors."""
    stat = path.stat()
    fingerprint = (stat.st_mtime_ns, stat.st_size)
    with _tables_lock:
        cached = _tables.get(path)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached.cases
    cases, _errors = load_test_cases(policy_dir, [path])  # a broken table gives no examples, not a 500
    table = _Table(fingerprint, tuple(cases))
    with _tables_lock:
        _tables[path] = table
    return table.cases


def _tables_of(policy_dir: Path, program: str) -> list[Path]:
    own = sorted(p for p in (policy_dir / program / "tests").glob("*.cases.yaml") if p.is_file())
    return own or sorted(p for p in policy_dir.glob("*/tests/*.cases.yaml") if p.is_file())


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _latest_decision(versions: ProgramVersions, decision: str) -> CompiledDecision | None:
    for window in reversed(versions.windows):
        compiled = window.policy.decisions.get(decision)
        if compiled is not None:
            return compiled
    return None


def _request_time(case: TestCase, versions: ProgramVersions) -> datetime:
    """The ``at`` the policy test runner uses for a case; a table's bad ``at`` falls back, never fails."""
    try:
        return case_request_time(case, versions)
    except ValueError:
        return versions.latest.effective_from


def _case_version(case: TestCase, versions: ProgramVersions, latest: CompiledDecision) -> str | None:
    """The version the test runner decides a case with: the one named, else the one in force."""
    if case.version is not None:
        return str(case.version)
    at = _request_time(case, versions)
    as_of: datetime | None = at
    if latest.as_of_path is not None:
        value: Any = case.input
        for part in latest.as_of_path:
            value = value.get(part) if isinstance(value, dict) else None
        as_of = _timestamp(value)
    policy = versions.in_force(as_of) if as_of is not None else None
    return policy.version if policy is not None else None


def _numbers(value: Any) -> Any:
    """Numbers of a YAML table (Decimals) as JSON numbers: integral ones as integers, as schemas want."""
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    return value


def _example(case: TestCase, versions: ProgramVersions, latest: CompiledDecision) -> dict[str, Any]:
    example: dict[str, Any] = {"name": case.name, "input": _numbers(case.input)}
    if case.at is not None:
        given = _timestamp(case.at)
        example["at"] = (
            format_timestamp(given, latest.tz) if isinstance(case.at, datetime) and given else case.at
        )
    elif latest.as_of_path is None:  # decided by request time: give the time the test runner uses
        example["at"] = format_timestamp(_request_time(case, versions), latest.tz)
    return example


def examples_for(
    policy_dir: Path, versions: ProgramVersions, policy: CompiledPolicy, decision: str
) -> list[dict[str, Any]]:
    """The valid test cases of one decision as examples for one version: at most ``MAX_EXAMPLES``.

    A case is valid when it expects an answer (no ``error``) and its input passes the version's input
    schema. The cases the test runner decides with this very version come first; then, to fill the list,
    the valid cases written for other versions.
    """
    compiled = policy.decisions[decision]
    latest = _latest_decision(versions, decision) or compiled
    own: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for path in _tables_of(policy_dir, versions.program):
        for case in _cases_of_table(policy_dir, path):
            if case.program != versions.program or case.decision != decision or "error" in case.expect:
                continue
            if not isinstance(case.input, dict) or validate_input(compiled.input_validator, case.input):
                continue
            mine = _case_version(case, versions, latest) == policy.version
            (own if mine else others).append(_example(case, versions, latest))
            if len(own) >= MAX_EXAMPLES:
                return own
    return (own + others)[:MAX_EXAMPLES]


def _page_bytes() -> bytes:
    return (STATIC_DIR / "index.html").read_bytes()


@get("/playground", include_in_schema=False)
async def playground_page() -> Response[bytes]:
    """The playground page (its assets are under /playground/static/)."""
    return Response(
        content=_page_bytes(),
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-cache"},
    )


@get(
    "/v1/programs/{program:str}/versions/{version:str}/decisions/{decision:str}/examples",
    include_in_schema=False,
    sync_to_thread=True,
)
def decision_examples(
    request: Request[Any, Any, Any], program: FromPath[str], version: FromPath[str], decision: FromPath[str]
) -> Response[bytes]:
    """Example inputs of one decision of one version, from the program's policy test tables."""
    app = parts(request)
    registry = app.service.registry()
    try:
        policy = registry.policy(program, version)
    except NotFoundError as exc:
        raise Problem(404, exc.detail) from exc  # a path, not a body: no pointer
    if decision not in policy.decisions:
        known = ", ".join(policy.decisions)
        detail = f"{program} version {version} has no decision {shown_name(decision)} (decisions: {known})"
        raise Problem(404, detail)
    versions = registry.program(program)
    examples = examples_for(app.state.policy_dir, versions, policy, decision)
    return Response(content=_EXAMPLES_ENCODER.encode(examples), media_type="application/json")


_assets = create_static_files_router(
    path="/playground/static", directories=[STATIC_DIR], include_in_schema=False, name="playground-static"
)

ROUTES = [playground_page, decision_examples, _assets]
