"""Changing one number in one policy changes exactly the decisions it should, and no others.

The scenario corpus is decided under every version before and after the Taobao 2022.09 late-shipment cap
changes from 100.00 to 60.00: only the late-shipment answers of 2022.09 and of 2025.02 (which extends it)
may change, and among them only those whose compensation was above the new cap.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from policy_engine import Registry, load_registry
from policy_engine.evaluate import DecisionRequest, decide
from policy_engine.expr.values import parse_timestamp
from policy_engine.source import read_source

ROOT = Path(__file__).resolve().parent.parent


def _answers(registry: Registry) -> dict[tuple[str, str, str, str], Any]:
    answers: dict[tuple[str, str, str, str], Any] = {}
    for path in sorted((ROOT / "tests" / "scenarios").glob("*/*.yaml")):
        data = read_source(path).data
        program, decision = data["program"], data["decision"]
        for window in registry.program(program).windows:
            if decision not in window.policy.decisions:
                continue
            for scenario in data["scenarios"]:
                at = parse_timestamp(scenario.get("at", "2025-01-01T00:00:00+08:00"))
                request = DecisionRequest(program, decision, scenario["input"], at, window.policy.version)
                try:
                    answer: Any = decide(registry, request).result
                except (ValueError, LookupError) as exc:
                    answer = type(exc).__name__
                answers[(program, window.policy.version, decision, scenario["name"])] = answer
    return answers


def test_changing_one_cap_changes_only_the_decisions_it_governs(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    policy = tmp_path / "policies" / "taobao-anxingou" / "2022.09.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "late_cap: {money: 100.00" in text
    policy.write_text(text.replace("late_cap: {money: 100.00", "late_cap: {money: 60.00"), encoding="utf-8")

    before = _answers(load_registry(ROOT / "policies"))
    after = _answers(load_registry(tmp_path / "policies"))

    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed, "some late shipment in the corpus must be compensated above 60.00"
    assert {(p, v, d) for p, v, d, _ in changed} <= {
        ("taobao-anxingou", "2022.09", "late_shipment"),
        ("taobao-anxingou", "2025.02", "late_shipment"),
    }
    for key in changed:
        assert after[key]["compensation"] == "60.00"
        assert Decimal(before[key]["compensation"]) > Decimal("60.00")
