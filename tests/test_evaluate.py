"""Evaluation: hit policies, outputs, traces, run-time errors, reason templates and input errors.

The program is tests/fixtures/evaluate (acme-perks 2024.01): ``perks`` is a ``hit: collect`` decision with
one aggregator of each kind, ``calc`` a ``hit: first`` decision whose rules fail on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policy_engine import (
    Decision,
    DecisionRequest,
    EvaluationError,
    InputError,
    Registry,
    decide,
    load_registry,
)
from policy_engine.evaluate import NOT_EVALUATED
from policy_engine.expr.values import parse_timestamp

PROGRAM = "acme-perks"
AT = "2024-06-01T12:00:00+08:00"


@pytest.fixture(scope="module")
def policy_file(fixtures_dir: Path) -> Path:
    return fixtures_dir / "evaluate" / "policies" / PROGRAM / "2024.01.yaml"


@pytest.fixture(scope="module")
def registry(policy_file: Path) -> Registry:
    return load_registry(policy_file.parent.parent)


def position(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle`` in a file."""
    text = path.read_text(encoding="utf-8")
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def perks(registry: Registry, amount: str, tags: list[str], *, explain: bool = False) -> Decision:
    data = {"order": {"amount": amount, "placed_at": "2024-05-01T00:00:00+08:00", "tags": tags}}
    return decide(registry, DecisionRequest(PROGRAM, "perks", data, parse_timestamp(AT), explain=explain))


def calc(registry: Registry, mode: str, *, explain: bool = False, **fields: Any) -> Decision:
    data = {
        "mode": mode,
        "amount": "10",
        "placed_at": "2024-05-01T00:00:00Z",
        "filed_at": "2024-05-01T01:00:00Z",
        **fields,
    }
    return decide(registry, DecisionRequest(PROGRAM, "calc", data, parse_timestamp(AT), explain=explain))


# -- hit: collect ----------------------------------------------------------------------------------------


def test_collect_concatenates_lists_and_aggregates_each_scalar(registry: Registry) -> None:
    answer = perks(registry, "150", ["vip", "promo"])
    assert answer.matched_rules == ("big", "promo", "vip")
    assert answer.result == {
        "coupon": "20.00",  # max of 20.00, 8, 12.00
        "discount": "2.50",  # min of 5.00, 2.50, 4.00
        "points": 20,  # sum of 10, 3, 7
        "extra": "2.75",  # sum of 1.5, 0.25, 1
        "badge": "big",  # first
        "stamp": "vip",  # last
        "labels": ["big", "promo", "any", "vip"],  # in rule order, not in the order of the tags
        "total": "25.25",  # derive: coupon + discount + extra
        # last of the rules that give it: promo; vip leaves it out, so its default does not count
        "note": "promo customer",
    }
    assert [(r.rule, r.message) for r in answer.reasons] == [
        ("big", "big order 150.00"),
        ("promo", "promo"),
        ("vip", "vip"),
    ]


def test_collect_with_two_rules(registry: Registry) -> None:
    answer = perks(registry, "50", ["vip", "promo"])
    assert answer.matched_rules == ("promo", "vip")
    result = answer.result
    assert (result["coupon"], result["discount"], result["points"], result["extra"]) == (
        "12.00",
        "2.50",
        10,
        "1.25",
    )
    assert (result["badge"], result["stamp"], result["labels"]) == ("promo", "vip", ["promo", "any", "vip"])
    assert result["total"] == "15.75"


def test_collect_with_one_rule_takes_its_values(registry: Registry) -> None:
    answer = perks(registry, "100.00", [])  # exactly big_order: >= matches
    assert answer.matched_rules == ("big",)
    assert answer.result == {
        "coupon": "20.00",
        "discount": "5.00",
        "points": 10,
        "extra": "1.50",
        "badge": "big",
        "stamp": "big",
        "labels": ["big"],
        "total": "26.50",
        "note": "standard",
    }


def test_otherwise_answers_a_collect_when_no_rule_matches(registry: Registry) -> None:
    answer = perks(registry, "99.99", ["other"])
    assert answer.matched_rules == ("otherwise",)
    assert [(r.rule, r.message) for r in answer.reasons] == [("otherwise", "no perks")]
    assert answer.result == {
        "coupon": "0.00",
        "discount": "0.00",
        "points": 0,
        "extra": "0.00",
        "badge": "none",
        "stamp": "none",
        "labels": [],
        "total": "0.00",
        "note": "standard",
    }


# -- outputs --------------------------------------------------------------------------------------------


def test_outputs_missing_from_then_take_the_output_schema_default(registry: Registry) -> None:
    answer = calc(registry, "lookup", tier="gold")
    assert answer.matched_rules == ("tier_bonus",)
    # refund, due and note are not written by tier_bonus: their schema defaults answer
    assert answer.result == {"value": "10.50", "refund": "0.00", "due": None, "note": "n/a"}


