"""Shared settings and types of the HTTP API tests (request bodies: tests/support/server_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-token-123"


ClientFactory = Callable[..., AbstractContextManager[TestClient[Any]]]
