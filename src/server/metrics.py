"""Prometheus metrics of the server, correct across worker processes.

With several workers every process writes its values to files in a shared directory
(prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR), and ``/metrics`` adds them up; with
one worker and no directory, the process's own values are shown.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ("CONTENT_TYPE", "Metrics", "prepare_metrics_dir")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def prepare_metrics_dir(path: Path) -> None:
    """Empty the shared metrics directory before workers start (stale files would add old counts)."""
    path.mkdir(parents=True, exist_ok=True)
    for item in path.glob("*.db"):
        item.unlink()


class Metrics:
    """The server's counters and histograms, registered in a registry of their own."""

    def __init__(self) -> None:
        # The value class is chosen when prometheus_client is imported; a worker forked from a parent that
        # imported it before PROMETHEUS_MULTIPROC_DIR was set must still write to the shared files.
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "policy_decisions",
            "Decisions answered, by program, version, decision and outcome ('' for decisions without one).",
            ("program", "version", "decision", "outcome"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "policy_decision_seconds",
            "Time from request received to answer ready, decision log commit included.",
            ("program", "decision"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejected = Counter(
            "policy_requests_rejected",
            "Decision requests answered with a problem, by HTTP status.",
            ("status",),
            registry=self.registry,
        )
        self.reloads = Counter(
            "policy_reloads", "Policy loads and reloads that were swapped in.", registry=self.registry
        )
        self.reload_failures = Counter(
            "policy_reload_failures",
            "Policy reloads refused because a policy had errors.",
            registry=self.registry,
        )
        self.log_write_failures = Counter(
            "decision_log_write_failures",
            "Decisions not answered because the decision log could not be written.",
            registry=self.registry,
        )
        self._decided: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}

    def decided(self, program: str, version: str, decision: str, outcome: str, seconds: float) -> None:
        """Count one answered decision and observe its latency (the labelled children are kept)."""
        key = (program, version, decision, outcome)
        children = self._decided.get(key)
        if children is None:
            children = self._decided[key] = (
                self.decisions.labels(program, version, decision, outcome),
                self.latency.labels(program, decision),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition: of all workers in multiprocess mode, else of this process."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            combined = CollectorRegistry()
            MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)
