"""What the server knows: programs, their versions and windows, and one version in full (or its YAML)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from policy_engine import CompiledPolicy, NotFoundError
from policy_engine.expr.values import format_timestamp
from policy_engine.registry import ProgramVersions
from server.http import json_response, parts
from server.problems import Problem, problem_of_engine_error

__all__ = ("ROUTES", "program_json")


def program_json(versions: ProgramVersions) -> dict[str, Any]:
    """One program: id, title, versions with their windows, and every decision any version has."""
    return {
        "id": versions.program,
        "title": versions.title,
        "versions": [
            {
                "version": w.policy.version,
                "effective_from": format_timestamp(w.start, w.policy.tz),
                "effective_until": format_timestamp(w.end, w.policy.tz) if w.end is not None else None,
                "policy_digest": w.policy.digest,
                "decisions": list(w.policy.decisions),
            }
            for w in versions.windows
        ],
        "decisions": versions.decision_names(),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def version_json(policy: CompiledPolicy) -> dict[str, Any]:
    """One version in full: params with their assumption notes, decisions with rules and schemas."""
    spec = policy.spec
    params = {
        name: {
            "type": param.kind,
            "value": _plain(param.value),
            "title": param.title,
            "assumption": param.assumption or spec.assumptions.get(name),
            "source": param.source,
        }
        for name, param in spec.params.items()
    }
    decisions = {
        name: {
            "title": decision.title,
            "as_of": decision.as_of,
            "hit": decision.hit,
            "rules": [{"id": r.id, "title": r.title, "condition": r.condition} for r in decision.rules],
            "otherwise": decision.otherwise_location is not None,
            "input_schema": decision.input_schema,
            "output_schema": decision.output_schema,
        }
        for name, decision in policy.decisions.items()
    }
    return {
        "program": policy.program,
        "version": policy.version,
        "title": policy.title,
        "extends": spec.extends,
        "effective_from": format_timestamp(policy.effective_from, policy.tz),
        "timezone": spec.timezone,
        "currency": policy.currency,
        "policy_digest": policy.digest,
        "assumptions": dict(spec.assumptions),
        "params": params,
        "decisions": decisions,
    }


def _program(request: Request[Any, Any, Any], program: str) -> ProgramVersions:
    registry = parts(request).service.registry()
    try:
        return registry.program(program)
    except NotFoundError as exc:
        raise problem_of_engine_error(exc) from exc


@get("/v1/programs", include_in_schema=False)
async def list_programs(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every program."""
    registry = parts(request).service.registry()
    return json_response({"programs": [program_json(v) for v in registry.programs.values()]})


@get("/v1/programs/{program:str}", include_in_schema=False)
async def show_program(request: Request[Any, Any, Any], program: FromPath[str]) -> Response[bytes]:
    """One program."""
    return json_response(program_json(_program(request, program)))


@get("/v1/programs/{program:str}/versions/{version:str}", include_in_schema=False)
async def show_version(
    request: Request[Any, Any, Any], program: FromPath[str], version: FromPath[str]
) -> Response[bytes]:
    """One version in full; ``?format=yaml`` gives the policy file as written."""
    try:
        policy = parts(request).service.registry().policy(program, version)
    except NotFoundError as exc:
        raise problem_of_engine_error(exc) from exc
    fmt = request.query_params.get("format", "json")
    if fmt == "yaml":
        text = policy.sources.get(policy.path)
        if text is None:
            text = next(t for n, t in policy.sources.items() if Path(n).stem == policy.version)
        return Response(content=text.encode(), media_type="application/yaml; charset=utf-8")
    if fmt != "json":
        raise Problem(422, "format must be json or yaml", title="Invalid query")
    return json_response(version_json(policy))


ROUTES = [list_programs, show_program, show_version]
