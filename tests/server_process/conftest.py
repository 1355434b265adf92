"""Fixtures of the process-level tests: ``start_server`` starts real ``policy serve`` processes.

The helpers live in ``server_harness.py`` (importable by the test modules); see its docstring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from server_harness import (
    ADMIN_TOKEN,
    POLICY_BIN,
    READ_TOKEN,
    REPO_ROOT,
    ServerProcess,
    ServerStartError,
    StartServer,
    free_port,
)


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    """``tmp_path/srv`` with copies of the repository's ``policies/`` and ``schemas/``."""
    root = tmp_path / "srv"
    for name in ("policies", "schemas"):
        shutil.copytree(REPO_ROOT / name, root / name)
    return root


@pytest.fixture
def start_server(server_root: Path, tmp_path: Path) -> Iterator[StartServer]:
    """Start ``policy serve`` processes on the copied policies; all are stopped at teardown."""
    started: list[ServerProcess] = []
    runs = 0

    def start(
        *,
        workers: int = 1,
        watch_interval: float = 0,
        db: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> ServerProcess:
        nonlocal runs
        if not POLICY_BIN.exists():
            pytest.fail(f"{POLICY_BIN} not found: install the project into the interpreter's environment")
        db = db if db is not None else tmp_path / "decisions.sqlite3"
        # No POLICY_* or PROMETHEUS_* setting of the caller's shell leaks into the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICY_", "PROMETHEUS_MULTIPROC"))}
        env.update({"POLICY_ADMIN_TOKEN": ADMIN_TOKEN, "POLICY_READ_TOKEN": READ_TOKEN})
        env.update(extra_env or {})
        last_error: ServerStartError | None = None
        for _ in range(3):  # another process may take the free port between our probe and the bind
            runs += 1
            port = free_port()
            stderr_path = tmp_path / f"server-{runs}.stderr.log"
            command = [
                str(POLICY_BIN),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--db",
                str(db),
                "--workers",
                str(workers),
                "--watch-interval",
                str(watch_interval),
                "--policies",
                str(server_root / "policies"),
            ]
            with stderr_path.open("wb") as stderr:
                proc = subprocess.Popen(
                    command,
                    cwd=server_root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                    start_new_session=True,
                )
            server = ServerProcess(server_root, db, port, workers, proc, stderr_path, env)
            started.append(server)
            try:
                server.wait_ready()
            except ServerStartError as exc:
                server.stop()
                last_error = exc
                if "address already in use" in server.stderr().lower():
                    continue
                raise
            return server
        assert last_error is not None
        raise last_error

    yield start
    for server in started:
        server.stop()