def test_money_outputs_are_two_place_strings(registry: Registry) -> None:
    answer = calc(registry, "lookup", tier="silver")  # the table says 5
    assert answer.result["value"] == "5.00"
    answer = calc(registry, "plain", amount=7)  # a JSON number in the input
    assert answer.result["value"] == "7.00"
    assert answer.result["refund"] == "7.00"
    assert json.loads(json.dumps(answer.to_json()))["result"]["value"] == "7.00"


def test_timestamp_output_is_in_the_program_zone(registry: Registry) -> None:
    answer = calc(registry, "plain")
    assert answer.result["due"] == "2024-05-01T14:00:00+08:00"  # placed 00:00Z + 6h


def test_answer_json_shape(registry: Registry) -> None:
    answer = calc(registry, "plain").to_json()
    assert list(answer) == [
        "program",
        "version",
        "policy_digest",
        "decision",
        "evaluated_at",
        "result",
        "matched_rules",
        "reasons",
    ]
    assert answer["evaluated_at"] == AT
    assert answer["policy_digest"] == registry.policy(PROGRAM, "2024.01").digest


# -- explain -------------------------------------------------------------------------------------------


def test_plain_path_has_no_trace(registry: Registry) -> None:
    answer = calc(registry, "plain")
    assert answer.trace is None
    assert "trace" not in answer.to_json()


def test_trace_lists_rules_looked_at_with_values_and_skipped_parts(registry: Registry) -> None:
    # filed 2d 3h after the order: quick's window test is false, so `amount > 0` is never evaluated
    answer = calc(registry, "plain", filed_at="2024-05-03T03:00:00Z", explain=True)
    assert answer.matched_rules == ("otherwise",)
    trace = answer.to_json()["trace"]
    assert [(e["rule"], e["matched"]) for e in trace] == [
        ("per_unit", False),
        ("tier_bonus", False),
        ("maybe_bonus", False),
        ("quick", False),
        ("otherwise", True),
    ]
    quick = trace[3]
    assert quick["condition"] == 'mode == "plain" and waited <= params.window and amount > 0'
    values = {v["expr"]: v["value"] for v in quick["values"]}
    assert values['mode == "plain"'] is True
    assert values["waited"] == "2d 3h"
    assert values["params.window"] == "6h"
    assert values["waited <= params.window"] is False
    assert values["amount"] == NOT_EVALUATED == "not evaluated"
    assert values["amount > 0"] == "not evaluated"
    assert values[quick["condition"]] is False
    json.dumps(trace)  # JSON-ready


def test_trace_of_first_hit_stops_at_the_matching_rule(registry: Registry) -> None:
    answer = calc(registry, "lookup", tier="gold", explain=True)
    assert answer.trace is not None
    assert [(e["rule"], e["matched"]) for e in answer.trace] == [("per_unit", False), ("tier_bonus", True)]
    assert answer.trace[1]["values"] == [
        {"expr": "mode", "value": "lookup"},
        {"expr": 'mode == "lookup"', "value": True},
    ]


def test_trace_of_collect_looks_at_every_rule(registry: Registry) -> None:
    answer = perks(registry, "50", ["vip"], explain=True)
    assert answer.trace is not None
    assert [(e["rule"], e["matched"]) for e in answer.trace] == [
        ("big", False),
        ("promo", False),
        ("vip", True),
    ]
    plain = perks(registry, "50", ["vip"])
    assert (plain.result, plain.matched_rules, plain.reasons) == (
        answer.result,
        answer.matched_rules,
        answer.reasons,
    )


# -- run-time errors -----------------------------------------------------------------------------------


def test_division_by_a_zero_param_names_the_rule_and_the_line(registry: Registry, policy_file: Path) -> None:
    with pytest.raises(EvaluationError) as info:
        calc(registry, "divide")
    error = info.value
    assert error.status == 500
    assert error.rule == "per_unit"
    assert error.location is not None
    assert Path(error.location.file).resolve() == policy_file.resolve()
    assert (error.location.line, error.location.column) == position(policy_file, "amount / params.divisor")
    assert "per_unit" in error.detail and str(error.location) in error.detail
    assert "DivisionByZero" in error.cause
    assert "<class" not in error.detail  # readable, not a repr of decimal's signal list


def test_division_by_zero_on_the_traced_path_too(registry: Registry) -> None:
    with pytest.raises(EvaluationError) as info:
        calc(registry, "divide", explain=True)
    assert info.value.rule == "per_unit"


