"""Both ASGI servers `policy serve` offers answer the same, and both stop gracefully with their log lines."""

from __future__ import annotations

import pytest
from server_support import DECIDE, StartServer, answer_of


@pytest.mark.parametrize("asgi_server", ["granian", "uvicorn"])
def test_each_asgi_server_decides_and_logs(start_server: StartServer, asgi_server: str) -> None:
    server = start_server(workers=2, extra_env={"POLICY_ASGI_SERVER": asgi_server})
    with server.client() as client:
        response = client.post("/v1/decide", json=DECIDE)
        assert response.status_code == 200, response.text
        assert answer_of(response.json())["result"]["refund"] == "299.00"
        assert client.get("/metrics").status_code == 200
    server.stop()
    log = server.stderr()
    assert f'"asgi_server": "{asgi_server}"' in log
    assert response.json()["decision_id"] in log
