"""The impact of a change over many requests: counts, money deltas by field and by rule, first examples.

An :class:`ImpactSummary` is built by each worker over its chunk of requests and the chunks' summaries are
merged; every count and sum is order-free, and examples keep the ones that come first in the corpus (by
line number, or by position in the decision log), so the result does not depend on how work was split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy_engine.diff.compare import Comparison
from policy_engine.diff.records import DiffRequest

__all__ = (
    "EXAMPLE_KINDS",
    "MAX_BAD_SHOWN",
    "MAX_EXAMPLES",
    "Example",
    "FieldTotals",
    "ImpactSummary",
    "RuleTotals",
)

MAX_EXAMPLES = 5
"""Examples kept of each kind of change."""
MAX_BAD_SHOWN = 100
"""Bad lines kept with their message (all are counted)."""
EXAMPLE_KINDS = ("outcome", "amount", "other", "rule", "error")
_ZERO = Decimal("0.00")


@dataclass
class FieldTotals:
    """One amount field of one decision, over every request both versions answered."""

    changed: int = 0
    increased: int = 0
    decreased: int = 0
    delta: Decimal = _ZERO
    old_total: Decimal = _ZERO
    new_total: Decimal = _ZERO
    deltas: Counter[Decimal] = field(default_factory=Counter)
    """Per-decision delta (non-zero) → how many decisions moved by exactly that much."""

    def merge(self, other: FieldTotals) -> None:
        """Add another chunk's totals."""
        self.changed += other.changed
        self.increased += other.increased
        self.decreased += other.decreased
        self.delta += other.delta
        self.old_total += other.old_total
        self.new_total += other.new_total
        self.deltas.update(other.deltas)


@dataclass
class RuleTotals:
    """The requests of one decision that one rule (or pair of rules, old → new) answered."""

    decisions: int = 0
    changed: int = 0
    outcome_changed: int = 0
    amount_changed: int = 0
    delta: dict[str, Decimal] = field(default_factory=dict)
    """Amount field → total delta."""

    def merge(self, other: RuleTotals) -> None:
        """Add another chunk's totals."""
        self.decisions += other.decisions
        self.changed += other.changed
        self.outcome_changed += other.outcome_changed
        self.amount_changed += other.amount_changed
        for name, value in other.delta.items():
            self.delta[name] = self.delta.get(name, _ZERO) + value


@dataclass(frozen=True)
class Example:
    """One request and its two answers, as reports show it."""

    order: int
    """Position in the source (corpus line number, or 1-based position in the log)."""
    ref: str
    """``line 12`` or ``decision 0193…``."""
    decision: str
    at: str
    input: Any
    old: dict[str, Any]
    new: dict[str, Any]
    deltas: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """The example as data."""
        return {
            "ref": self.ref,
            "decision": self.decision,
            "at": self.at,
            "input": self.input,
            "from": self.old,
            "to": self.new,
            "deltas": self.deltas,
        }


