"""Find the policy files of a policies directory: ``<program>/<version>.yaml``; no meaning is read here."""

from __future__ import annotations

from pathlib import Path

__all__ = ("discover_policies", "discover_test_tables", "display_path")


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


def display_path(path: Path, cwd: Path | None = None) -> str:
    """A path as errors show it: relative to the working directory when it lies below it.

    ``cwd``: the working directory already resolved, when the caller shows many paths at once.
    """
    try:
        return str(path.resolve().relative_to(cwd or Path.cwd().resolve()))
    except ValueError:
        return str(path)
