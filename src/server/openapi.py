"""The OpenAPI 3.1 document of the API, built from the contract and the policies in force.

Written here rather than inferred by the framework because request bodies are read strictly from raw bytes
(Decimal numbers, duplicate keys refused) and because each decision's own input and output schemas, from
``schemas/``, belong in the typed route ``/v1/decide/{program}/{decision}`` so client generators get real
types. The interactive page at ``/schema`` is Swagger UI, served from the installed package (no CDN).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import swagger_ui_bundle  # type: ignore[import-untyped]
from litestar import Request, Response, get
from litestar.static_files import create_static_files_router

from policy_engine import Registry
from server.http import JSON_MEDIA_TYPE, parts

__all__ = ("ROUTES", "openapi_document")

API_VERSION = "1.0.0"

_TIMESTAMP = {"type": "string", "format": "date-time"}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _problems(*statuses: int) -> dict[str, Any]:
    words = {
        401: "A valid bearer token is required.",
        404: "Unknown program, version, decision, decision id or endpoint.",
        413: "The body is over the size limit.",
        415: "The body is not JSON.",
        422: "The request is not acceptable; `errors` points at each problem.",
        500: "A bundled policy failed while evaluating; the problem names the rule.",
        503: "The decision log cannot be written, or policies are not loaded.",
    }
    return {
        str(s): {"description": words[s], "content": {"application/problem+json": {"schema": _PROBLEM_REF}}}
        for s in statuses
    }


_DECIDE_ERRORS = (404, 413, 415, 422, 500, 503)

_COMPONENTS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail", "errors"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["pointer", "message"],
                    "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "DecideRequest": {
        "type": "object",
        "required": ["program", "decision", "input"],
        "additionalProperties": False,
        "properties": {
            "program": {"type": "string", "minLength": 1},
            "decision": {"type": "string", "minLength": 1},
            "input": {"type": "object", "description": "The decision's input (see the typed routes)."},
            "version": {"type": ["string", "null"], "minLength": 1},
            "at": {**_TIMESTAMP, "description": "Request time; default: when the server received it."},
            "explain": {"type": ["boolean", "null"]},
        },
    },
    "Reason": {
        "type": "object",
        "required": ["rule", "message"],
        "properties": {"rule": {"type": "string"}, "message": {"type": "string"}},
    },
    "DecideAnswer": {
        "type": "object",
        "required": [
            "decision_id",
            "program",
            "version",
            "policy_digest",
            "decision",
            "evaluated_at",
            "result",
            "matched_rules",
            "reasons",
        ],
        "properties": {
            "decision_id": {"type": "string", "format": "uuid"},
            "program": {"type": "string"},
            "version": {"type": "string"},
            "policy_digest": {"type": "string"},
            "decision": {"type": "string"},
            "evaluated_at": _TIMESTAMP,
            "result": {"type": "object"},
            "matched_rules": {"type": "array", "items": {"type": "string"}},
            "reasons": {"type": "array", "items": _ref("Reason")},
            "trace": {"type": "array", "items": {"type": "object"}},
        },
    },
    "BatchRequest": {
        "type": "object",
        "required": ["requests"],
        "additionalProperties": False,
        "properties": {
            "requests": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _ref("DecideRequest")}
        },
    },
    "BatchAnswer": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {"type": "array", "items": {"anyOf": [_ref("DecideAnswer"), _PROBLEM_REF]}}
        },
    },
    "Program": {
        "type": "object",
        "required": ["id", "versions", "decisions"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": ["string", "null"]},
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version", "effective_from", "policy_digest", "decisions"],
                    "properties": {
                        "version": {"type": "string"},
                        "effective_from": _TIMESTAMP,
                        "effective_until": {"type": ["string", "null"], "format": "date-time"},
                        "policy_digest": {"type": "string"},
                        "decisions": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "decisions": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProgramList": {
        "type": "object",
        "required": ["programs"],
        "properties": {"programs": {"type": "array", "items": _ref("Program")}},
    },
    "Version": {
        "type": "object",
        "required": ["program", "version", "policy_digest", "params", "decisions"],
        "properties": {
            "program": {"type": "string"},
            "version": {"type": "string"},
            "policy_digest": {"type": "string"},
            "params": {"type": "object"},
            "decisions": {"type": "object"},
        },
    },
    "DecisionRecord": {
        "type": "object",
        "required": ["decision_id", "recorded_at", "program", "version", "decision", "policy_digest"],
        "properties": {
            "decision_id": {"type": "string"},
            "recorded_at": _TIMESTAMP,
            "program": {"type": "string"},
            "version": {"type": "string"},
            "decision": {"type": "string"},
            "policy_digest": {"type": "string"},
            "request": {"type": "object"},
            "answer": {"type": "object"},
        },
    },
    "ReplayRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"version": {"type": ["string", "null"], "minLength": 1}},
    },
    "ReplayAnswer": {
        "type": "object",
        "required": [
            "decision_id",
            "version",
            "policy_digest",
            "stored",
            "replayed",
            "changed",
            "differences",
        ],
        "properties": {
            "decision_id": {"type": "string"},
            "version": {"type": "string"},
            "policy_digest": {"type": "string"},
            "stored": {"type": "object"},
            "replayed": {"type": "object"},
            "changed": {"type": "boolean"},
            "differences": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string"},
            "policies": {"type": "object"},
            "last_reload_error": {"type": ["object", "null"]},
        },
    },
}

_TOKEN: list[dict[str, list[str]]] = [{"bearer": []}]


def _static_paths() -> dict[str, Any]:
    decide_body = {"required": True, "content": _json(_ref("DecideRequest"))}
    return {
        "/v1/decide": {
            "post": {
                "operationId": "decide",
                "summary": "Decide one request",
                "tags": ["decide"],
                "requestBody": decide_body,
                "responses": {
                    "200": {"description": "The decision.", "content": _json(_ref("DecideAnswer"))},
                    **_problems(*_DECIDE_ERRORS),
                },
            }
        },
        "/v1/decide/batch": {
            "post": {
                "operationId": "decideBatch",
                "summary": "Decide up to 1,000 requests; one bad item does not fail the others",
                "tags": ["decide"],
                "requestBody": {"required": True, "content": _json(_ref("BatchRequest"))},
                "responses": {
                    "200": {
                        "description": "One answer or problem per item.",
                        "content": _json(_ref("BatchAnswer")),
                    },
                    **_problems(413, 415, 422, 503),
                },
            }
        },
        "/v1/programs": {
            "get": {
                "operationId": "listPrograms",
                "tags": ["programs"],
                "responses": {
                    "200": {"description": "Every program.", "content": _json(_ref("ProgramList"))},
                    **_problems(503),
                },
            }
        },
        "/v1/programs/{program}": {
            "get": {
                "operationId": "getProgram",
                "tags": ["programs"],
                "parameters": [_path_param("program")],
                "responses": {
                    "200": {"description": "One program.", "content": _json(_ref("Program"))},
                    **_problems(404, 503),
                },
            }
        },
        "/v1/programs/{program}/versions/{version}": {
            "get": {
                "operationId": "getVersion",
                "tags": ["programs"],
                "parameters": [
                    _path_param("program"),
                    _path_param("version"),
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["json", "yaml"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The version in full, or its policy file with format=yaml.",
                        "content": {
                            **_json(_ref("Version")),
                            "application/yaml": {"schema": {"type": "string"}},
                        },
                    },
                    **_problems(404, 422, 503),
                },
            }
        },
        "/v1/programs/{program}/versions/{version}/decisions/{decision}/examples": {
            "get": {
                "operationId": "getDecisionExamples",
                "summary": "Example inputs from the policy tests (at most 20) that the version decides",
                "tags": ["programs"],
                "parameters": [_path_param("program"), _path_param("version"), _path_param("decision")],
                "responses": {
                    "200": {
                        "description": "Named inputs (with the request time when a case gives one).",
                        "content": _json(
                            {
                                "type": "array",
                                "maxItems": 20,
                                "items": {
                                    "type": "object",
                                    "required": ["name", "input"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "input": {"type": "object"},
                                        "at": _TIMESTAMP,
                                    },
                                },
                            }
                        ),
                    },
                    **_problems(404, 503),
                },
            }
        },
        "/v1/decisions/{decision_id}": {
            "get": {
                "operationId": "getDecision",
                "tags": ["decision log"],
                "parameters": [_path_param("decision_id")],
                "security": [{}, *_TOKEN],
                "responses": {
                    "200": {"description": "The stored record.", "content": _json(_ref("DecisionRecord"))},
                    **_problems(401, 404),
                },
            }
        },
        "/v1/decisions/{decision_id}/replay": {
            "post": {
                "operationId": "replayDecision",
                "tags": ["decision log"],
                "parameters": [_path_param("decision_id")],
                "security": [{}, *_TOKEN],
                "requestBody": {"required": False, "content": _json(_ref("ReplayRequest"))},
                "responses": {
                    "200": {
                        "description": "The decision evaluated again.",
                        "content": _json(_ref("ReplayAnswer")),
                    },
                    **_problems(401, 404, 415, 422, 500, 503),
                },
            }
        },
        "/health/live": {
            "get": {
                "operationId": "live",
                "tags": ["operations"],
                "responses": {"200": {"description": "Alive.", "content": _json(_ref("Health"))}},
            }
        },
        "/health/ready": {
            "get": {
                "operationId": "ready",
                "tags": ["operations"],
                "responses": {
                    "200": {"description": "Policies loaded.", "content": _json(_ref("Health"))},
                    "503": {"description": "Policies not loaded.", "content": _json(_ref("Health"))},
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "tags": ["operations"],
                "responses": {
                    "200": {
                        "description": "Prometheus text.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/v1/admin/reload": {
            "post": {
                "operationId": "reload",
                "tags": ["operations"],
                "security": _TOKEN,
                "responses": {
                    "200": {"description": "Reloaded.", "content": _json({"type": "object"})},
                    **_problems(401, 404, 422),
                },
            }
        },
    }


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _clean(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _one_of_versions(schemas: list[Mapping[str, Any]]) -> dict[str, Any]:
    distinct: list[dict[str, Any]] = []
    for schema in schemas:
        cleaned = _clean(schema)
        if cleaned not in distinct:
            distinct.append(cleaned)
    return distinct[0] if len(distinct) == 1 else {"anyOf": distinct}


def _typed_paths(registry: Registry, components: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for program, versions in registry.programs.items():
        for name in versions.decision_names():
            compiled = [w.policy.decisions[name] for w in versions.windows if name in w.policy.decisions]
            key = f"{program}.{name}"
            components[f"{key}.input"] = _one_of_versions([d.input_schema for d in compiled])
            components[f"{key}.output"] = _one_of_versions([d.output_schema for d in compiled])
            components[f"{key}.request"] = {
                "type": "object",
                "required": ["input"],
                "additionalProperties": False,
                "properties": {
                    "input": _ref(f"{key}.input"),
                    "version": {"type": ["string", "null"], "minLength": 1},
                    "at": _TIMESTAMP,
                    "explain": {"type": ["boolean", "null"]},
                },
            }
            answer = _COMPONENTS["DecideAnswer"]
            components[f"{key}.answer"] = {
                **answer,
                "properties": {**answer["properties"], "result": _ref(f"{key}.output")},
            }
            title = compiled[-1].title or name
            paths[f"/v1/decide/{program}/{name}"] = {
                "post": {
                    "operationId": f"decide_{program.replace('-', '_')}_{name}",
                    "summary": f"{program} · {title}",
                    "tags": [program],
                    "requestBody": {"required": True, "content": _json(_ref(f"{key}.request"))},
                    "responses": {
                        "200": {"description": "The decision.", "content": _json(_ref(f"{key}.answer"))},
                        **_problems(*_DECIDE_ERRORS),
                    },
                }
            }
    return paths


def openapi_document(registry: Registry | None) -> dict[str, Any]:
    """The OpenAPI document for the policies in force (without typed routes while none are loaded)."""
    components = dict(_COMPONENTS)
    paths = _static_paths()
    if registry is not None:
        paths.update(_typed_paths(registry, components))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guarantee policy server",
            "version": API_VERSION,
            "description": "Decisions of e-commerce guarantee programs from versioned YAML policies "
            "(spec/api.md). Money is a decimal string in yuan; timestamps are RFC 3339 with an offset.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


_DOCUMENT_ENCODER = msgspec.json.Encoder(decimal_format="number")
"""Schema keywords such as ``multipleOf: 0.01`` are JSON numbers (answers write Decimals as strings)."""


@get("/schema/openapi.json", include_in_schema=False)
async def openapi_json(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The OpenAPI document."""
    document = openapi_document(parts(request).state.registry)
    return Response(content=_DOCUMENT_ENCODER.encode(document), media_type=JSON_MEDIA_TYPE)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Guarantee policy server · API</title>
<link rel="stylesheet" href="/schema/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/schema/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/schema/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


@get("/schema", include_in_schema=False)
async def openapi_page() -> Response[bytes]:
    """The interactive API page (Swagger UI, assets served by this app)."""
    return Response(content=_PAGE.encode(), media_type="text/html; charset=utf-8")


_assets = create_static_files_router(
    path="/schema/static", directories=[Path(swagger_ui_bundle.swagger_ui_path)], include_in_schema=False
)

ROUTES = [openapi_json, openapi_page, _assets]
