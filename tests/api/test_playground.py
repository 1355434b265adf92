"""The playground over HTTP: the page, its own static assets (no CDN), and the examples endpoint.

The browser end-to-end test is tests/browser/test_playground_browser.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from api_helpers import REPO, ClientFactory
from litestar.testing import TestClient

from server.routes.playground import MAX_EXAMPLES, STATIC_DIR

EXAMPLES = "/v1/programs/{program}/versions/{version}/decisions/{decision}/examples"
PROBLEM = "application/problem+json"


def examples_url(program: str, version: str, decision: str) -> str:
    return EXAMPLES.format(program=program, version=version, decision=decision)


def test_page_is_html_that_loads_only_its_own_assets(client: TestClient[Any]) -> None:
    response = client.get("/playground")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    page = response.text
    controls = ("program", "version", "decision", "example", "input", "at", "compare", "decide", "result")
    for element in controls:
        assert f'id="{element}"' in page, element
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/playground/static/playground.js" in assets
    assert "/playground/static/playground.css" in assets
    assert "<script>" not in page  # no inline script: the CSP would block it


def test_every_asset_the_page_names_is_served(client: TestClient[Any]) -> None:
    page = client.get("/playground").text
    local = [a for a in re.findall(r'(?:src|href)="([^"]+)"', page) if a.startswith("/playground/static/")]
    assert len(local) == 2
    types = {".js": "javascript", ".css": "text/css"}
    for asset in local:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert types[Path(asset).suffix] in response.headers["content-type"]
        assert response.content == (STATIC_DIR / Path(asset).name).read_bytes()


def test_no_file_of_the_playground_reaches_another_host() -> None:
    files = sorted(STATIC_DIR.iterdir())
    assert {f.name for f in files} >= {"index.html", "playground.js", "playground.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE), path.name
        assert "@import" not in text and "url(" not in text, path.name


def test_unknown_asset_is_a_404_problem(client: TestClient[Any]) -> None:
    response = client.get("/playground/static/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)


def test_examples_of_a_decision_are_test_inputs_the_version_decides(client: TestClient[Any]) -> None:
    response = client.get(examples_url("douyin-anxingou", "2021.08", "claim"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    examples = response.json()
    assert 0 < len(examples) <= MAX_EXAMPLES
    names = [e["name"] for e in examples]
    assert "七天无理由 typical return is refunded with its 12.00 shipping" in names
    assert len(set(names)) == len(names)
    for example in examples:
        assert set(example) <= {"name", "input", "at"}
        assert isinstance(example["input"], dict)
        body = {
            "program": "douyin-anxingou",
            "decision": "claim",
            "version": "2021.08",
            "input": example["input"],
            **({"at": example["at"]} if "at" in example else {}),
        }
        decided = client.post("/v1/decide", json=body)
        assert decided.status_code == 200, (example["name"], decided.json())


def test_examples_follow_the_version(client: TestClient[Any]) -> None:
    old = client.get(examples_url("douyin-anxingou", "2021.08", "claim")).json()
    new = client.get(examples_url("douyin-anxingou", "2023.07", "claim")).json()
    assert new[0]["name"].startswith("2023.07 ")  # the cases the runner decides with 2023.07 come first
    assert new[0]["input"]["order"]["placed_at"].startswith("2023-")
    assert all(not e["name"].startswith("2023.07 ") for e in old)


def test_examples_keep_numbers_as_json_numbers(client: TestClient[Any]) -> None:
    # Integer fields written as YAML numbers stay integers (the input schemas say "integer").
    examples = client.get(examples_url("zhima-credit", "2018.01", "credit_band")).json()
    scores = [e["input"]["user"]["score"] for e in examples if "score" in e["input"].get("user", {})]
    assert scores and all(isinstance(s, int) for s in scores)


def test_examples_carry_the_time_of_cases_that_give_one(client: TestClient[Any]) -> None:
    examples = client.get(examples_url("douyin-anxingou", "2023.07", "enrollment")).json()
    assert examples
    for example in examples:  # enrollment is decided by the request time: every case gives one
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", example["at"]), example


def test_every_decision_of_every_version_has_examples_that_decide(client: TestClient[Any]) -> None:
    programs = client.get("/v1/programs").json()["programs"]
    checked = 0
    for program in programs:
        for version in program["versions"]:
            for decision in version["decisions"]:
                url = examples_url(program["id"], version["version"], decision)
                examples = client.get(url).json()
                assert examples, url
                first = examples[0]
                body = {
                    "program": program["id"],
                    "decision": decision,
                    "version": version["version"],
                    "input": first["input"],
                    **({"at": first["at"]} if "at" in first else {}),
                }
                assert client.post("/v1/decide", json=body).status_code == 200, (url, first["name"])
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    ("program", "version", "decision", "words"),
    [
        ("nope", "2021.08", "claim", "unknown program 'nope'"),
        ("douyin-anxingou", "1999.01", "claim", "no version '1999.01'"),
        ("douyin-anxingou", "2021.08", "nope", "no decision 'nope'"),
        ("douyin-anxingou", "2021.08", "late_pickup", "no decision 'late_pickup'"),  # only in 2023.07
    ],
)
def test_examples_of_unknown_things_are_404_problems(
    client: TestClient[Any], program: str, version: str, decision: str, words: str
) -> None:
    response = client.get(examples_url(program, version, decision))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 404 and words in problem["detail"]
    assert problem["errors"] and problem["errors"][0]["message"] == problem["detail"]


_TABLE = """\
program: douyin-anxingou
decision: claim
defaults:
  input:
    order: {amount: "100.00", category: general, placed_at: "2021-09-01T10:00:00+08:00",
            shipped_at: "2021-09-01T15:00:00+08:00", signed_at: "2021-09-03T14:00:00+08:00"}
    claim: {type: no_reason_return, filed_at: "2021-09-05T10:00:00+08:00", return_shipping_cost: "12.00"}
