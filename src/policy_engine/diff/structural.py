"""The structural difference of two versions, in words a product manager reads.

Compares the merged form of each version (``extends`` already applied): params changed (old → new value),
added and removed; per decision, rules added, removed and changed (condition text, outcome and other
output values, title), named values (``let``), ``otherwise``, the rule order, and the decisions added or
removed. Rules that read a changed param (directly or through a ``let``) are listed too: their text is the
same, but their answers may not be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from policy_engine.compiled import CompiledDecision, CompiledPolicy
from policy_engine.model import DecisionSpec, LetSpec, ParamSpec, RuleSpec

__all__ = (
    "DecisionDiff",
    "ParamChange",
    "RuleChange",
    "StructuralDiff",
    "show_value",
    "structural_diff",
)

Change = Literal["added", "removed", "changed"]
DecisionChange = Literal["added", "removed", "changed", "affected", "unchanged"]

_PARAM_REF = re.compile(r"\bparams\.([A-Za-z_]\w*)")
_NAME = re.compile(r"(?<![.\w])([A-Za-z_]\w*)")


def show_value(value: Any) -> str:
    """A literal or expression of a policy file as a short text (lists in brackets, null as null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _show_param(spec: ParamSpec) -> str:
    value = spec.value
    if spec.kind == "money" and isinstance(value, Decimal):
        return f"{value:.2f}"
    if spec.kind == "percent":
        return f"{show_value(value)}%"
    if spec.kind == "days":
        return f"{show_value(value)} days"
    if spec.kind == "table":
        return f"a table of {len(value or ())} rows"
    return show_value(value)


@dataclass(frozen=True)
class ParamChange:
    """One param added, removed, or given a new value."""

    name: str
    change: Change
    old: str | None
    """The old value as a PM reads it (``5%``, ``30.00``); None when added."""
    new: str | None
    title: str | None
    details: tuple[str, ...] = ()
    """For lists and tables: the items or rows added, removed or changed."""

    @property
    def text(self) -> str:
        """One line: ``late_rate: 5% → 10%``."""
        if self.change == "added":
            head = f"{self.name} added: {self.new}"
        elif self.change == "removed":
            head = f"{self.name} removed (was {self.old})"
        else:
            head = f"{self.name}: {self.old} → {self.new}"
        return head + (f" ({'; '.join(self.details)})" if self.details else "")

    def to_json(self) -> dict[str, Any]:
        """The change as data."""
        return {
            "name": self.name,
            "change": self.change,
            "from": self.old,
            "to": self.new,
            "title": self.title,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class RuleChange:
    """One rule added, removed or changed."""

    id: str
    change: Change
    title: str | None
    details: tuple[str, ...]
    """What the rule says (added, removed) or what changed in it, one item per part."""

    @property
    def text(self) -> str:
        """One line: ``rule late changed: compensation: raw_compensation → params.late_cap``."""
        title = f" ({self.title})" if self.title else ""
        return f"rule {self.id}{title} {self.change}" + (
            f": {'; '.join(self.details)}" if self.details else ""
        )

    def to_json(self) -> dict[str, Any]:
        """The change as data."""
        return {"id": self.id, "change": self.change, "title": self.title, "details": list(self.details)}


@dataclass(frozen=True)
class DecisionDiff:
    """What changed in one decision."""

    name: str
    change: DecisionChange
    """``affected``: nothing in the decision changed, but it reads a param that did."""
    title: str | None
    rules: tuple[RuleChange, ...] = ()
    other: tuple[str, ...] = ()
    """Changes outside the rules: let values, otherwise, hit policy, rule order, schemas."""
    params_read: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(rule id or ``otherwise``, the changed params it reads), in rule order."""

    def to_json(self) -> dict[str, Any]:
        """The decision's changes as data."""
        return {
            "name": self.name,
            "change": self.change,
            "title": self.title,
            "rules": [r.to_json() for r in self.rules],
            "other": list(self.other),
            "params_read": [{"rule": rule, "params": list(names)} for rule, names in self.params_read],
        }


@dataclass(frozen=True)
class StructuralDiff:
    """The difference of two versions of one program."""

    program: str
    old_version: str
    new_version: str
    old_window: tuple[str, str | None]
    new_window: tuple[str, str | None]
    """``effective_from`` and ``effective_until`` as written."""
    params: tuple[ParamChange, ...] = ()
    decisions: tuple[DecisionDiff, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """True when the two versions decide alike (params and every decision the same)."""
        return not self.params and all(d.change == "unchanged" for d in self.decisions)

    def to_json(self) -> dict[str, Any]:
        """The diff as data (``--json``)."""
        return {
            "program": self.program,
            "from": _window_json(self.old_version, self.old_window),
            "to": _window_json(self.new_version, self.new_window),
            "unchanged": self.is_empty,
            "params": [p.to_json() for p in self.params],
            "decisions": [d.to_json() for d in self.decisions],
        }


def _window_json(version: str, window: tuple[str, str | None]) -> dict[str, Any]:
    return {"version": version, "effective_from": window[0], "effective_until": window[1]}


def structural_diff(old: CompiledPolicy, new: CompiledPolicy) -> StructuralDiff:
    """Compare two compiled versions of one program (their merged specs)."""
    params = tuple(_param_changes(old.spec.params, new.spec.params))
    changed_params = {p.name for p in params}
    decisions: list[DecisionDiff] = []
    for name, spec in new.spec.decisions.items():
        before = old.spec.decisions.get(name)
        if before is None:
            decisions.append(DecisionDiff(name, "added", spec.title))
            continue
        decisions.append(
            _decision_diff(before, spec, old.decisions.get(name), new.decisions.get(name), changed_params)
        )
    for name, spec in old.spec.decisions.items():
        if name not in new.spec.decisions:
            decisions.append(DecisionDiff(name, "removed", spec.title))
    return StructuralDiff(
        program=new.program,
        old_version=old.version,
        new_version=new.version,
        old_window=(old.spec.effective_from, old.spec.effective_until),
        new_window=(new.spec.effective_from, new.spec.effective_until),
        params=params,
        decisions=tuple(decisions),
    )


# ------------------------------------------------------------------------------------------------ params


def _param_changes(old: Mapping[str, ParamSpec], new: Mapping[str, ParamSpec]) -> Iterable[ParamChange]:
    for name, spec in new.items():
        before = old.get(name)
        if before is None:
            yield ParamChange(name, "added", None, _show_param(spec), spec.title)
        elif (before.kind, before.value, before.of, dict(before.columns), before.key) != (
            spec.kind,
            spec.value,
            spec.of,
            dict(spec.columns),
            spec.key,
        ):
            details = tuple(_collection_details(before, spec))
            yield ParamChange(name, "changed", _show_param(before), _show_param(spec), spec.title, details)
    for name, spec in old.items():
        if name not in new:
            yield ParamChange(name, "removed", _show_param(spec), None, spec.title)


def _collection_details(old: ParamSpec, new: ParamSpec) -> Iterable[str]:
    if old.kind == new.kind == "list":
        before, after = list(old.value or ()), list(new.value or ())
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if added:
            yield "added " + ", ".join(show_value(v) for v in added)
        if removed:
            yield "removed " + ", ".join(show_value(v) for v in removed)
        if not added and not removed:
            yield "same items, new order"
    elif old.kind == new.kind == "table" and old.key is not None and old.key == new.key:
        yield from _table_details(old.key, old.value or (), new.value or ())


def _table_details(key: str, old_rows: Iterable[Any], new_rows: Iterable[Any]) -> Iterable[str]:
    before = {show_value(r.get(key)): r for r in old_rows if isinstance(r, Mapping)}
    after = {show_value(r.get(key)): r for r in new_rows if isinstance(r, Mapping)}
    for row_key, row in after.items():
        old_row = before.get(row_key)
        if old_row is None:
            yield f"row {row_key} added"
            continue
        changes = [
            f"{column} {show_value(old_row.get(column))} → {show_value(value)}"
            for column, value in row.items()
            if old_row.get(column) != value
        ]
        if changes:
            yield f"row {row_key}: " + ", ".join(changes)
    for row_key in before:
        if row_key not in after:
            yield f"row {row_key} removed"


# --------------------------------------------------------------------------------------------- decisions


def _decision_diff(
    old: DecisionSpec,
    new: DecisionSpec,
    old_compiled: CompiledDecision | None,
    new_compiled: CompiledDecision | None,
    changed_params: set[str],
) -> DecisionDiff:
    rules = tuple(_rule_changes(old.rules, new.rules))
    other = [
        *_lets_changes("let", old.lets, new.lets),
        *_lets_changes("derive", old.derive, new.derive),
        *_setting_changes(old, new),
        *_schema_changes(old_compiled, new_compiled),
    ]
    if old.otherwise != new.otherwise:
        parts = _then_changes(old.otherwise or {}, new.otherwise or {})
        other.append("otherwise changed: " + "; ".join(parts) if parts else "otherwise changed")
    order = _order_change(old.rules, new.rules)
    if order is not None:
        other.append(order)
    reads = tuple(_params_read(new, changed_params)) if changed_params else ()
    change: DecisionChange = "changed" if rules or other else ("affected" if reads else "unchanged")
    return DecisionDiff(new.name, change, new.title, rules, tuple(other), reads)


def _rule_changes(old: Iterable[RuleSpec], new: Iterable[RuleSpec]) -> Iterable[RuleChange]:
    before = {r.id: r for r in old}
    after = {r.id: r for r in new}
    for rule_id, rule in after.items():
        previous = before.get(rule_id)
        if previous is None:
            yield RuleChange(rule_id, "added", rule.title, tuple(_rule_words(rule)))
            continue
        details: list[str] = []
        if previous.when != rule.when:
            details.append(f"when: {_quoted(previous.when)} → {_quoted(rule.when)}")
        details.extend(_then_changes(previous.then, rule.then))
        if previous.title != rule.title:
            details.append(f"title: {_quoted(previous.title)} → {_quoted(rule.title)}")
        if details:
            yield RuleChange(rule_id, "changed", rule.title, tuple(details))
    for rule_id, rule in before.items():
        if rule_id not in after:
            yield RuleChange(rule_id, "removed", rule.title, tuple(_rule_words(rule)))


def _rule_words(rule: RuleSpec) -> Iterable[str]:
    yield "always" if rule.when is None else f"when {_quoted(rule.when)}"
    for name, value in rule.then.items():
        if name != "reason":
            yield f"{name} {show_value(value)}"


def _quoted(text: str | None) -> str:
    return "(always)" if text is None else f'"{text}"'


def _then_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes: list[str] = []
    for name, value in new.items():
        if name not in old:
            changes.append(f"{name}: (not set) → {_output(name, value)}")
        elif old[name] != value:
            changes.append(f"{name}: {_output(name, old[name])} → {_output(name, value)}")
    changes.extend(
        f"{name}: {_output(name, value)} → (not set)" for name, value in old.items() if name not in new
    )
    return changes


def _output(name: str, value: Any) -> str:
    """An output value of ``then`` or ``otherwise``; the reason template quoted."""
    return f'"{value}"' if name == "reason" else show_value(value)


def _lets_changes(kind: str, old: Mapping[str, LetSpec], new: Mapping[str, LetSpec]) -> Iterable[str]:
    for name, let in new.items():
        previous = old.get(name)
        if previous is None:
            yield f"{kind} {name} added: {_quoted(let.text)}"
        elif previous.text != let.text:
            yield f"{kind} {name}: {_quoted(previous.text)} → {_quoted(let.text)}"
    for name, let in old.items():
        if name not in new:
            yield f"{kind} {name} removed (was {_quoted(let.text)})"


def _setting_changes(old: DecisionSpec, new: DecisionSpec) -> Iterable[str]:
    if (old.hit or "first") != (new.hit or "first"):
        yield f"hit policy: {old.hit or 'first'} → {new.hit or 'first'}"
    if dict(old.aggregate) != dict(new.aggregate):
        yield f"aggregate: {show_value(dict(old.aggregate))} → {show_value(dict(new.aggregate))}"
    if old.as_of != new.as_of:
        yield f"as_of: {old.as_of} → {new.as_of}"


def _schema_changes(old: CompiledDecision | None, new: CompiledDecision | None) -> Iterable[str]:
    if old is None or new is None:
        return
    if old.input_schema != new.input_schema:
        yield f"input schema: {old.schema_files[0]} → {new.schema_files[0]} (the fields it takes changed)"
    if old.output_schema != new.output_schema:
        yield f"output schema: {old.schema_files[1]} → {new.schema_files[1]} (the answer's fields changed)"


def _order_change(old: Iterable[RuleSpec], new: Iterable[RuleSpec]) -> str | None:
    after_ids = [r.id for r in new]
    before_ids = [r.id for r in old]
    common_before = [i for i in before_ids if i in after_ids]
    common_after = [i for i in after_ids if i in before_ids]
    if common_before == common_after:
        return None
    return f"rule order: {', '.join(common_before)} → {', '.join(common_after)} (the first match answers)"


def _params_read(spec: DecisionSpec, changed: set[str]) -> Iterable[tuple[str, tuple[str, ...]]]:
    lets = {**spec.lets, **spec.derive}
    memo: dict[str, set[str]] = {}

    def let_params(name: str, seen: frozenset[str]) -> set[str]:
        if name in memo:
            return memo[name]
        found = text_params(lets[name].text, seen | {name})
        memo[name] = found
        return found

    def text_params(text: str, seen: frozenset[str]) -> set[str]:
        found = set(_PARAM_REF.findall(text))
        for word in _NAME.findall(text):
            if word in lets and word not in seen:
                found |= let_params(word, seen)
        return found

    parts: list[tuple[str, Mapping[str, Any] | None, str | None]] = [
        (r.id, r.then, r.when) for r in spec.rules
    ]
    parts.append(("otherwise", spec.otherwise, None))
    for rule_id, then, when in parts:
        texts = [when or ""] + [show_value(v) for v in (then or {}).values()]
        used = set().union(*(text_params(t, frozenset()) for t in texts)) & changed
        if used:
            yield rule_id, tuple(sorted(used))
