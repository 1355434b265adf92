"""What the benchmark parts share: paths, machine facts, core pinning, timing, the full in-process decide."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from policy_engine import Registry, decide, load_registry
from policy_engine.jsonio import loads_strict
from server.requests import read_decide_request

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
POLICIES = ROOT / "policies"
SCHEMAS = ROOT / "schemas"
OUT = ROOT / "var" / "bench"


def machine() -> dict[str, str]:
    """Date, core count, CPU model and Python version, for the results."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    date = subprocess.run(["date"], capture_output=True, text=True, check=False).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": date,
        "commit": commit + (" (src/ has uncommitted changes)" if dirty else ""),
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
    }


def pin_to_one_core() -> int | None:
    """Pin this process to the last core (bench-reference: one core); the core, or None if not possible."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[-1]})
    return cores[-1]


def time_per_call(run_batch: Callable[[], object], calls: int, repeats: int) -> float:
    """Median µs per call over ``repeats`` timed runs of ``run_batch`` (which makes ``calls`` calls)."""
    run_batch()  # warm up
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter_ns()
        run_batch()
        samples.append((time.perf_counter_ns() - start) / 1000 / calls)
    return statistics.median(samples)


def time_interleaved(batches: dict[str, tuple[Callable[[], object], int]], repeats: int) -> dict[str, float]:
    """Median µs per call of each named batch, the batches taking turns in every repeat.

    Taking turns spreads whatever else the machine is doing evenly over the implementations compared,
    so their ratios stay fair on a busy machine.
    """
    for run_batch, _calls in batches.values():
        run_batch()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in batches}
    for _ in range(repeats):
        for name, (run_batch, calls) in batches.items():
            gc.collect()
            start = time.perf_counter_ns()
            run_batch()
            samples[name].append((time.perf_counter_ns() - start) / 1000 / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def batch_over(function: Callable[[Any], object], items: Sequence[Any], size: int) -> Callable[[], None]:
    """A batch of ``size`` calls of ``function`` cycling over ``items``."""
    cycled = [items[i % len(items)] for i in range(size)]

    def run() -> None:
        for item in cycled:
            function(item)

    return run


def full_decide(registry: Registry) -> Callable[[bytes], bytes]:
    """JSON bytes of a decide request in, JSON bytes of the answer out, as the server's route does it.

    loads_strict → read_decide_request → decide (version, validation, coercion, generated function)
    → Decision.to_json → msgspec encode. No decision id and no log: those are the HTTP part's.
    """

    def run(body: bytes) -> bytes:
        request = read_decide_request(loads_strict(body), datetime.now(UTC))
        return msgspec.json.encode(decide(registry, request).to_json())

    return run


def registry() -> Registry:
    """The bundled policies."""
    return load_registry(POLICIES, SCHEMAS)


def fmt(value: float, places: int = 2) -> str:
    """A number for a table."""
    return f"{value:,.{places}f}"
