"""Where the time goes: cProfile of the hot paths, top functions by own time.

1. evaluation only: the generated claim function on the reference corpus;
2. full decide in-process: JSON bytes → answer bytes on the reference corpus;
3. cold start: load + compile of the bundled policies;
4. the server: the app of ``policy serve`` with one worker (``serve_profiled.py``), profiled while wrk
   loads /v1/decide for a few seconds after a warm-up (event-loop thread only: the decision log's writer
   thread is not in it, but the time the event loop waits to get the GIL back from it is, in whichever
   call released the GIL).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import claim_corpus
import http_bench
from common import BENCH, ROOT, full_decide, registry
from reference import DECISION, PROGRAM, VERSION, coerced_values, request_body

from policy_engine import load_registry

TOP = 12
SERVER_SECONDS = "6s"


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3."):
        if marker in path:
            return path.split(marker, 1)[1]
    return path.replace(str(ROOT) + "/", "")


def _ours(path: str) -> bool:
    return "/src/policy_engine/" in path or "/src/server/" in path or path.startswith("<")


def top_functions(
    stats: pstats.Stats, count: int = TOP, *, by: str = "own_ms", ours_only: bool = False
) -> list[dict[str, Any]]:
    """The functions with the most own (or cumulative) time; ``ours_only``: the project's code only."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    rows = []
    for (path, line, name), (_cc, calls, own, cumulative, _callers) in raw.items():
        if ours_only and not _ours(path):
            continue
        where = name if path == "~" else f"{_short(path)}:{line} {name}"
        rows.append(
            {
                "function": where,
                "calls": calls,
                "own_ms": own * 1000,
                "cum_ms": cumulative * 1000,
                "share": own / total,
                "cum_share": cumulative / total,
            }
        )
    rows.sort(key=lambda r: float(r[by]), reverse=True)
    return rows[:count]


def _profile(work: Any) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    return pstats.Stats(profiler)


def profile_in_process() -> dict[str, list[dict[str, Any]]]:
    """Profiles 1–3."""
    reg = registry()
    compiled = reg.policy(PROGRAM, VERSION).decisions[DECISION]
    inputs = claim_corpus.corpus()
    values = [coerced_values(compiled, raw) for raw in inputs]
    bodies = [request_body(raw) for raw in inputs]
    function = compiled.plain.function
    decide_bytes = full_decide(reg)

    def evaluation() -> None:
        for _ in range(5):
            for v in values:
                function(v)

    def decide() -> None:
        for body in bodies:
            decide_bytes(body)

    def cold() -> None:
        load_registry(ROOT / "policies", ROOT / "schemas")

    cold_stats = _profile(cold)
    return {
        "evaluation only (generated claim function, 5,000 calls)": top_functions(_profile(evaluation)),
        "full decide in-process (1,000 claim requests)": top_functions(_profile(decide)),
        "cold start (load + compile of the bundled policies): top by own time": top_functions(cold_stats),
        "cold start: the project's functions by cumulative time": top_functions(
            cold_stats, TOP + 4, by="cum_ms", ours_only=True
        ),
    }


def profile_server() -> dict[str, list[dict[str, Any]]]:
    """Profile 4: the event-loop thread of a one-worker server, steady state only (after a warm-up)."""
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp_name:
        tmp = Path(tmp_name)
        bodies = tmp / "bodies.jsonl"
        http_bench.write_bodies(bodies)
        port = http_bench.free_port()
        out = tmp / "server.prof"
        command = [
            sys.executable,
            str(BENCH / "serve_profiled.py"),
            "--port",
            str(port),
            "--db",
            str(tmp / "decisions.db"),
            "--out",
            str(out),
        ]
        url = f"http://127.0.0.1:{port}"
        with http_bench.started(command, f"{url}/health/ready", tmp / "serve.log") as process:
            http_bench.wrk(f"{url}/v1/decide", bodies, "2s")
            os.kill(process.pid, signal.SIGUSR1)
            http_bench.wrk(f"{url}/v1/decide", bodies, SERVER_SECONDS)
            os.kill(process.pid, signal.SIGUSR2)
            for _ in range(100):
                if out.exists():
                    time.sleep(0.5)  # let the dump finish
                    break
                time.sleep(0.1)
        if not out.exists():
            return {}
        stats = pstats.Stats(str(out))
        served = max(
            (
                row["calls"]
                for row in top_functions(stats, 10**6, ours_only=True)
                if row["function"].startswith("server/service.py:") and row["function"].endswith(" evaluate")
            ),
            default=0,
        )
        ours = top_functions(stats, TOP + 4, by="cum_ms", ours_only=True)
        for row in ours:
            row["per_request_us"] = row["cum_ms"] * 1000 / served if served else 0.0
        title = "server event-loop thread under wrk (the policy serve app, 1 worker, /v1/decide, 6 s)"
        return {
            f"{title}: top by own time": top_functions(stats, TOP + 6),
            f"{title}: the project's functions by cumulative time ({served:,} requests)": ours,
        }


def run(server: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Every profile."""
    profiles = profile_in_process()
    if server:
        profiles.update(profile_server())
    return profiles


def report(profiles: dict[str, list[dict[str, Any]]]) -> str:
    """The markdown section."""
    lines = ["### Profiles (cProfile)"]
    for title, rows in profiles.items():
        per_request = bool(rows) and "per_request_us" in rows[0]
        by_cumulative = "cumulative" in title
        last_column = "cum µs per request" if per_request else "cum %" if by_cumulative else "own %"
        lines += [
            "",
            f"**{title}**",
            "",
            f"| function | calls | own ms | cum ms | {last_column} |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in rows:
            if per_request:
                last = f"{row['per_request_us']:,.0f}"
            else:
                last = f"{row['cum_share' if by_cumulative else 'share'] * 100:.1f}"
            lines.append(
                f"| `{row['function']}` | {row['calls']:,} | {row['own_ms']:,.1f} | {row['cum_ms']:,.1f} "
                f"| {last} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run(server="--no-server" not in sys.argv)))
