"""What the engine answers: a decision, JSON-ready, with no HTTP in it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from policy_engine.expr.values import format_timestamp

__all__ = ("Decision", "Reason")


# Named tuples, not frozen dataclasses: as immutable, and built in a fifth of the time on every decision.
class Reason(NamedTuple):
    """Why a rule answered as it did."""

    rule: str
    message: str


class Decision(NamedTuple):
    """One evaluated decision."""

    program: str
    version: str
    policy_digest: str
    decision: str
    evaluated_at: datetime
    """The request time ``at`` (never the wall clock of evaluation)."""
    tz: ZoneInfo
    result: dict[str, Any]
    """Every output field, JSON-ready: money as two-place strings, timestamps in the program's zone."""
    matched_rules: tuple[str, ...]
    reasons: tuple[Reason, ...]
    trace: list[dict[str, Any]] | None = None

    def to_json(self, decision_id: str | None = None) -> dict[str, Any]:
        """The answer of spec/api.md; ``decision_id`` (the server's) comes first when given."""
        out: dict[str, Any] = {
            "decision_id": decision_id,
            "program": self.program,
            "version": self.version,
            "policy_digest": self.policy_digest,
            "decision": self.decision,
            "evaluated_at": format_timestamp(self.evaluated_at, self.tz),
            "result": self.result,
            "matched_rules": list(self.matched_rules),
            "reasons": [{"rule": r.rule, "message": r.message} for r in self.reasons],
        }
        if decision_id is None:
            del out["decision_id"]
        if self.trace is not None:
            out["trace"] = self.trace
        return out
