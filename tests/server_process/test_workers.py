"""Two uvicorn worker processes on one SQLite log and one multiprocess metrics directory.

Every decision answered by either worker is readable through both; /metrics adds up the counters of all
workers (prometheus_client multiprocess mode, PROMETHEUS_MULTIPROC_DIR set by server/run.py to
``<db dir>/metrics-<port>`` when there are several workers); SQLite's lock never surfaces as a failure.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from server_support import (
    ServerProcess,
    StartServer,
    admin_headers,
    answer_of,
    claim_request,
    map_with_clients,
    read_headers,
)

N = 100
THREADS = 8
EXTRA_ROUNDS = 10
"""Batches of 20 more decisions sent while one worker has answered none yet (the kernel picks)."""


def _decide(server: ServerProcess, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """Decide concurrently, one new connection per request so that both workers accept some."""
    return map_with_clients(
        server,
        THREADS,
        lambda client, body: client.post("/v1/decide", json=body),
        bodies,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _decisions_by_worker(metrics_dir: Path) -> dict[str, float]:
    """policy_decisions_total per worker, read from each worker's own multiprocess file."""
    out: dict[str, float] = {}
    for path in sorted(metrics_dir.glob("counter_*.db")):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):
            total += sum(s.value for s in metric.samples if s.name == "policy_decisions_total")
        out[path.stem.removeprefix("counter_")] = total
    return out


def _metric_sum(text: str, name: str) -> float:
    return sum(float(m[1]) for m in re.finditer(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M))


def test_two_workers_share_the_log_and_the_metrics(start_server: StartServer) -> None:
    server = start_server(workers=2, watch_interval=0)
    metrics_dir = server.db.parent / f"metrics-{server.port}"
    assert metrics_dir.is_dir(), "run.py must give several workers a shared metrics directory"

    bodies = [claim_request(f"{200 + i}.00", shipped=i % 5 == 0) for i in range(N)]
    responses = _decide(server, bodies)
    for round_ in range(EXTRA_ROUNDS):
        if sum(1 for v in _decisions_by_worker(metrics_dir).values() if v > 0) >= 2:
            break
        more = [claim_request(f"{100 + round_}.50") for _ in range(20)]
        bodies += more
        responses += _decide(server, more)
    failed = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {len(responses)} decide requests failed, e.g. {failed[:3]}"
    acked = {
        r.json()["decision_id"]: (b, answer_of(r.json())) for b, r in zip(bodies, responses, strict=True)
    }
    assert len(acked) == len(responses) >= N

    by_worker = _decisions_by_worker(metrics_dir)
    assert sum(1 for v in by_worker.values() if v > 0) == 2, f"decisions per worker pid: {by_worker}"

    # every decision readable, whichever worker answered it and whichever worker reads it
    problems: list[str] = []
    with server.client(headers=read_headers()) as reader:
        for decision_id, (body, answer) in acked.items():
            response = reader.get(f"/v1/decisions/{decision_id}")
            if response.status_code != 200:
                problems.append(f"{decision_id}: {response.status_code} {response.text[:200]}")
            elif (response.json()["answer"], response.json()["request"]["input"]) != (answer, body["input"]):
                problems.append(f"{decision_id}: stored record differs from the answer")
    assert not problems, f"{len(problems)} of {len(acked)} decisions not readable as answered: {problems[:5]}"

    # /metrics adds up both workers, whichever one answers the scrape
    for _ in range(4):
        with server.client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            text = client.get("/metrics").text
        assert _metric_sum(text, "policy_decisions_total") == len(acked), text
        assert _metric_sum(text, "decision_log_write_failures_total") == 0
        assert _metric_sum(text, "policy_reloads_total") == 2, "each worker loaded the policies once"

    assert "database is locked" not in server.stderr()


# ── a policy change must reach every worker ──────────────────────────────────────────────────────────

RAISED_LIMIT = ("instant_refund_max: {money: 300.00", "instant_refund_max: {money: 500.00")
"""douyin-anxingou 2021.08 with a higher instant refund limit: a 399.00 instant refund turns to approve."""


def _raise_limit(server: ServerProcess) -> None:
    path = server.policies / "douyin-anxingou" / "2021.08.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(RAISED_LIMIT[0]) == 1
    path.write_text(text.replace(*RAISED_LIMIT), encoding="utf-8")


def _answers_for_399(server: ServerProcess, count: int = 40) -> set[tuple[str, str]]:
    """(outcome, policy digest) of ``count`` decisions for a 399.00 instant refund, over new connections."""
    responses = _decide(server, [claim_request("399.00")] * count)
    assert all(r.status_code == 200 for r in responses), [r.text[:200] for r in responses]
    return {(r.json()["result"]["outcome"], r.json()["policy_digest"]) for r in responses}


def test_file_watcher_reloads_every_worker(start_server: StartServer) -> None:
    server = start_server(workers=2, watch_interval=0.2)
    (before,) = _answers_for_399(server)
    assert before[0] == "deny"

    _raise_limit(server)
    deadline = time.monotonic() + 15
    while True:  # each worker watches on its own: 2 loads at start, then one reload per worker
        with server.client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            reloads = _metric_sum(client.get("/metrics").text, "policy_reloads_total")
        if reloads >= 4:
            break
        assert time.monotonic() < deadline, f"policy_reloads_total stayed at {reloads}"
        time.sleep(0.05)

    (after,) = _answers_for_399(server)
    assert after[0] == "approve" and after[1] != before[1]


def test_admin_reload_reaches_every_worker(start_server: StartServer) -> None:
    server = start_server(workers=2, watch_interval=0)
    (before,) = _answers_for_399(server)
    assert before[0] == "deny"

    _raise_limit(server)
    with server.client() as client:
        response = client.post("/v1/admin/reload", headers=admin_headers())
    assert response.status_code == 200, response.text
    assert response.json()["changed"] is True
    assert response.json()["workers"] == 2
    new_digest = response.json()["policies"]["douyin-anxingou@2021.08"]

    # both workers got some of these connections in every run so far (about half each)
    assert _answers_for_399(server) == {("approve", new_digest)}
