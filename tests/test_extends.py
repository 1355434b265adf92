"""``extends``: what a later version inherits and changes, and the located errors of bad version sets.

The good program is tests/fixtures/versioned (acme-care 2020.01 → 2021.01 → 2022.01); the bad ones are
written into tmp_path next to a copy of its schemas.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from policy_engine import (
    DecisionRequest,
    PolicyError,
    PolicyLoadError,
    Registry,
    check_policies,
    decide,
    load_registry,
)
from policy_engine.expr.values import parse_timestamp

PROGRAM = "acme-care"
Tree = Callable[..., Path]


@pytest.fixture(scope="module")
def versioned_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "versioned"


@pytest.fixture(scope="module")
def registry(versioned_dir: Path) -> Registry:
    return load_registry(versioned_dir / "policies")


def rule_ids(registry: Registry, version: str, decision: str = "claim") -> list[str]:
    return [r.id for r in registry.policy(PROGRAM, version).decisions[decision].rules]


def claim(
    registry: Registry,
    version: str,
    *,
    tier: str = "basic",
    kind: str = "refund",
    amount: str = "50.00",
    filed_at: str = "2021-06-01T10:00:00+08:00",
) -> tuple[str, ...]:
    data = {
        "order": {"amount": amount, "placed_at": "2021-06-01T10:00:00+08:00", "tier": tier},
        "claim": {"kind": kind, "filed_at": filed_at},
    }
    answer = decide(registry, DecisionRequest(PROGRAM, "claim", data, parse_timestamp(filed_at), version))
    return answer.matched_rules


# -- the merged versions -------------------------------------------------------------------------------


def test_merged_rule_order(registry: Registry) -> None:
    assert rule_ids(registry, "2020.01") == ["over_cap", "late", "refund", "repair"]
    # gold_fast goes before late; refund is replaced where it stands; repair is removed
    assert rule_ids(registry, "2021.01") == ["over_cap", "gold_fast", "late", "refund"]
    assert rule_ids(registry, "2022.01") == ["over_cap", "gold_fast", "late", "refund"]


def test_rules_keep_the_place_where_they_are_written(registry: Registry, versioned_dir: Path) -> None:
    rules = {r.id: r.location for r in registry.policy(PROGRAM, "2022.01").decisions["claim"].rules}
    files = {rule_id: Path(loc.file).name for rule_id, loc in rules.items()}
    assert files == {
        "over_cap": "2020.01.yaml",
        "gold_fast": "2021.01.yaml",
        "late": "2020.01.yaml",
        "refund": "2021.01.yaml",
    }
    text = (versioned_dir / "policies" / PROGRAM / "2021.01.yaml").read_text(encoding="utf-8").splitlines()
    assert text[rules["gold_fast"].line - 1].strip() == "- id: gold_fast"
    assert text[rules["refund"].line - 1].strip() == "- id: refund"


def test_params_are_overridden_added_and_inherited(registry: Registry) -> None:
    def params(version: str) -> dict[str, str]:
        return {n: p.value for n, p in registry.policy(PROGRAM, version).spec.params.items()}

    assert params("2020.01")["refund_cap"] == Decimal("100.00")
    assert params("2021.01")["refund_cap"] == Decimal("200.00")  # overridden
    assert params("2022.01")["refund_cap"] == Decimal("200.00")  # inherited from 2021.01
    assert params("2021.01")["refund_window"] == "24h"  # inherited from 2020.01
    assert params("2022.01")["refund_window"] == "48h"  # overridden again
    assert "gold_points" not in params("2020.01")
    assert params("2022.01")["gold_points"] == 10  # added by 2021.01


def test_param_override_changes_the_answer(registry: Registry) -> None:
    # 150.00 is over 2020.01's cap of 100.00, under 2021.01's 200.00
    assert claim(registry, "2020.01", amount="150.00") == ("over_cap",)
    assert claim(registry, "2021.01", amount="150.00") == ("refund",)


def test_replaced_rule_answers_with_the_new_text(registry: Registry) -> None:
    data = {
        "order": {"amount": "10.00", "placed_at": "2021-06-01T10:00:00+08:00", "tier": "basic"},
        "claim": {"kind": "refund", "filed_at": "2021-06-01T10:00:00+08:00"},
    }
    at = parse_timestamp("2021-06-01T10:00:00+08:00")
    old = decide(registry, DecisionRequest(PROGRAM, "claim", data, at, "2020.01"))
    new = decide(registry, DecisionRequest(PROGRAM, "claim", data, at, "2021.01"))
    assert [r.message for r in old.reasons] == ["refund 2020"]
    assert [r.message for r in new.reasons] == ["refund 2021"]


def test_rule_added_before_another_fires_before_it(registry: Registry) -> None:
    late = "2021-06-03T10:00:00+08:00"  # 48h after the order: late under a 24h window
    assert claim(registry, "2020.01", tier="gold", filed_at=late) == ("late",)
    assert claim(registry, "2021.01", tier="gold", filed_at=late) == ("gold_fast",)
    assert claim(registry, "2021.01", tier="basic", filed_at=late) == ("late",)


def test_removed_rule_no_longer_answers(registry: Registry) -> None:
    assert claim(registry, "2020.01", kind="repair") == ("repair",)
    assert claim(registry, "2021.01", kind="repair") == ("otherwise",)


def test_added_decision_and_effective_until(registry: Registry) -> None:
    assert set(registry.policy(PROGRAM, "2020.01").decisions) == {"claim", "quote"}
    assert set(registry.policy(PROGRAM, "2021.01").decisions) == {"claim", "quote", "bonus"}
    assert set(registry.policy(PROGRAM, "2022.01").decisions) == {"claim", "quote", "bonus"}
    assert registry.policy(PROGRAM, "2021.01").effective_until is None
    until = registry.policy(PROGRAM, "2022.01").effective_until
    assert until is not None and until.isoformat() == "2023-01-01T00:00:00+08:00"


def test_as_of_is_inherited(registry: Registry) -> None:
    for version in ("2020.01", "2021.01", "2022.01"):
        decisions = registry.policy(PROGRAM, version).decisions
        assert decisions["claim"].as_of == "order.placed_at"
        assert decisions["quote"].as_of == "at"


def test_version_level_fields_are_inherited_unless_given(versioned_dir: Path, policy_tree: Tree) -> None:
    policies = policy_tree(base=versioned_dir)
    folder = policies / PROGRAM
    base = folder / "2020.01.yaml"
    base.write_text(
        base.read_text(encoding="utf-8")
        .replace("timezone: Asia/Shanghai", "timezone: Europe/London")
        .replace("currency: CNY", "currency: GBP"),
        encoding="utf-8",
    )
    for name in ("2021.01.yaml", "2022.01.yaml"):
        path = folder / name
        text = path.read_text(encoding="utf-8").replace(
            "timezone: Asia/Shanghai\ncurrency: CNY\ntitle: Acme care plan\n", ""
        )
        path.write_text(text, encoding="utf-8")
    registry = load_registry(policies)
    for version in ("2021.01", "2022.01"):
        policy = registry.policy(PROGRAM, version)
        assert (str(policy.tz), policy.currency, policy.title) == ("Europe/London", "GBP", "Acme care plan")
    at = parse_timestamp("2021-06-01T08:00:00+08:00")
    answer = decide(registry, DecisionRequest(PROGRAM, "quote", {"amount": "1.00"}, at))
    assert (answer.version, answer.to_json()["evaluated_at"]) == ("2021.01", "2021-06-01T01:00:00+01:00")


# -- located errors ------------------------------------------------------------------------------------

HEADER = """\
program: acme-care
version: "{version}"
effective_from: "{start}"
"""

BASE_BODY = """\
params:
  refund_cap: {money: 100.00}
