"""The decide endpoints: one request, the typed per-decision route, and batches of up to 1,000."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath

from policy_engine import EvaluationError, InputError, NotFoundError
from server.http import JSON_MEDIA_TYPE, AppParts, parts, read_json_body
from server.requests import read_batch, read_decide_request
from server.service import Outcome

__all__ = ("ROUTES", "decide_answer")


def _received() -> tuple[datetime, float]:
    # The one place the wall clock enters: the default ``at`` of a request is when it was received.
    return datetime.now(UTC), time.perf_counter()


async def decide_answer(
    app: AppParts, read_body: Callable[[], Awaitable[Any]], program: str | None, decision: str | None
) -> bytes:
    """The answer of one decide request, committed to the log; raises the request's Problem.

    ``read_body`` reads and strictly decodes the body; program and decision are those of the typed route's
    path (None on ``/v1/decide``). The Litestar routes and the ASGI fast path (server.asgi) both answer
    through here.
    """
    received_at, started = _received()
    registry = app.service.registry()
    body = await read_body()
    try:
        decide_request = read_decide_request(body, received_at, program=program, decision=decision)
        outcome = app.service.evaluate(registry, decide_request, started)
    except (InputError, NotFoundError, EvaluationError) as exc:
        raise app.service.reject(exc) from exc
    await app.service.commit([outcome])
    return outcome.body


async def _decide(
    request: Request[Any, Any, Any], program: str | None, decision: str | None
) -> Response[bytes]:
    answer = await decide_answer(parts(request), lambda: read_json_body(request), program, decision)
    return Response(content=answer, media_type=JSON_MEDIA_TYPE)


@post("/v1/decide", include_in_schema=False, status_code=200)
async def decide_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Decide one request."""
    return await _decide(request, None, None)


@post("/v1/decide/{program:str}/{decision:str}", include_in_schema=False, status_code=200)
async def typed_decide_endpoint(
    request: Request[Any, Any, Any], program: FromPath[str], decision: FromPath[str]
) -> Response[bytes]:
    """Decide one request for the program and decision named in the path."""
    return await _decide(request, program, decision)


@post("/v1/decide/batch", include_in_schema=False, status_code=200)
async def batch_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Decide up to 1,000 requests; each item gets its answer or its own problem."""
    received_at, started = _received()
    app = parts(request)
    registry = app.service.registry()
    body = await read_json_body(request)
    try:
        items = read_batch(body)
    except InputError as exc:
        raise app.service.reject(exc) from exc
    results: list[dict[str, Any] | Outcome] = []
    for item in items:
        try:
            decide_request = read_decide_request(item, received_at)
            results.append(app.service.evaluate(registry, decide_request, started))
        except (InputError, NotFoundError, EvaluationError) as exc:
            results.append(app.service.reject(exc).to_json())  # pointers relative to the item
    await app.service.commit([r for r in results if isinstance(r, Outcome)])
    items = [r.body if isinstance(r, Outcome) else msgspec.json.encode(r) for r in results]
    return Response(content=b'{"results":[' + b",".join(items) + b"]}", media_type=JSON_MEDIA_TYPE)


ROUTES = [decide_endpoint, batch_endpoint, typed_decide_endpoint]
