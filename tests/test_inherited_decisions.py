"""A decision a version inherits unchanged is compiled once and shared; it is the same as compiling it again.

Checked on the bundled policies (every decision, compiled with and without sharing) and on a small policy
whose second version changes the time zone, the way a used param is written, or only an unused param.
"""

from __future__ import annotations

import shutil
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policy_engine import CompiledPolicy, Registry, check_policies
from policy_engine import compiler as compiler_module
from policy_engine.compiled import GeneratedCode
from policy_engine.errors import ErrorSet

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile" / "policies"
GOOD = (HOSTILE / "good.yaml").read_text(encoding="utf-8")


def _load(
    policies: Path, monkeypatch: pytest.MonkeyPatch, *, share: bool
) -> tuple[Registry | None, ErrorSet]:
    with monkeypatch.context() as patch:
        if not share:
            patch.setattr(compiler_module._Inherited, "find", lambda *args: None)
        return check_policies(policies)


def _policies(registry: Registry) -> dict[tuple[str, str], CompiledPolicy]:
    return {(p, w.policy.version): w.policy for p, v in registry.programs.items() for w in v.windows}


def _comparable(value: Any) -> Any:
    """A field of a compiled decision as two separate loads can compare it."""
    if isinstance(value, GeneratedCode):
        return (value.source, value.origins)  # the function objects differ from load to load
    if hasattr(value, "iter_errors"):
        return value.schema  # a jsonschema validator
    if callable(value):
        return type(value)  # generated input checks and coercers: compared through their schemas
    return value


def _shape(policy: CompiledPolicy) -> dict[str, Any]:
    """Every field of each decision, comparable across loads (all fields, so a new one is covered too)."""
    return {
        name: {f.name: _comparable(getattr(d, f.name)) for f in fields(d)}
        for name, d in policy.decisions.items()
    }


def _shared(registry: Registry) -> set[tuple[str, str, str]]:
    """(program, version, decision) whose generated function an earlier version's decision also has."""
    found = set()
    for program, versions in registry.programs.items():
        for index, window in enumerate(versions.windows):
            for name, decision in window.policy.decisions.items():
                earlier = (w.policy.decisions.get(name) for w in versions.windows[:index])
                if any(e is not None and e.plain.function is decision.plain.function for e in earlier):
                    found.add((program, window.policy.version, name))
    return found


def test_sharing_changes_nothing_in_the_bundled_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    shared, shared_errors = _load(ROOT / "policies", monkeypatch, share=True)
    fresh, fresh_errors = _load(ROOT / "policies", monkeypatch, share=False)
    assert shared is not None and fresh is not None
    assert [str(e) for e in shared_errors] == [str(e) for e in fresh_errors]
    assert shared.digests() == fresh.digests()
    a, b = _policies(shared), _policies(fresh)
    assert a.keys() == b.keys()
    for key in a:
        assert _shape(a[key]) == _shape(b[key]), key
    assert _shared(shared), "the bundled policies inherit decisions unchanged"
    assert not _shared(fresh)


def _write(root: Path, second: str) -> Path:
    policies = root / "policies" / "hostile"
    policies.mkdir(parents=True)
    shutil.copytree(HOSTILE / "schemas", root / "schemas")
    (policies / "2024.01.yaml").write_text(GOOD, encoding="utf-8")
    head = 'program: hostile\nversion: "2024.06"\nextends: "2024.01"\n'
    head += 'effective_from: "2024-06-01T00:00:00+08:00"\n'
    (policies / "2024.06.yaml").write_text(head + second, encoding="utf-8")
    return root / "policies"


@pytest.mark.parametrize(
    ("second", "shares"),
    [
        ("params:\n  cap: {money: 100.00}\n", True),
        ("params:\n  cap: {money: 200.00}\n", False),
        ("timezone: Asia/Tokyo\n", False),
        ("params:\n  rate: {percent: 10.0}\n", True),  # the same value: percent params are normalised
        ("params:\n  spare: {integer: 3}\n", True),
    ],
    ids=["same-cap", "other-cap", "other-zone", "same-rate-written-otherwise", "unused-param"],
)
def test_a_decision_is_shared_only_when_nothing_it_reads_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: str, shares: bool
) -> None:
    policies = _write(tmp_path, second)
    shared, shared_errors = _load(policies, monkeypatch, share=True)
    fresh, fresh_errors = _load(policies, monkeypatch, share=False)
    assert [str(e) for e in shared_errors] == [str(e) for e in fresh_errors]
    assert shared is not None and fresh is not None
    assert bool(_shared(shared)) is shares
    a, b = _policies(shared), _policies(fresh)
    for key in a:
        assert _shape(a[key]) == _shape(b[key]), key


def test_an_unused_param_of_the_second_version_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = _write(tmp_path, "params:\n  spare: {integer: 3}\n")
    _, errors = _load(policies, monkeypatch, share=True)
    assert [(e.code, e.severity) for e in errors] == [("unused-param", "warning")]
    assert "spare" in str(next(iter(errors)))


def test_param_values_are_the_same_only_when_written_the_same() -> None:
    same = compiler_module._same_value
    assert same(Decimal("1.00"), Decimal("1.00"))
    assert not same(Decimal("1.0"), Decimal("1.00"))
    assert not same(1, True)
    assert not same(1, Decimal(1))
    assert same([{"a": Decimal("2.5")}], [{"a": Decimal("2.5")}])
    assert not same([{"a": Decimal("2.5")}], [{"a": Decimal("2.50")}])
    assert not same(["a"], ("a",))
