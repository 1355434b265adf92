"""Read a decide request body (already strict-JSON-decoded) into the engine's DecisionRequest.

Every shape mistake is a located problem (JSON pointer) so the client sees all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from policy_engine import DecisionRequest, InputError, InputProblem
from policy_engine.errors import did_you_mean
from policy_engine.expr.values import parse_timestamp
from policy_engine.source import escape_pointer_token

__all__ = ("BATCH_LIMIT", "read_batch", "read_decide_request")

BATCH_LIMIT = 1000

_FIELDS = ("program", "decision", "input", "version", "at", "explain")
_TYPED_FIELDS = ("input", "version", "at", "explain")
_ALLOWED = {fields: frozenset(fields) for fields in (_FIELDS, _TYPED_FIELDS)}


def read_decide_request(
    body: Any,
    received_at: datetime,
    *,
    prefix: str = "",
    program: str | None = None,
    decision: str | None = None,
) -> DecisionRequest:
    """The request of ``POST /v1/decide`` (or of the typed route, when program and decision are given).

    Raises:
        InputError: with a pointer (under ``prefix``) for every problem found.
    """
    problems: list[InputProblem] = []
    if not isinstance(body, dict | Mapping):  # dict first: a decoded body is one (ABC checks are slow)
        raise InputError([InputProblem(prefix or "/", "the request must be a JSON object")])
    allowed = _TYPED_FIELDS if program is not None else _FIELDS
    if not _ALLOWED[allowed].issuperset(body):  # one set test in the common case
        for key in body:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                more = f" (did you mean {hint}?)" if hint else f"; the fields are {', '.join(allowed)}"
                pointer = f"{prefix}/{escape_pointer_token(str(key))}"
                problems.append(InputProblem(pointer, f"unknown field{more}"))
    if program is None:
        program = _text(body, "program", prefix, problems, required=True)
        decision = _text(body, "decision", prefix, problems, required=True)
    version = _text(body, "version", prefix, problems, required=False)
    if "input" not in body:
        problems.append(InputProblem(f"{prefix}/input", "is required: the facts to decide on"))
    elif not isinstance(body["input"], dict | Mapping):
        problems.append(InputProblem(f"{prefix}/input", "must be a JSON object"))
    at = _at(body.get("at"), received_at, prefix, problems)
    explain = body.get("explain")
    if explain is None:
        explain = False
    if not isinstance(explain, bool):
        problems.append(InputProblem(f"{prefix}/explain", "must be true or false"))
    if problems:
        raise InputError(problems)
    assert program is not None and decision is not None
    return DecisionRequest(program, decision, body["input"], at, version, explain)


def _at(raw: Any, received_at: datetime, prefix: str, problems: list[InputProblem]) -> datetime:
    if raw is None:
        return received_at
    if not isinstance(raw, str):
        problems.append(InputProblem(f"{prefix}/at", "must be an RFC 3339 timestamp with an offset"))
        return received_at
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        problems.append(InputProblem(f"{prefix}/at", str(exc)))
        return received_at


def _text(
    body: Mapping[str, Any], key: str, prefix: str, problems: list[InputProblem], *, required: bool
) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            problems.append(InputProblem(f"{prefix}/{key}", "is required"))
        return None
    if not isinstance(value, str) or not value:
        problems.append(InputProblem(f"{prefix}/{key}", "must be a non-empty string"))
        return None
    return value


def read_batch(body: Any) -> list[Any]:
    """The items of ``POST /v1/decide/batch``.

    Raises:
        InputError: when the body is not ``{"requests": [...]}`` with 1 to 1,000 items.
    """
    if not isinstance(body, Mapping):
        raise InputError([InputProblem("/", "the request must be a JSON object with a requests list")])
    extra = [k for k in body if k != "requests"]
    if extra:
        raise InputError([InputProblem(f"/{k}", "unknown field; the only field is requests") for k in extra])
    items = body.get("requests")
    if not isinstance(items, list):
        raise InputError([InputProblem("/requests", "is required: a list of decide requests")])
    if not items:
        raise InputError([InputProblem("/requests", "must hold at least one decide request")])
    if len(items) > BATCH_LIMIT:
        raise InputError(
            [InputProblem("/requests", f"holds {len(items)} requests; at most {BATCH_LIMIT} are accepted")]
        )
    return items
