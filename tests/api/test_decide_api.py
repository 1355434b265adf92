"""POST /v1/decide, the typed route and batches: answers, and every client error of spec/api.md."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from api_helpers import ClientFactory
from litestar.testing import TestClient
from server_support import CLAIM_INPUT, DECIDE

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, pointer: str | None = None, words: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "errors"} <= set(body)
    if pointer is not None:
        assert pointer in [e["pointer"] for e in body["errors"]], body
    assert words in body["detail"], body
    return body


def test_decide_answers_the_example_of_the_api_page(client: TestClient[Any]) -> None:
    response = client.post("/v1/decide", json=DECIDE)
    assert response.status_code == 200
    body = response.json()
    assert uuid.UUID(body["decision_id"]).version == 7
    assert body["program"] == "douyin-anxingou" and body["version"] == "2021.08"
    assert body["policy_digest"].startswith("sha256:")
    assert body["evaluated_at"] == "2021-09-01T11:00:05+08:00"
    assert body["result"] == {
        "outcome": "approve",
        "service": "instant_refund",
        "refund": "299.00",
        "compensation": "0.00",
        "appraisal_fee": "0.00",
        "shipping_subsidy": "0.00",
        "total": "299.00",
    }
    assert body["matched_rules"] == ["instant_refund"]
    assert body["reasons"][0]["rule"] == "instant_refund" and "299.00" in body["reasons"][0]["message"]
    assert "trace" not in body


def test_version_is_resolved_from_the_order_time_when_not_given(client: TestClient[Any]) -> None:
    request = {k: v for k, v in DECIDE.items() if k != "version"}
    assert client.post("/v1/decide", json=request).json()["version"] == "2021.08"


def test_explain_adds_the_trace_of_each_rule_looked_at(client: TestClient[Any]) -> None:
    body = client.post("/v1/decide", json={**DECIDE, "explain": True}).json()
    trace = body["trace"]
    assert trace[-1]["rule"] == "instant_refund" and trace[-1]["matched"] is True
    assert all({"rule", "matched", "values"} <= set(entry) for entry in trace)


def test_numbers_are_accepted_for_money(client: TestClient[Any]) -> None:
    request = copy.deepcopy(DECIDE)
    request["input"]["order"]["amount"] = 299
    assert client.post("/v1/decide", json=request).json()["result"]["refund"] == "299.00"


def test_the_typed_route_takes_the_program_and_decision_from_the_path(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/decide/douyin-anxingou/claim", json={"input": CLAIM_INPUT, "version": "2021.08"}
    )
    assert response.status_code == 200
    assert response.json()["result"]["refund"] == "299.00"


def test_the_typed_route_refuses_program_in_the_body(client: TestClient[Any]) -> None:
    response = client.post("/v1/decide/douyin-anxingou/claim", json={"input": CLAIM_INPUT, "program": "x"})
    assert_problem(response, 422, "/program", "unknown field")


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"program": "nope"}, "/program", "unknown program 'nope'"),
        ({"decision": "nope"}, "/decision", "has no decision 'nope'"),
        ({"version": "1999.01"}, "/version", "has no version '1999.01'"),
    ],
)
def test_unknown_program_version_or_decision_is_404(
    client: TestClient[Any], change: dict[str, str], pointer: str, words: str
) -> None:
    assert_problem(client.post("/v1/decide", json={**DECIDE, **change}), 404, pointer, words)


def test_typed_route_with_unknown_decision_is_404(client: TestClient[Any]) -> None:
    response = client.post("/v1/decide/douyin-anxingou/nope", json={"input": CLAIM_INPUT})
    assert_problem(response, 404, "/decision")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"program": "a", "program": "b"}', "duplicate key 'program'"),
        (b'{"input": {"x": NaN}}', "NaN is not valid JSON"),
        (b'{"input": {"x": Infinity}}', "Infinity is not valid JSON"),
        (b'{"input": {"x": ' + b"1" * 41 + b"}}", "more than 40 characters"),
        (b"[" * 65 + b"]" * 65, "nested deeper than 64"),
        (b'{"input": "\xff"}', "not valid UTF-8"),
    ],
)
def test_a_body_that_is_not_strict_json_is_422(client: TestClient[Any], body: bytes, words: str) -> None:
    response = client.post("/v1/decide", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 422, words=words)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ([1, 2], "/"),
        ({"decision": "claim", "input": {}}, "/program"),
        ({"program": "douyin-anxingou", "input": {}}, "/decision"),
        ({"program": "douyin-anxingou", "decision": "claim"}, "/input"),
        ({**DECIDE, "input": [1]}, "/input"),
        ({**DECIDE, "explain": "yes"}, "/explain"),
        ({**DECIDE, "at": "2021-09-01T11:00:05"}, "/at"),
        ({**DECIDE, "verison": "2021.08"}, "/verison"),
    ],
)
def test_a_request_of_the_wrong_shape_is_422_with_a_pointer(
    client: TestClient[Any], body: Any, pointer: str
) -> None:
    assert_problem(client.post("/v1/decide", json=body), 422, pointer)


def test_a_misspelt_field_gets_did_you_mean(client: TestClient[Any]) -> None:
    body = assert_problem(client.post("/v1/decide", json={**DECIDE, "verison": "2021.08"}), 422, "/verison")
    assert "did you mean version" in body["detail"]


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (("order", "amount"), "-1.00", "/input/order/amount"),
        (("order", "amount"), "1.005", "/input/order/amount"),
        (("order", "category"), "toys", "/input/order/category"),
        (("order", "placed_at"), "2021-09-01T10:00:00", "/input/order/placed_at"),
        (("claim", "type"), None, "/input/claim/type"),
    ],
)
def test_input_failing_the_decision_schema_is_422_with_its_pointer(
    client: TestClient[Any], path: tuple[str, str], value: Any, pointer: str
) -> None:
    request = copy.deepcopy(DECIDE)
    if value is None:
        del request["input"][path[0]][path[1]]
    else:
        request["input"][path[0]][path[1]] = value
    assert_problem(client.post("/v1/decide", json=request), 422, pointer)


def test_no_version_in_force_is_422_naming_the_as_of_field(client: TestClient[Any]) -> None:
    request = copy.deepcopy(DECIDE)
    del request["version"]
    request["input"]["order"]["placed_at"] = "2020-01-01T10:00:00+08:00"
    body = assert_problem(client.post("/v1/decide", json=request), 422, "/input/order/placed_at")
    assert "first version starts" in body["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_by_type_is_415(client: TestClient[Any], content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/decide", content=b'{"program": "x"}', headers=headers)
    assert_problem(response, 415, words="application/json")


def test_a_body_over_the_limit_is_413(make_client: ClientFactory) -> None:
    with make_client(body_limit=4096) as client:
        response = client.post(
            "/v1/decide",
            content=b'{"x": "' + b"a" * 5000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 413)
        assert client.post("/v1/decide", json=DECIDE).status_code == 200


def test_unknown_route_and_wrong_method_are_problems(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, words="no such endpoint")
    assert_problem(client.get("/v1/decide"), 405, words="GET is not allowed")


def test_a_policy_failing_while_evaluating_is_500_naming_the_rule(
    make_client: ClientFactory, fixtures_dir: Any
) -> None:
    with make_client(policy_dir=fixtures_dir / "evaluate" / "policies") as client:
        request = {
            "program": "acme-perks",
            "decision": "calc",
            "input": {
                "mode": "divide",
                "amount": "10.00",
                "placed_at": "2024-02-01T10:00:00+08:00",
                "filed_at": "2024-02-01T11:00:00+08:00",
            },
        }
        body = assert_problem(client.post("/v1/decide", json=request), 500, words="per_unit")
        assert body["rule"] == "per_unit"
        assert "2024.01.yaml:" in body["location"]


# ── batch ─────────────────────────────────────────────────────────────────────────────────────────────


def test_a_batch_answers_each_item_and_one_bad_item_fails_only_itself(client: TestClient[Any]) -> None:
    bad = copy.deepcopy(DECIDE)
    bad["input"]["order"]["amount"] = "-5"
    response = client.post("/v1/decide/batch", json={"requests": [DECIDE, bad, {**DECIDE, "program": "x"}]})
    assert response.status_code == 200
    first, second, third = response.json()["results"]
    assert first["result"]["refund"] == "299.00"
    assert second["status"] == 422
    assert second["errors"][0]["pointer"] == "/input/order/amount"  # relative to the item
    assert third["status"] == 404
    assert client.get(f"/v1/decisions/{first['decision_id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"requests": []}, "/requests"),
        ({"requests": "x"}, "/requests"),
        ({}, "/requests"),
        ({"requests": [DECIDE], "extra": 1}, "/extra"),
    ],
)
def test_a_batch_of_the_wrong_shape_is_422(client: TestClient[Any], body: Any, pointer: str) -> None:
    assert_problem(client.post("/v1/decide/batch", json=body), 422, pointer)


def test_a_batch_over_1000_items_is_422(make_client: ClientFactory) -> None:
    with make_client(body_limit=8 * 1024 * 1024) as client:
        response = client.post("/v1/decide/batch", json={"requests": [DECIDE] * 1001})
        assert_problem(response, 422, "/requests", "at most 1000")


def test_a_huge_unknown_name_is_not_echoed_back_whole(client: TestClient[Any]) -> None:
    response = client.post("/v1/decide", json={**DECIDE, "program": "p" * 500_000})
    body = assert_problem(response, 404, "/program", "500000 characters")
    assert len(response.content) < 5_000, body["detail"][:200]


@pytest.mark.parametrize("score", ["1E+39", "123456789012345678901234567890.5"])
def test_a_number_beyond_decimal_precision_in_a_multiple_of_field_is_422(
    client: TestClient[Any], score: str
) -> None:
    body = (
        '{"program": "taobao-anxingou", "decision": "review", "at": "2025-06-01T10:00:00+08:00",'
        ' "input": {"merchant": {"serious_violations_since_review": 0, "service_score": ' + score + "}}}"
    )
    response = client.post("/v1/decide", content=body.encode(), headers={"content-type": "application/json"})
    assert_problem(response, 422, "/input/merchant/service_score")


@pytest.mark.parametrize("explain", [0, "", [], "yes"])
def test_explain_must_be_a_boolean(client: TestClient[Any], explain: Any) -> None:
    assert_problem(client.post("/v1/decide", json={**DECIDE, "explain": explain}), 422, "/explain")
