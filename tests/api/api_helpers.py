"""Shared request bodies and types of the HTTP API tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-token-123"

CLAIM_INPUT: dict[str, Any] = {
    "order": {
        "amount": "299.00",
        "category": "general",
        "placed_at": "2021-09-01T10:00:00+08:00",
        "shipped_at": None,
        "signed_at": None,
    },
    "claim": {"type": "instant_refund", "filed_at": "2021-09-01T11:00:00+08:00"},
}
DECIDE = {
    "program": "douyin-anxingou",
    "decision": "claim",
    "input": CLAIM_INPUT,
    "version": "2021.08",
    "at": "2021-09-01T11:00:05+08:00",
}

ClientFactory = Callable[..., AbstractContextManager[TestClient[Any]]]
