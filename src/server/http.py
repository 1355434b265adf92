"""HTTP helpers the routes share: the app's objects, strict JSON bodies, JSON answers, bearer tokens."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response

from policy_engine import InputError
from policy_engine.jsonio import loads_strict
from server.log_store import DecisionLog
from server.metrics import Metrics
from server.policy_state import PolicyState
from server.problems import Problem
from server.service import DecisionService
from server.settings import Settings

__all__ = ("AppParts", "decode_json_body", "json_response", "parts", "read_json_body", "require_token")

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class AppParts:
    """Everything a route needs, made once per app (per worker process)."""

    settings: Settings
    state: PolicyState
    log: DecisionLog
    metrics: Metrics
    service: DecisionService


def parts(request: Request[Any, Any, Any]) -> AppParts:
    """The app's parts, from the app state."""
    found: AppParts = request.app.state["parts"]
    return found


async def read_json_body(request: Request[Any, Any, Any], *, optional: bool = False) -> Any:
    """The body decoded strictly (spec/api.md conventions): 415 for a non-JSON type, 422 for bad JSON.

    With ``optional``, an empty body reads as None whatever its content type.
    """
    return decode_json_body(await request.body(), request.headers.get("content-type", ""), optional=optional)


def decode_json_body(raw: bytes, content_type: str, *, optional: bool = False) -> Any:
    """A body already read, decoded strictly: 415 for a non-JSON ``content_type``, 422 for bad JSON."""
    if optional and not raw.strip():
        return None
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE and not media_type.endswith("+json"):
        shown = media_type or "none"
        raise Problem(
            415,
            f"the body must be JSON (Content-Type: application/json), not {shown}",
            headers={"Accept": JSON_MEDIA_TYPE},
        )
    try:
        return loads_strict(raw)
    except InputError as exc:
        raise Problem(422, exc.detail, exc.problems) from exc


def json_response(body: Any, status: int = 200) -> Response[bytes]:
    """A JSON answer."""
    return Response(content=_ENCODER.encode(body), status_code=status, media_type=JSON_MEDIA_TYPE)


_ENCODER = msgspec.json.Encoder(decimal_format="number")
"""Decimals as JSON numbers: a stored request shows ``4.50`` as it was sent (answers hold money as text)."""


def require_token(request: Request[Any, Any, Any], *tokens: str | None) -> None:
    """Let the request through only with ``Authorization: Bearer <one of tokens>``.

    With no token configured the endpoint does not exist (404), so an unconfigured server exposes nothing.
    Tokens are compared in constant time and never logged.
    """
    configured = [t for t in tokens if t]
    if not configured:
        raise Problem(404, f"no such endpoint: {request.method} {request.url.path}")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    ok = False
    if scheme.lower() == "bearer" and given:
        for token in configured:
            ok |= hmac.compare_digest(given.strip().encode(), token.encode())
    if not ok:
        raise Problem(
            401,
            "a valid bearer token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": 'Bearer realm="policy-server"'},
        )
