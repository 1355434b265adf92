"""(d) Cold start: load + compile all bundled policies, and 10× and 100× synthetic copies of them.

A copy is each program's folder (policy files only, not its tests) under a new program name, with
its ``program:`` line rewritten, and its schemas folder copied under the same name. Each load runs in
a fresh interpreter (imports done before the clock starts), so no cache of an earlier load helps it.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import POLICIES, SCHEMAS, fmt

SCALES = ((1, 3), (10, 2), (100, 1))  # (copies of each program, fresh-process runs)
TARGET_MS_PER_100_RULES = 50.0

_PROBE = """
import json, sys, time
from pathlib import Path
from policy_engine import load_registry
start = time.perf_counter()
registry = load_registry(Path(sys.argv[1]), Path(sys.argv[2]))
ms = (time.perf_counter() - start) * 1000
rules = decisions = versions = 0
for program in registry.programs.values():
    for window in program.windows:
        versions += 1
        for decision in window.policy.decisions.values():
            decisions += 1
            rules += len(decision.rules)
print(json.dumps({"ms": ms, "rules": rules, "decisions": decisions, "versions": versions,
                  "programs": len(registry.programs)}))
"""

_PROGRAM_LINE = re.compile(r"^program:.*$", re.MULTILINE)


def build_tree(root: Path, copies: int) -> tuple[Path, Path]:
    """``root/policies`` and ``root/schemas`` holding ``copies`` renamed copies of every program."""
    policies, schemas = root / "policies", root / "schemas"
    policies.mkdir(parents=True)
    schemas.mkdir(parents=True)
    for item in SCHEMAS.iterdir():
        if item.is_file():
            shutil.copy2(item, schemas / item.name)
    programs = sorted(p for p in POLICIES.iterdir() if p.is_dir() and not p.name.startswith("."))
    for program in programs:
        for index in range(copies):
            name = program.name if copies == 1 else f"{program.name}-c{index:03d}"
            target = policies / name
            target.mkdir()
            for source in sorted(program.glob("*.yaml")):
                text = _PROGRAM_LINE.sub(f"program: {name}", source.read_text(encoding="utf-8"), count=1)
                (target / source.name).write_text(text, encoding="utf-8")
            if (SCHEMAS / program.name).is_dir():
                shutil.copytree(SCHEMAS / program.name, schemas / name)
    return policies, schemas


def load_once(policies: Path, schemas: Path) -> dict[str, Any]:
    """One load + compile in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(policies), str(schemas)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"(d) loading {policies} failed:\n{done.stderr[-3000:]}")
    loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def run(scales: tuple[tuple[int, int], ...] = SCALES) -> dict[str, Any]:
    """Build each tree, load it in fresh processes, keep the median."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        for copies, runs in scales:
            policies, schemas = build_tree(Path(tmp) / f"x{copies}", copies)
            loads = [load_once(policies, schemas) for _ in range(runs)]
            ms = statistics.median(load["ms"] for load in loads)
            first = loads[0]
            rows.append({**first, "copies": copies, "runs": runs, "ms": ms})
    for row in rows:
        row["ms_per_100_rules"] = row["ms"] / row["rules"] * 100
    base = rows[0]["ms_per_100_rules"]
    linear = all(row["ms_per_100_rules"] <= base * 1.25 for row in rows)
    return {"rows": rows, "linear": linear}


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    lines = [
        "### (d) Cold start: load + compile (fresh process each run, imports excluded)",
        "",
        "| copies | programs | versions | decisions | rules | runs | ms (median) | ms per 100 rules |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['copies']}× | {row['programs']} | {row['versions']} | {row['decisions']} "
            f"| {row['rules']} | {row['runs']} | {fmt(row['ms'], 0)} | {fmt(row['ms_per_100_rules'], 1)} |"
        )
    rows = result["rows"]
    worst = max(row["ms_per_100_rules"] for row in rows)
    met = "met" if worst <= TARGET_MS_PER_100_RULES else "MISSED"
    growth = rows[-1]["ms_per_100_rules"] / rows[0]["ms_per_100_rules"]
    lines += [
        "",
        f"- Worst ms per 100 rules: **{fmt(worst, 1)}** (target ≤ {TARGET_MS_PER_100_RULES:.0f}: {met}; "
        f"{fmt(worst / TARGET_MS_PER_100_RULES, 1)}× the target)",
        f"- Per-rule cost at {rows[-1]['copies']}× ÷ at 1×: **{fmt(growth)}** "
        f"({'linear' if result['linear'] else 'NOT linear'}: within 1.25× of the 1× cost per rule)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
