"""Decide requests read from a corpus line or a decision-log record, each to be evaluated under two versions.

A corpus is JSON Lines of decide requests: ``{"program"?, "decision", "input", "at"?, "version"?}``. The
``version`` is ignored (the diff names both versions); ``program``, when given, must be the diffed program.
A line that cannot be used becomes a :class:`BadRecord` with a message; it is counted and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policy_engine.errors import InputError
from policy_engine.expr.values import parse_timestamp
from policy_engine.jsonio import loads_strict

__all__ = ("BadRecord", "DiffRequest", "parse_request")

_KNOWN_KEYS = frozenset({"program", "decision", "input", "at", "version", "explain"})


@dataclass(frozen=True)
class DiffRequest:
    """One request to evaluate under both versions."""

    decision: str
    input: Any
    at: datetime
    at_given: bool
    """False when the request had no ``at`` and the run's default time is used."""


@dataclass(frozen=True)
class BadRecord:
    """A corpus line or log record that is not a usable decide request."""

    message: str


def parse_request(text: bytes | str, program: str, default_at: datetime) -> DiffRequest | BadRecord:
    """Read one decide request strictly (the decoder of ``/v1/decide``); never raises for bad data.

    Args:
        text: The JSON text of one request.
        program: The program diffed; a request that names another program is refused.
        default_at: The request time of a request without ``at``.
    """
    try:
        data = loads_strict(text)
    except InputError as exc:
        return BadRecord("; ".join(p.message.removeprefix("body is ") for p in exc.problems))
    except (
        ValueError,
        RecursionError,
    ) as exc:  # defensive: the decoder is meant to turn these into InputError
        return BadRecord(f"not valid JSON: {exc}")
    if not isinstance(data, dict):
        return BadRecord("a decide request must be a JSON object")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        return BadRecord(f"unknown field(s) {', '.join(unknown)} (a decide request has {_keys_text()})")
    named = data.get("program")
    if named is not None and named != program:
        return BadRecord(f"the request is for program {named!r}, not {program!r}")
    decision = data.get("decision")
    if not isinstance(decision, str) or not decision:
        return BadRecord('"decision" is missing or is not a string')
    if "input" not in data:
        return BadRecord('"input" is missing')
    at = data.get("at")
    if at is None:
        return DiffRequest(decision, data["input"], default_at, at_given=False)
    if not isinstance(at, str):
        return BadRecord('"at" must be an RFC 3339 timestamp with an offset')
    try:
        when = parse_timestamp(at)
    except ValueError as exc:
        return BadRecord(f'"at": {exc}')
    return DiffRequest(decision, data["input"], when, at_given=True)


def _keys_text() -> str:
    return ", ".join(sorted(_KNOWN_KEYS))