@dataclass
class ImpactSummary:
    """Everything a report says about the requests replayed."""

    total: int = 0
    """Requests evaluated (bad lines are not)."""
    unchanged: int = 0
    result_changed: int = 0
    outcome_changed: int = 0
    amount_changed: int = 0
    other_changed: int = 0
    """The result changed, but neither its outcome nor an amount."""
    rule_only: int = 0
    """The same result from a different rule."""
    errors_old: int = 0
    errors_new: int = 0
    errors_both: int = 0
    default_at: int = 0
    """Requests without ``at``, evaluated at the run's time."""
    bad: int = 0
    bad_shown: list[tuple[int, str, str]] = field(default_factory=list)
    """(order, ref, message) of the first bad lines."""
    by_decision: Counter[str] = field(default_factory=Counter)
    fields: dict[tuple[str, str], FieldTotals] = field(default_factory=dict)
    """(decision, amount field) → totals."""
    rules: dict[tuple[str, str, str], RuleTotals] = field(default_factory=dict)
    """(decision, old rule label, new rule label) → totals."""
    examples: dict[str, list[Example]] = field(default_factory=dict)

    @property
    def errors_either(self) -> int:
        """Requests with an error under at least one version."""
        return self.errors_old + self.errors_new - self.errors_both

    def add_bad(self, order: int, ref: str, message: str) -> None:
        """Count a line that is not a usable request."""
        self.bad += 1
        if len(self.bad_shown) < MAX_BAD_SHOWN:
            self.bad_shown.append((order, ref, message))

    def add(self, order: int, ref: str, request: DiffRequest, comparison: Comparison) -> None:
        """Count one request's comparison."""
        self.total += 1
        self.by_decision[comparison.decision] += 1
        if not request.at_given:
            self.default_at += 1
        kinds = comparison.kinds
        if comparison.failed:
            self._count_errors(comparison)
        else:
            self._count_amounts(comparison)
            if kinds == ("same",):
                self.unchanged += 1
            else:
                self._count_changes(comparison, kinds)
        self._count_rule(comparison)
        for kind in kinds:
            if kind != "same":
                self._keep_example(kind, order, ref, request, comparison)

    def _count_errors(self, comparison: Comparison) -> None:
        old_failed = comparison.old.error is not None
        new_failed = comparison.new.error is not None
        self.errors_old += old_failed
        self.errors_new += new_failed
        self.errors_both += old_failed and new_failed

    def _count_changes(self, comparison: Comparison, kinds: tuple[str, ...]) -> None:
        self.result_changed += comparison.result_changed
        self.outcome_changed += "outcome" in kinds
        self.amount_changed += "amount" in kinds
        self.other_changed += "other" in kinds
        self.rule_only += "rule" in kinds

    def _count_amounts(self, comparison: Comparison) -> None:
        for name, (old, new) in (comparison.amounts or {}).items():
            totals = self._field(comparison.decision, name)
            totals.old_total += old
            totals.new_total += new
            if new != old:
                delta = new - old
                totals.changed += 1
                totals.delta += delta
                totals.increased += delta > 0
                totals.decreased += delta < 0
                totals.deltas[delta] += 1

    def _field(self, decision: str, name: str) -> FieldTotals:
        key = (decision, name)
        totals = self.fields.get(key)
        if totals is None:
            totals = self.fields[key] = FieldTotals()
        return totals

    def _count_rule(self, comparison: Comparison) -> None:
        key = (comparison.decision, comparison.old.label, comparison.new.label)
        totals = self.rules.get(key)
        if totals is None:
            totals = self.rules[key] = RuleTotals()
        totals.decisions += 1
        if comparison.failed or comparison.kinds == ("same",):
            return
        totals.changed += comparison.result_changed
        totals.outcome_changed += comparison.outcome_changed
        deltas = comparison.deltas
        totals.amount_changed += bool(deltas)
        for name, delta in deltas.items():
            totals.delta[name] = totals.delta.get(name, _ZERO) + delta

    def _keep_example(
        self, kind: str, order: int, ref: str, request: DiffRequest, comparison: Comparison
    ) -> None:
        kept = self.examples.setdefault(kind, [])
        if len(kept) >= MAX_EXAMPLES and kept[-1].order < order:
            return
        example = Example(
            order=order,
            ref=ref,
            decision=comparison.decision,
            at=request.at.isoformat(),
            input=request.input,
            old=comparison.old.to_json(),
            new=comparison.new.to_json(),
            deltas={name: f"{delta:+.2f}" for name, delta in comparison.deltas.items()},
        )
        kept.append(example)
        kept.sort(key=lambda e: e.order)
        del kept[MAX_EXAMPLES:]

    def merge(self, other: ImpactSummary) -> None:
        """Add another chunk's summary."""
        for name in (
            "total",
            "unchanged",
            "result_changed",
            "outcome_changed",
            "amount_changed",
            "other_changed",
            "rule_only",
            "errors_old",
            "errors_new",
            "errors_both",
            "default_at",
            "bad",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.bad_shown = sorted([*self.bad_shown, *other.bad_shown])[:MAX_BAD_SHOWN]
        self.by_decision.update(other.by_decision)
        for key, totals in other.fields.items():
            self._field(*key).merge(totals)
        for rule_key, rule_totals in other.rules.items():
            self.rules.setdefault(rule_key, RuleTotals()).merge(rule_totals)
        for kind, examples in other.examples.items():
            merged = sorted([*self.examples.get(kind, []), *examples], key=lambda e: e.order)
            self.examples[kind] = merged[:MAX_EXAMPLES]
