"""The decision log over HTTP: read a stored decision, replay it (optionally against another version)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from policy_engine import InputProblem
from server.http import json_response, parts, read_json_body, require_token
from server.ids import is_decision_id
from server.log_store import DecisionRecord
from server.problems import Problem

__all__ = ("ROUTES",)


def _record(request: Request[Any, Any, Any], decision_id: str) -> DecisionRecord:
    app = parts(request)
    if app.settings.read_token:
        require_token(request, app.settings.read_token, app.settings.admin_token)
    if not is_decision_id(decision_id):
        raise Problem(
            404, "not a decision id: decision ids are UUIDs such as 0193b5c2-60bf-7000-bc0c-9a783e151efd"
        )
    record = app.log.get(decision_id)
    if record is None:
        raise Problem(404, f"no decision with id {decision_id} in the log")
    return record


@get("/v1/decisions/{decision_id:str}", include_in_schema=False)
async def show_decision(request: Request[Any, Any, Any], decision_id: FromPath[str]) -> Response[bytes]:
    """The stored record of one decision."""
    return json_response(_record(request, decision_id).to_json())


@post("/v1/decisions/{decision_id:str}/replay", include_in_schema=False, status_code=200)
async def replay_decision(request: Request[Any, Any, Any], decision_id: FromPath[str]) -> Response[bytes]:
    """Evaluate a stored decision again with its recorded ``at``; show what differs."""
    record = _record(request, decision_id)
    body = await read_json_body(request, optional=True)
    version = None
    if body is not None:
        if not isinstance(body, dict):
            raise Problem(422, 'the body must be a JSON object such as {"version": "2023.07"}')
        unknown = [k for k in body if k != "version"]
        if unknown:
            problems = [InputProblem(f"/{k}", "unknown field; the only field is version") for k in unknown]
            raise Problem(422, "unknown fields in the replay request", problems)
        version = body.get("version")
        if version is not None and (not isinstance(version, str) or not version):
            raise Problem(
                422,
                "/version: must be a non-empty string",
                [InputProblem("/version", "must be a non-empty string")],
            )
    return json_response(parts(request).service.replay(record, version))


ROUTES = [show_decision, replay_decision]
