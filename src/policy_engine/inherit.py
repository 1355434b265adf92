"""Resolve ``extends``: merge each version onto the earlier version it names, keeping every item's origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from policy_engine.errors import PolicyCompileError, PolicyError
from policy_engine.expr.values import parse_timestamp
from policy_engine.model import DecisionSpec, PolicySpec, RuleSpec

__all__ = ("resolve_extends",)

_INHERITED = ("timezone", "currency", "title")
"""Version-level fields a version that ``extends`` takes from its base unless it gives them itself."""


def resolve_extends(
    policies: Mapping[tuple[str, str], PolicySpec],
) -> tuple[dict[tuple[str, str], PolicySpec], list[PolicyError]]:
    """Every version as a complete policy; with the errors of versions that could not be merged."""
    errors: list[PolicyError] = []
    merged: dict[tuple[str, str], PolicySpec] = {}
    for key in policies:
        _merge_chain(key, policies, merged, errors)
    return merged, errors


def _merge_chain(
    key: tuple[str, str],
    policies: Mapping[tuple[str, str], PolicySpec],
    merged: dict[tuple[str, str], PolicySpec],
    errors: list[PolicyError],
) -> PolicySpec | None:
    """Merge ``key`` onto its chain of bases, walking the chain in a loop (a chain may be long)."""
    waiting: list[tuple[str, str]] = []
    """Versions whose base is being resolved, the first asked for first."""
    current = key
    while current not in merged:
        spec = policies[current]
        if spec.extends is None:
            merged[current] = spec
            break
        where = spec.where.child("extends")
        base_key = (spec.program, spec.extends)
        if base_key in waiting or base_key == current:
            path = (*waiting, current)
            chain = " → ".join(v for _, v in (*path[path.index(base_key) :], base_key))
            errors.append(
                PolicyCompileError("extends-cycle", f"extends forms a cycle: {chain}", where.location())
            )
            return None
        base_spec = policies.get(base_key)
        if base_spec is None:
            known = sorted(v for p, v in policies if p == spec.program and v != spec.version)
            errors.append(
                PolicyCompileError(
                    "extends-unknown",
                    f'extends "{spec.extends}", but {spec.program} has no such version'
                    + (f" (versions: {', '.join(known)})" if known else ""),
                    where.location(),
                )
            )
            return None
        if _starts_later(base_spec, spec):
            errors.append(
                PolicyCompileError(
                    "extends-later",
                    f'extends "{spec.extends}", which takes effect after this version; '
                    "extend an earlier version",
                    where.location(),
                )
            )
            return None
        waiting.append(current)
        current = base_key
    result = merged[current]
    for child in reversed(waiting):
        result = _merge(result, policies[child], errors)
        merged[child] = result
    return result


def _starts_later(base: PolicySpec, child: PolicySpec) -> bool:
    try:
        return parse_timestamp(base.effective_from) >= parse_timestamp(child.effective_from)
    except ValueError:
        return False


def _merge(base: PolicySpec, child: PolicySpec, errors: list[PolicyError]) -> PolicySpec:
    decisions = dict(base.decisions)
    for name, decision in child.decisions.items():
        parent = base.decisions.get(name)
        decisions[name] = decision if parent is None else _merge_decision(parent, decision, errors)
    unset = {name: getattr(base, name) for name in _INHERITED if name not in child.doc.data}
    return replace(child, params={**base.params, **child.params}, decisions=decisions, **unset)


def _merge_decision(base: DecisionSpec, child: DecisionSpec, errors: list[PolicyError]) -> DecisionSpec:
    if child.as_of is not None and child.as_of != base.as_of:
        errors.append(
            PolicyCompileError(
                "as-of-changed",
                f"as_of of decision {child.name} must be the same in every version: "
                f"the base says {base.as_of}",
                child.where.child("as_of").location(),
            )
        )
    rules = _merge_rules(base, child, errors)
    return replace(
        base,
        where=child.where,
        title=child.title or base.title,
        input=child.input or base.input,
        output=child.output or base.output,
        hit=child.hit or base.hit,
        aggregate={**base.aggregate, **child.aggregate},
        lets={**base.lets, **child.lets},
        rules=tuple(rules),
        remove_rules=(),
        otherwise=child.otherwise if child.otherwise is not None else base.otherwise,
        derive={**base.derive, **child.derive},
    )


def _merge_rules(base: DecisionSpec, child: DecisionSpec, errors: list[PolicyError]) -> list[RuleSpec]:
    rules = list(base.rules)
    for rule_id, where in child.remove_rules:
        index = _index(rules, rule_id)
        if index is None:
            errors.append(
                PolicyCompileError(
                    "remove-unknown-rule",
                    f"cannot remove rule {rule_id}: the base version has no such rule",
                    where.location(),
                )
            )
        else:
            del rules[index]
    for rule in child.rules:
        index = _index(rules, rule.id)
        if index is not None:
            rules[index] = rule
            continue
        if rule.before is None:
            rules.append(rule)
            continue
        target = _index(rules, rule.before)
        if target is None:
            errors.append(
                PolicyCompileError(
                    "before-unknown-rule",
                    f"before: there is no rule {rule.before} to put rule {rule.id} before",
                    rule.where.child("before").location(),
                )
            )
            rules.append(rule)
        else:
            rules.insert(target, rule)
    return rules


def _index(rules: list[RuleSpec], rule_id: str) -> int | None:
    for index, rule in enumerate(rules):
        if rule.id == rule_id:
            return index
    return None