decisions:
  claim:
    input: claim.input.schema.json
    output: claim.output.schema.json
    as_of: order.placed_at
    rules:
      - id: over_cap
        when: order.amount > params.refund_cap
        then: {outcome: deny}
      - id: refund
        when: claim.kind == "refund"
        then: {outcome: approve, refund: order.amount}
    otherwise: {outcome: deny}
"""

CHILD_BODY = """\
params:
  refund_cap: {money: 200.00}
"""


def version_text(
    version: str, start: str, *, extends: str | None = None, until: str | None = None, body: str | None = None
) -> str:
    text = HEADER.format(version=version, start=start)
    if until is not None:
        text += f'effective_until: "{until}"\n'
    if extends is not None:
        text += f'extends: "{extends}"\n'
    return text + (body if body is not None else BASE_BODY if extends is None else CHILD_BODY)


def version_tree(policy_tree: Tree, versioned_dir: Path, files: dict[str, str]) -> Path:
    """Only the acme-care versions given, beside a copy of the fixture schemas."""
    policies = policy_tree({f"policies/{PROGRAM}/{name}": text for name, text in files.items()})
    shutil.copytree(versioned_dir / "schemas", policies.parent / "schemas")
    return policies


def load_errors(policy_tree: Tree, versioned_dir: Path, files: dict[str, str]) -> list[PolicyError]:
    """The errors (not warnings) of a tree of acme-care versions; the tree must not load."""
    policies = version_tree(policy_tree, versioned_dir, files)
    registry, found = check_policies(policies)
    assert registry is None
    with pytest.raises(PolicyLoadError):
        load_registry(policies)
    return found.errors


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle``."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def only(errors: list[PolicyError], code: str) -> PolicyError:
    matching = [e for e in errors if e.code == code]
    assert len(matching) == 1, [str(e) for e in errors]
    return matching[0]


def test_same_effective_from_in_two_files_is_a_located_overlap(
    policy_tree: Tree, versioned_dir: Path
) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    b = version_text("2020.02", "2020-01-01T00:00:00+08:00")
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2020.02.yaml": b})
    error = only(errors, "version-overlap")
    assert Path(error.location.file).name == "2020.02.yaml"
    assert (error.location.line, error.location.column) == position(b, '"2020-01-01')
    assert "must not overlap" in error.message
    assert str(error).startswith(f"{error.location.file}:{error.location.line}:{error.location.column}: ")


def test_effective_until_past_the_next_start_is_a_located_overlap(
    policy_tree: Tree, versioned_dir: Path
) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00", until="2021-02-01T00:00:00+08:00")
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01")
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    error = only(errors, "version-overlap")
    assert Path(error.location.file).name == "2021.01.yaml"
    assert error.location.line == position(b, "effective_from")[0]
    assert "2020.01 is still in force" in error.message


def test_effective_until_at_the_next_start_is_fine(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00", until="2021-01-01T00:00:00+08:00")
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01")
    policies = version_tree(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    registry = load_registry(policies)
    assert [w.policy.version for w in registry.program(PROGRAM).windows] == ["2020.01", "2021.01"]


def test_extends_cycle_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00", extends="2021.01", body=BASE_BODY)
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01")
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    cycle = only(errors, "extends-cycle")
    assert "cycle" in cycle.message and "2020.01" in cycle.message and "2021.01" in cycle.message
    written, target = (
        (a, '"2021.01"') if Path(cycle.location.file).name == "2020.01.yaml" else (b, '"2020.01"')
    )
    assert (cycle.location.line, cycle.location.column) == position(written, target)


def test_extends_itself_is_one_cycle_error(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2021.01")
    c = version_text("2022.01", "2022-01-01T00:00:00+08:00", extends="2021.01")
    errors = load_errors(
        policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b, "2022.01.yaml": c}
    )
    cycle = only(errors, "extends-cycle")
    assert cycle.message == "extends forms a cycle: 2021.01 → 2021.01"
    assert Path(cycle.location.file).name == "2021.01.yaml"
    assert cycle.location.line == position(b, "extends")[0]


def test_extends_a_later_version_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2022.01")
    c = version_text("2022.01", "2022-01-01T00:00:00+08:00", extends="2020.01")
    errors = load_errors(
        policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b, "2022.01.yaml": c}
    )
    error = only(errors, "extends-later")
    assert Path(error.location.file).name == "2021.01.yaml"
    assert (error.location.line, error.location.column) == position(b, '"2022.01"')


def test_extends_an_unknown_version_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2019.01")
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    error = only(errors, "extends-unknown")
    assert (error.location.line, error.location.column) == position(b, '"2019.01"')
    assert "versions: 2020.01" in error.message


def test_as_of_changed_in_a_child_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    body = CHILD_BODY + "decisions:\n  claim:\n    as_of: claim.filed_at\n"
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01", body=body)
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    error = only(errors, "as-of-changed")
    assert Path(error.location.file).name == "2021.01.yaml"
    assert (error.location.line, error.location.column) == position(b, "claim.filed_at")
    assert "order.placed_at" in error.message


def test_remove_of_an_unknown_rule_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    body = CHILD_BODY + "decisions:\n  claim:\n    remove_rules: [refund, refnud]\n"
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01", body=body)
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    error = only(errors, "remove-unknown-rule")
    assert (error.location.line, error.location.column) == position(b, "refnud")
    assert "refnud" in error.message


def test_before_an_unknown_rule_is_located(policy_tree: Tree, versioned_dir: Path) -> None:
    a = version_text("2020.01", "2020-01-01T00:00:00+08:00")
    body = CHILD_BODY + (
        "decisions:\n  claim:\n    rules:\n"
        '      - id: gold\n        before: over_cpa\n        when: order.tier == "gold"\n'
        "        then: {outcome: approve}\n"
    )
    b = version_text("2021.01", "2021-01-01T00:00:00+08:00", extends="2020.01", body=body)
    errors = load_errors(policy_tree, versioned_dir, {"2020.01.yaml": a, "2021.01.yaml": b})
    error = only(errors, "before-unknown-rule")
    assert (error.location.line, error.location.column) == position(b, "over_cpa")
