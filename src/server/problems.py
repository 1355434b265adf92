"""RFC 9457 problem details: every error the server answers, its own or the framework's, in one shape."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from policy_engine import EvaluationError, InputError, InputProblem, NotFoundError

__all__ = (
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "exception_handlers",
    "problem_json",
    "problem_of_engine_error",
    "problem_of_http_exception",
    "problem_of_unexpected",
    "problem_response",
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://policy-server.example/problems/"

logger = logging.getLogger("server.problems")

_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    500: "policy-evaluation-failed",
    503: "unavailable",
}


class Problem(Exception):
    """An error answer: status, title, detail and the located problems of the request."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[InputProblem] = (),
        *,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors) or [InputProblem("", detail)]
        self.title = title or HTTPStatus(status).phrase
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def to_json(self) -> dict[str, Any]:
        """The problem document."""
        body: dict[str, Any] = {
            "type": TYPE_BASE + _TYPES.get(self.status, "error"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": [p.to_json() for p in self.errors],
        }
        body.update(self.extra)
        return body


def problem_of_engine_error(exc: InputError | NotFoundError | EvaluationError, prefix: str = "") -> Problem:
    """The problem for an engine error; ``prefix`` moves its pointers under an item of a batch."""
    problems = [InputProblem(prefix + p.pointer, p.message) for p in exc.problems]
    extra: dict[str, Any] = {}
    if isinstance(exc, EvaluationError):
        extra = {"rule": exc.rule, "location": str(exc.location) if exc.location else None}
        problems = problems or [InputProblem("", exc.detail)]
    return Problem(exc.status, exc.detail, problems, title=exc.title, extra=extra)


def problem_json(problem: Problem) -> bytes:
    """The problem document as JSON bytes."""
    return msgspec.json.encode(problem.to_json())


def problem_response(problem: Problem) -> Response[bytes]:
    """The HTTP response of a problem."""
    return Response(
        content=problem_json(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _on_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return problem_response(exc)


def problem_of_http_exception(method: str, path: str, exc: HTTPException) -> Problem:
    """The problem for a framework exception (unknown route, wrong method, body too large, …)."""
    status = exc.status_code
    detail = exc.detail or HTTPStatus(status).phrase
    if status == 404:
        detail = f"no such endpoint: {method} {path}"
    elif status == 405:
        detail = f"{method} is not allowed on {path}"
    elif status == 413:
        detail = "the request body is larger than the server accepts"
    headers = dict(exc.headers or {})
    if status >= 500:
        logger.error("framework error", extra={"event": "server_error", "detail": detail})
        status, detail = 500, "internal error"
    return Problem(status, detail, headers=headers)


def problem_of_unexpected(path: str, exc: Exception) -> Problem:
    """The problem for an error nobody expected: logged with its traceback, answered without it."""
    logger.exception("unexpected error", extra={"event": "server_error", "path": path}, exc_info=exc)
    return Problem(500, "internal error: the server failed to answer; see its log")


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    return problem_response(problem_of_http_exception(request.method, request.url.path, exc))


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return problem_response(problem_of_unexpected(request.url.path, exc))


exception_handlers: dict[int | type[Exception], Any] = {
    Problem: _on_problem,
    HTTPException: _on_http_exception,
    Exception: _on_unexpected,
}
