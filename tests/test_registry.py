"""Version resolution and digests of the Registry, on the three-version program in tests/fixtures/versioned.

acme-care: 2020.01 from 2020-01-01; 2021.01 (extends 2020.01, adds the decision ``bonus``) from 2021-01-01;
2022.01 (extends 2021.01) from 2022-01-01 until 2023-01-01 (exclusive). All times +08:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from policy_engine import DecisionRequest, InputError, NotFoundError, Registry, decide, load_registry
from policy_engine.expr.values import parse_timestamp

PROGRAM = "acme-care"
AT = "2024-01-01T00:00:00+08:00"


@pytest.fixture(scope="module")
def versioned_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "versioned"


@pytest.fixture(scope="module")
def registry(versioned_dir: Path) -> Registry:
    return load_registry(versioned_dir / "policies")


def claim_input(
    placed_at: str, *, tier: str = "basic", kind: str = "refund", amount: str = "50.00"
) -> dict[str, Any]:
    return {
        "order": {"amount": amount, "placed_at": placed_at, "tier": tier},
        "claim": {"kind": kind, "filed_at": placed_at},
    }


def request(decision: str, data: Any, *, at: str = AT, version: str | None = None) -> DecisionRequest:
    return DecisionRequest(PROGRAM, decision, data, parse_timestamp(at), version)


# -- resolution by explicit version ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["2020.01", "2021.01", "2022.01"])
def test_explicit_version_wins_over_as_of(registry: Registry, version: str) -> None:
    # placed in 2021's window, but the request names the version
    answer = decide(registry, request("claim", claim_input("2021-06-01T00:00:00+08:00"), version=version))
    assert answer.version == version
    assert answer.policy_digest == registry.policy(PROGRAM, version).digest


def test_explicit_version_is_used_even_outside_its_window(registry: Registry) -> None:
    answer = decide(registry, request("claim", claim_input("2019-01-01T00:00:00+08:00"), version="2020.01"))
    assert answer.version == "2020.01"
    assert answer.reasons[0].message == "refund 2020"


# -- resolution by the decision's as_of input field ------------------------------------------------


@pytest.mark.parametrize(
    ("placed_at", "version"),
    [
        ("2020-01-01T00:00:00+08:00", "2020.01"),  # at 2020.01's start (inclusive)
        ("2020-01-01T00:00:01+08:00", "2020.01"),
        ("2020-12-31T23:59:59+08:00", "2020.01"),  # just before 2021.01
        ("2021-01-01T00:00:00+08:00", "2021.01"),  # at its start
        ("2020-12-31T16:00:00Z", "2021.01"),  # the same instant, written in UTC
        ("2021-01-01T00:00:01+08:00", "2021.01"),
        ("2021-12-31T23:59:59+08:00", "2021.01"),
        ("2022-01-01T00:00:00+08:00", "2022.01"),
        ("2022-01-01T00:00:01+08:00", "2022.01"),
        ("2022-12-31T23:59:59+08:00", "2022.01"),  # just before effective_until
    ],
)
def test_as_of_field_picks_the_version_in_force(registry: Registry, placed_at: str, version: str) -> None:
    answer = decide(registry, request("claim", claim_input(placed_at)))
    assert answer.version == version


def test_the_request_time_does_not_pick_the_version_of_an_as_of_field_decision(registry: Registry) -> None:
    # at is in 2022.01's window; the order was placed under 2020.01
    answer = decide(
        registry, request("claim", claim_input("2020-06-01T00:00:00+08:00"), at="2022-06-01T00:00:00+08:00")
    )
    assert answer.version == "2020.01"


@pytest.mark.parametrize(
    "placed_at",
    [
        "2019-12-31T23:59:59+08:00",  # before the first version
        "2020-01-01T00:00:00+08:01",  # one minute before, by the offset
        "2023-01-01T00:00:00+08:00",  # at 2022.01's effective_until (exclusive)
        "2030-01-01T00:00:00+08:00",
    ],
)
def test_no_version_in_force_at_as_of_is_a_422_at_the_as_of_field(registry: Registry, placed_at: str) -> None:
    with pytest.raises(InputError) as info:
        decide(registry, request("claim", claim_input(placed_at)))
    assert info.value.status == 422
    assert [p.pointer for p in info.value.problems] == ["/input/order/placed_at"]
    assert "no version of acme-care is in force" in info.value.detail


def test_missing_as_of_field_is_a_422_at_its_pointer(registry: Registry) -> None:
    data = claim_input("2021-06-01T00:00:00+08:00")
    del data["order"]["placed_at"]
    with pytest.raises(InputError) as info:
        decide(registry, request("claim", data))
    assert [p.pointer for p in info.value.problems] == ["/input/order/placed_at"]


def test_as_of_without_offset_is_a_422_at_its_pointer(registry: Registry) -> None:
    with pytest.raises(InputError) as info:
        decide(registry, request("claim", claim_input("2021-06-01T00:00:00")))
    # claim.filed_at has the same timestamp, so the schema reports both; the as_of field is among them.
    assert [p.pointer for p in info.value.problems] == ["/input/claim/filed_at", "/input/order/placed_at"]
    assert "offset" in info.value.detail


# -- resolution by the request time for `as_of: at` decisions --------------------------------------


@pytest.mark.parametrize(
    ("at", "version", "fee"),
    [
        ("2020-01-01T00:00:00+08:00", "2020.01", "1.00"),
        ("2020-12-31T23:59:59+08:00", "2020.01", "1.00"),
        ("2021-01-01T00:00:00+08:00", "2021.01", "2.00"),
        ("2021-12-31T23:59:59+08:00", "2021.01", "2.00"),
        ("2022-01-01T00:00:00+08:00", "2022.01", "3.00"),
        ("2022-12-31T23:59:59+08:00", "2022.01", "3.00"),
    ],
)
def test_as_of_at_uses_the_request_time(registry: Registry, at: str, version: str, fee: str) -> None:
    answer = decide(registry, request("quote", {"amount": "10.00"}, at=at))
    assert answer.version == version
    assert answer.result == {"fee": fee}
    assert answer.to_json()["evaluated_at"] == at


@pytest.mark.parametrize("at", ["2019-12-31T23:59:59+08:00", "2023-01-01T00:00:00+08:00"])
def test_as_of_at_outside_every_window_is_a_422_at_at(registry: Registry, at: str) -> None:
    with pytest.raises(InputError) as info:
        decide(registry, request("quote", {"amount": "10.00"}, at=at))
    assert info.value.status == 422
    assert [p.pointer for p in info.value.problems] == ["/at"]


# -- unknown names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "decision", "version", "pointer", "words"),
    [
        ("acme-nope", "claim", None, "/program", "unknown program 'acme-nope'"),
        (PROGRAM, "claims", None, "/decision", "no decision 'claims'"),
        (PROGRAM, "claim", "2019.01", "/version", "no version '2019.01'"),
        (PROGRAM, "bonus", "2020.01", "/decision", "version 2020.01 has no decision 'bonus'"),
    ],
)
def test_unknown_program_version_or_decision_is_a_404_with_pointer(
    registry: Registry, program: str, decision: str, version: str | None, pointer: str, words: str
) -> None:
    data = claim_input("2021-06-01T00:00:00+08:00")
    with pytest.raises(NotFoundError) as info:
        decide(registry, DecisionRequest(program, decision, data, parse_timestamp(AT), version))
    assert info.value.status == 404
    assert [p.pointer for p in info.value.problems] == [pointer]
    assert words in info.value.detail


def test_decision_of_a_later_version_asked_in_an_earlier_window_is_a_422(registry: Registry) -> None:
    # bonus is new in 2021.01; an order placed under 2020.01 cannot have it
    with pytest.raises(InputError) as info:
        decide(registry, request("bonus", claim_input("2020-06-01T00:00:00+08:00", tier="gold")))
    assert info.value.status == 422
    assert [p.pointer for p in info.value.problems] == ["/input/order/placed_at"]
    assert "2020.01" in info.value.detail and "bonus" in info.value.detail


@pytest.mark.parametrize(
    ("placed_at", "version"),
    [("2021-01-01T00:00:00+08:00", "2021.01"), ("2022-03-01T00:00:00+08:00", "2022.01")],
)
def test_decision_added_by_a_later_version_is_inherited(
    registry: Registry, placed_at: str, version: str
) -> None:
    answer = decide(registry, request("bonus", claim_input(placed_at, tier="gold")))
    assert (answer.version, answer.result, answer.matched_rules) == (version, {"points": 10}, ("gold",))


# -- the registry itself ------------------------------------------------------------------------------


def test_windows_are_ordered_and_end_where_the_next_starts(registry: Registry) -> None:
    windows = registry.program(PROGRAM).windows
    assert [w.policy.version for w in windows] == ["2020.01", "2021.01", "2022.01"]
    assert [w.start.isoformat() for w in windows] == [
        "2020-01-01T00:00:00+08:00",
        "2021-01-01T00:00:00+08:00",
        "2022-01-01T00:00:00+08:00",
    ]
    assert [w.end.isoformat() if w.end else None for w in windows] == [
        "2021-01-01T00:00:00+08:00",
        "2022-01-01T00:00:00+08:00",
        "2023-01-01T00:00:00+08:00",
    ]
    assert registry.program(PROGRAM).decision_names() == ["claim", "quote", "bonus"]


# -- digests ------------------------------------------------------------------------------------------


def test_digests_differ_between_versions(registry: Registry) -> None:
    digests = [w.policy.digest for w in registry.program(PROGRAM).windows]
    assert all(d.startswith("sha256:") and len(d) == len("sha256:") + 64 for d in digests)
    assert len(set(digests)) == 3


def test_digests_are_stable_across_loads_and_places(
    registry: Registry, versioned_dir: Path, policy_tree: Any
) -> None:
    again = load_registry(versioned_dir / "policies")
    copied = load_registry(policy_tree(base=versioned_dir))
    assert again.digests() == registry.digests()
    assert copied.digests() == registry.digests()


def _edit_json(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_digest_changes_when_a_schema_file_it_uses_changes(
    registry: Registry, versioned_dir: Path, policy_tree: Any
) -> None:
    policies = policy_tree(base=versioned_dir)
    _edit_json(policies.parent / "schemas" / PROGRAM / "claim.input.schema.json", description="edited")
    edited = load_registry(policies)
    for version in ("2020.01", "2021.01", "2022.01"):
        assert edited.policy(PROGRAM, version).digest != registry.policy(PROGRAM, version).digest


def test_digest_covers_only_the_schemas_a_version_uses(
    registry: Registry, versioned_dir: Path, policy_tree: Any
) -> None:
    # bonus.output.schema.json is used from 2021.01 on
    policies = policy_tree(base=versioned_dir)
    _edit_json(policies.parent / "schemas" / PROGRAM / "bonus.output.schema.json", description="edited")
    edited = load_registry(policies)
    assert edited.policy(PROGRAM, "2020.01").digest == registry.policy(PROGRAM, "2020.01").digest
    assert edited.policy(PROGRAM, "2021.01").digest != registry.policy(PROGRAM, "2021.01").digest
    assert edited.policy(PROGRAM, "2022.01").digest != registry.policy(PROGRAM, "2022.01").digest


def test_digest_of_a_child_changes_when_its_base_file_changes(
    registry: Registry, versioned_dir: Path, policy_tree: Any
) -> None:
    policies = policy_tree(base=versioned_dir)
    base = policies / PROGRAM / "2020.01.yaml"
    base.write_text(base.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    edited = load_registry(policies)
    for version in ("2020.01", "2021.01", "2022.01"):
        assert edited.policy(PROGRAM, version).digest != registry.policy(PROGRAM, version).digest


def test_in_force_agrees_with_the_windows_at_every_bound_in_any_zone(registry: Registry) -> None:
    # in_force compares in naive UTC; this holds it to the windows' own aware comparisons, a microsecond
    # either side of each bound, written in fixed offsets and in zones with daylight saving.
    versions = registry.program(PROGRAM)
    zones = [
        UTC,
        timezone(timedelta(hours=8)),
        timezone(timedelta(hours=-5, minutes=-30)),
        ZoneInfo("Asia/Shanghai"),
        ZoneInfo("America/New_York"),
    ]
    bounds = [w.start for w in versions.windows] + [w.end for w in versions.windows if w.end is not None]
    checked = set()
    for bound in bounds:
        for step in (-1, 0, 1):
            for zone in zones:
                moment = (bound + timedelta(microseconds=step)).astimezone(zone)
                expected = next((w.policy for w in reversed(versions.windows) if w.contains(moment)), None)
                assert versions.in_force(moment) is expected, moment
                checked.add(None if expected is None else expected.version)
    assert checked == {None, "2020.01", "2021.01", "2022.01"}
    for far in (datetime(2500, 1, 1, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)):  # beyond the float path
        expected = next((w.policy for w in reversed(versions.windows) if w.contains(far)), None)
        assert versions.in_force(far) is expected
