"""Hostile requests over HTTP: each is a 4xx problem (application/problem+json) with a JSON pointer.

What tests/api/test_decide_api.py already covers (top-level NaN/Infinity, a 41-digit number, 65 levels of
nesting, a duplicate top-level key, text/plain and form bodies, one invalid byte, a body over a 4 KiB
limit, a local ``at`` and ``placed_at``) is not repeated; this file goes further: nesting inside the
input and 10,000 levels deep, numbers in exponent form, every kind of invalid UTF-8 and lone surrogates,
10,000-element arrays, timestamps at the edges of the calendar, megabyte strings in enum fields, keys
that need pointer escaping, null bytes, and the default body limit on every endpoint.

Body-level problems (the body is not strict JSON) point at the whole body (``""``); problems with a
field point at it. Nothing here measures time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from server_support import CLAIM_INPUT, DECIDE

from server.app import create_app
from server.settings import MIB, Settings

REPO = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
PRICE_PROTECTION: dict[str, Any] = {
    "program": "douyin-anxingou",
    "decision": "price_protection",
    "input": {
        "order": {
            "unit_price": "99.00",
            "quantity": 2,
            "placed_at": "2023-08-01T10:00:00+08:00",
            "paid_at": "2023-08-01T10:05:00+08:00",
            "status": "paid",
            "channel": "douyin",
            "is_gift": False,
        },
        "product": {"on_sale": True, "in_stock": True, "protection_days": 7},
        "price_drop": {
            "new_price": "89.00",
            "observed_at": "2023-08-05T12:00:00+08:00",
            "cause": "list_price",
        },
    },
}
MARK = '"__MARK__"'
"""A placeholder in a JSON text, replaced by raw JSON that ``json.dumps`` cannot write (NaN, 1e400 …)."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    """An app on the bundled policies with the default body limit (1 MiB)."""
    db = tmp_path_factory.mktemp("requests") / "decisions.sqlite3"
    settings = Settings(policy_dir=REPO / "policies", db_path=db, watch_interval=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def with_value(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def raw_at(path: tuple[str, ...], raw: str, body: dict[str, Any] = DECIDE) -> bytes:
    """The JSON text of ``body`` with ``raw`` (any text) as the value at ``path``."""
    return json.dumps(with_value(body, path, "__MARK__"), ensure_ascii=False).replace(MARK, raw).encode()


def post(
    client: TestClient[Any], body: bytes, path: str = "/v1/decide", content_type: str = "application/json"
) -> Any:
    return client.post(path, content=body, headers={"content-type": content_type})


def assert_problem(response: Any, status: int, pointer: str, words: str = "") -> dict[str, Any]:
    """A problem document of that status whose errors point at ``pointer`` (``""``: the whole body)."""
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and {"type", "title", "detail", "errors"} <= set(body)
    pointers = [error["pointer"] for error in body["errors"]]
    assert pointer in pointers, (pointer, body)
    assert words in body["detail"], body["detail"][:2000]
    return body


def test_the_baseline_request_is_decided(client: TestClient[Any]) -> None:
    response = post(client, json.dumps(DECIDE).encode())
    assert response.status_code == 200 and response.json()["result"]["refund"] == "299.00"
    answer = post(client, json.dumps(PRICE_PROTECTION).encode())
    assert answer.status_code == 200 and answer.json()["result"]["payout"] == "20.00"


# ── nesting ───────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 63 + "]" * 63, id="63 levels under input.order.amount"),
        pytest.param("[" * 10_000 + "]" * 10_000, id="10,000 lists"),
        pytest.param('{"a": ' * 10_000 + "1" + "}" * 10_000, id="10,000 objects"),
        pytest.param("[" * 100_000, id="100,000 unclosed lists"),
    ],
)
def test_deep_nesting_inside_the_input_is_422(client: TestClient[Any], raw: str) -> None:
    response = post(client, raw_at(("input", "order", "amount"), raw))
    assert_problem(response, 422, "", "JSON is nested deeper than 64 levels")


def test_nesting_within_the_limit_is_judged_by_the_schema(client: TestClient[Any]) -> None:
    response = post(client, raw_at(("input", "order", "amount"), "[" * 50 + "]" * 50))
    assert_problem(response, 422, "/input/order/amount")


def test_deep_nesting_in_a_batch_item_is_422(client: TestClient[Any]) -> None:
    body = json.dumps({"requests": [DECIDE, "__MARK__"]}).replace(MARK, "[" * 5_000 + "]" * 5_000)
    assert_problem(post(client, body.encode(), "/v1/decide/batch"), 422, "", "nested deeper than 64")


# ── numbers ───────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("-Infinity", "-Infinity is not valid JSON"),
        ("NaN", "NaN is not valid JSON"),
        ("9" * 400, "more than 40 characters"),
        ("0." + "0" * 398 + "1", "more than 40 characters"),
        ("-" + "9" * 400, "more than 40 characters"),
        ("1e400", "more than 40 digits when written out"),
        ("1E+999999999", "more than 40 digits when written out"),
        ("1e-999999999", "more than 40 digits when written out"),
        ("-1e400", "more than 40 digits when written out"),
        ("1e5000000000000000000", "more than 40 digits when written out"),  # beyond Decimal: was a 500
        ("-1e-5000000000000000000", "more than 40 digits when written out"),
    ],
)
def test_non_numbers_and_numbers_of_hundreds_of_digits_are_refused_in_the_body(
    client: TestClient[Any], raw: str, words: str
) -> None:
    response = post(client, raw_at(("input", "order", "amount"), raw))
    assert_problem(response, 422, "", words)


@pytest.mark.parametrize("field", ["quantity", "unit_price"])
def test_a_short_exponent_cannot_smuggle_a_huge_number_into_a_decision(
    client: TestClient[Any], field: str
) -> None:
    # 1e999999999 used to reach the policy (quantity: a 500 Overflow; 1e400: a 403-digit payout).
    for raw in ("1e999999999", "1e400", "1e41"):
        response = post(client, raw_at(("input", "order", field), raw, PRICE_PROTECTION))
        assert_problem(response, 422, "", "digits when written out")


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "9" * 400,
        "1e400",
        "-0",
        "0x10",
        " 1.00",
        "1.00 ",
        "１００",
        "1,000.00",
    ],
)
def test_money_text_that_is_not_an_amount_is_422_at_the_field(client: TestClient[Any], value: str) -> None:
    response = post(client, json.dumps(with_value(DECIDE, ("input", "order", "amount"), value)).encode())
    assert_problem(response, 422, "/input/order/amount")


def test_a_number_of_exactly_40_digits_is_judged_by_the_schema(client: TestClient[Any]) -> None:
    response = post(client, raw_at(("input", "order", "amount"), "9" * 40))
    assert_problem(response, 422, "/input/order/amount")


def test_a_protection_period_past_the_calendar_is_a_client_error(client: TestClient[Any]) -> None:
    body = with_value(PRICE_PROTECTION, ("input", "product", "protection_days"), 3_000_000)
    response = post(client, json.dumps(body).encode())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/input/product/protection_days"


# ── duplicate keys ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("/v1/decide", '"category": "general"', '"category": "general", "category": "fresh"'),
        ("/v1/decide", '"type": "instant_refund"', '"type": "instant_refund", "type": "instant_refund"'),
        ("/v1/decide", '"at": ', '"input": {}, "at": '),
        ("/v1/decide/batch", '"category": "general"', '"category": "general", "category": "general"'),
    ],
)
def test_a_key_given_twice_anywhere_is_422(client: TestClient[Any], path: str, old: str, new: str) -> None:
    document = {"requests": [DECIDE]} if path.endswith("batch") else DECIDE
    text = json.dumps(document).replace(old, new, 1)
    assert_problem(post(client, text.encode(), path), 422, "", "duplicate key")


# ── content types ─────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "text/json",
        "application/octet-stream",
        "application/x-www-form-urlencoded; charset=utf-8",
        "json",
        "*/*",
    ],
)
@pytest.mark.parametrize("path", ["/v1/decide", "/v1/decide/batch", "/v1/decide/douyin-anxingou/claim"])
def test_a_body_that_is_not_json_by_type_is_415_on_every_decide_route(
    client: TestClient[Any], content_type: str, path: str
) -> None:
    response = post(client, json.dumps(DECIDE).encode(), path, content_type)
    body = assert_problem(response, 415, "", "application/json")
    assert response.headers["accept"] == "application/json"
    assert body["type"].endswith("/unsupported-media-type")


def test_json_in_another_charset_is_422(client: TestClient[Any]) -> None:
    for encoding in ("utf-16", "utf-32", "utf-16-be", "utf-32-le"):
        response = post(
            client, json.dumps(DECIDE).encode(encoding), content_type="application/json; charset=x"
        )
        assert_problem(response, 422, "", "body is not valid")  # not UTF-8, or (UTF-16-BE) NUL bytes


# ── invalid UTF-8 and text that is not Unicode ────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"\xc0\xaf", id="overlong slash"),
        pytest.param(b"\xe0\x80\xaf", id="overlong 3-byte"),
        pytest.param(b"\xed\xa0\x80", id="encoded surrogate"),
        pytest.param(b"\xf4\x90\x80\x80", id="above U+10FFFF"),
        pytest.param(b"\x80", id="lone continuation byte"),
        pytest.param(b"\xfe\xff", id="bytes never in UTF-8"),
    ],
)
def test_invalid_utf8_anywhere_is_422(client: TestClient[Any], bad: bytes) -> None:
    for placeholder in (b"general", b"category", b"douyin-anxingou"):
        body = json.dumps(DECIDE).encode().replace(placeholder, placeholder[:2] + bad + placeholder[2:], 1)
        assert_problem(post(client, body), 422, "", "not valid UTF-8")


def test_a_body_cut_inside_a_character_is_422(client: TestClient[Any]) -> None:
    body = json.dumps(DECIDE, ensure_ascii=False).encode()[:-2] + "订".encode()[:2]
    assert_problem(post(client, body), 422, "", "not valid UTF-8")


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xff\xfe"])
def test_a_byte_order_mark_is_422(client: TestClient[Any], bom: bytes) -> None:
    assert_problem(post(client, bom + json.dumps(DECIDE).encode()), 422, "")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"general"', '"\\ud800"'),
        ('"general"', '"gen\\udfffal"'),
        ('"category"', '"\\udfff"'),
        ('"douyin-anxingou"', '"\\ud83d"'),
        ('"program": ', '"\\udc00x": 1, "program": '),
    ],
)
def test_a_lone_surrogate_escape_is_422_not_a_crash(client: TestClient[Any], old: str, new: str) -> None:
    # "\udfff" as a key used to make the problem answer itself unencodable: the app raised, no answer.
    body = json.dumps(DECIDE).replace(old, new, 1).encode()
    assert_problem(post(client, body), 422, "", "half of a surrogate pair")
    batch = json.dumps({"requests": [DECIDE]}).replace(old, new, 1).encode()
    assert_problem(post(client, batch, "/v1/decide/batch"), 422, "", "half of a surrogate pair")


def test_an_escaped_surrogate_pair_is_an_ordinary_character(client: TestClient[Any]) -> None:
    body = json.dumps(DECIDE).replace('"program"', '"\\ud83d\\ude00": 1, "program"', 1).encode()
    assert_problem(post(client, body), 422, "/😀", "unknown field")


# ── large arrays ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (("input", "order", "services"), ["genuine"] * 10_000, "/input/order/services"),
        (("input", "order", "services"), ["genuine", "allergy"] * 5_000, "/input/order/services"),
        (("input", "order", "extra"), list(range(10_000)), "/input/order/extra"),
        (("input", "claim", "type"), ["instant_refund"] * 10_000, "/input/claim/type"),
        (("input",), [CLAIM_INPUT] * 1_000, "/input"),
    ],
)
def test_a_10000_element_array_is_422_at_its_field(
    client: TestClient[Any], path: tuple[str, ...], value: Any, pointer: str
) -> None:
    response = post(client, json.dumps(with_value(DECIDE, path, value)).encode())
    assert_problem(response, 422, pointer)
    assert len(response.content) < 10_000  # the problem names the field; it does not echo the array


def test_a_batch_of_10000_items_is_422(client: TestClient[Any]) -> None:
    body = json.dumps({"requests": [{"program": "p"}] * 10_000}).encode()
    assert_problem(post(client, body, "/v1/decide/batch"), 422, "/requests", "at most 1000")


# ── timestamps ────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("input", "order", "placed_at"), "9999-12-31T23:59:59+08:00"),
        (("input", "order", "placed_at"), "9999-12-31T23:59:59-23:59"),
        (("input", "claim", "filed_at"), "9999-12-31T23:59:59+14:00"),
        (("input", "claim", "filed_at"), "2021-09-01T11:00:00"),
        (("input", "claim", "filed_at"), "2021-09-01 11:00:00+08:00"),
        (("input", "claim", "filed_at"), "0000-01-01T00:00:00Z"),
        (("input", "claim", "filed_at"), "1999-12-31T23:59:59Z"),
        (("input", "claim", "filed_at"), "2100-01-01T00:00:00Z"),
        (("input", "claim", "filed_at"), "2021-13-01T00:00:00Z"),
        (("input", "claim", "filed_at"), "2021-02-29T00:00:00Z"),
        (("input", "claim", "filed_at"), "2021-09-01T23:59:60Z"),
        (("input", "claim", "filed_at"), "2021-09-01T11:00:00+24:00"),
        (("input", "claim", "filed_at"), "+2021-09-01T11:00:00Z"),
        (("input", "claim", "filed_at"), 1630465200),
        (("at",), "9999-12-31T23:59:59-12:00"),
        (("at",), "2021-09-01T11:00:05"),
        (("at",), "0001-01-01T00:00:00+14:00"),
    ],
)
def test_timestamps_out_of_range_or_without_offset_are_422_at_their_field(
    client: TestClient[Any], path: tuple[str, ...], value: Any
) -> None:
    response = post(client, json.dumps(with_value(DECIDE, path, value)).encode())
    assert_problem(response, 422, "/" + "/".join(path))


def test_year_9999_cannot_pick_a_version_either(client: TestClient[Any]) -> None:
    body = {
        k: v for k, v in with_value(DECIDE, ("input", "order", "placed_at"), "9999-12-31T23:59:59Z").items()
    }
    del body["version"]
    assert_problem(post(client, json.dumps(body).encode()), 422, "/input/order/placed_at")


# ── huge strings, unicode and null bytes ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("input", "order", "category"), "x" * 900_000),
        (("input", "claim", "type"), "普" * 300_000),
        (("input", "claim", "appraisal_result"), "counterfeit" * 50_000),
        (("input", "order", "category"), "general" + "\u200b" * 100_000),
    ],
)
def test_a_huge_string_in_an_enum_field_is_422_without_echoing_it(
    client: TestClient[Any], path: tuple[str, ...], value: str
) -> None:
    response = post(client, json.dumps(with_value(DECIDE, path, value), ensure_ascii=False).encode())
    assert_problem(response, 422, "/" + "/".join(path), "must be one of")
    assert len(response.content) < 10_000


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        (("input", "order", "订单金额"), "/input/order/订单金额"),
        (("input", "order", "a/b~c"), "/input/order/a~1b~0c"),
        (("input", "order", "cat\u200begory"), "/input/order/cat\u200begory"),
        (("input", "order", "\u202ecategory"), "/input/order/\u202ecategory"),
        (("input", "🙂"), "/input/🙂"),
        (("a/b~c",), "/a~1b~0c"),
        (("程序",), "/程序"),
    ],
)
def test_unknown_keys_in_any_script_are_422_with_an_escaped_pointer(
    client: TestClient[Any], path: tuple[str, ...], pointer: str
) -> None:
    response = post(client, json.dumps(with_value(DECIDE, path, 1), ensure_ascii=False).encode())
    assert_problem(response, 422, pointer)


@pytest.mark.parametrize(
    ("path", "value", "status", "pointer"),
    [
        (("program",), "douyin\u0000anxingou", 404, "/program"),
        (("decision",), "claim\u0000", 404, "/decision"),
        (("version",), "2021.08\u0000", 404, "/version"),
        (("at",), "2021-09-01T11:00:05+08:00\u0000", 422, "/at"),
        (("input", "order", "category"), "general\u0000", 422, "/input/order/category"),
        (("input", "order", "amount"), "299.00\u0000", 422, "/input/order/amount"),
        (("input", "order", "cat\u0000egory"), "general", 422, "/input/order/cat\u0000egory"),
        (("input", "claim", "filed_at"), "\u0000", 422, "/input/claim/filed_at"),
    ],
)
def test_null_bytes_are_refused_with_a_pointer(
    client: TestClient[Any], path: tuple[str, ...], value: Any, status: int, pointer: str
) -> None:
    response = post(client, json.dumps(with_value(DECIDE, path, value)).encode())
    assert_problem(response, status, pointer)


def test_a_raw_null_byte_is_not_json(client: TestClient[Any]) -> None:
    body = json.dumps(DECIDE).encode().replace(b"general", b"gen\x00eral")
    assert_problem(post(client, body), 422, "", "Invalid control character")


def test_a_null_byte_in_the_typed_route_path_is_404(client: TestClient[Any]) -> None:
    response = client.post("/v1/decide/douyin-anxingou/claim%00", json={"input": CLAIM_INPUT})
    assert_problem(response, 404, "/decision")


# ── the body limit ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("path", ["/v1/decide", "/v1/decide/batch", "/v1/decide/douyin-anxingou/claim"])
def test_a_body_over_the_default_limit_is_413_on_every_route(client: TestClient[Any], path: str) -> None:
    body = b'{"x": "' + b"a" * MIB + b'"}'
    body = assert_problem(post(client, body, path), 413, "", "larger than the server accepts")
    assert body["type"].endswith("/body-too-large")


def test_a_streamed_body_over_the_limit_is_413(client: TestClient[Any]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"x": "'
        for _ in range(20):
            yield b"a" * (64 * 1024)
        yield b'"}'

    response = client.post("/v1/decide", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413, "")


def test_a_body_just_under_the_limit_is_read_and_judged(client: TestClient[Any]) -> None:
    padding = MIB - len(json.dumps(DECIDE)) - 100
    body = json.dumps(with_value(DECIDE, ("input", "order", "note"), "a" * padding)).encode()
    assert len(body) < MIB
    assert_problem(post(client, body), 422, "/input/order/note", "is not allowed")


def test_after_all_that_the_server_still_decides(client: TestClient[Any]) -> None:
    test_the_baseline_request_is_decided(client)
    assert client.get("/health/ready").json()["status"] == "ready"
