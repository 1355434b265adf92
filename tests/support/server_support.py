"""Shared support of the tests that talk to the decision server: request bodies and a real ``policy serve``.

* The example of spec/api.md: :data:`CLAIM_INPUT`, :data:`DECIDE`, and :func:`claim_request` for variants.
* :func:`launch_server` starts ``policy serve`` (uvicorn) as a subprocess on a free loopback port, in a
  session of its own, and waits for ``/health/ready``; :meth:`ServerProcess.stop` ends it (SIGTERM, then
  SIGKILL to its whole process group), so worker processes never outlive a test.

The tests import it as ``server_support``: pytest puts ``tests/support`` on ``sys.path`` (``pythonpath`` in
pyproject.toml); tests/stress/faults.py, which also runs as a script, puts it there itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_BIN = Path(sys.executable).parent / "policy"

ADMIN_TOKEN = "admin-token-for-tests"
READ_TOKEN = "read-token-for-tests"

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# ── the example of spec/api.md ───────────────────────────────────────────────────────────────────

CLAIM_INPUT: dict[str, Any] = {
    "order": {
        "amount": "299.00",
        "category": "general",
        "placed_at": "2021-09-01T10:00:00+08:00",
        "shipped_at": None,
        "signed_at": None,
    },
    "claim": {"type": "instant_refund", "filed_at": "2021-09-01T11:00:00+08:00"},
}
"""The input of the example: a 299.00 instant refund claimed an hour after the order (approved)."""

DECIDE: dict[str, Any] = {
    "program": "douyin-anxingou",
    "decision": "claim",
    "input": CLAIM_INPUT,
    "version": "2021.08",
    "at": "2021-09-01T11:00:05+08:00",
}
"""The example decide body of spec/api.md (douyin-anxingou claim, pinned to version 2021.08)."""

CLAIM_REQUEST: dict[str, Any] = {**DECIDE, "explain": False}
"""The example decide body with ``explain`` given: the base of :func:`claim_request`."""


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


def admin_headers() -> dict[str, str]:
    """The bearer token of the admin endpoints, as :func:`launch_server` configures it."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def read_headers() -> dict[str, str]:
    """The bearer token of the decision log's read endpoints, as :func:`launch_server` configures it."""
    return {"Authorization": f"Bearer {READ_TOKEN}"}


# ── files ────────────────────────────────────────────────────────────────────────────────────────


def copy_policies(root: Path) -> Path:
    """``root`` with copies of the repository's ``policies/`` and ``schemas/`` (a test may edit them)."""
    for name in ("policies", "schemas"):
        shutil.copytree(REPO_ROOT / name, root / name)
    return root


def sqlite_int(db: Path, sql: str) -> int:
    """The one number ``sql`` selects, read straight from the SQLite file ``db`` (WAL included)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


# ── the server process ───────────────────────────────────────────────────────────────────────────


def free_port() -> int:
    """A loopback port nobody listens on right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerStartError(AssertionError):
    """The server did not become ready; the message carries its stderr."""


@dataclass
class ServerProcess:
    """One running ``policy serve`` and the files it works on."""

    root: Path
    """The server's working directory (holds its log file, and the copied policies if any)."""
    policies: Path
    db: Path
    port: int
    proc: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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


StartServer = Callable[..., ServerProcess]
"""The ``start_server`` fixture of tests/server_process: ``(workers=1, watch_interval=0, db=None,
extra_env=None) -> ServerProcess``."""


def _log_path(folder: Path) -> Path:
    """``folder/server-N.log`` with the first N not taken: a restarted server keeps the earlier logs."""
    n = 1
    while (folder / f"server-{n}.log").exists():
        n += 1
    return folder / f"server-{n}.log"


def launch_server(
    root: Path,
    db: Path,
    *,
    policies: Path | None = None,
    workers: int = 1,
    watch_interval: float = 0,
    extra_env: Mapping[str, str] | None = None,
    tokens: bool = True,
) -> ServerProcess:
    """Start ``policy serve`` in ``root`` on a free loopback port, and return it once it is ready.

    It serves ``policies`` (by default ``root/policies``, see :func:`copy_policies`) and logs its decisions
    in the SQLite file ``db``. No ``POLICY_*`` or ``PROMETHEUS_MULTIPROC*`` setting of the caller's shell
    reaches the server; with ``tokens`` it gets :data:`ADMIN_TOKEN` and :data:`READ_TOKEN`, then
    ``extra_env``. Its stdout and stderr go to a ``server-N.log`` in ``root``. Raises
    :class:`ServerStartError` (with the server's stderr) if it does not become ready; the caller stops the
    returned server.
    """
    if not POLICY_BIN.exists():
        raise ServerStartError(
            f"{POLICY_BIN} not found: install the project into the interpreter's environment"
        )
    policies = policies if policies is not None else root / "policies"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICY_", "PROMETHEUS_MULTIPROC"))}
    if tokens:
        env.update({"POLICY_ADMIN_TOKEN": ADMIN_TOKEN, "POLICY_READ_TOKEN": READ_TOKEN})
    env.update(extra_env or {})
    last_error: ServerStartError | None = None
    for _ in range(3):  # another process may take the free port between our probe and the bind
        port = free_port()
        stderr_path = _log_path(root)
        command = [
            str(POLICY_BIN),
            "serve",
            *("--host", "127.0.0.1", "--port", str(port), "--db", str(db), "--workers", str(workers)),
            *("--watch-interval", str(watch_interval), "--policies", str(policies)),
        ]
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )
        server = ServerProcess(root, policies, db, port, proc, stderr_path)
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


# ── concurrent clients ───────────────────────────────────────────────────────────────────────────

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_with_clients(
    server: ServerProcess,
    threads: int,
    work: Callable[[httpx.Client, Item], Result],
    items: Iterable[Item],
    **client_kwargs: Any,
) -> list[Result]:
    """``work(client, item)`` for every item on ``threads`` threads, each with its own client of ``server``.

    The clients are made with ``server.client(**client_kwargs)`` and closed at the end; results keep the
    order of ``items``.
    """
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one(item: Item) -> Result:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = server.client(**client_kwargs)
            with lock:
                clients.append(client)
        return work(client, item)

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, items))
    finally:
        for client in clients:
            client.close()
