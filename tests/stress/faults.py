#!/usr/bin/env python
"""Faults under load (issue 7, item 5): a real ``policy serve`` on loopback, client threads, three faults.

Phases (``--duration`` seconds of load in all, split evenly between the phases that run):

* ``sigkill``: client threads decide without pause; the server is SIGKILLed with requests in flight,
  restarted on the same SQLite file, and every decision it acknowledged (a 200) must be readable through
  ``GET /v1/decisions/{id}`` with the very answer and input. Repeated until the phase's time is up.
* ``reload``: the file watcher is on (0.2 s); every second one policy file of a copy of ``policies/`` is
  replaced (atomically) by the next of: a good variant (a number changed, so the digest changes), a broken
  version (an unknown field in a rule condition), the original, the broken version, ... Every answer must
  be a 200 carrying one of the two good digests and exactly the answer the engine gives for that digest.
* ``full-log``: ``POLICY_DB_MAX_PAGES`` leaves a little room in the log; it fills under load. Every answer
  must be a 200 or a 503 problem (``application/problem+json``); once it is full, the load pauses, every
  200's decision id must be in the log (no false 200), then the operator makes room (``DELETE FROM
  decisions`` with sqlite3 on the same file) and the next requests must be 200s again, without a restart.

Every phase finally checks the SQLite file itself: each acknowledged decision is there, with its answer.

``--phase full-log-replay`` (not run by default) checks a finding of the full-log phase: a policy loaded
while the log is full, then decided with once there is room, can be replayed after the next reload. It
failed before commit 3215f56 and passes since; see tests/stress/RESULTS.md.
The summary lists requests, 200s, errors by status, lost acknowledged decisions and every violation; the
exit code is 1 on any violation, 2 on bad usage.

    .venv/bin/python tests/stress/faults.py --duration 60 --clients 16 --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from server_support import (
    REPO_ROOT,
    ServerProcess,
    admin_headers,
    answer_of,
    claim_request,
    copy_policies,
    launch_server,
    map_with_clients,
    read_headers,
    sqlite_int,
)

from policy_engine import DecisionRequest, check_policies, decide, load_registry
from policy_engine.expr.values import parse_timestamp
from policy_engine.jsonio import loads_strict

PHASES = ("sigkill", "reload", "full-log")
EXTRA_PHASES = ("full-log-replay",)
"""Not load phases, not run by default: checks of a finding (see tests/stress/RESULTS.md)."""

POLICY_FILE = Path("douyin-anxingou") / "2021.08.yaml"
PROGRAM_VERSION = "douyin-anxingou@2021.08"
GOOD_CHANGE = ("instant_refund_max: {money: 300.00,", "instant_refund_max: {money: 350.00,")
"""The good variant: instant refunds up to 350.00 instead of 300.00 (so 320.00 is approved)."""
BROKEN_CHANGE = ("when: claim.filed_at < order.placed_at", "when: claim.filed_att < order.placed_at")
"""The broken version: ``claim.filed_att`` is no field of the claim input (an unknown-field load error)."""

RELOAD_BODIES = [
    claim_request("299.00"),  # approve in both good versions
    claim_request("320.00"),  # deny in the original, approve in the variant
    claim_request("399.00"),  # deny in both
    claim_request("120.00", shipped=True),  # deny: already shipped
]

KILL_AFTER = (0.4, 1.4)
"""Seconds of load between a server's first acknowledged decision and its SIGKILL (drawn per cycle)."""
FULL_FOR = 0.5
"""Seconds the load keeps hitting a full log (503s) before the operator makes room."""
PROBES = 20
"""Requests sent one after the other right after room was made: every one must be a 200."""
ROOM_PAGES = 384
"""Pages of room above the log's size at start (4 KiB each: a few hundred decisions)."""


def varied_body(i: int) -> dict[str, Any]:
    """Claims of 250.00..449.99, every seventh shipped: the log holds different answers, not one."""
    return claim_request(f"{250 + i % 200}.{i % 100:02d}", shipped=i % 7 == 0)


# ── results ──────────────────────────────────────────────────────────────────────────────────────


