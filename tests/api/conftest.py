"""Fixtures for HTTP tests of the real app (Litestar's TestClient speaks ASGI to it; SQLite is real)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ADMIN, REPO, ClientFactory
from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A copy of the bundled policies and schemas that a test may edit; returns its policies/."""
    shutil.copytree(REPO / "policies", tmp_path / "tree" / "policies")
    shutil.copytree(REPO / "schemas", tmp_path / "tree" / "schemas")
    return tmp_path / "tree" / "policies"


@pytest.fixture
def make_client(tmp_path: Path) -> ClientFactory:
    """``make_client(**settings)`` → a context manager giving a TestClient of a fresh app."""

    @contextmanager
    def factory(**changes: Any) -> Iterator[TestClient[Any]]:
        values: dict[str, Any] = {
            "policy_dir": REPO / "policies",
            "db_path": tmp_path / "log" / "decisions.sqlite3",
            "watch_interval": 0,
            "admin_token": ADMIN,
        }
        values.update(changes)
        with TestClient(create_app(Settings(**values))) as client:
            yield client

    return factory


@pytest.fixture
def client(make_client: ClientFactory) -> Iterator[TestClient[Any]]:
    """A client of an app on the bundled policies with an admin token."""
    with make_client() as c:
        yield c
