"""The human-readable report of ``policy diff`` (the default output).

Plain text in short sections: what changed in the policy, then, with a corpus or log, how many decisions
changed, how much money moved per amount field and per rule, and the first examples of each kind of change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policy_engine.diff.report import DiffReport, money, rule_rows
from policy_engine.diff.structural import DecisionDiff, StructuralDiff
from policy_engine.diff.summary import EXAMPLE_KINDS, Example, ImpactSummary
from policy_engine.jsonio import dumps

__all__ = ("render_impact", "render_structure", "render_text")

KIND_TITLES = {
    "outcome": "outcome changed",
    "amount": "amount changed",
    "other": "other result fields changed",
    "rule": "same result, different rule",
    "error": "an error under either version",
}
MAX_RULE_ROWS = 30


def render_text(report: DiffReport) -> str:
    """The whole report."""
    parts = [render_structure(report.structure, report.to_label)]
    if report.impact is not None:
        parts.append(render_impact(report))
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------------------------------------- structure


def render_structure(diff: StructuralDiff, to_label: str | None = None) -> str:
    """What changed between the two versions, in sentences and lists."""
    lines = [
        f"{diff.program}: {diff.old_version} → {to_label or diff.new_version}",
        f"  {diff.old_version} in force from {_window(diff.old_window)}; "
        f"{diff.new_version} from {_window(diff.new_window)}",
    ]
    if diff.is_empty:
        lines.append("")
        lines.append("No difference: the params and every decision are the same.")
        return "\n".join(lines)
    lines.append("")
    if diff.params:
        lines.append("Params")
        for param in diff.params:
            title = f"  — {param.title}" if param.title else ""
            lines.append(f"  {param.change:<8} {param.text}{title}")
    else:
        lines.append("Params: none changed")
    for decision in diff.decisions:
        lines.append("")
        lines.extend(_decision_lines(decision))
    return "\n".join(lines)


def _window(window: tuple[str, str | None]) -> str:
    start, end = window
    return start if end is None else f"{start} until {end}"


def _decision_lines(decision: DecisionDiff) -> Iterable[str]:
    title = f" ({decision.title})" if decision.title else ""
    head = f"Decision {decision.name}{title}"
    if decision.change == "added":
        yield f"{head}: new in this version"
        return
    if decision.change == "removed":
        yield f"{head}: removed in this version"
        return
    if decision.change == "unchanged":
        yield f"{head}: unchanged"
        return
    if decision.change == "affected":
        yield f"{head}: rules unchanged, but they read changed params"
    else:
        yield head
    for rule in decision.rules:
        title = f" ({rule.title})" if rule.title else ""
        yield f"  rule {rule.id} {rule.change}{title}"
        yield from (f"    {detail}" for detail in rule.details)
    for item in decision.other:
        yield f"  {item}"
    for rule_id, params in decision.params_read:
        yield f"  {rule_id} reads changed {'param' if len(params) == 1 else 'params'} {', '.join(params)}"


# ------------------------------------------------------------------------------------------------- impact


def render_impact(report: DiffReport) -> str:
    """Counts, money, rules and examples of a corpus or log diff."""
    summary = report.impact
    assert summary is not None
    old, new = report.old_version, report.new_version
    if report.draft is not None:
        new = f"{new} (draft)"  # a draft may carry the same version name as the policy it changes
    lines = [f"Impact on {summary.total:,} decision(s) replayed from {report.source}", ""]
    lines.extend(_count_lines(summary, old, new, report))
    lines.append("")
    lines.extend(_money_lines(summary, old, new))
    lines.append("")
    lines.extend(_rule_lines(summary, new))
    for kind in EXAMPLE_KINDS:
        examples = summary.examples.get(kind)
        if examples:
            lines.append("")
            lines.append(f"First examples: {KIND_TITLES[kind]}")
            lines.extend(line for example in examples for line in _example_lines(example, old, new))
    if summary.bad:
        lines.append("")
        lines.append(f"{summary.bad:,} bad line(s) skipped:")
        lines.extend(f"  {ref}: {message}" for _, ref, message in summary.bad_shown[:10])
        if summary.bad > 10:
            lines.append(f"  … and {summary.bad - 10:,} more (all are listed in --json, up to 100)")
    return "\n".join(lines)


def _count_lines(summary: ImpactSummary, old: str, new: str, report: DiffReport) -> Iterable[str]:
    rows = [
        ("decisions replayed", summary.total),
        ("unchanged", summary.unchanged),
        ("result changed", summary.result_changed),
        ("  outcome changed", summary.outcome_changed),
        ("  an amount changed", summary.amount_changed),
        ("  other fields only", summary.other_changed),
        ("same result, other rule", summary.rule_only),
        (f"errors under {old}", summary.errors_old),
        (f"errors under {new}", summary.errors_new),
        ("bad lines skipped", summary.bad),
    ]
    width = max(len(label) for label, _ in rows)
    for label, count in rows:
        yield f"  {label:<{width}}  {count:>12,}"
    if len(summary.by_decision) > 1:
        yield "  by decision: " + ", ".join(
            f"{name} {n:,}" for name, n in sorted(summary.by_decision.items())
        )
    if summary.default_at and report.default_at is not None:
        when = report.default_at.isoformat()
        yield f"  {summary.default_at:,} request(s) without `at` were evaluated at {when}"


def _money_lines(summary: ImpactSummary, old: str, new: str) -> Iterable[str]:
    if not summary.fields:
        yield "Money: no amounts were compared (no decision replayed has an amount field, or none answered)"
        return
    yield f"Money delta ({new} − {old}), by amount field"
    for (decision, name), totals in sorted(summary.fields.items()):
        yield (
            f"  {decision}.{name}: {money(totals.delta, sign=True)} "
            f"({totals.changed:,} decision(s) changed: {totals.increased:,} up, {totals.decreased:,} down; "
            f"total {money(totals.old_total)} → {money(totals.new_total)})"
        )


def _rule_lines(summary: ImpactSummary, new: str) -> Iterable[str]:
    rows = rule_rows(summary, changed_only=True)
    if not rows:
        yield "Changes by rule: none (every decision was answered by the same rule with the same result)"
        return
    fields = sorted({name for row in rows for name in row.totals.delta})
    yield f"Changes by rule (the rule under {new}, or old → new)"
    header = ["decision", "rule", "decisions", "changed", "outcome", "amount", *(f"Δ {f}" for f in fields)]
    table = [
        [
            row.decision,
            row.label,
            f"{row.totals.decisions:,}",
            f"{row.totals.changed:,}",
            f"{row.totals.outcome_changed:,}",
            f"{row.totals.amount_changed:,}",
            *(money(row.totals.delta[f], sign=True) if f in row.totals.delta else "" for f in fields),
        ]
        for row in rows[:MAX_RULE_ROWS]
    ]
    yield from _table(header, table, right_from=2)
    if len(rows) > MAX_RULE_ROWS:
        yield f"  … and {len(rows) - MAX_RULE_ROWS:,} more rows (see --json or --html)"


def _table(header: list[str], rows: list[list[str]], right_from: int) -> Iterable[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [
            c.ljust(w) if i < right_from else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(out).rstrip()

    yield line(header)
    for row in rows:
        yield line(row)


def _example_lines(example: Example, old: str, new: str) -> Iterable[str]:
    yield f"  {example.ref}: {example.decision} at {example.at}"
    yield f"    input  {_short(example.input)}"
    yield f"    {old:<7} {_side(example.old)}"
    yield f"    {new:<7} {_side(example.new)}"
    if example.deltas:
        yield "    delta  " + ", ".join(f"{name} {value}" for name, value in example.deltas.items())


def _side(side: Mapping[str, Any]) -> str:
    if "error" in side:
        return f"error: {side['error']}"
    rules = ", ".join(side.get("matched_rules", []))
    return f"{_short(side.get('result'))}  (rule {rules})"


def _short(value: Any, limit: int = 300) -> str:
    text = dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
