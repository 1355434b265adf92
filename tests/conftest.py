"""Shared fixtures: the repository root, the bundled registry, and a writer of small policy trees."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from policy_engine import Registry, load_registry

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

PolicyTree = Callable[..., Path]
"""``policy_tree({relative path: text}, base=None) -> <tmp>/policies``."""


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout: pyproject.toml, policies/, schemas/, examples/."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: small policy trees the tests copy or load."""
    return FIXTURES


@pytest.fixture(scope="session")
def bundled_registry(repo_root: Path) -> Registry:
    """The bundled policies, loaded once."""
    return load_registry(repo_root / "policies")


@pytest.fixture
def policy_tree(tmp_path: Path) -> PolicyTree:
    """A function writing ``{relative path: text}`` under tmp_path; returns ``<tmp>/policies``.

    ``base`` (a directory holding ``policies/`` and ``schemas/``) is copied first, so a test can start from a
    fixture tree (or the bundled one) and overwrite or add a few files.
    """

    def write(files: Mapping[str, str] | None = None, *, base: Path | None = None) -> Path:
        if base is not None:
            for name in ("policies", "schemas"):
                if (base / name).is_dir():
                    shutil.copytree(base / name, tmp_path / name, dirs_exist_ok=True)
        for relative, text in (files or {}).items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (tmp_path / "policies").mkdir(exist_ok=True)
        return tmp_path / "policies"

    return write