@dataclass
class PhaseResult:
    """What one phase did and what it found wrong."""

    name: str
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    """Answers by HTTP status (``"200"``, ``"503"``, ...) and ``"transport"`` for connection errors."""
    acked: int = 0
    """Decisions acknowledged (200 with a decision id)."""
    lost_ids: set[str] = field(default_factory=set)
    """Acknowledged decisions missing from the log or different there."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from sending a decide request to its answer (every answer, whatever its status)."""
    violations: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    """Phase-specific measurements (kills, reloads, fills, recovery times, ...)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def lost(self) -> int:
        return len(self.lost_ids)

    def count(self, status: str) -> None:
        with self._lock:
            self.statuses[status] += 1

    def count_answer(self, response: httpx.Response | None, error: Exception | None) -> httpx.Response | None:
        """Count an answer by its HTTP status; a transport error counts as ``"transport"``, a violation.

        Returns the response, None for a transport error.
        """
        if response is None:
            self.count("transport")
            self.violation(f"transport error: {error!r}")
            return None
        self.count(str(response.status_code))
        return response

    def lose(self, decision_id: str, message: str) -> None:
        with self._lock:
            self.lost_ids.add(decision_id)
            self.violations.append(message)

    def latency_ms(self) -> str:
        if not self.latencies:
            return "no answers"
        ordered = sorted(self.latencies)

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return f"p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms"

    def violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    def errors_by_status(self) -> dict[str, int]:
        return {k: v for k, v in sorted(self.statuses.items()) if k != "200"}

    def report(self) -> str:
        lines = [
            f"[{self.name}] {self.seconds:.1f} s: {self.requests} requests, {self.statuses['200']} x 200, "
            f"errors by status {self.errors_by_status() or '{}'}, {self.acked} acknowledged, "
            f"{self.lost} lost acknowledged decisions, {len(self.violations)} violations",
        ]
        if self.latencies:
            lines.append(f"    latency: {self.latency_ms()}")
        lines += [f"    {key}: {value}" for key, value in self.numbers.items()]
        shown = self.violations[:10]
        lines += [f"    VIOLATION: {v}" for v in shown]
        if len(self.violations) > len(shown):
            lines.append(f"    ... and {len(self.violations) - len(shown)} more violations")
        return "\n".join(lines)


# ── servers ──────────────────────────────────────────────────────────────────────────────────────


@contextlib.contextmanager
def running(server: ServerProcess) -> Iterator[ServerProcess]:
    """Stop the server (and its workers) however the block ends."""
    try:
        yield server
    finally:
        server.stop()


# ── load ─────────────────────────────────────────────────────────────────────────────────────────

OnAnswer = Callable[[int, dict[str, Any], httpx.Response | None, Exception | None], None]
"""``(request number, body, response or None, transport error or None)``, called by the client threads."""


class Load:
    """``clients`` threads, each with its own httpx client, posting ``/v1/decide`` without pause.

    ``pause()`` returns once no request is in flight; ``resume()`` lets the threads go on.
    """

    def __init__(
        self, base_url: str, clients: int, body: Callable[[int], dict[str, Any]], on_answer: OnAnswer
    ) -> None:
        self.base_url = base_url
        self.body = body
        self.on_answer = on_answer
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        self._stop = threading.Event()
        self._in_flight = 0
        self.timings: list[float] = []
        """Seconds from sending each request to its answer or transport error."""
        self.crashes: list[str] = []
        """Exceptions of ``on_answer`` (an answer it could not even read): the thread goes on."""
        self._threads = [
            threading.Thread(target=self._run, args=(t, clients), daemon=True) for t in range(clients)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._gate.set()
        for thread in self._threads:
            thread.join(timeout=60)
        hung = sum(t.is_alive() for t in self._threads)
        if hung:
            raise RuntimeError(f"{hung} client threads hung")

    def pause(self, timeout: float = 60.0) -> None:
        with self._lock:
            self._gate.clear()
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.005)
        if self._in_flight:
            raise RuntimeError(f"{self._in_flight} requests still in flight {timeout:.0f} s after pause()")

    def resume(self) -> None:
        self._gate.set()

    def _run(self, thread: int, clients: int) -> None:
        i = thread
        with httpx.Client(base_url=self.base_url, timeout=30.0) as client:
            while not self._stop.is_set():
                self._gate.wait()
                with self._lock:
                    if not self._gate.is_set() or self._stop.is_set():
                        continue
                    self._in_flight += 1
                try:
                    body = self.body(i)
                    sent = time.perf_counter()
                    try:
                        response: httpx.Response | None = client.post("/v1/decide", json=body)
                        error: Exception | None = None
                    except httpx.TransportError as exc:
                        response, error = None, exc
                    self.timings.append(time.perf_counter() - sent)  # list.append is atomic
                    self.on_answer(i, body, response, error)
                except Exception as exc:  # reported as a violation by finish()
                    self.crashes.append(f"request {i}: {exc!r}")
                finally:
                    with self._lock:
                        self._in_flight -= 1
                i += clients


def finish(load: Load, result: PhaseResult) -> None:
    """Take a finished load's timings and crashes into the phase's result."""
    result.latencies.extend(load.timings)
    for crash in load.crashes:
        result.violation(f"an answer the client could not read: {crash}")


# ── the log, read as a file and through the server ───────────────────────────────────────────────

Acked = dict[str, tuple[dict[str, Any], dict[str, Any]]]
"""decision id → (request body, answer without its id)."""


def log_rows(db: Path) -> dict[str, tuple[Any, Any]]:
    """decision id → (stored request, stored answer), read straight from the SQLite file (WAL included)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT id, request, answer FROM decisions").fetchall()
    finally:
        conn.close()
    return {row[0]: (json.loads(row[1]), json.loads(row[2])) for row in rows}


