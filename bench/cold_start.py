"""(d) Cold start: load + compile all bundled policies, and 10× and 100× synthetic copies of them.

A copy is each program's folder (policy files only, not its tests) under a new program name, with
its ``program:`` line rewritten, and its schemas folder copied under the same name. Each load runs in
a fresh interpreter (imports done before the clock starts), so no cache of an earlier load helps it.

Within one load, identical texts are compiled once: a decision schema per text (schema_store) and an
expression per text (expr/syntax). Renamed copies share both, which makes copies cheaper than the
originals; so the copies are also loaded *unshared*: each copy's schema files carry a ``$comment``
naming the copy (a different text, the same schema), and the expression cache is emptied whenever the
loader moves to another program. Every copy is read, validated and compiled as its own policy in both
runs. The 1× load has no copies and is the honest per-rule cost.
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

SCALES = ((1, 7), (10, 3), (100, 1))  # (copies of each program, fresh-process runs: medians)
TARGET_MS_PER_100_RULES = 50.0

_PROBE = """
import json, sys, time
from pathlib import Path
from policy_engine import load_registry
if sys.argv[3] == "unshared":  # empty the expression cache whenever the loader reaches another program
    import policy_engine.compiler as compiler
    from policy_engine.expr import syntax
    compile_policy, last = compiler._compile_policy, [None]
    def unshared(spec, *args):
        if spec.program != last[0]:
            syntax._parse.cache_clear()
            last[0] = spec.program
        return compile_policy(spec, *args)
    compiler._compile_policy = unshared
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


def build_tree(root: Path, copies: int, *, unshared: bool = False) -> tuple[Path, Path]:
    """``root/policies`` and ``root/schemas`` holding ``copies`` renamed copies of every program.

    ``unshared``: each copy's schema files get a ``"$comment"`` naming the copy, so no two copies have the
    same schema text (the schema itself is unchanged).
    """
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
                if unshared and copies > 1:
                    for file in (schemas / name).glob("*.json"):
                        text = file.read_text(encoding="utf-8")
                        assert text.lstrip().startswith("{")
                        marked = text.replace("{", f'{{"$comment": "copy {name}",', 1)
                        file.write_text(marked, encoding="utf-8")
    return policies, schemas


def load_once(policies: Path, schemas: Path, *, unshared: bool = False) -> dict[str, Any]:
    """One load + compile in a fresh interpreter."""
    mode = "unshared" if unshared else "shared"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(policies), str(schemas), mode],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"(d) loading {policies} failed:\n{done.stderr[-3000:]}")
    loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _rows(tmp: Path, scales: tuple[tuple[int, int], ...], *, unshared: bool) -> list[dict[str, Any]]:
    rows = []
    for copies, runs in scales:
        policies, schemas = build_tree(tmp / f"x{copies}-{unshared}", copies, unshared=unshared)
        loads = [load_once(policies, schemas, unshared=unshared) for _ in range(runs)]
        ms = statistics.median(load["ms"] for load in loads)
        rows.append({**loads[0], "copies": copies, "runs": runs, "ms": ms})
    for row in rows:
        row["ms_per_100_rules"] = row["ms"] / row["rules"] * 100
    return rows


def _linear(rows: list[dict[str, Any]]) -> bool:
    base = rows[0]["ms_per_100_rules"]
    return all(row["ms_per_100_rules"] <= base * 1.25 for row in rows)


def run(scales: tuple[tuple[int, int], ...] = SCALES) -> dict[str, Any]:
    """Build each tree, load it in fresh processes, keep the median; unshared copies, then renamed ones."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        rows = _rows(Path(tmp), scales, unshared=True)  # at 1× there is no copy: nothing to share
        shared = [rows[0], *_rows(Path(tmp), tuple(s for s in scales if s[0] > 1), unshared=False)]
    return {"rows": rows, "linear": _linear(rows), "shared_rows": shared, "shared_linear": _linear(shared)}


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| copies | programs | versions | decisions | rules | runs | ms (median) | ms per 100 rules |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['copies']}× | {row['programs']} | {row['versions']} | {row['decisions']} "
            f"| {row['rules']} | {row['runs']} | {fmt(row['ms'], 0)} | {fmt(row['ms_per_100_rules'], 1)} |"
        )
    return lines


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    rows, shared = result["rows"], result.get("shared_rows", [])
    lines = [
        "### (d) Cold start: load + compile (fresh process each run, imports excluded)",
        "",
        "Unshared copies (no schema or expression text is compiled once for two copies):",
        "",
        *_table(rows),
    ]
    if shared:
        lines += ["", "Renamed copies (identical schema and expression texts compiled once per load):", ""]
        lines += _table(shared)
    worst = max(row["ms_per_100_rules"] for row in rows)
    met = "met" if worst <= TARGET_MS_PER_100_RULES else "MISSED"
    lines += [
        "",
        f"- Worst ms per 100 rules (unshared): **{fmt(worst, 1)}** (target ≤ {TARGET_MS_PER_100_RULES:.0f}: "
        f"{met}; {fmt(worst / TARGET_MS_PER_100_RULES, 1)}× the target); the 1× load, without copies: "
        f"**{fmt(rows[0]['ms_per_100_rules'], 1)}**",
    ]
    for name, table, linear in (
        ("unshared", rows, result["linear"]),
        ("renamed", shared, result.get("shared_linear")),
    ):
        if not table:
            continue
        growth = table[-1]["ms_per_100_rules"] / table[0]["ms_per_100_rules"]
        lines.append(
            f"- Per-rule cost at {table[-1]['copies']}× ÷ at 1×, {name} copies: **{fmt(growth)}** "
            f"({'linear' if linear else 'NOT linear'}: within 1.25× of the 1× cost per rule)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
