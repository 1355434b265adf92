"""Process-level harness: a real ``policy serve`` (uvicorn) on a free loopback port, over a real SQLite file.

``start_server(...)`` copies the repository's ``policies/`` and ``schemas/`` into ``tmp_path`` once (so a test
may edit them), starts the server as a subprocess in a session of its own, waits for ``/health/ready`` and
returns a :class:`ServerProcess`. Every server a test started is stopped at teardown (SIGTERM to the
process group, then SIGKILL), so worker processes never outlive a test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_BIN = Path(sys.executable).parent / "policy"

ADMIN_TOKEN = "admin-token-for-tests"
READ_TOKEN = "read-token-for-tests"

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

CLAIM_REQUEST: dict[str, Any] = {
    "program": "douyin-anxingou",
    "decision": "claim",
    "input": {
        "order": {
            "amount": "299.00",
            "category": "general",
            "placed_at": "2021-09-01T10:00:00+08:00",
            "shipped_at": None,
            "signed_at": None,
        },
        "claim": {"type": "instant_refund", "filed_at": "2021-09-01T11:00:00+08:00"},
    },
    "version": "2021.08",
    "at": "2021-09-01T11:00:05+08:00",
    "explain": False,
}
"""The example decide body of spec/api.md (douyin-anxingou claim, pinned to version 2021.08)."""


def claim_request(amount: str = "299.00", *, shipped: bool = False) -> dict[str, Any]:
    """The example claim with another amount (over 300.00 is denied) or an order already shipped."""
    body: dict[str, Any] = {**CLAIM_REQUEST, "input": {**CLAIM_REQUEST["input"]}}
    order = dict(CLAIM_REQUEST["input"]["order"], amount=amount)
    if shipped:
        order["shipped_at"] = "2021-09-01T10:30:00+08:00"
    body["input"]["order"] = order
    return body


def answer_of(response_json: Mapping[str, Any]) -> dict[str, Any]:
    """A decide answer without its decision id: what the log stores and a replay must equal."""
    return {k: v for k, v in response_json.items() if k not in ("decision_id", "trace")}


def free_port() -> int:
    """A loopback port nobody listens on right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def count_rows(db: Path) -> int:
    """Rows in the decision log, read straight from the SQLite file (WAL included)."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
    finally:
        conn.close()


@dataclass
class ServerProcess:
    """One running ``policy serve`` and the files it works on."""

    root: Path
    """Holds the copied ``policies/`` and ``schemas/``; the server's working directory."""
    db: Path
    port: int
    workers: int
    proc: subprocess.Popen[bytes]
    stderr_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def policies(self) -> Path:
        return self.root / "policies"

    def client(self, **kwargs: Any) -> httpx.Client:
        """A new HTTP client for this server (one per thread: httpx clients are not shared here)."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.base_url, **kwargs)

    def stderr(self) -> str:
        """What the server wrote to stderr so far (its JSON log lines, uvicorn's messages)."""
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, lines: int = 40) -> str:
        return "\n".join(self.stderr().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the server (no graceful shutdown), and anything left in its process group."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)
        self._kill_group()

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL; the whole process group (uvicorn's workers too)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        self._kill_group()

    def _kill_group(self) -> None:
        # The server runs in a session of its own: its pid is the group id of every worker it forked.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        """Poll ``/health/ready`` until 200; fail with the server's stderr if it exits or times out."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise ServerStartError(
                        f"policy serve exited with code {self.proc.returncode} before it was ready\n"
                        f"--- stderr ---\n{self.stderr_tail()}"
                    )
                try:
                    response = client.get("/health/ready")
                except httpx.TransportError as exc:
                    last = repr(exc)
                else:
                    if response.status_code == 200:
                        body: dict[str, Any] = response.json()
                        return body
                    last = f"{response.status_code} {response.text[:300]}"
                time.sleep(0.1)
        raise ServerStartError(
            f"policy serve on port {self.port} not ready after {timeout:.0f} s (last: {last})\n"
            f"--- stderr ---\n{self.stderr_tail()}"
        )


class ServerStartError(AssertionError):
    """The server did not become ready; the message carries its stderr."""


StartServer = Callable[..., ServerProcess]
"""``start_server(workers=1, watch_interval=0, db=None, extra_env=None) -> ServerProcess``."""


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def read_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {READ_TOKEN}"}