def same_answer(decision_id: str, stored: Any, answer: dict[str, Any]) -> bool:
    """The stored answer is the acknowledged one (the log may keep the answer's own decision id, if right)."""
    if not isinstance(stored, dict) or stored.get("decision_id", decision_id) != decision_id:
        return False
    return answer_of(stored) == answer


def check_in_log(db: Path, acked: Acked, result: PhaseResult, what: str) -> dict[str, tuple[Any, Any]]:
    """Every acknowledged decision is in the file with its answer and input; returns the rows read."""
    rows = log_rows(db)
    for decision_id, (body, answer) in acked.items():
        row = rows.get(decision_id)
        if row is None:
            result.lose(decision_id, f"{what}: acknowledged decision {decision_id} is not in the log")
        elif not same_answer(decision_id, row[1], answer) or row[0]["input"] != body["input"]:
            result.lose(decision_id, f"{what}: decision {decision_id} differs in the log: {row} != {answer}")
    return rows


def check_readable(server: ServerProcess, acked: Acked, result: PhaseResult, threads: int) -> None:
    """Every acknowledged decision answers ``GET /v1/decisions/{id}`` with its answer and input."""

    def one(client: httpx.Client, item: tuple[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
        decision_id, (body, answer) = item
        response = client.get(f"/v1/decisions/{decision_id}")
        if response.status_code != 200:
            result.lose(
                decision_id,
                f"after restart: {decision_id} answers {response.status_code} {response.text[:200]}",
            )
            return
        record = response.json()
        if (
            not same_answer(decision_id, record["answer"], answer)
            or record["request"]["input"] != body["input"]
        ):
            result.lose(decision_id, f"after restart: {decision_id} changed: {record} != {answer}")

    map_with_clients(server, threads, one, acked.items(), headers=read_headers())


def is_problem(response: httpx.Response, status: int) -> bool:
    """A problem document (RFC 9457) of ``status``."""
    if response.status_code != status:
        return False
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == status and bool(body.get("title"))


# ── phase (a): SIGKILL under load ────────────────────────────────────────────────────────────────


def _load_until_killed(server: ServerProcess, clients: int, kill_after: float, result: PhaseResult) -> Acked:
    """Load the server; SIGKILL it ``kill_after`` s after its first 200; the decisions it acknowledged."""
    acked: Acked = {}
    killing = threading.Event()
    lock = threading.Lock()
    first_ack = threading.Event()

    def on_answer(
        i: int, body: dict[str, Any], response: httpx.Response | None, error: Exception | None
    ) -> None:
        if response is None:
            result.count("transport")
            if not killing.is_set():
                result.violation(f"transport error before the kill: {error!r}")
            return
        result.count(str(response.status_code))
        if response.status_code != 200:
            result.violation(f"{response.status_code} before the kill: {response.text[:300]}")
            return
        answer = response.json()
        with lock:
            acked[answer["decision_id"]] = (body, answer_of(answer))
        first_ack.set()

    load = Load(server.base_url, clients, varied_body, on_answer)
    with load:
        if not first_ack.wait(30):
            result.violation("no decision acknowledged within 30 s of the start")
        time.sleep(kill_after)
        killing.set()
        server.kill()  # SIGKILL, requests in flight; the clients see their connections cut
    finish(load, result)
    return acked


def phase_sigkill(
    workdir: Path, *, duration: float, clients: int, workers: int, seed: int = 7
) -> PhaseResult:
    """SIGKILL the server under load, restart it on the same file, find every acknowledged decision."""
    result = PhaseResult("sigkill")
    rng = random.Random(seed)
    root = copy_policies(workdir / "sigkill")
    db = root / "decisions.sqlite3"
    started = time.monotonic()
    all_acked: Acked = {}
    acked_per_life: list[int] = []
    restart_seconds: list[float] = []
    server = launch_server(root, db, workers=workers)
    try:
        while True:
            acked = _load_until_killed(server, clients, rng.uniform(*KILL_AFTER), result)
            acked_per_life.append(len(acked))
            all_acked.update(acked)
            restarting = time.monotonic()
            server = launch_server(
                root, db, workers=workers
            )  # the same file, as an operator would restart it
            restart_seconds.append(time.monotonic() - restarting)
            check_readable(server, acked, result, threads=min(clients, 16))
            if time.monotonic() - started >= duration:
                break
    finally:
        server.stop()
    rows = check_in_log(db, all_acked, result, "end of phase")
    result.seconds = time.monotonic() - started
    result.acked = len(all_acked)
    result.numbers.update(
        kills=len(acked_per_life),
        acknowledged_per_server_life=acked_per_life,
        restart_to_ready_s=[round(s, 2) for s in restart_seconds],
        logged_but_never_acknowledged=len(rows.keys() - all_acked.keys()),
        note="transport errors: requests cut by the kill (never acknowledged); logged but never "
        "acknowledged: committed as the kill landed, the answer died with the process",
    )
    return result


# ── phase (b): policies reloaded every second, good and broken ───────────────────────────────────


def replace_atomically(path: Path, text: str, staging: Path) -> None:
    """Write ``text`` aside, then rename it over ``path``: a reload never reads half a file."""
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def expected_answers(policies: Path) -> tuple[str, list[dict[str, Any]]]:
    """The digest of douyin-anxingou 2021.08 in ``policies`` and the engine's answer to each reload body."""
    registry = load_registry(policies)
    answers = []
    for body in RELOAD_BODIES:
        request = DecisionRequest(
            program=body["program"],
            decision=body["decision"],
            input=loads_strict(json.dumps(body["input"])),
            at=parse_timestamp(body["at"]),
            version=body["version"],
        )
        answers.append(json.loads(json.dumps(decide(registry, request).to_json(), ensure_ascii=False)))
    return registry.digests()[PROGRAM_VERSION], answers


def reload_versions(root: Path) -> tuple[dict[str, str], dict[str, str], dict[str, list[dict[str, Any]]]]:
    """The texts (original, variant, broken), the good digests by name, the expected answers by digest.

    Checks the premises: the variant compiles to another digest, the broken version does not load.
    """
    original = (root / "policies" / POLICY_FILE).read_text(encoding="utf-8")
    if original.count(GOOD_CHANGE[0]) != 1 or original.count(BROKEN_CHANGE[0]) != 1:
        raise RuntimeError(f"{POLICY_FILE} no longer has the lines this phase changes")
    texts = {
        "original": original,
        "variant": original.replace(*GOOD_CHANGE),
        "broken": original.replace(*BROKEN_CHANGE),
    }
    digests: dict[str, str] = {}
    expected: dict[str, list[dict[str, Any]]] = {}
    for name in ("original", "variant", "broken"):
        scratch = root / "expect" / name
        shutil.copytree(root / "policies", scratch / "policies")
        shutil.copytree(root / "schemas", scratch / "schemas")
        (scratch / "policies" / POLICY_FILE).write_text(texts[name], encoding="utf-8")
        if name == "broken":
            registry, errors = check_policies(scratch / "policies", scratch / "schemas")
            if registry is not None and not errors.has_errors():
                raise RuntimeError("the broken version of the policy loads without error")
            continue
        digests[name], expected[digests[name]] = expected_answers(scratch / "policies")
    if len(expected) != 2:
        raise RuntimeError("the good variant has the digest of the original")
    return texts, digests, expected


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


class ReloadCheck:
    """The answers of the reload phase: each a 200 with a good digest and that digest's answer."""

    def __init__(self, result: PhaseResult, expected: dict[str, list[dict[str, Any]]]) -> None:
        self.result = result
        self.expected = expected
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.acked: Acked = {}
        self.awaited: tuple[str, float] | None = None
        self.lags: list[float] = []

    def expect(self, digest: str | None) -> None:
        """A file was written now: if good, measure until the first answer with its digest.

        A broken file changes nothing (it is refused), so the wait for the previous good one goes on.
        """
        if digest is not None:
            with self.lock:
                self.awaited = (digest, time.monotonic())

    def on_answer(
        self, i: int, body: dict[str, Any], response: httpx.Response | None, error: Exception | None
    ) -> None:
        result = self.result
        if (response := result.count_answer(response, error)) is None:
            return
        if response.status_code != 200:
            result.violation(f"{response.status_code}: {response.text[:300]}")
            return
        answer = response.json()
        digest = answer.get("policy_digest")
        if digest not in self.expected:
            result.violation(f"answer with digest {digest}, not a good one: {answer}")
            return
        if answer_of(answer) != self.expected[digest][i % len(RELOAD_BODIES)]:
            result.violation(f"answer of body {i % len(RELOAD_BODIES)} under {digest} is {answer}")
            return
        with self.lock:
            self.seen[digest] += 1
            self.acked[answer["decision_id"]] = (body, answer_of(answer))
            if self.awaited is not None and self.awaited[0] == digest:
                self.lags.append(time.monotonic() - self.awaited[1])
                self.awaited = None


def phase_reload(workdir: Path, *, duration: float, clients: int, workers: int) -> PhaseResult:
    """Replace a policy file every second (good, broken, good, ...) under load: every answer a good 200."""
    result = PhaseResult("reload")
    root = copy_policies(workdir / "reload")
    texts, digest_of, expected = reload_versions(root)
    path = root / "policies" / POLICY_FILE
    staging = root / "staging.yaml"  # same file system, outside the watched directories
    check = ReloadCheck(result, expected)
    steps: Counter[str] = Counter()
    health_lagging: Counter[str] = Counter()
    sequence = ["variant", "broken", "original", "broken"]
    server = launch_server(root, root / "decisions.sqlite3", workers=workers, watch_interval=0.2)
    started = time.monotonic()
    with running(server), server.client() as admin:
        load = Load(
            server.base_url, clients, lambda i: RELOAD_BODIES[i % len(RELOAD_BODIES)], check.on_answer
        )
        with load:
            while time.monotonic() - started < duration:
                name = sequence[sum(steps.values()) % len(sequence)]
                replace_atomically(path, texts[name], staging)
                check.expect(digest_of.get(name))
                steps[name] += 1
                time.sleep(max(0.0, started + sum(steps.values()) - time.monotonic()))  # one file a second
                ready = admin.get("/health/ready").json()  # one worker's view, a second after the write
                if (name == "broken" and ready["last_reload_error"] is None) or (
                    name != "broken" and ready["policies"].get(PROGRAM_VERSION) != digest_of[name]
                ):
                    health_lagging[name] += 1
            replace_atomically(path, texts["original"], staging)
        metrics = admin.get("/metrics").text
    finish(load, result)
    result.seconds = time.monotonic() - started
    check_in_log(root / "decisions.sqlite3", check.acked, result, "end of phase")
    result.acked = len(check.acked)
    failures = metric(metrics, "policy_reload_failures_total")
    result.numbers.update(
        files_written=dict(steps),
        answers_by_digest={name: check.seen[digest] for name, digest in digest_of.items()},
        reloads_swapped_in_all_workers=int(metric(metrics, "policy_reloads_total")),
        reloads_refused_all_workers=int(failures),
        good_write_to_first_answer_s=[round(s, 2) for s in check.lags],
        health_not_showing_the_file_1s_after=dict(health_lagging),
    )
    if steps["broken"] and not failures:
        result.violation("no reload was refused: the broken version was never read")
    if steps["original"] and not all(check.seen[d] for d in digest_of.values()):
        result.violation(f"answers never came from both good versions: {dict(check.seen)}")
    return result


# ── phase (c): the log store full ────────────────────────────────────────────────────────────────


def full_log_root(workdir: Path, name: str, room_pages: int) -> tuple[Path, Path, int]:
    """A server root for a full-log phase, its log file, and a ``POLICY_DB_MAX_PAGES`` leaving ``room_pages``.

    A first server (stopped at once) creates the file with its tables and the policy sources, so that the
    log's size at start is known.
    """
    root = copy_policies(workdir / name)
    db = root / "decisions.sqlite3"
    with running(launch_server(root, db, workers=1)):
        pass
    return root, db, sqlite_int(db, "PRAGMA page_count") + room_pages


def make_room(db: Path) -> int:
    """What an operator does: delete the decisions (archived elsewhere) with sqlite3; returns how many."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        return conn.execute("DELETE FROM decisions").rowcount
    finally:
        conn.close()


class FullLog:
    """The answers of the full-log phase: 200 or a 503 problem, and the 200s acknowledged since room."""

    def __init__(self, result: PhaseResult) -> None:
        self.result = result
        self.lock = threading.Lock()
        self.acked: Acked = {}
        self.all_acked = 0
        self.first_503: float | None = None

    def on_answer(
        self, i: int, body: dict[str, Any], response: httpx.Response | None, error: Exception | None
    ) -> None:
        if (response := self.result.count_answer(response, error)) is None:
            return
        if response.status_code == 200:
            answer = response.json()
            with self.lock:
                self.acked[answer["decision_id"]] = (body, answer_of(answer))
                self.all_acked += 1
        elif is_problem(response, 503):
            with self.lock:
                if self.first_503 is None:
                    self.first_503 = time.monotonic()
        else:
            self.result.violation(
                f"{response.status_code} {response.headers.get('content-type')}: {response.text[:300]}"
            )

    def take(self) -> Acked:
        with self.lock:
            acked, self.acked, self.first_503 = self.acked, {}, None
        return acked


def _reads_while_full(client: httpx.Client, acked: Acked, result: PhaseResult) -> None:
    """A full log still answers reads: readiness, and a decision acknowledged before it filled."""
    ready = client.get("/health/ready")
    if ready.status_code != 200:
        result.violation(f"/health/ready while the log is full: {ready.status_code} {ready.text[:200]}")
    for decision_id in list(acked)[-3:]:
        record = client.get(f"/v1/decisions/{decision_id}", headers=read_headers())
        if record.status_code != 200 or not same_answer(
            decision_id, record.json()["answer"], acked[decision_id][1]
        ):
            result.violation(
                f"GET {decision_id} while the log is full: {record.status_code} {record.text[:200]}"
            )


def _probe(client: httpx.Client, state: FullLog, first: int) -> float | None:
    """PROBES requests one after the other once room was made: each must be a 200; first answer time."""
    room_made = time.monotonic()
    recovered: float | None = None
    for n in range(PROBES):
        body = varied_body(first + n)
        response = client.post("/v1/decide", json=body)
        state.on_answer(first + n, body, response, None)
        if response.status_code != 200:
            state.result.violation(
                f"probe {n} after room was made: {response.status_code} {response.text[:200]}"
            )
        elif recovered is None:
            recovered = time.monotonic() - room_made
    return recovered


def phase_full_log(
    workdir: Path, *, duration: float, clients: int, workers: int, room_pages: int = ROOM_PAGES
) -> PhaseResult:
    """Fill the log under load: 200 or 503 problems only, no false 200, 200s again once there is room."""
    result = PhaseResult("full-log")
    root, db, max_pages = full_log_root(workdir, "full-log", room_pages)
    state = FullLog(result)
    fills: list[float] = []
    recoveries: list[float | None] = []
    deleted: list[int] = []
    unacknowledged = 0
    server = launch_server(root, db, workers=workers, extra_env={"POLICY_DB_MAX_PAGES": str(max_pages)})
    started = time.monotonic()
    with running(server), server.client() as client:
        load = Load(server.base_url, clients, varied_body, state.on_answer)
        with load:
            cycle_started = time.monotonic()
            while time.monotonic() - started < duration:
                time.sleep(0.02)
                first_503 = state.first_503
                if first_503 is None or time.monotonic() - first_503 < FULL_FOR:
                    continue
                fills.append(first_503 - cycle_started)
                load.pause()
                acked = state.take()
                _reads_while_full(client, acked, result)
                rows = check_in_log(db, acked, result, f"full log #{len(fills)}")  # no false 200
                unacknowledged += len(rows.keys() - acked.keys())
                deleted.append(make_room(db))
                recoveries.append(_probe(client, state, 10_000_000 * len(fills)))
                cycle_started = time.monotonic()
                load.resume()
        acked = state.take()
        rows = check_in_log(db, acked, result, "end of phase")
        unacknowledged += len(rows.keys() - acked.keys())
    finish(load, result)
    result.seconds = time.monotonic() - started
    result.acked = state.all_acked
    result.numbers.update(
        max_pages=max_pages,
        times_full=len(fills),
        seconds_to_fill=[round(s, 2) for s in fills],
        decisions_deleted_to_make_room=deleted,
        first_probe_200_after_room_ms=[round(s * 1000, 1) if s is not None else None for s in recoveries],
        logged_but_answered_503=unacknowledged,
    )
    if unacknowledged:
        result.violation(
            f"{unacknowledged} decisions are in the log but were answered 503 (no decision made)"
        )
    if not fills:
        result.violation(f"the log never filled ({max_pages} pages)")
    return result


def _fill(client: httpx.Client, result: PhaseResult, limit: int = 20_000) -> Acked:
    """Decide until the log is full (a 503 problem); the decisions acknowledged until then."""
    acked: Acked = {}
    for n in range(limit):
        body = varied_body(n)
        response = client.post("/v1/decide", json=body)
        result.count(str(response.status_code))
        if is_problem(response, 503):
            return acked
        if response.status_code == 200:
            acked[response.json()["decision_id"]] = (body, answer_of(response.json()))
        else:
            result.violation(f"while filling: {response.status_code} {response.text[:200]}")
    result.violation(f"the log did not fill in {limit} decisions")
    return acked


def _admin_reload(client: httpx.Client, result: PhaseResult, what: str) -> None:
    response = client.post("/v1/admin/reload", headers=admin_headers())
    if response.status_code != 200 or not response.json().get("changed"):
        result.violation(f"admin reload of {what}: {response.status_code} {response.text[:300]}")


def phase_replay_after_full(workdir: Path, *, workers: int, room_pages: int = 64) -> PhaseResult:
    """A policy reloaded while the log is full, decided with once there is room: is it replayable?

    spec/api.md: a replay evaluates a stored decision "by default against the exact policy source of the
    stored digest"; the server keeps a digest's source in the log when it loads the policy. Here the log is
    full when the good variant is loaded, room is made, a decision is answered (200) with the variant, the
    original is loaded again, and the decision is replayed: it must answer 200, unchanged.
    """
    result = PhaseResult("full-log-replay")
    root, db, max_pages = full_log_root(workdir, "full-log-replay", room_pages)
    path = root / "policies" / POLICY_FILE
    original = path.read_text(encoding="utf-8")
    started = time.monotonic()
    server = launch_server(root, db, workers=workers, extra_env={"POLICY_DB_MAX_PAGES": str(max_pages)})
    with running(server), server.client() as client:
        filled = _fill(client, result)
        check_in_log(db, filled, result, "full log")
        replace_atomically(path, original.replace(*GOOD_CHANGE), root / "staging.yaml")
        _admin_reload(client, result, "the variant, the log full")
        deleted = make_room(db)
        body = claim_request("320.00")
        response = client.post("/v1/decide", json=body)
        result.count(str(response.status_code))
        if response.status_code != 200:
            result.violation(f"decide once there is room: {response.status_code} {response.text[:300]}")
            return result
        decided = response.json()
        result.acked = len(filled) + 1
        check_in_log(db, {decided["decision_id"]: (body, answer_of(decided))}, result, "after room")
        replace_atomically(path, original, root / "staging.yaml")
        _admin_reload(client, result, "the original")
        replay = client.post(f"/v1/decisions/{decided['decision_id']}/replay", headers=read_headers())
        if replay.status_code != 200 or replay.json().get("changed") is not False:
            result.violation(
                f"replay of {decided['decision_id']} (a 200 decided with {decided['policy_digest']}, "
                f"a policy loaded while the log was full) answers {replay.status_code}: {replay.text[:300]}"
            )
    result.seconds = time.monotonic() - started
    result.numbers.update(
        max_pages=max_pages,
        decisions_until_full=len(filled),
        decisions_deleted_to_make_room=deleted,
        replay_status=replay.status_code,
    )
    return result


# ── the run ──────────────────────────────────────────────────────────────────────────────────────


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model or platform.processor() or 'unknown CPU'}), {platform.platform()}"


def code_version() -> str:
    """The commit the server runs from, and whether the working tree has changes on top of it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in src/" if dirty else "")


def run(
    workdir: Path, *, duration: float, clients: int, workers: int, phases: tuple[str, ...] = PHASES
) -> list[PhaseResult]:
    """Run the phases one after the other, each for ``duration / len(phases)`` seconds of load."""
    each = duration / max(1, len([p for p in phases if p in PHASES]))
    results = []
    for name in phases:
        if name == "full-log-replay":
            results.append(phase_replay_after_full(workdir, workers=workers))
        elif name == "sigkill":
            results.append(phase_sigkill(workdir, duration=each, clients=clients, workers=workers))
        elif name == "reload":
            results.append(phase_reload(workdir, duration=each, clients=clients, workers=workers))
        else:
            results.append(phase_full_log(workdir, duration=each, clients=clients, workers=workers))
    return results


def summary(results: list[PhaseResult], *, duration: float, clients: int, workers: int) -> str:
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    violations = sum(len(r.violations) for r in results)
    lines = [
        f"faults under load: {datetime.now(UTC).isoformat(timespec='seconds')}, {machine()}",
        f"code {code_version()}; --duration {duration:g} --clients {clients} --workers {workers}",
        *(r.report() for r in results),
        f"TOTAL: {sum(statuses.values())} requests, {statuses['200']} x 200, errors by status "
        f"{ {k: v for k, v in sorted(statuses.items()) if k != '200'} }, "
        f"{sum(r.acked for r in results)} acknowledged, {sum(r.lost for r in results)} lost acknowledged "
        f"decisions, {violations} violations",
        "RESULT: " + ("OK" if not violations else "FAILED"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load, all phases together")
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--phase", action="append", choices=PHASES + EXTRA_PHASES, help="run only this phase (repeatable)"
    )
    parser.add_argument("--workdir", type=Path, help="keep the servers' files here (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.clients < 1 or args.workers < 1:
        parser.error("--duration, --clients and --workers must be positive")
    phases = tuple(args.phase) if args.phase else PHASES
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(
            workdir, duration=args.duration, clients=args.clients, workers=args.workers, phases=phases
        )
    print(summary(results, duration=args.duration, clients=args.clients, workers=args.workers))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
