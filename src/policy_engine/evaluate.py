"""The interpreter: resolve the version, validate and coerce the input, call the generated function.

Evaluation never parses, reads files or compiles schemas: all of that happened at load.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import DecimalException
from types import TracebackType
from typing import Any, NamedTuple

from policy_engine.compiled import CompiledDecision, CompiledPolicy, GeneratedCode
from policy_engine.decision import Decision, Reason
from policy_engine.errors import EvaluationError, InputError, InputProblem
from policy_engine.expr.values import parse_timestamp, to_json_value
from policy_engine.fast_input import INVALID
from policy_engine.registry import Registry
from policy_engine.schemas import validate_input

__all__ = ("NOT_EVALUATED", "DecisionRequest", "decide", "evaluate")

NOT_EVALUATED = "not evaluated"


class DecisionRequest(NamedTuple):  # immutable, and cheaper to build per request than a frozen dataclass
    """One decision request, as the engine sees it (the server and CLI build it)."""

    program: str
    decision: str
    input: Any
    at: datetime
    """The request time: the client's ``at``, or when the server received the request."""
    version: str | None = None
    explain: bool = False


def decide(registry: Registry, request: DecisionRequest) -> Decision:
    """Resolve the version that governs the request and evaluate it.

    Raises:
        NotFoundError: unknown program, version or decision.
        InputError: the input fails the decision's schema, or no version is in force.
        EvaluationError: the policy failed while evaluating (a policy bug).
    """
    as_of: datetime | None = None
    pointer = "/at"
    if request.version is None:
        latest = _latest_decision(registry, request.program, request.decision)
        path = latest.as_of_path if latest is not None else None
        if path is None:
            as_of = request.at
        else:
            pointer = "/input/" + "/".join(path)
            try:
                as_of = _read_as_of(request.input, path, pointer)
            except InputError:
                # Say what is wrong with the input as a whole, when the schema sees more than the time.
                assert latest is not None
                _validate(latest, request.input)
                raise
    policy, decision = registry.resolve(
        request.program, request.decision, version=request.version, as_of=as_of, as_of_pointer=pointer
    )
    return evaluate(policy, decision, request.input, at=request.at, explain=request.explain)


def _latest_decision(registry: Registry, program: str, decision: str) -> CompiledDecision | None:
    for window in reversed(registry.program(program).windows):
        compiled = window.policy.decisions.get(decision)
        if compiled is not None:
            return compiled
    return None  # unknown decision: resolve() says so


def _validate(decision: CompiledDecision, data: Any) -> None:
    if not isinstance(data, Mapping):
        raise InputError([InputProblem("/input", "must be an object")])
    problems = validate_input(decision.input_validator, data)
    if problems:
        raise InputError(problems)


def _read_as_of(data: Any, path: tuple[str, ...], pointer: str) -> datetime:
    value = data
    for part in path:
        if not isinstance(value, dict | Mapping) or value.get(part) is None:
            raise InputError([InputProblem(pointer, "is required: it decides which policy version applies")])
        value = value[part]
    if not isinstance(value, str):
        raise InputError([InputProblem(pointer, "must be an RFC 3339 timestamp with an offset")])
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InputError([InputProblem(pointer, str(exc))]) from exc


def evaluate(
    policy: CompiledPolicy, decision: CompiledDecision, data: Any, *, at: datetime, explain: bool = False
) -> Decision:
    """Evaluate one decision of one version on raw JSON input (numbers already Decimal)."""
    values = decision.fast_input(data) if decision.fast_input is not None else INVALID
    if values is INVALID:
        _validate(decision, data)
        values = decision.coerce(data)
    values["at"] = at
    trace: dict[Any, Any] = {}
    code = decision.plain
    try:
        if explain:  # the traced function records the conditions; the plain one answers, as without explain
            code = decision.traced
            code.function(values, trace)
            code = decision.plain
        matched, result, reasons = code.function(values)
    except Exception as exc:
        raise _evaluation_error(policy, decision, code, exc) from exc
    rule_ids = tuple(map(decision.rule_ids.__getitem__, matched))
    return Decision(  # by position: a named tuple is built faster so (the order is Decision's)
        policy.program,
        policy.version,
        policy.digest,
        decision.name,
        at,
        policy.tz,
        result,
        rule_ids,
        tuple(map(Reason, rule_ids, reasons)),
        _trace(decision, trace, matched) if explain else None,
    )


def _trace(
    decision: CompiledDecision, recorded: Mapping[Any, Any], matched: tuple[int, ...]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for rule in decision.rules:
        key = ("rule", rule.index)
        if key not in recorded:
            continue
        values = [
            {
                "expr": decision.trace_texts[slot],
                "value": to_json_value(recorded[slot], decision.tz) if slot in recorded else NOT_EVALUATED,
            }
            for slot in rule.trace_slots
        ]
        entry: dict[str, Any] = {"rule": rule.id, "matched": bool(recorded[key])}
        if rule.condition is not None:
            entry["condition"] = rule.condition
        entry["values"] = values
        entries.append(entry)
    if -1 in matched:
        entries.append({"rule": "otherwise", "matched": True, "values": []})
    return entries


def _evaluation_error(
    policy: CompiledPolicy, decision: CompiledDecision, code: GeneratedCode, exc: BaseException
) -> EvaluationError:
    origin = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == code.filename:
            origin = code.origin_of_line(tb.tb_lineno) or origin
        tb = tb.tb_next
    cause = str(exc) or type(exc).__name__
    if isinstance(exc, DecimalException) and exc.args and isinstance(exc.args[0], list):
        cause = ", ".join(getattr(s, "__name__", str(s)) for s in exc.args[0])  # decimal's list of signals
    if type(exc).__name__ not in cause and not cause.startswith("output field"):
        cause = f"{type(exc).__name__}: {cause}"
    label = origin.label if origin is not None else "unknown"
    return EvaluationError(
        program=policy.program,
        version=policy.version,
        decision=decision.name,
        rule=label,
        location=origin.location if origin is not None else None,
        cause=cause,
    )