def test_lookup_of_a_missing_key_names_the_rule_and_the_line(registry: Registry, policy_file: Path) -> None:
    with pytest.raises(EvaluationError) as info:
        calc(registry, "lookup", tier="bronze")
    error = info.value
    assert error.rule == "tier_bonus"
    assert error.location is not None
    assert error.location.line == position(policy_file, "lookup(params.tiers, tier)")[0]
    assert "bronze" in error.cause


@pytest.mark.parametrize("fields", [{"bonus": None}, {}], ids=["null", "absent"])
def test_null_for_a_non_nullable_money_output_names_the_rule(
    registry: Registry, policy_file: Path, fields: dict[str, Any]
) -> None:
    with pytest.raises(EvaluationError) as info:
        calc(registry, "nullable", **fields)
    error = info.value
    assert error.rule == "maybe_bonus"
    assert "output field value cannot be null" in error.cause
    assert error.location is not None
    assert error.location.line == position(policy_file, "value: bonus")[0]
    assert calc(registry, "nullable", bonus="3").result["value"] == "3.00"


# -- reason templates ----------------------------------------------------------------------------------


def test_reason_renders_money_durations_and_timestamps(registry: Registry) -> None:
    answer = calc(registry, "plain")  # placed 00:00Z, filed 01:00Z, amount "10"
    assert [r.message for r in answer.reasons] == [
        "paid 10.00 at 2024-05-01T08:00:00+08:00, filed after 1h, due by 2024-05-01T14:00:00+08:00"
    ]


@pytest.mark.parametrize(
    ("filed_at", "waited"),
    [
        ("2024-05-03T03:00:00Z", "2d 3h"),
        ("2024-05-01T06:00:01Z", "6h 1s"),
        ("2024-05-02T08:30:00+08:00", "1d 30m"),
    ],
)
def test_reason_renders_durations_like_2d_3h(registry: Registry, filed_at: str, waited: str) -> None:
    answer = calc(registry, "plain", filed_at=filed_at, amount="0.5")
    assert answer.matched_rules == ("otherwise",)
    assert answer.reasons[0].message == f"waited {waited} (limit 6h), amount 0.50"


# -- input errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"extra": 1}, "/input/extra"),
        ({"amount": "1.234"}, "/input/amount"),
        ({"amount": "-1.00"}, "/input/amount"),
        ({"mode": "other"}, "/input/mode"),
        ({"filed_at": "2024-05-01T01:00:00"}, "/input/filed_at"),
    ],
)
def test_bad_input_is_an_input_error_with_pointer(
    registry: Registry, fields: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(InputError) as info:
        calc(registry, **{"mode": "plain", **fields})
    assert info.value.status == 422
    assert [p.pointer for p in info.value.problems] == [pointer]


def test_unknown_nested_property_is_an_input_error_with_pointer(registry: Registry) -> None:
    data = {
        "order": {"amount": "1.00", "placed_at": "2024-05-01T00:00:00+08:00", "tags": [], "colour": "red"}
    }
    with pytest.raises(InputError) as info:
        decide(registry, DecisionRequest(PROGRAM, "perks", data, parse_timestamp(AT)))
    assert [p.pointer for p in info.value.problems] == ["/input/order/colour"]


# -- the bundled example of spec/api.md ---------------------------------------------------------------


def test_bundled_douyin_claim_example_gives_the_api_md_answer(
    bundled_registry: Registry, repo_root: Path
) -> None:
    data = json.loads(
        (repo_root / "examples" / "douyin-claim-instant-refund.json").read_text(encoding="utf-8")
    )
    request = DecisionRequest(
        "douyin-anxingou", "claim", data, parse_timestamp("2021-09-01T11:00:05+08:00"), version="2021.08"
    )
    answer = decide(bundled_registry, request).to_json()
    digest = answer.pop("policy_digest")
    assert digest == bundled_registry.policy("douyin-anxingou", "2021.08").digest
    assert answer == {
        "program": "douyin-anxingou",
        "version": "2021.08",
        "decision": "claim",
        "evaluated_at": "2021-09-01T11:00:05+08:00",
        "result": {
            "outcome": "approve",
            "service": "instant_refund",
            "refund": "299.00",
            "compensation": "0.00",
            "appraisal_fee": "0.00",
            "shipping_subsidy": "0.00",
            "total": "299.00",
        },
        "matched_rules": ["instant_refund"],
        "reasons": [
            {"rule": "instant_refund", "message": "未发货订单 299.00 元，下单后 1h 内申请，极速退款"}
        ],
    }
    # without the version, order.placed_at picks the same one
    unversioned = DecisionRequest(
        "douyin-anxingou", "claim", data, parse_timestamp("2021-09-01T11:00:05+08:00")
    )
    assert decide(bundled_registry, unversioned).to_json() == {**answer, "policy_digest": digest}
