"""Find the policy files of a policies directory: ``<program>/<version>.yaml``; no meaning is read here."""

from __future__ import annotations

from pathlib import Path

__all__ = ("discover_policies", "discover_test_tables")


def discover_policies(policies_dir: Path) -> list[Path]:
    """Every ``<program>/*.yaml`` below ``policies_dir`` (not the ``tests`` folders), sorted."""
    return sorted(
        path
        for program in policies_dir.iterdir()
        if program.is_dir() and not program.name.startswith(".")
        for path in program.glob("*.yaml")
        if path.is_file()
    )


def discover_test_tables(policies_dir: Path) -> list[Path]:
    """Every ``<program>/tests/*.cases.yaml`` below ``policies_dir``, sorted."""
    return sorted(path for path in policies_dir.glob("*/tests/*.cases.yaml") if path.is_file())
