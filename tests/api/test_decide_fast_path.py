"""The ASGI fast path of the decide routes answers exactly as the Litestar routes do.

``POST /v1/decide`` and ``POST /v1/decide/{program}/{decision}`` are answered by ``server.asgi`` in front of
Litestar; the same paths with a trailing slash still go through Litestar's router to the Litestar
handlers. Every exchange here is made once on each path, at the ASGI level (so bodies can arrive in
chunks, lie about their length or stop half-way), and the two answers must be the same message for
message: status, headers in order, body (decision ids aside), and the same counters in /metrics.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ADMIN, REPO
from server_support import DECIDE

from server.app import create_app
from server.asgi import DecisionApp
from server.settings import Settings

BODY = json.dumps(DECIDE).encode()
TYPED = json.dumps({k: v for k, v in DECIDE.items() if k not in ("program", "decision")}).encode()
JSON = [(b"content-type", b"application/json")]
_ID = re.compile(rb'"decision_id":"[0-9a-f-]{36}"')


@dataclass(frozen=True)
class Exchange:
    """One request as ASGI messages: path, headers, body chunks; ``disconnect`` after the chunks."""

    path: str
    headers: list[tuple[bytes, bytes]]
    chunks: tuple[bytes, ...]
    disconnect: bool = False


def _answer(app: DecisionApp, exchange: Exchange) -> list[dict[str, Any]]:
    last = len(exchange.chunks) - 1
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < last or exchange.disconnect}
        for i, chunk in enumerate(exchange.chunks)
    ]
    if exchange.disconnect:
        messages.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": exchange.path,
        "raw_path": exchange.path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *exchange.headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(app(scope, receive, send))
    for message in sent:  # decision ids differ between the two answers, nothing else may
        if "body" in message:
            message["body"] = _ID.sub(b'"decision_id":"-"', message["body"])
    return sent


def _counters(app: DecisionApp) -> list[str]:
    text = app.parts.metrics.render().decode()
    wanted = ("policy_decisions_total", "policy_requests_rejected_total", "policy_decision_seconds_count")
    return sorted(line for line in text.splitlines() if line.startswith(wanted))


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[DecisionApp, DecisionApp]]:
    """Two fresh apps on the bundled policies with a 4 KiB body limit: one per path, counted apart."""
    made = []
    for name in ("fast", "litestar"):
        settings = Settings(
            policy_dir=REPO / "policies",
            db_path=tmp_path / name / "decisions.sqlite3",
            watch_interval=0,
            admin_token=ADMIN,
            body_limit=4096,
        )
        app = create_app(settings)
        assert isinstance(app, DecisionApp)
        made.append(app)
    yield made[0], made[1]
    for app in made:
        for hook in app.on_shutdown:
            hook()


def _same_answers(apps: tuple[DecisionApp, DecisionApp], path: str, exchanges: list[Exchange]) -> None:
    fast, litestar = apps
    for exchange in exchanges:
        through_fast = _answer(fast, exchange)
        slow = Exchange(path + "/", exchange.headers, exchange.chunks, exchange.disconnect)
        through_litestar = _answer(litestar, slow)
        assert through_fast == through_litestar, exchange
        assert through_fast[0]["type"] == "http.response.start"
    assert _counters(fast) == _counters(litestar)
    assert fast.parts.log.commits == litestar.parts.log.commits  # type: ignore[attr-defined]


BIG = b'{"program": "' + b"x" * 5000 + b'"}'

CASES = [
    Exchange("", JSON, (BODY,)),
    Exchange("", JSON, (BODY[:10], BODY[10:50], BODY[50:])),
    Exchange("", [*JSON, (b"content-length", str(len(BODY)).encode())], (BODY, b"")),
    Exchange("", [*JSON, (b"content-length", str(len(BODY)).encode())], (BODY[:9], BODY[9:], b"")),
    Exchange("", [*JSON, (b"content-length", b"0")], (b"",)),
    Exchange("", [(b"content-type", b"application/json; charset=utf-8")], (BODY,)),
    Exchange("", [(b"content-type", b"application/problem+json")], (BODY,)),
    Exchange("", JSON, (b"{",)),
    Exchange("", JSON, (b"",)),
    Exchange("", JSON, (b'{"a": 1, "a": 2}',)),
    Exchange("", JSON, (b"[1, 2]",)),
    Exchange("", [(b"content-type", b"text/plain")], (BODY,)),
    Exchange("", [], (BODY,)),
    Exchange("", [*JSON, (b"content-length", b"5000")], (BODY,)),
    Exchange("", [*JSON, (b"content-length", b"not a number")], (BODY,)),
    Exchange("", JSON, (BIG,)),
    Exchange("", JSON, (BIG[:3000], BIG[3000:])),
    Exchange("", JSON, (BODY[:20],), disconnect=True),
    Exchange("", JSON, (json.dumps({**DECIDE, "program": "no-such-program"}).encode(),)),
    Exchange("", JSON, (json.dumps({**DECIDE, "version": "1999.01"}).encode(),)),
    Exchange("", JSON, (json.dumps({**DECIDE, "input": {"order": {}}}).encode(),)),
    Exchange("", JSON, (json.dumps({**DECIDE, "explain": True}).encode(),)),
    Exchange("", JSON, (json.dumps({**DECIDE, "explain": "yes", "progam": 1}).encode(),)),
]


def test_decide_answers_as_the_litestar_route(apps: tuple[DecisionApp, DecisionApp]) -> None:
    exchanges = [Exchange("/v1/decide", c.headers, c.chunks, c.disconnect) for c in CASES]
    _same_answers(apps, "/v1/decide", exchanges)


@pytest.mark.parametrize(
    "path", ["/v1/decide/douyin-anxingou/claim", "/v1/decide/no-such/claim", "/v1/decide/douyin-anxingou/x"]
)
def test_the_typed_route_answers_as_the_litestar_route(
    apps: tuple[DecisionApp, DecisionApp], path: str
) -> None:
    bodies = [(TYPED,), (BODY,), (b"{}",), (TYPED[:7], TYPED[7:])]
    _same_answers(apps, path, [Exchange(path, JSON, chunks) for chunks in bodies])


def test_an_unexpected_error_is_the_same_500_problem(
    apps: tuple[DecisionApp, DecisionApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    for app in apps:

        def broken(*_: Any) -> Any:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.parts.service, "evaluate", broken)
    _same_answers(apps, "/v1/decide", [Exchange("/v1/decide", JSON, (BODY,))])
    answer = _answer(apps[0], Exchange("/v1/decide", JSON, (BODY,)))
    assert answer[0]["status"] == 500 and b"boom" not in answer[1]["body"]


def test_no_policies_loaded_is_the_same_503(apps: tuple[DecisionApp, DecisionApp]) -> None:
    for app in apps:
        app.parts.state.registry = None
    exchanges = [Exchange("/v1/decide", JSON, (BODY,)), Exchange("/v1/decide", JSON, (BIG,))]
    _same_answers(apps, "/v1/decide", exchanges)
    assert _answer(apps[0], exchanges[1])[0]["status"] == 503


@pytest.mark.parametrize("path", ["/v1/decide//claim", "/v1/decide/a/b/c", "/v1/decide/a/", "/v1/decidex"])
def test_other_paths_are_left_to_litestar(apps: tuple[DecisionApp, DecisionApp], path: str) -> None:
    answer = _answer(apps[0], Exchange(path, JSON, (BODY,)))
    assert answer[0]["status"] == 404
    assert path.encode() in answer[1]["body"]
