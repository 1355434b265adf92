"""A 200 from /v1/decide means the record is committed: it survives a SIGKILL of the server process.

spec/api.md: "Every 200 from a decide endpoint means its record is committed and survives a crash of the
server process." The server is killed with SIGKILL (no shutdown hook, no final commit), the SQLite file is
read directly, then a new server on the same file must serve every acknowledged decision unchanged.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from server_support import (
    ServerProcess,
    StartServer,
    answer_of,
    claim_request,
    map_with_clients,
    read_headers,
    sqlite_int,
)

N = 200
THREADS = 16
IN_FLIGHT_ACKS = 40
"""Decisions acknowledged while the kill is coming: requests are still in flight when it lands."""


def _body(i: int) -> dict[str, Any]:
    # Amounts 250.00..449.00: instant refunds up to 300.00 approve, larger ones are denied; every
    # seventh order has shipped. So the log holds answers that differ, not one answer 200 times.
    return claim_request(f"{250 + i % 200}.{i % 100:02d}", shipped=i % 7 == 0)


Acked = dict[str, tuple[dict[str, Any], dict[str, Any]]]
"""decision id → (request body, answer)."""


def _decide_all(server: ServerProcess, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    return map_with_clients(
        server, THREADS, lambda client, body: client.post("/v1/decide", json=body), bodies
    )


def _count_rows(server: ServerProcess) -> int:
    """Rows in the decision log, read straight from the SQLite file (WAL included)."""
    return sqlite_int(server.db, "SELECT count(*) FROM decisions")


def _decide_until_killed(server: ServerProcess, acked: Acked) -> None:
    """16 threads decide without pause; SIGKILL the server once IN_FLIGHT_ACKS more are acknowledged."""
    lock = threading.Lock()
    stop = threading.Event()
    count = [0]

    def loop(thread: int) -> None:
        i = 10_000 + thread * 1_000
        with server.client(timeout=10.0) as client:
            while not stop.is_set():
                body = _body(i)
                i += 1
                try:
                    response = client.post("/v1/decide", json=body)
                except httpx.TransportError:
                    return  # the server is gone: this request was never acknowledged
                if response.status_code == 200:
                    with lock:
                        acked[response.json()["decision_id"]] = (body, answer_of(response.json()))
                        count[0] += 1

    threads = [threading.Thread(target=loop, args=(t,), daemon=True) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while count[0] < IN_FLIGHT_ACKS and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert not any(t.is_alive() for t in threads), "a client thread hung after the server was killed"
    assert count[0] >= IN_FLIGHT_ACKS, f"only {count[0]} decisions answered while the kill was coming"


def test_acknowledged_decisions_survive_sigkill(start_server: StartServer) -> None:
    server = start_server()

    bodies = [_body(i) for i in range(N)]
    responses = _decide_all(server, bodies)
    failed = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {N} decide requests failed, e.g. {failed[:3]}"
    acked: Acked = {
        r.json()["decision_id"]: (b, answer_of(r.json())) for b, r in zip(bodies, responses, strict=True)
    }
    assert len(acked) == N, "decision ids must be unique"
    outcomes = {a["result"]["outcome"] for _, a in acked.values()}
    assert outcomes == {"approve", "deny"}, outcomes

    _decide_until_killed(server, acked)  # SIGKILL with requests in flight
    assert not server.alive()

    rows = _count_rows(server)  # the file as the killed server left it (WAL included)
    assert rows >= len(acked) >= N + IN_FLIGHT_ACKS

    restarted = start_server(db=server.db)
    missing: list[str] = []
    changed: list[tuple[str, Any, Any]] = []
    with restarted.client(headers=read_headers()) as client:
        for decision_id, (body, answer) in acked.items():
            response = client.get(f"/v1/decisions/{decision_id}")
            if response.status_code != 200:
                missing.append(f"{decision_id}: {response.status_code} {response.text[:200]}")
                continue
            record = response.json()
            if (record["decision_id"], record["answer"], record["request"]["input"]) != (
                decision_id,
                answer,
                body["input"],
            ):
                changed.append((decision_id, record, answer))
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged decisions lost: {missing[:5]}"
    assert not changed, f"{len(changed)} records differ from their answers, e.g. {changed[0]}"
    assert _count_rows(server) == rows, "the restarted server must keep the log as it found it"
