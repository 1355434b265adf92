"""Deciding over HTTP, without HTTP: evaluate requests, log them (group commit), count them, replay them.

Routes call this module; it calls the engine. Nothing here reads the wall clock for a decision: the
``at`` of a request is the client's or the time the route received it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from policy_engine import (
    Decision,
    DecisionRequest,
    EvaluationError,
    InputError,
    NotFoundError,
    Registry,
    decide,
    evaluate,
)
from policy_engine.expr.values import parse_timestamp
from policy_engine.jsonio import dumps_exact, loads_strict
from server.ids import new_decision_id
from server.log_store import DecisionLog, DecisionRecord, LogWriteError
from server.logs import DecisionLines
from server.metrics import Metrics
from server.policy_state import PolicyState
from server.problems import Problem, problem_of_engine_error

__all__ = ("DecisionService", "Outcome")

logger = logging.getLogger("server.decisions")

MASK = "***"
_ENCODER = msgspec.json.Encoder()


@dataclass(slots=True)
class Outcome:
    """One evaluated request, before logging: the answer and the record to commit."""

    answer: dict[str, Any]
    body: bytes
    """The answer as JSON, encoded once for the response and the log."""
    record: DecisionRecord
    started: float


class DecisionService:
    """Evaluates decide requests against the policies in force and logs every answer."""

    def __init__(
        self, state: PolicyState, log: DecisionLog, metrics: Metrics, mask_fields: Sequence[str] = ()
    ) -> None:
        self.state = state
        self.log = log
        self.metrics = metrics
        self.mask_paths = tuple(tuple(f.split(".")) for f in mask_fields)
        self.lines = DecisionLines()

    def registry(self) -> Registry:
        """The registry in force; 503 while none is loaded."""
        registry = self.state.registry
        if registry is None:
            raise Problem(503, "policies are not loaded yet; see /health/ready")
        return registry

    def evaluate(self, registry: Registry, request: DecisionRequest, started: float) -> Outcome:
        """Evaluate one request; raises the engine's errors."""
        decision_id = new_decision_id()
        answer = decide(registry, request).to_json(decision_id)
        at = request.at
        recorded_at = at.astimezone(UTC).isoformat(timespec="microseconds")
        stored_request = {
            "program": request.program,
            "decision": request.decision,
            "version": request.version,
            # the default ``at`` (the time received, in UTC) is written as recorded_at already is
            "at": recorded_at if at.tzinfo is UTC and at.microsecond else at.isoformat(),
            "explain": request.explain,
            "input": self._masked(request.input),
        }
        body = _ENCODER.encode(answer)
        record = DecisionRecord(
            decision_id,
            recorded_at,
            answer["program"],
            answer["version"],
            answer["decision"],
            answer["policy_digest"],
            dumps_exact(stored_request),
            body.decode(),
        )
        return Outcome(answer, body, record, started)

    async def commit(self, outcomes: Sequence[Outcome]) -> None:
        """Commit the records of the outcomes; 503 when the log cannot take them."""
        try:
            await self.log.append([o.record for o in outcomes])
        except LogWriteError as exc:
            self.metrics.log_write_failures.inc(len(outcomes))
            logger.error(str(exc), extra={"event": "log_write_failed"})
            raise Problem(503, "the decision log cannot be written; no decision was made") from exc
        done = time.perf_counter()
        for outcome in outcomes:
            answer = outcome.answer
            result = answer["result"]
            outcome_label = result.get("outcome") if isinstance(result.get("outcome"), str) else ""
            seconds = done - outcome.started
            self.metrics.decided(
                answer["program"], answer["version"], answer["decision"], outcome_label, seconds
            )
            self.lines.add(
                answer["decision_id"],
                answer["program"],
                answer["version"],
                answer["decision"],
                outcome_label or None,
                answer["matched_rules"],
                round(seconds * 1000, 3),
            )

    def reject(self, exc: InputError | NotFoundError | EvaluationError, prefix: str = "") -> Problem:
        """The problem for a request the engine refused (counted by status)."""
        self.metrics.rejected.labels(str(exc.status)).inc()
        if isinstance(exc, EvaluationError):
            logger.error(exc.detail, extra={"event": "evaluation_failed", "rule": exc.rule})
        return problem_of_engine_error(exc, prefix)

    def _masked(self, data: Any) -> Any:
        if not self.mask_paths:
            return data
        masked = copy.deepcopy(data)
        for path in self.mask_paths:
            node = masked
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and path[-1] in node and node[path[-1]] is not None:
                node[path[-1]] = MASK
        return masked

    # ── replay ────────────────────────────────────────────────────────────────────────────────────

    def replay(self, record: DecisionRecord, version: str | None) -> dict[str, Any]:
        """Evaluate a stored request again with its recorded ``at``, and say what differs."""
        stored_request = loads_strict(record.request)
        stored_answer = record.answer_json()
        at: datetime = parse_timestamp(stored_request["at"])
        if version is None:
            policy = self.state.policy_by_digest(record.digest)
            if policy is None:
                raise Problem(
                    404,
                    f"the policy source of {record.digest} is no longer available; "
                    "replay against a version instead",
                    title="Policy source not found",
                )
        else:
            try:
                policy = self.registry().policy(record.program, version)
            except NotFoundError as exc:
                raise problem_of_engine_error(exc) from exc
        compiled = policy.decisions.get(record.decision)
        if compiled is None:
            raise Problem(404, f"{record.program} {policy.version} has no decision {record.decision!r}")
        try:
            replayed: Decision = evaluate(policy, compiled, stored_request["input"], at=at)
        except (InputError, NotFoundError, EvaluationError) as exc:
            raise self.reject(exc) from exc
        again = {k: v for k, v in replayed.to_json().items() if k != "trace"}
        return {
            "decision_id": record.decision_id,
            "version": policy.version,
            "policy_digest": policy.digest,
            "stored": stored_answer,
            "replayed": again,
            "changed": any(True for _ in _differences(stored_answer, again, ("result", "matched_rules"))),
            "differences": list(_differences(stored_answer, again, ("result", "matched_rules", "reasons"))),
        }


def _differences(before: dict[str, Any], after: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        yield from _diff(before.get(key), after.get(key), "/" + key)


def _diff(old: Any, new: Any, pointer: str) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            yield from _diff(old.get(key), new.get(key), f"{pointer}/{key}")
    elif old != new:
        yield {"pointer": pointer, "stored": old, "replayed": new}