cases:
  - name: a good return
    expect: {result: {outcome: approve}}
  - name: an amount that is not money
    input: {order: {amount: "abc"}}
    expect: {error: {status: 422, pointer: /input/order/amount}}
  - name: a good return with its own time
    at: "2021-09-05T10:00:05+08:00"
    input: {claim: {return_shipping_cost: "30.00"}}
    expect: {result: {outcome: approve}}
"""


def _only_table(policies: Path, text: str) -> Path:
    tests = policies / "douyin-anxingou" / "tests"
    shutil.rmtree(tests)
    tests.mkdir()
    path = tests / "claim.cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_leave_out_cases_that_expect_an_error(make_client: ClientFactory, policy_copy: Path) -> None:
    _only_table(policy_copy, _TABLE)
    with make_client(policy_dir=policy_copy) as client:
        examples = client.get(examples_url("douyin-anxingou", "2021.08", "claim")).json()
    assert [e["name"] for e in examples] == ["a good return", "a good return with its own time"]
    assert "at" not in examples[0]
    assert examples[1]["at"] == "2021-09-05T10:00:05+08:00"
    assert examples[1]["input"]["claim"]["return_shipping_cost"] == "30.00"
    assert examples[1]["input"]["order"]["amount"] == "100.00"  # the defaults merged in


def test_examples_follow_edits_of_the_tables_and_skip_broken_ones(
    make_client: ClientFactory, policy_copy: Path
) -> None:
    path = _only_table(policy_copy, _TABLE)
    url = examples_url("douyin-anxingou", "2021.08", "claim")
    with make_client(policy_dir=policy_copy) as client:
        assert len(client.get(url).json()) == 2
        path.write_text(_TABLE.replace("a good return\n", "a renamed return\n"), encoding="utf-8")
        assert client.get(url).json()[0]["name"] == "a renamed return"
        path.write_text("program: [unclosed\n", encoding="utf-8")
        response = client.get(url)
        assert response.status_code == 200 and response.json() == []


def test_examples_are_at_most_twenty(client: TestClient[Any]) -> None:
    tables = sorted((REPO / "policies" / "taobao-anxingou" / "tests").glob("late_shipment*.cases.yaml"))
    assert tables  # the bundled tables hold more than 20 late-shipment cases
    examples = client.get(examples_url("taobao-anxingou", "2022.09", "late_shipment")).json()
    assert len(examples) == MAX_EXAMPLES


def test_openapi_documents_the_examples_endpoint(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    operation = paths["/v1/programs/{program}/versions/{version}/decisions/{decision}/examples"]["get"]
    assert operation["operationId"] == "getDecisionExamples"
    assert {"200", "404"} <= set(operation["responses"])
