"""Evaluate one request under the old and the new version and say what changed between the two answers.

The answers are those of :func:`policy_engine.evaluate.evaluate`. When both versions of a decision take the
same input schema (the common case: a param changed), the input is checked and coerced once (by the
decision's fast input function, else jsonschema and the coercer, as ``evaluate`` does) and the two
generated functions are called on it; an input the schema refuses is then an error under both versions
alike. Any failure of a generated function is evaluated again through ``evaluate`` so that the error is the
one the server would report.

Amounts are the output fields the output schema marks ``format: money``; a decision whose schema marks none
has as amounts the fields whose values are two-place decimal strings (``"12.50"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Literal

from policy_engine.compiled import CompiledDecision, CompiledPolicy
from policy_engine.errors import EvaluationError, InputError, InputProblem
from policy_engine.evaluate import evaluate
from policy_engine.fast_input import INVALID
from policy_engine.schemas import validate_input

__all__ = ("Comparison", "DecisionInfo", "PairEvaluator", "SideResult", "money_fields")

ChangeKind = Literal["error", "outcome", "amount", "other", "rule", "same"]
_TWO_PLACES = re.compile(r"-?\d+\.\d\d")
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SideResult:
    """The answer of one version: its result and matched rules, or the error it gave."""

    result: Mapping[str, Any] | None
    rules: tuple[str, ...] = ()
    error: str | None = None
    """What went wrong: ``input: /input/order/amount: …`` or the evaluation error."""

    @property
    def label(self) -> str:
        """The matched rules (``late``, ``a+b``), or ``error``."""
        return "error" if self.error is not None else "+".join(self.rules)

    def to_json(self) -> dict[str, Any]:
        """The answer as examples show it."""
        if self.error is not None:
            return {"error": self.error}
        return {"result": dict(self.result or {}), "matched_rules": list(self.rules)}


def money_fields(decision: CompiledDecision | None) -> tuple[str, ...]:
    """The top-level output fields of a decision that its output schema marks ``format: money``."""
    if decision is None:
        return ()
    properties = decision.output_schema.get("properties") or {}
    return tuple(
        name
        for name, schema in properties.items()
        if isinstance(schema, Mapping) and schema.get("format") == "money"
    )


@dataclass(frozen=True)
class DecisionInfo:
    """What the comparison needs to know about one decision in the two versions (computed once)."""

    name: str
    old: CompiledDecision | None
    new: CompiledDecision | None
    money: tuple[str, ...]
    """Declared amount fields (of either version); empty: look for two-place strings in the answers."""
    has_outcome: bool
    shared_input: bool
    """Both versions take the same input schema: validate and coerce once."""

    @classmethod
    def of(cls, name: str, old: CompiledPolicy, new: CompiledPolicy) -> DecisionInfo:
        """The information about decision ``name``."""
        before, after = old.decisions.get(name), new.decisions.get(name)
        money = tuple(dict.fromkeys((*money_fields(before), *money_fields(after))))
        has_outcome = any(
            "outcome" in (d.output_schema.get("properties") or {}) for d in (before, after) if d is not None
        )
        shared = before is not None and after is not None and before.input_schema == after.input_schema
        return cls(name, before, after, money, has_outcome, shared)


@dataclass(frozen=True)
class Comparison:
    """The two answers to one request, and what differs."""

    decision: str
    old: SideResult
    new: SideResult
    outcome_changed: bool = False
    amounts: Mapping[str, tuple[Decimal, Decimal]] | None = None
    """Amount field → (old, new), when both versions answered."""
    other_changed: bool = False
    """A result field other than the outcome and the amounts differs."""

    @property
    def failed(self) -> bool:
        """Either version gave an error."""
        return self.old.error is not None or self.new.error is not None

    @cached_property
    def deltas(self) -> dict[str, Decimal]:
        """Amount field → new − old, for the amounts that changed."""
        return {name: new - old for name, (old, new) in (self.amounts or {}).items() if new != old}

    @property
    def result_changed(self) -> bool:
        """Both answered and the results differ."""
        return not self.failed and (self.outcome_changed or self.other_changed or bool(self.deltas))

    @property
    def rules_changed(self) -> bool:
        """The matched rules differ."""
        return self.old.rules != self.new.rules

    @cached_property
    def kinds(self) -> tuple[ChangeKind, ...]:
        """Every kind of change this is: error, outcome, amount, other (only), rule (only) — or same."""
        if self.failed:
            return ("error",)
        kinds: list[ChangeKind] = []
        if self.outcome_changed:
            kinds.append("outcome")
        if self.deltas:
            kinds.append("amount")
        if not kinds and self.other_changed:
            kinds.append("other")
        if not kinds and self.rules_changed:
            kinds.append("rule")
        return tuple(kinds) or ("same",)


class PairEvaluator:
    """Evaluates requests under two versions of a program; one per process, reused for every request."""

    def __init__(self, old: CompiledPolicy, new: CompiledPolicy) -> None:
        self.old = old
        self.new = new
        self._infos: dict[str, DecisionInfo] = {}

    def info(self, decision: str) -> DecisionInfo | None:
        """The decision in the two versions; None when neither version has it."""
        found = self._infos.get(decision)
        if found is None:
            found = DecisionInfo.of(decision, self.old, self.new)
            self._infos[decision] = found
        return None if found.old is None and found.new is None else found

    def compare(self, info: DecisionInfo, data: Any, at: datetime) -> Comparison:
        """Evaluate ``data`` under both versions at the same request time and compare the answers."""
        if info.shared_input and info.old is not None and info.new is not None:
            old, new = self._shared(info.old, info.new, data, at)
        else:
            old = _side(self.old, info.old, data, at)
            new = _side(self.new, info.new, data, at)
        return _compare(info, old, new)

    def _shared(
        self, old: CompiledDecision, new: CompiledDecision, data: Any, at: datetime
    ) -> tuple[SideResult, SideResult]:
        values = old.fast_input(data) if old.fast_input is not None else INVALID
        if values is INVALID:
            if not isinstance(data, Mapping):
                problems = [InputProblem("/input", "must be an object")]
            else:
                problems = validate_input(old.input_validator, data)
            if problems:
                refused = SideResult(None, error="input: " + InputError(problems).detail)
                return refused, refused
            try:
                values = old.coerce(data)
            except Exception:
                return _side(self.old, old, data, at), _side(self.new, new, data, at)
        values["at"] = at
        return (
            _call(self.old, old, dict(values), data, at),
            _call(self.new, new, values, data, at),
        )


def _call(
    policy: CompiledPolicy, decision: CompiledDecision, values: dict[str, Any], data: Any, at: datetime
) -> SideResult:
    try:
        matched, result, _ = decision.plain.function(values)
    except Exception:
        return _side(policy, decision, data, at)  # again through evaluate, for the error it reports
    return SideResult(result, tuple(decision.rule_id(i) for i in matched))


def _side(policy: CompiledPolicy, decision: CompiledDecision | None, data: Any, at: datetime) -> SideResult:
    if decision is None:
        return SideResult(None, error=f"version {policy.version} has no decision of this name")
    try:
        answer = evaluate(policy, decision, data, at=at)
    except InputError as exc:
        return SideResult(None, error=f"input: {exc.detail}")
    except EvaluationError as exc:
        return SideResult(None, error=str(exc))
    except Exception as exc:  # a policy the compiler let through but that cannot run: report, do not stop
        return SideResult(None, error=f"{type(exc).__name__}: {exc}")
    return SideResult(answer.result, answer.matched_rules)


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return _ZERO
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _money_names(info: DecisionInfo, old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    if info.money:
        return info.money
    found = dict.fromkeys(
        name
        for result in (old, new)
        for name, value in result.items()
        if isinstance(value, str) and _TWO_PLACES.fullmatch(value)
    )
    return tuple(found)


def _compare(info: DecisionInfo, old: SideResult, new: SideResult) -> Comparison:
    if old.result is None or new.result is None:
        return Comparison(info.name, old, new)
    before, after = old.result, new.result
    amounts: dict[str, tuple[Decimal, Decimal]] = {}
    for name in _money_names(info, before, after):
        a, b = _amount(before.get(name)), _amount(after.get(name))
        if a is not None and b is not None:
            amounts[name] = (a, b)
    outcome_changed = info.has_outcome and before.get("outcome") != after.get("outcome")
    other_changed = False
    if before != after:
        skip = {"outcome", *amounts}
        other_changed = any(
            before.get(k) != after.get(k) for k in before.keys() | after.keys() if k not in skip
        )
    return Comparison(info.name, old, new, outcome_changed, amounts, other_changed)
