"""The server's ASGI app: ``POST /v1/decide`` and the typed decide route answered straight from ASGI.

Every other request, and the lifespan, goes to the Litestar app underneath. The hot route costs Litestar
about as much as the decision itself (routing, the request object, the handler's signature model, the
response object and the exception middleware; bench/RESULTS.md), so :class:`DecisionApp` answers it before
Litestar sees it. The answer is the very one of the Litestar route: both call
``server.routes.decide.decide_answer``, read the body under the same limit, and turn errors into problems
through ``server.problems``; the Litestar routes stay for the paths this one leaves (``/v1/decide/``) and
for other methods (405 with ``Allow``).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litestar import Litestar
from litestar.exceptions import ClientException, HTTPException, InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from server.http import JSON_MEDIA_TYPE, AppParts, decode_json_body
from server.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    problem_json,
    problem_of_http_exception,
    problem_of_unexpected,
)
from server.routes.decide import decide_answer

__all__ = ("DecisionApp",)

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_DECIDE = "/v1/decide"
_TYPED_PREFIX = "/v1/decide/"
_JSON_TYPE = (b"content-type", JSON_MEDIA_TYPE.encode())
_PROBLEM_TYPE = (b"content-type", PROBLEM_MEDIA_TYPE.encode())


class DecisionApp(Litestar):
    """The Litestar app, with the decide routes answered in front of its router."""

    def __init__(self, parts: AppParts, **config: Any) -> None:
        super().__init__(**config)
        self.parts = parts
        self._body_limit = parts.settings.body_limit or math.inf

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """ASGI entry: the decide routes here, everything else (lifespan included) to Litestar."""
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path == _DECIDE:
                await self._decide(scope, receive, send, None, None)
                return
            if path.startswith(_TYPED_PREFIX):
                program, slash, decision = path[len(_TYPED_PREFIX) :].partition("/")
                if program and slash and decision and "/" not in decision:
                    await self._decide(scope, receive, send, program, decision)
                    return
        await super().__call__(scope, receive, send)

    async def _decide(
        self, scope: _Scope, receive: _Receive, send: _Send, program: str | None, decision: str | None
    ) -> None:
        async def read_body() -> Any:
            content_type = ""
            content_length: str | None = None
            for name, value in scope["headers"]:
                if name == b"content-type" and not content_type:
                    content_type = value.decode("latin-1")
                elif name == b"content-length" and content_length is None:
                    content_length = value.decode("latin-1")
            return decode_json_body(await self._body(receive, content_length), content_type)

        try:
            answer = await decide_answer(self.parts, read_body, program, decision)
        except Exception as exc:  # every error is a problem answer, as Litestar's handlers make them
            await _send_problem(send, self._problem(scope, exc))
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON_TYPE, (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer, "more_body": False})

    async def _body(self, receive: _Receive, content_length: str | None) -> bytes:
        """The request body under the body limit, as Litestar's ``Request.body`` reads it.

        One difference of no consequence: once the announced length has arrived, the body is complete (the
        server frames it by that length), so the empty last message servers send is not waited for.
        """
        announced = -1
        if content_length is not None:
            try:
                announced = int(content_length)
            except ValueError:
                raise ClientException(f"Invalid content-length: {content_length!r}") from None
            if announced > self._body_limit:
                raise RequestEntityTooLarge
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                if chunk:
                    total += len(chunk)
                    if total > self._body_limit:
                        raise RequestEntityTooLarge
                    chunks.append(chunk)
                    if total == announced:
                        break
                if not message.get("more_body", False):
                    break
            elif message["type"] == "http.disconnect":
                raise InternalServerException("client disconnected prematurely")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _problem(self, scope: _Scope, exc: Exception) -> Problem:
        if isinstance(exc, Problem):
            return exc
        path = scope.get("root_path", "") + scope["path"]
        if isinstance(exc, HTTPException):
            return problem_of_http_exception(scope["method"], path, exc)
        return problem_of_unexpected(path, exc)


async def _send_problem(send: _Send, problem: Problem) -> None:
    body = problem_json(problem)
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()]
    headers += [_PROBLEM_TYPE, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
