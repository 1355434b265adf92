"""The whole result of ``policy diff``: the structural difference and, with a corpus or log, the impact.

:meth:`DiffReport.to_json` is the ``--json`` output; the text and HTML reports read the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from policy_engine.diff.histogram import Bin, bins
from policy_engine.diff.structural import StructuralDiff
from policy_engine.diff.summary import EXAMPLE_KINDS, FieldTotals, ImpactSummary, RuleTotals

__all__ = ("DiffReport", "RuleRow", "money", "rule_label", "rule_rows")


def money(value: Decimal, *, sign: bool = False) -> str:
    """An amount with two places and thousands separators (``+1,234.50`` with ``sign``)."""
    return f"{value:+,.2f}" if sign else f"{value:,.2f}"


def rule_label(old: str, new: str) -> str:
    """``late`` when the same rule answered, else ``late_floor → late``."""
    return new if old == new else f"{old} → {new}"


@dataclass(frozen=True)
class RuleRow:
    """One line of the changes-by-rule table."""

    decision: str
    old: str
    new: str
    totals: RuleTotals

    @property
    def label(self) -> str:
        """How the table names the rule."""
        return rule_label(self.old, self.new)

    def to_json(self) -> dict[str, Any]:
        """The row as data."""
        t = self.totals
        return {
            "decision": self.decision,
            "rule": self.label,
            "from_rule": self.old,
            "to_rule": self.new,
            "decisions": t.decisions,
            "changed": t.changed,
            "outcome_changed": t.outcome_changed,
            "amount_changed": t.amount_changed,
            "delta": {name: f"{value:.2f}" for name, value in t.delta.items()},
        }


def rule_rows(summary: ImpactSummary, *, changed_only: bool = False) -> list[RuleRow]:
    """The rule table, the rows that move most money first, then the most changed, then by name."""
    rows = [
        RuleRow(decision, old, new, totals)
        for (decision, old, new), totals in summary.rules.items()
        if not changed_only or totals.changed or old != new
    ]
    rows.sort(
        key=lambda r: (
            -sum(abs(v) for v in r.totals.delta.values()),
            -r.totals.changed,
            -r.totals.decisions,
            r.decision,
            r.label,
        )
    )
    return rows


def _field_json(decision: str, name: str, totals: FieldTotals) -> dict[str, Any]:
    return {
        "decision": decision,
        "field": name,
        "changed": totals.changed,
        "increased": totals.increased,
        "decreased": totals.decreased,
        "delta": f"{totals.delta:.2f}",
        "from_total": f"{totals.old_total:.2f}",
        "to_total": f"{totals.new_total:.2f}",
        "histogram": [b.to_json() for b in bins(totals.deltas)],
    }


@dataclass(frozen=True)
class DiffReport:
    """What ``policy diff`` found."""

    program: str
    old_version: str
    new_version: str
    draft: str | None
    structure: StructuralDiff
    source: str | None = None
    """``corpus <file>`` or ``decision log <file> …``; None without a corpus."""
    impact: ImpactSummary | None = None
    default_at: datetime | None = None
    """The request time of requests that give no ``at``."""

    @property
    def to_label(self) -> str:
        """The new version as reports name it."""
        return self.new_version if self.draft is None else f"{self.new_version} (draft {self.draft})"

    def histograms(self) -> list[tuple[str, str, list[Bin]]]:
        """(decision, amount field, bins) of every amount that moved."""
        if self.impact is None:
            return []
        return [
            (decision, name, bins(totals.deltas))
            for (decision, name), totals in sorted(self.impact.fields.items())
            if totals.changed
        ]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "program": self.program,
            "from": self.old_version,
            "to": self.new_version,
            "draft": self.draft,
            "structure": self.structure.to_json(),
            "impact": None if self.impact is None else self._impact_json(self.impact),
        }

    def _impact_json(self, s: ImpactSummary) -> dict[str, Any]:
        return {
            "source": self.source,
            "total": s.total,
            "unchanged": s.unchanged,
            "changed": s.result_changed,
            "outcome_changed": s.outcome_changed,
            "amount_changed": s.amount_changed,
            "other_changed": s.other_changed,
            "rule_only_changed": s.rule_only,
            "errors": {
                "from": s.errors_old,
                "to": s.errors_new,
                "both": s.errors_both,
                "either": s.errors_either,
            },
            "bad_lines": {
                "count": s.bad,
                "first": [{"ref": ref, "message": message} for _, ref, message in s.bad_shown],
            },
            "without_at": s.default_at,
            "default_at": None if self.default_at is None else self.default_at.isoformat(),
            "by_decision": dict(sorted(s.by_decision.items())),
            "money": [_field_json(d, n, t) for (d, n), t in sorted(s.fields.items())],
            "by_rule": [row.to_json() for row in rule_rows(s)],
            "examples": {kind: [e.to_json() for e in s.examples.get(kind, [])] for kind in EXAMPLE_KINDS},
        }
