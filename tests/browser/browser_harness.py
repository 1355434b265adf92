"""Helpers of the browser tests: a real ``policy serve``, and whether a missing browser skips or fails.

The tests skip, saying why, only when ``/usr/bin/chromium`` is missing and ``POLICY_BROWSER_TESTS`` is not
``required``; with ``POLICY_BROWSER_TESTS=required`` (``make pytest`` as root sets it, after ``make browser``
installed Chromium) a missing browser fails them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_BIN = Path(sys.executable).parent / "policy"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT = 30.0


def browser_required() -> bool:
    """Whether a missing browser fails the tests instead of skipping them."""
    return os.environ.get("POLICY_BROWSER_TESTS", "") == "required"


def missing(reason: str) -> NoReturn:
    """Skip, saying why and how to get the browser; fail instead when the browser tests are required."""
    if browser_required():
        pytest.fail(f"POLICY_BROWSER_TESTS=required, but {reason}", pytrace=False)
    how = "run `make browser` as root, or set POLICY_BROWSER_TESTS=required to fail instead"
    pytest.skip(f"{reason} ({how})", allow_module_level=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One ``policy serve`` process on a loopback port."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"policy serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                response = httpx.get(f"{self.base_url}/health/ready", timeout=2.0)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            time.sleep(0.1)
        raise RuntimeError(f"policy serve not ready after {READY_TIMEOUT:.0f} s ({last}):\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in its session


def start_server(workdir: Path) -> LiveServer:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICY_", "PROMETHEUS_MULTIPROC"))}
    last: Exception | None = None
    for attempt in range(3):  # someone may take the free port between the probe and the bind
        port = _free_port()
        log = workdir / f"server-{attempt}.log"
        command = [
            str(POLICY_BIN),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(workdir / "decisions.sqlite3"),
            "--workers",
            "1",
            "--watch-interval",
            "0",
            "--policies",
            str(REPO_ROOT / "policies"),
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        server = LiveServer(proc, port, log)
        try:
            server.wait_ready()
        except RuntimeError as exc:
            server.stop()
            last = exc
            if "address already in use" in server.output().lower():
                continue
            raise
        return server
    assert last is not None
    raise last
