"""A self-contained HTML report of ``policy diff``: inline CSS and SVG, no script, no network access.

It shows the same as the text report: the policy changes, the counts, the money moved per amount field with
a histogram of the per-decision deltas, a table of changes by rule, and the first examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from policy_engine.diff.report import DiffReport, money, rule_rows
from policy_engine.diff.report_text import KIND_TITLES
from policy_engine.diff.structural import DecisionDiff, RuleChange, StructuralDiff
from policy_engine.diff.summary import EXAMPLE_KINDS, ImpactSummary
from policy_engine.diff.svg import histogram_svg
from policy_engine.jsonio import dumps

__all__ = ("render_html",)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;
 margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.sub{color:#57606a;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:8.5rem}
.card b{display:block;font-size:1.3rem}.card span{color:#57606a;font-size:.85rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.up{fill:#2f6feb}.down{fill:#e8710a}.pos{color:#1a7f37}.neg{color:#cf222e}
.grid{stroke:#eaeef2}.axis{stroke:#57606a}.tick{font-size:10px;fill:#57606a}
.chart-title{font-size:13px;font-weight:600}.axis-label{font-size:11px;fill:#57606a}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
details{margin:.4rem 0}summary{cursor:pointer}ul{padding-left:1.2rem}
"""


def render_html(report: DiffReport) -> str:
    """The report as one HTML document."""
    title = f"{report.program}: {report.old_version} → {report.to_label}"
    body = [f"<h1>{escape(title)}</h1>"]
    if report.impact is not None:
        source = escape(str(report.source))
        body.append(f'<p class="sub">Impact on {report.impact.total:,} decision(s) from {source}</p>')
        body.extend(_impact(report, report.impact))
    body.append("<h2>What changed in the policy</h2>")
    body.extend(_structure(report.structure))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _td(value: str, numeric: bool = False) -> str:
    return f'<td class="n">{escape(value)}</td>' if numeric else f"<td>{escape(value)}</td>"


def _signed(value: Any) -> str:
    text = money(value, sign=True)
    tone = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<td class="n {tone}">{escape(text)}</td>'


# ------------------------------------------------------------------------------------------------- impact


def _impact(report: DiffReport, s: ImpactSummary) -> Iterable[str]:
    old, new = report.old_version, report.new_version
    cards = [
        ("decisions replayed", s.total),
        ("outcome changed", s.outcome_changed),
        ("an amount changed", s.amount_changed),
        ("other fields only", s.other_changed),
        ("same result, other rule", s.rule_only),
        ("unchanged", s.unchanged),
        (f"errors under {old}", s.errors_old),
        (f"errors under {new}", s.errors_new),
        ("bad lines skipped", s.bad),
    ]
    yield (
        '<div class="cards">'
        + "".join(f"<div class=card><b>{n:,}</b><span>{escape(label)}</span></div>" for label, n in cards)
        + "</div>"
    )
    yield f"<h2>Money delta ({escape(new)} − {escape(old)})</h2>"
    yield from _money(s)
    for decision, name, bins in report.histograms():
        yield histogram_svg(
            bins, f"{decision}.{name}: per-decision delta ({sum(b.count for b in bins):,} changed)"
        )
    yield f"<h2>Changes by rule (the rule under {escape(new)}, or old → new)</h2>"
    yield from _rules(s)
    yield "<h2>First examples</h2>"
    yield from _examples(s, old, new)
    if s.bad:
        yield f"<h2>Bad lines skipped ({s.bad:,})</h2><ul>"
        yield from (f"<li>{escape(ref)}: {escape(message)}</li>" for _, ref, message in s.bad_shown)
        yield "</ul>"


def _money(s: ImpactSummary) -> Iterable[str]:
    if not s.fields:
        yield "<p>The decisions replayed have no amount fields.</p>"
        return
    yield (
        "<table><tr><th>amount</th><th>total delta</th><th>decisions changed</th><th>up</th><th>down</th>"
        "<th>total before</th><th>total after</th></tr>"
    )
    for (decision, name), t in sorted(s.fields.items()):
        yield (
            "<tr>"
            + _td(f"{decision}.{name}")
            + _signed(t.delta)
            + _td(f"{t.changed:,}", True)
            + _td(f"{t.increased:,}", True)
            + _td(f"{t.decreased:,}", True)
            + _td(money(t.old_total), True)
            + _td(money(t.new_total), True)
            + "</tr>"
        )
    yield "</table>"


