"""Coordination of worker processes through the decision log's SQLite file: an admin reload reaches all.

An admin reload is received by one worker. It bumps a shared reload generation; every worker polls the
generation, reloads when it moves and records the generation it has reached, so the admin answer can wait
until every worker serves the new policies.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

__all__ = ("WorkerCoordination",)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reload_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS worker_generation (
    pid INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL
);
"""


class WorkerCoordination:
    """The shared reload generation, and which worker has reached which generation."""

    def __init__(self, path: Path, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(_SCHEMA)
        self._pid = os.getpid()

    def generation(self) -> int:
        """The newest reload generation any worker asked for."""
        with self._lock:
            row = self._conn.execute("SELECT generation FROM reload_generation WHERE id = 1").fetchone()
        return int(row[0]) if row is not None else 0

    def request_reload(self) -> int:
        """Ask every worker to reload; returns the new generation."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO reload_generation VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET generation = generation + 1"
            )
            row = self._conn.execute("SELECT generation FROM reload_generation WHERE id = 1").fetchone()
        return int(row[0])

    def reached(self, generation: int) -> None:
        """Record that this worker serves the policies of ``generation``."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO worker_generation VALUES (?, ?)"
                " ON CONFLICT (pid) DO UPDATE SET generation = excluded.generation",
                (self._pid, generation),
            )

    def wait_for_workers(self, generation: int, timeout: float) -> int:
        """Wait until every worker has reached ``generation``; returns how many have."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                row = self._conn.execute(
                    "SELECT count(*) FROM worker_generation WHERE generation >= ?", (generation,)
                ).fetchone()
            count = int(row[0])
            if count >= self.workers or time.monotonic() >= deadline:
                return count
            time.sleep(0.02)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
