"""API fuzzing: schemathesis on the app's own OpenAPI document, every operation, a bounded number of examples.

For each operation of ``/schema/openapi.json`` (the static routes and one typed route per decision), valid
(positive) and invalid (negative) requests are generated from the document and sent to the app in process;
every answer must not be a server error, must use a status the document lists for the operation, and must
match the documented schema and media type of that status. Generation is derandomized so the suite is
stable; ``bench/fuzz_api.py`` runs the same checks with more, random examples.

Money and date-time values are generated as the API reads them (two-place amounts, RFC 3339 in 2000-2099
with an offset), so valid requests get past input validation and are decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fuzz_support import register_formats, without_lifespan
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from server_support import CLAIM_INPUT

from policy_engine import load_registry
from server.app import create_app
from server.openapi import openapi_document
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
ADMIN = "fuzz-admin-token"
READ = "fuzz-read-token"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25
"""Examples per operation and mode; the admin reload (a full recompile each) gets a quarter of them."""


def _operations() -> list[tuple[str, str]]:
    # Collected from the same document the app serves, built here without starting an app.
    document = openapi_document(load_registry(REPO / "policies"))
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


register_formats()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The OpenAPI schema as schemathesis loads it from the app (in process, with its lifespan running)."""
    db = tmp_path_factory.mktemp("fuzz") / "decisions.sqlite3"
    settings_ = Settings(
        policy_dir=REPO / "policies", db_path=db, watch_interval=0, admin_token=ADMIN, read_token=READ
    )
    app = create_app(settings_)
    try:
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", without_lifespan(app))
    finally:
        for hook in app.on_shutdown:  # the app's own end: close its decision log
            hook()


def _modes(method: str, path: str) -> list[GenerationMode]:
    has_input = method == "POST" or "{" in path
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if has_input else [GenerationMode.POSITIVE]


def test_every_operation_of_the_document_is_fuzzed() -> None:
    paths = {path for _, path in OPERATIONS}
    assert {
        "/v1/decide",
        "/v1/decide/batch",
        "/v1/admin/reload",
        "/v1/decisions/{decision_id}/replay",
    } <= paths
    assert sum(path.startswith("/v1/decide/") and path != "/v1/decide/batch" for path in paths) >= 17


def _params() -> list[Any]:
    return [pytest.param(method, path, id=f"{method} {path}") for method, path in OPERATIONS]


@pytest.mark.parametrize(("method", "path"), _params())
def test_no_server_error_and_every_answer_as_documented(api: Any, method: str, path: str) -> None:
    operation = api[path][method]
    examples = max(EXAMPLES // 4, 3) if path == "/v1/admin/reload" else EXAMPLES
    headers = {"Authorization": f"Bearer {READ if path.startswith('/v1/decisions') else ADMIN}"}
    sent: list[int] = []
    for mode in _modes(method, path):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(checks=CHECKS, headers=headers)
            sent.append(response.status_code)

        try:
            run()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
    assert sent, f"{method} {path}: no request was generated"


def test_the_decision_log_routes_with_a_real_decision_id(api: Any) -> None:
    answer = api["/v1/decide/douyin-anxingou/claim"]["POST"].Case(
        body={"input": CLAIM_INPUT},
        media_type="application/json",
    )
    decided = answer.call_and_validate(checks=CHECKS)
    assert decided.status_code == 200
    decision_id = decided.json()["decision_id"]
    statuses: list[int] = []
    for path, method in (
        ("/v1/decisions/{decision_id}", "GET"),
        ("/v1/decisions/{decision_id}/replay", "POST"),
    ):
        operation = api[path][method]

        @given(case=operation.as_strategy(path_parameters={"decision_id": decision_id}))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {READ}"})
            statuses.append(response.status_code)

        run()
    assert 200 in statuses


def test_numbers_in_the_served_schemas_are_json_numbers(api: Any) -> None:
    # multipleOf 0.01 (a Decimal) used to be served as the string "0.01": an invalid schema.
    keywords = {"multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    found: list[Any] = []
    pending: list[Any] = [api.raw_schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            found.extend(value for key, value in node.items() if key in keywords)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert any(value == 0.01 for value in found)
    assert all(isinstance(value, int | float) and not isinstance(value, bool) for value in found), found