def _rules(s: ImpactSummary) -> Iterable[str]:
    rows = rule_rows(s, changed_only=True)
    if not rows:
        yield "<p>None: every decision was answered by the same rule with the same result.</p>"
        return
    fields = sorted({name for row in rows for name in row.totals.delta})
    yield (
        "<table><tr><th>decision</th><th>rule</th><th>decisions</th><th>changed</th><th>outcome changed</th>"
        "<th>amount changed</th>" + "".join(f"<th>Δ {escape(f)}</th>" for f in fields) + "</tr>"
    )
    for row in rows:
        t = row.totals
        cells = [
            _td(row.decision),
            _td(row.label),
            _td(f"{t.decisions:,}", True),
            _td(f"{t.changed:,}", True),
            _td(f"{t.outcome_changed:,}", True),
            _td(f"{t.amount_changed:,}", True),
            *(_signed(t.delta[f]) if f in t.delta else "<td></td>" for f in fields),
        ]
        yield "<tr>" + "".join(cells) + "</tr>"
    yield "</table>"


def _examples(s: ImpactSummary, old: str, new: str) -> Iterable[str]:
    if not any(s.examples.get(kind) for kind in EXAMPLE_KINDS):
        yield "<p>No decision changed.</p>"
        return
    for kind in EXAMPLE_KINDS:
        examples = s.examples.get(kind) or []
        if not examples:
            continue
        yield f"<h3>{escape(KIND_TITLES[kind])}</h3>"
        for e in examples:
            deltas = ", ".join(f"{k} {v}" for k, v in e.deltas.items())
            yield (
                f"<details><summary>{escape(e.ref)}: {escape(e.decision)}"
                + (f" — {escape(deltas)}" if deltas else "")
                + "</summary>"
                f"<p>at {escape(e.at)}</p><pre>{escape(dumps(e.input, indent=2))}</pre>"
                f"<table><tr><th>{escape(old)}</th><th>{escape(new)}</th></tr><tr>"
                f"<td><pre>{escape(dumps(e.old, indent=2))}</pre></td>"
                f"<td><pre>{escape(dumps(e.new, indent=2))}</pre></td></tr></table></details>"
            )


# ---------------------------------------------------------------------------------------------- structure


def _structure(diff: StructuralDiff) -> Iterable[str]:
    yield (
        f"<p>{escape(diff.old_version)} in force from {escape(diff.old_window[0])}; "
        f"{escape(diff.new_version)} from {escape(diff.new_window[0])}.</p>"
    )
    if diff.is_empty:
        yield "<p>No difference: the params and every decision are the same.</p>"
        return
    if diff.params:
        yield "<h3>Params</h3><table><tr><th>param</th><th>change</th><th>before</th><th>after</th>"
        yield "<th>title</th></tr>"
        for p in diff.params:
            yield (
                "<tr>"
                + _td(p.name)
                + _td(p.change)
                + _td(p.old or "")
                + _td(p.new or "")
                + _td(p.title or "")
                + "</tr>"
            )
        yield "</table>"
    for decision in diff.decisions:
        yield from _decision(decision)


def _decision(d: DecisionDiff) -> Iterable[str]:
    title = f" ({d.title})" if d.title else ""
    words = {
        "added": "new in this version",
        "removed": "removed in this version",
        "unchanged": "unchanged",
        "affected": "rules unchanged, but they read changed params",
        "changed": "changed",
    }[d.change]
    yield f"<h3>Decision {escape(d.name + title)}: {escape(words)}</h3>"
    items = [_rule_item(rule) for rule in d.rules] + [escape(item) for item in d.other]
    items += [escape(f"{rule} reads changed params {', '.join(params)}") for rule, params in d.params_read]
    if items:
        yield "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _rule_item(rule: RuleChange) -> str:
    title = f" ({rule.title})" if rule.title else ""
    details = "".join(f"<li>{escape(detail)}</li>" for detail in rule.details)
    return escape(f"rule {rule.id} {rule.change}{title}") + (f"<ul>{details}</ul>" if details else "")
