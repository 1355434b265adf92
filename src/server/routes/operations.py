"""Operations: liveness, readiness, Prometheus metrics, and the admin reload."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post

from policy_engine import InputProblem, PolicyError
from server.http import json_response, parts, require_token
from server.metrics import CONTENT_TYPE
from server.policy_state import ReloadOutcome
from server.problems import Problem

__all__ = ("ROUTES", "policy_error_json")


def policy_error_json(error: PolicyError) -> dict[str, Any]:
    """A policy error for an answer: the ``file:line:col: message`` text and its parts."""
    loc = error.location
    return {
        "message": str(error),
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "code": error.code,
    }


def _reload_error_json(outcome: ReloadOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"errors": [policy_error_json(e) for e in outcome.errors]}


@get("/health/live", include_in_schema=False)
async def live() -> Response[bytes]:
    """The process answers."""
    return json_response({"status": "live"})


@get("/health/ready", include_in_schema=False)
async def ready(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Ready once policies are loaded; names the loaded digests and the last reload error."""
    state = parts(request).state
    registry = state.registry
    body = {
        "status": "ready" if registry is not None else "not ready",
        "policies": registry.digests() if registry is not None else {},
        "last_reload_error": _reload_error_json(state.last_error),
    }
    return json_response(body, 200 if registry is not None else 503)


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text exposition."""
    return Response(content=parts(request).metrics.render(), media_type=CONTENT_TYPE)


@post("/v1/admin/reload", include_in_schema=False, status_code=200)
async def reload(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Reload the policy directory now; on any error the old policies keep serving."""
    app = parts(request)
    require_token(request, app.settings.admin_token)
    outcome = await asyncio.to_thread(app.state.reload)
    if not outcome.ok:
        errors = [policy_error_json(e) for e in outcome.errors]
        raise Problem(
            422,
            f"{len(errors)} policy error(s); the previous policies keep serving",
            [InputProblem("", e["message"]) for e in errors],
            title="Policies not reloaded",
            extra={"policy_errors": errors},
        )
    workers = await asyncio.to_thread(app.state.request_reload_everywhere)
    return json_response(
        {
            "reloaded": True,
            "workers": workers,
            "changed": outcome.changed,
            "policies": outcome.digests,
            "warnings": [str(w) for w in outcome.warnings],
        }
    )


ROUTES = [live, ready, metrics, reload]
