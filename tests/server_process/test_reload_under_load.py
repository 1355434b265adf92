"""A broken policy never interrupts decisions: the old registry keeps serving until a good reload.

Client threads decide without pause (pinned to douyin-anxingou 2021.08) while the test breaks the policy file
in the server's copy, reloads (admin endpoint, or the file watcher), restores it and reloads again. Every
decide request of the whole run must answer 200 with the answer it had before the first reload.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import ServerProcess, StartServer, admin_headers, answer_of, claim_request

POLICY_FILE = Path("douyin-anxingou") / "2021.08.yaml"
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): \S")
"""A policy error message: ``file:line:col: message``."""

THREADS = 6
PROGRESS = 30
"""Decisions each phase must see answered before the test moves on (so "during" really happened)."""

BODIES = [
    claim_request("299.00"),  # approve: instant refund
    claim_request("399.00"),  # deny: over the instant refund limit
    claim_request("120.00", shipped=True),  # deny: already shipped
]


class Load:
    """Threads deciding BODIES round-robin; every answer is checked against the baseline."""

    def __init__(self, server: ServerProcess, baseline: list[dict[str, Any]]) -> None:
        self.server = server
        self.baseline = baseline
        self.phase = "before"
        self.answered: Counter[str] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(THREADS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in self._threads), "a client thread hung"

    def _run(self, thread: int) -> None:
        i = thread
        with self.server.client() as client:
            while not self._stop.is_set():
                k = i % len(BODIES)
                i += 1
                phase = self.phase
                try:
                    response = client.post("/v1/decide", json=BODIES[k])
                except httpx.TransportError as exc:
                    self._fail(f"[{phase}] transport error: {exc!r}")
                    continue
                if response.status_code != 200:
                    self._fail(f"[{phase}] {response.status_code}: {response.text[:300]}")
                elif answer_of(response.json()) != self.baseline[k]:
                    self._fail(f"[{phase}] body {k}: {answer_of(response.json())} != {self.baseline[k]}")
                else:
                    with self._lock:
                        self.answered[phase] += 1

    def _fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def enter(self, phase: str) -> None:
        """Label the following requests; return once PROGRESS of them were answered right."""
        self.phase = phase
        self.wait_progress(phase)

    def wait_progress(self, phase: str) -> None:
        deadline = time.monotonic() + 20
        while self.answered[phase] < PROGRESS and not self.failures and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self.failures, f"{len(self.failures)} failed decide requests, e.g. {self.failures[:3]}"
        assert self.answered[phase] >= PROGRESS, f"only {self.answered[phase]} answers in phase {phase}"


def _baseline(server: ServerProcess) -> list[dict[str, Any]]:
    answers = []
    with server.client() as client:
        for body in BODIES:
            response = client.post("/v1/decide", json=body)
            assert response.status_code == 200, response.text
            answers.append(answer_of(response.json()))
    assert [a["result"]["outcome"] for a in answers] == ["approve", "deny", "deny"]
    return answers


# Each breakage: (original text) -> (broken text, 1-based line the error must point at, tolerance).
Breakage = Callable[[str], tuple[str, int, int]]


def _unknown_field(text: str) -> tuple[str, int, int]:
    old = "when: claim.filed_at < order.placed_at"
    assert text.count(old) == 1
    line = text[: text.index(old)].count("\n") + 1
    return text.replace(old, "when: claim.filed_att < order.placed_at"), line, 0


def _yaml_syntax(text: str) -> tuple[str, int, int]:
    anchor = "    hit: first\n"
    assert text.count(anchor) == 1
    line = text[: text.index(anchor)].count("\n") + 2  # the inserted line
    return text.replace(anchor, anchor + "    bad: [unclosed, {\n"), line, 2


def _policy_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The error about the broken file; checks every error's ``file:line:col:`` message."""
    ours = []
    for error in errors:
        match = LOCATED.match(error["message"])
        assert match, f"not file:line:col: {error['message']!r}"
        assert (match["file"], int(match["line"]), int(match["column"])) == (
            error["file"],
            error["line"],
            error["column"],
        ), error
        if error["file"].replace("\\", "/").endswith(POLICY_FILE.as_posix()):
            ours.append(error)
    assert ours, f"no error names {POLICY_FILE}: {errors}"
    return ours[0]


