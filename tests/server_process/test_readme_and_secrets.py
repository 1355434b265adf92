"""The README's curl answers as the README says, and no token ever reaches the server's log lines."""

from __future__ import annotations

import json
import re

from server_support import ADMIN_TOKEN, READ_TOKEN, REPO_ROOT, StartServer, admin_headers, read_headers


def _readme_answer() -> dict[str, object]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The decision server") :]
    assert "-d @examples/decide-request.json" in section
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None, "the README shows the answer of its curl"
    text = block.group(1).replace("…", "")
    answer: dict[str, object] = json.loads(text)
    return answer


def test_the_readme_curl_gets_the_readme_answer(start_server: StartServer) -> None:
    server = start_server()
    body = (REPO_ROOT / "examples" / "decide-request.json").read_bytes()
    with server.client() as client:
        response = client.post("/v1/decide", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    got = response.json()
    want = _readme_answer()
    for key in ("program", "version", "decision", "evaluated_at", "result", "matched_rules", "reasons"):
        assert got[key] == want[key], key
    assert got["policy_digest"].startswith("sha256:")


def test_tokens_never_appear_in_the_log_lines(start_server: StartServer) -> None:
    server = start_server()
    with server.client() as client:
        assert client.post("/v1/admin/reload", headers=admin_headers()).status_code == 200
        assert (
            client.post("/v1/admin/reload", headers={"authorization": "Bearer wrong-token!"}).status_code
            == 401
        )
        decided = client.post(
            "/v1/decide",
            content=(REPO_ROOT / "examples" / "decide-request.json").read_bytes(),
            headers={"content-type": "application/json"},
        ).json()
        assert (
            client.get(f"/v1/decisions/{decided['decision_id']}", headers=read_headers()).status_code == 200
        )
    server.stop()
    log = server.stderr()
    assert decided["decision_id"] in log  # the decision's log line carries its id
    assert ADMIN_TOKEN not in log and READ_TOKEN not in log and "wrong-token!" not in log
    started = [json.loads(line) for line in log.splitlines() if '"event": "started"' in line]
    assert started and started[0]["settings"]["admin_token"] == "set"
