"""Programs, the decision log and replay, operations, security and the OpenAPI document, over HTTP."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from api_helpers import ADMIN, ClientFactory
from litestar.testing import TestClient
from server_support import DECIDE
from test_decide_api import assert_problem

BEARER = {"authorization": f"Bearer {ADMIN}"}


def decide(client: TestClient[Any], **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/decide", json={**DECIDE, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ── programs ──────────────────────────────────────────────────────────────────────────────────────────


def test_programs_lists_every_program_with_versions_and_windows(client: TestClient[Any]) -> None:
    programs = {p["id"]: p for p in client.get("/v1/programs").json()["programs"]}
    assert {"douyin-anxingou", "alibaba-anxingou"} <= set(programs)
    douyin = programs["douyin-anxingou"]
    first = douyin["versions"][0]
    assert first["version"] == "2021.08"
    assert first["effective_from"] == "2021-08-10T00:00:00+08:00"
    assert "claim" in first["decisions"] and "claim" in douyin["decisions"]
    assert client.get("/v1/programs/douyin-anxingou").json() == douyin


def test_unknown_program_is_404(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/programs/nope"), 404, words="unknown program")
    assert_problem(client.get("/v1/programs/douyin-anxingou/versions/1999.01"), 404, words="no version")


def test_a_version_shows_params_with_assumptions_rules_and_schemas(client: TestClient[Any]) -> None:
    body = client.get("/v1/programs/douyin-anxingou/versions/2021.08").json()
    assert body["params"]["instant_refund_max"]["value"] == "300.00"
    assert body["params"]["instant_refund_max"]["type"] == "money"
    assert "launched" in body["assumptions"]["effective_from"]
    claim = body["decisions"]["claim"]
    rules = {r["id"]: r for r in claim["rules"]}
    assert "order.amount > params.instant_refund_max" in rules["instant_refund_over_limit"]["condition"]
    assert claim["input_schema"]["properties"]["order"]["type"] == "object"
    assert body["policy_digest"].startswith("sha256:")


def test_a_version_as_yaml_is_the_policy_file(client: TestClient[Any]) -> None:
    response = client.get("/v1/programs/douyin-anxingou/versions/2021.08?format=yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == (Path("policies") / "douyin-anxingou" / "2021.08.yaml").read_text(
        encoding="utf-8"
    )
    assert_problem(client.get("/v1/programs/douyin-anxingou/versions/2021.08?format=xml"), 422)


# ── decision log and replay ───────────────────────────────────────────────────────────────────────────


def test_every_decision_is_logged_with_request_at_answer_and_digest(
    client: TestClient[Any], tmp_path: Path
) -> None:
    answer = decide(client)
    record = client.get(f"/v1/decisions/{answer['decision_id']}").json()
    assert record["request"]["input"] == DECIDE["input"]
    assert record["request"]["at"] == "2021-09-01T11:00:05+08:00"
    assert record["policy_digest"] == answer["policy_digest"]
    assert record["answer"]["result"] == answer["result"]
    with sqlite3.connect(tmp_path / "log" / "decisions.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1


def test_the_default_at_is_when_the_request_arrived_and_is_recorded(client: TestClient[Any]) -> None:
    answer = client.post("/v1/decide", json={k: v for k, v in DECIDE.items() if k != "at"}).json()
    record = client.get(f"/v1/decisions/{answer['decision_id']}").json()
    assert record["request"]["at"].startswith(answer["evaluated_at"][:4])
    replay = client.post(f"/v1/decisions/{answer['decision_id']}/replay").json()
    assert replay["replayed"]["evaluated_at"] == answer["evaluated_at"]


def test_unknown_or_malformed_decision_id_is_404(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/decisions/0193b5c2-0000-7000-8000-000000000000"), 404)
    assert_problem(client.get("/v1/decisions/not-an-id"), 404)
    assert_problem(client.post("/v1/decisions/not-an-id/replay"), 404)


def test_replay_with_the_same_policy_changes_nothing(client: TestClient[Any]) -> None:
    answer = decide(client)
    replay = client.post(f"/v1/decisions/{answer['decision_id']}/replay").json()
    assert replay["changed"] is False and replay["differences"] == []
    assert replay["policy_digest"] == answer["policy_digest"]


def test_replay_uses_the_exact_source_of_the_digest_after_the_policy_changed(
    make_client: ClientFactory, policy_copy: Path
) -> None:
    with make_client(policy_dir=policy_copy) as client:
        request = {
            **DECIDE,
            "input": {**DECIDE["input"], "order": {**DECIDE["input"]["order"], "amount": "250.00"}},
        }
        answer = decide(client, **request)
        assert answer["result"]["outcome"] == "approve"
        policy = policy_copy / "douyin-anxingou" / "2021.08.yaml"
        policy.write_text(
            policy.read_text(encoding="utf-8").replace("money: 300.00", "money: 200.00"), encoding="utf-8"
        )
        assert client.post("/v1/admin/reload", headers=BEARER).json()["changed"] is True

        replay = client.post(f"/v1/decisions/{answer['decision_id']}/replay").json()
        assert replay["policy_digest"] == answer["policy_digest"]
        assert replay["changed"] is False

        against_new = client.post(
            f"/v1/decisions/{answer['decision_id']}/replay", json={"version": "2021.08"}
        ).json()
        assert against_new["policy_digest"] != answer["policy_digest"]
        assert against_new["changed"] is True
        changed = {d["pointer"]: (d["stored"], d["replayed"]) for d in against_new["differences"]}
        assert changed["/result/outcome"] == ("approve", "deny")
        assert changed["/result/refund"] == ("250.00", "0.00")


def test_replay_against_an_unknown_version_is_404_and_a_bad_body_422(client: TestClient[Any]) -> None:
    decision_id = decide(client)["decision_id"]
    assert_problem(client.post(f"/v1/decisions/{decision_id}/replay", json={"version": "1999.01"}), 404)
    assert_problem(client.post(f"/v1/decisions/{decision_id}/replay", json={"versoin": "x"}), 422, "/versoin")
    assert_problem(client.post(f"/v1/decisions/{decision_id}/replay", json={"version": 3}), 422, "/version")


def test_a_read_token_protects_the_decision_log(make_client: ClientFactory) -> None:
    with make_client(read_token="reader-token-1") as client:
        decision_id = decide(client)["decision_id"]
        assert_problem(client.get(f"/v1/decisions/{decision_id}"), 401)
        wrong = {"authorization": "Bearer nope-nope-nope"}
        assert_problem(client.get(f"/v1/decisions/{decision_id}", headers=wrong), 401)
        ok = {"authorization": "Bearer reader-token-1"}
        assert client.get(f"/v1/decisions/{decision_id}", headers=ok).status_code == 200
        assert client.post(f"/v1/decisions/{decision_id}/replay", headers=ok).status_code == 200


def test_configured_fields_are_masked_in_the_log(make_client: ClientFactory) -> None:
    with make_client(mask_fields=("claim.filed_at", "order.nothing")) as client:
        decision_id = decide(client)["decision_id"]
        record = client.get(f"/v1/decisions/{decision_id}").json()
        assert record["request"]["input"]["claim"]["filed_at"] == "***"
        assert record["request"]["input"]["order"]["amount"] == "299.00"


# ── log failures and readiness ────────────────────────────────────────────────────────────────────────


def test_a_log_that_cannot_be_written_gives_503_never_a_200(make_client: ClientFactory) -> None:
    with make_client(db_max_pages=8) as client:
        statuses = {client.post("/v1/decide", json=DECIDE).status_code for _ in range(60)}
        assert 503 in statuses
        assert statuses <= {200, 503}
        body = assert_problem(client.post("/v1/decide", json=DECIDE), 503, words="decision log")
        assert body["errors"]
        assert "decision_log_write_failures_total" in client.get("/metrics").text


def test_the_server_recovers_once_the_log_has_room_again(make_client: ClientFactory, tmp_path: Path) -> None:
    with make_client(db_max_pages=64) as client:
        acknowledged = 0
        while client.post("/v1/decide", json=DECIDE).status_code == 200:
            acknowledged += 1
        assert acknowledged > 0
        assert_problem(client.post("/v1/decide", json=DECIDE), 503)
        with sqlite3.connect(tmp_path / "log" / "decisions.sqlite3") as db:  # an operator makes room
            db.execute("DELETE FROM decisions")
        answer = client.post("/v1/decide", json=DECIDE)
        assert answer.status_code == 200
        assert client.get(f"/v1/decisions/{answer.json()['decision_id']}").status_code == 200


def test_broken_policies_at_start_leave_the_server_not_ready(
    make_client: ClientFactory, policy_copy: Path
) -> None:
    policy = policy_copy / "douyin-anxingou" / "2021.08.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\nbogus: [\n", encoding="utf-8")
    with make_client(policy_dir=policy_copy) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        errors = ready.json()["last_reload_error"]["errors"]
        assert any(re.search(r"2021\.08\.yaml:\d+:\d+: ", e["message"]) for e in errors)
        assert_problem(client.post("/v1/decide", json=DECIDE), 503, words="not loaded")
        assert client.get("/health/live").status_code == 200


# ── operations ────────────────────────────────────────────────────────────────────────────────────────


def test_health_names_the_loaded_digests(client: TestClient[Any]) -> None:
    body = client.get("/health/ready").json()
    assert body["status"] == "ready" and body["last_reload_error"] is None
    assert body["policies"]["douyin-anxingou@2021.08"].startswith("sha256:")


def test_metrics_count_decisions_by_program_version_decision_and_outcome(client: TestClient[Any]) -> None:
    decide(client)
    decide(client)
    client.post("/v1/decide", json={**DECIDE, "program": "nope"})
    text = client.get("/metrics").text
    labels = 'decision="claim",outcome="approve",program="douyin-anxingou",version="2021.08"'
    line = "policy_decisions_total{" + labels + "} 2.0"
    assert line in text
    assert 'policy_decision_seconds_count{decision="claim",program="douyin-anxingou"} 2.0' in text
    assert 'policy_requests_rejected_total{status="404"} 1.0' in text
    assert "policy_reloads_total 1.0" in text


def test_admin_reload_needs_the_token(client: TestClient[Any]) -> None:
    assert_problem(client.post("/v1/admin/reload"), 401)
    assert_problem(client.post("/v1/admin/reload", headers={"authorization": "Bearer wrong-token"}), 401)
    assert_problem(client.post("/v1/admin/reload", headers={"authorization": ADMIN}), 401)
    body = client.post("/v1/admin/reload", headers=BEARER).json()
    assert body["reloaded"] is True and body["changed"] is False


def test_admin_endpoints_are_off_without_a_configured_token(make_client: ClientFactory) -> None:
    with make_client(admin_token=None) as client:
        assert_problem(client.post("/v1/admin/reload", headers=BEARER), 404)


def test_a_broken_reload_keeps_the_old_policies_and_reports_located_errors(
    make_client: ClientFactory, policy_copy: Path
) -> None:
    with make_client(policy_dir=policy_copy) as client:
        before = decide(client)
        policy = policy_copy / "douyin-anxingou" / "2021.08.yaml"
        text = policy.read_text(encoding="utf-8")
        policy.write_text(
            text.replace("order.amount > params.instant_refund_max", "order.amout > 1"), encoding="utf-8"
        )
        body = assert_problem(client.post("/v1/admin/reload", headers=BEARER), 422, words="previous policies")
        located = [e for e in body["policy_errors"] if e["file"].endswith("2021.08.yaml")]
        assert located and located[0]["line"] > 0 and located[0]["column"] > 0
        assert "amout" in located[0]["message"] and "did you mean" in located[0]["message"]
        assert decide(client)["result"] == before["result"]
        assert client.get("/health/ready").json()["last_reload_error"]["errors"]
        assert "policy_reload_failures_total 1.0" in client.get("/metrics").text
        policy.write_text(text, encoding="utf-8")
        assert client.post("/v1/admin/reload", headers=BEARER).status_code == 200
        assert client.get("/health/ready").json()["last_reload_error"] is None


def test_openapi_documents_every_route_and_each_decisions_schemas(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/v1/decide",
        "/v1/decide/batch",
        "/v1/programs",
        "/v1/programs/{program}",
        "/v1/programs/{program}/versions/{version}",
        "/v1/decisions/{decision_id}",
        "/v1/decisions/{decision_id}/replay",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/v1/admin/reload",
        "/v1/decide/douyin-anxingou/claim",
    ):
        assert path in paths, path
    schemas = document["components"]["schemas"]
    claim_input = schemas["douyin-anxingou.claim.input"]
    variants = claim_input.get("anyOf", [claim_input])
    assert all("order" in v["properties"] for v in variants)
    answer = schemas["douyin-anxingou.claim.answer"]
    assert answer["properties"]["result"] == {"$ref": "#/components/schemas/douyin-anxingou.claim.output"}


def test_the_interactive_api_page_serves_its_own_assets(client: TestClient[Any]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text
    asset = client.get("/schema/static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_a_stored_request_keeps_its_numbers_exactly(client: TestClient[Any]) -> None:
    body = (
        '{"program": "taobao-anxingou", "decision": "review", "at": "2025-06-01T10:00:00+08:00",'
        ' "input": {"merchant": {"serious_violations_since_review": 0, "service_score": 4.70}}}'
    )
    answer = client.post("/v1/decide", content=body.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    record = client.get(f"/v1/decisions/{answer.json()['decision_id']}")
    assert '"service_score":4.70' in record.text.replace(" ", "")
