"""Golden compile-error cases (Cerbos style): each policy under ``tests/cases/compile/`` gives exactly its
``<name>.errors.txt``, the lines ``policy validate`` prints.

A case is ``<name>.yaml`` (laid out as ``policies/demo/2024.01.yaml``) and any ``<name>+<version>.yaml``
(laid out as ``policies/demo/<version>.yaml``), next to ``schemas/demo/`` from ``tests/cases/schemas/``.
File names in the rendered lines are relative to ``policies/`` (``demo/2024.01.yaml:21:21: …``).
After a deliberate change, rewrite the golden files and review their diff::

    UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_compile_cases.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from policy_engine.compiler import check_policies
from policy_engine.errors import ErrorSet

CASES = Path(__file__).parent / "cases"
COMPILE = CASES / "compile"
MAIN_FILE = "2024.01.yaml"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


def case_names() -> list[str]:
    return sorted({path.name.removesuffix(".yaml").split("+")[0] for path in COMPILE.glob("*.yaml")})


def case_files(name: str) -> dict[str, Path]:
    """The files of one case by the name they get in ``policies/demo/``."""
    files = {MAIN_FILE: COMPILE / f"{name}.yaml"} if (COMPILE / f"{name}.yaml").is_file() else {}
    for extra in sorted(COMPILE.glob(f"{name}+*.yaml")):
        files[extra.name.split("+", 1)[1]] = extra
    return files


def lay_out(name: str, root: Path) -> None:
    """``<root>/policies/demo/*.yaml`` and ``<root>/schemas/demo/*.json`` for one case."""
    program = root / "policies" / "demo"
    program.mkdir(parents=True)
    shutil.copytree(CASES / "schemas", root / "schemas")
    for target, source in case_files(name).items():
        shutil.copyfile(source, program / target)


def render(errors: ErrorSet) -> str:
    """One line per problem, as ``policy validate`` prints it, with paths relative to ``policies/``."""
    return "".join(str(problem).replace("policies/demo/", "demo/") + "\n" for problem in errors)


def check(name: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, ErrorSet]:
    lay_out(name, root)
    monkeypatch.chdir(root)  # paths then print as they do when `policy validate` runs at the root
    registry, errors = check_policies(Path("policies"))
    assert (registry is None) == errors.has_errors()
    return registry is not None, errors


@pytest.mark.parametrize("name", case_names())
def test_compile_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, errors = check(name, tmp_path, monkeypatch)
    actual = render(errors)
    golden = COMPILE / f"{name}.errors.txt"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"{golden.name} is missing: run with UPDATE_GOLDENS=1 and review it"
    assert actual == golden.read_text(encoding="utf-8")


def test_every_golden_file_has_a_case() -> None:
    names = set(case_names())
    orphans = [
        p.name for p in COMPILE.glob("*.errors.txt") if p.name.removesuffix(".errors.txt") not in names
    ]
    assert orphans == []


def test_the_base_case_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every other case is this policy with mistakes, so each golden shows only its own mistakes' problems.
    loaded, errors = check("valid", tmp_path, monkeypatch)
    assert loaded
    assert len(errors) == 0


def test_every_error_case_fails_to_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in case_names():
        if name in ("valid", "unused_param"):
            continue
        root = tmp_path / name
        loaded, errors = check(name, root, monkeypatch)
        assert not loaded and errors.errors, name


def test_no_unused_warning_for_a_param_of_a_broken_expression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # misspelt_field uses both params, in the very expressions that have the misspelt fields.
    _, errors = check("misspelt_field", tmp_path, monkeypatch)
    assert [w.code for w in errors.warnings] == []
