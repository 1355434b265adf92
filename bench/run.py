"""``make bench``: every part of the benchmark suite (issue 5), one summary.

Parts: (a) in-process per decision, (b) the reference decision against hand-written Python and
zen-engine, (c) HTTP under wrk, (d) cold start, (e) the input check options, then cProfile of the hot
paths. The summary (markdown) is printed and written to ``var/bench/summary.md``, the raw numbers to
``var/bench/results.json``; ``bench/RESULTS.md`` is the curated record with the analysis.

``python bench/run.py [--only a,b,c,d,e,p]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cold_start
import http_bench
import inprocess
import input_options
import profile_hot
import reference
from common import OUT, fmt, machine

PARTS = ("a", "b", "c", "d", "e", "p")
RUN_ORDER = ("a", "b", "d", "e", "c", "p")
"""The timed in-process parts run before (c): its servers write ~700,000 decision-log rows, and for a
minute after it the disk is still flushing and the load average is near 4 (a 1× cold start measured 54.6 ms
per 100 rules right after it, 48.4-49.3 on a quiet machine). The summary keeps the order of PARTS."""


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def targets(results: dict[str, Any]) -> list[str]:
    """The issue's targets, each with its measured value and whether it is met."""
    rows = ["| target (issue 5) | measured | status |", "|---|---|---|"]
    b = results.get("b")
    if b:
        ratio = b["eval_ratio"]
        rows.append(
            f"| evaluation only ≤ 1.5× hand-written | {fmt(ratio)}× | "
            f"{'met' if ratio <= 1.5 else f'MISSED by {fmt(ratio / 1.5, 1)}×'} |"
        )
        ratio = b["decide_vs_zen"]
        rows.append(
            f"| full in-process decide ≤ 1.0× zen-engine | {fmt(ratio)}× | "
            f"{'met' if ratio <= 1.0 else f'MISSED by {fmt(ratio, 1)}×'} |"
        )
    c = results.get("c")
    if c:
        for row in c["rows"]:
            w, ratio, p99 = row["workers"], row["ratio"], row["decide"]["p99_ms"]
            rows.append(
                f"| HTTP {w} worker(s): decide ≥ 75% of echo req/s | {fmt(ratio * 100, 0)}% | "
                f"{'met' if ratio >= 0.75 else f'MISSED by {fmt(0.75 / ratio, 1)}×'} |"
            )
            rows.append(
                f"| HTTP {w} worker(s): p99 ≤ 10 ms at 32 connections | {fmt(p99)} ms | "
                f"{'met' if p99 <= 10 else f'MISSED by {fmt(p99 / 10, 1)}×'} |"
            )
            errors = row["decide"]["errors"] + row["echo"]["errors"]
            rows.append(
                f"| HTTP {w} worker(s): zero errors | {errors} | {'met' if errors == 0 else 'MISSED'} |"
            )
    d = results.get("d")
    if d:
        worst = max(r["ms_per_100_rules"] for r in d["rows"])
        rows.append(
            f"| cold start ≤ 50 ms per 100 rules | {fmt(worst, 1)} ms | "
            f"{'met' if worst <= 50 else f'MISSED by {fmt(worst / 50, 1)}×'} |"
        )
        growth = d["rows"][-1]["ms_per_100_rules"] / d["rows"][0]["ms_per_100_rules"]
        rows.append(
            f"| cold start linear from 1× to {d['rows'][-1]['copies']}× | per-rule cost × {fmt(growth)} | "
            f"{'met' if d['linear'] else 'MISSED'} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmark suite")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: a,b,c,d,e,p")
    args = parser.parse_args()
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {','.join(PARTS)}")
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    facts = machine()
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": facts}
    sections: dict[str, str] = {}
    loads: list[str] = [f"start {_load()}"]
    modules = {
        "a": inprocess,
        "b": reference,
        "c": http_bench,
        "d": cold_start,
        "e": input_options,
        "p": profile_hot,
    }
    for part in RUN_ORDER:
        if part not in chosen:
            continue
        begun = time.perf_counter()
        print(f"… part ({part}) {modules[part].__doc__.splitlines()[0]}", file=sys.stderr, flush=True)
        results[part] = modules[part].run()
        sections[part] = modules[part].report(results[part])
        if affinity is not None:
            os.sched_setaffinity(0, affinity)  # (a) and (b) pin themselves to one core
        loads.append(f"after ({part}) {_load()}")
        print(f"  done in {time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    lines = [
        "## Benchmark summary",
        "",
        f"- date: {facts['date']}",
        f"- machine: {facts['nproc']} cores, {facts['cpu']}, {facts['python']}",
        f"- code: commit {facts['commit']}",
        f"- load average (1/5/15 min): {'; '.join(loads)}",
        f"- `make bench` parts {','.join(chosen)} took {elapsed:.0f} s",
        "",
        *targets(results),
    ]
    for part in PARTS:
        if part in sections:
            lines += ["", sections[part]]
    summary = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.md").write_text(summary, encoding="utf-8")
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(summary)
    print(f"(written to {OUT / 'summary.md'} and {OUT / 'results.json'})", file=sys.stderr)


if __name__ == "__main__":
    main()