def _ready(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "ready"
    return body


@contextlib.contextmanager
def _under_load(server: ServerProcess) -> Iterator[tuple[Path, httpx.Client, Load, dict[str, Any]]]:
    """THREADS threads decide BODIES on ``server`` until the block ends, checked against a first baseline.

    Yields the server's copy of POLICY_FILE, a client, the running :class:`Load` (PROGRESS answers of phase
    "before" already seen) and ``/health/ready`` as it was then (no reload error).
    """
    baseline = _baseline(server)
    with server.client() as client, Load(server, baseline) as load:
        loaded = _ready(client)
        assert loaded["last_reload_error"] is None
        load.wait_progress("before")
        yield server.policies / POLICY_FILE, client, load, loaded


@pytest.mark.parametrize("breakage", [_unknown_field, _yaml_syntax], ids=["unknown-field", "yaml-syntax"])
def test_admin_reload_of_a_broken_policy_under_load(start_server: StartServer, breakage: Breakage) -> None:
    with _under_load(start_server(watch_interval=0)) as (path, client, load, loaded):
        original = path.read_text(encoding="utf-8")
        broken, line, tolerance = breakage(original)

        # (a) break the file: the reload is refused, the old policies keep serving
        path.write_text(broken, encoding="utf-8")
        load.phase = "during"
        response = client.post("/v1/admin/reload", headers=admin_headers())
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 422
        error = _policy_error(problem["policy_errors"])
        assert line <= error["line"] <= line + tolerance, (error, line)
        assert error["column"] >= 1

        health = _ready(client)
        assert health["policies"] == loaded["policies"], "a refused reload must not change the policies"
        assert health["last_reload_error"] is not None
        assert error in health["last_reload_error"]["errors"]
        load.wait_progress("during")

        # (b) restore it: the reload succeeds, with the very policies as before
        path.write_text(original, encoding="utf-8")
        load.phase = "after"
        response = client.post("/v1/admin/reload", headers=admin_headers())
        assert response.status_code == 200, response.text
        assert response.json()["reloaded"] is True
        assert response.json()["policies"] == loaded["policies"]
        assert response.json()["changed"] is False
        health = _ready(client)
        assert health["last_reload_error"] is None
        assert health["policies"] == loaded["policies"]
        load.wait_progress("after")

        metrics = client.get("/metrics").text
    assert not load.failures, f"{len(load.failures)} failed decide requests, e.g. {load.failures[:3]}"
    assert all(load.answered[p] >= PROGRESS for p in ("before", "during", "after")), load.answered
    assert re.search(r"^policy_reload_failures_total 1\.0$", metrics, re.M), metrics


def _wait_for(client: httpx.Client, what: str, ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        body = _ready(client)
        if ok(body):
            return body
        assert time.monotonic() < deadline, f"/health/ready never showed {what}: {body}"
        time.sleep(0.05)


def test_file_watcher_reload_of_a_broken_policy_under_load(start_server: StartServer) -> None:
    with _under_load(start_server(watch_interval=0.2)) as (path, client, load, loaded):
        original = path.read_text(encoding="utf-8")
        broken, line, _ = _unknown_field(original)

        path.write_text(broken, encoding="utf-8")
        load.phase = "during"
        health = _wait_for(client, "the reload error", lambda b: b["last_reload_error"] is not None)
        error = _policy_error(health["last_reload_error"]["errors"])
        assert error["line"] == line
        assert error["code"] == "unknown-field"
        assert health["policies"] == loaded["policies"]
        load.wait_progress("during")

        path.write_text(original, encoding="utf-8")
        load.phase = "after"
        health = _wait_for(client, "the error cleared", lambda b: b["last_reload_error"] is None)
        assert health["policies"] == loaded["policies"]
        load.wait_progress("after")
    assert not load.failures, f"{len(load.failures)} failed decide requests, e.g. {load.failures[:3]}"
