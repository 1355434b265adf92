"""Fixtures of the process-level tests: ``start_server`` starts real ``policy serve`` processes.

The server, the request bodies and the tokens come from tests/support/server_support.py; see its docstring.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from server_support import ServerProcess, StartServer, copy_policies, launch_server


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    """``tmp_path/srv`` with copies of the repository's ``policies/`` and ``schemas/``."""
    return copy_policies(tmp_path / "srv")


@pytest.fixture
def start_server(server_root: Path, tmp_path: Path) -> Iterator[StartServer]:
    """Start ``policy serve`` processes on the copied policies; all are stopped at teardown.

    Each logs its decisions in ``tmp_path/decisions.sqlite3`` unless given another ``db``.
    """
    started: list[ServerProcess] = []

    def start(
        *,
        workers: int = 1,
        watch_interval: float = 0,
        db: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> ServerProcess:
        db = db if db is not None else tmp_path / "decisions.sqlite3"
        server = launch_server(
            server_root, db, workers=workers, watch_interval=watch_interval, extra_env=extra_env
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
