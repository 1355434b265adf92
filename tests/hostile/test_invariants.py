"""Invariants of every bundled decision, over inputs hypothesis generates from the decision's input schema.

For every version of every decision, on generated inputs and on the valid inputs of its policy test table:
no money amount is negative, and each has exactly two places; no amount exceeds its cap (the caps are read
from the version's own params); totals equal the sum of their parts; the same input and version give the
same answer every time, plain or explained, in this process and in another one; and money never passes
through float: the generated decision functions contain no ``float(``, have no float constants, and
evaluating under a decimal context that traps ``FloatOperation`` (any mixing of float and Decimal) never
trips.

The strategies are built from the JSON Schema subset that schemas/<program>/*.input.schema.json use (a
keyword outside it fails the build, so a new schema cannot silently go untested). Timestamps of one input
lie within a few months of each other (2000-2099, with offsets), so rules about windows and lateness are
reached; integers without a maximum stay below minimum + 1,000 (schemas without a maximum on a day count
are a known gap: see test_hostile_requests.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, FloatOperation, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policy_engine import CompiledDecision, CompiledPolicy, Registry, evaluate, load_registry
from policy_engine.expr.values import parse_timestamp, round_to_cent
from policy_engine.jsonio import dumps, dumps_exact, loads_strict
from policy_engine.params import ParamValue, param_value
from policy_engine.policy_tests import load_test_cases
from policy_engine.schemas import validate_input

REPO = Path(__file__).resolve().parents[2]
REGISTRY: Registry = load_registry(REPO / "policies")
MONEY_TEXT = re.compile(r"(0|[1-9][0-9]*)\.[0-9]{2}")
ZERO = Decimal("0.00")
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ── strategies from the schema subset ─────────────────────────────────────────────────────────────────

_KNOWN = {
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "enum",
    "format",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "uniqueItems",
    "maxItems",
    "minimum",
    "maximum",
    "multipleOf",
}
FIRST = datetime(2000, 3, 1, tzinfo=UTC)
LAST = datetime(2099, 9, 1, tzinfo=UTC)
_BASE = st.shared(
    st.integers(0, int((LAST - FIRST).total_seconds())).map(lambda s: FIRST + timedelta(seconds=s)),
    key="base time",
)
"""One moment per example; every timestamp of the input lies near it."""
_OFFSETS = st.integers(-12 * 4, 14 * 4).map(lambda quarters: timezone(timedelta(minutes=15 * quarters)))
_CENTS = st.one_of(
    st.integers(0, 1_000_00), st.integers(0, 100_000_000_00), st.integers(0, 99_999_999_999_999_999)
)


def money_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _timestamps() -> st.SearchStrategy[str]:
    near = st.integers(-40 * 86400, 120 * 86400)
    return st.builds(
        lambda base, delta, offset: (base + timedelta(seconds=delta)).astimezone(offset).isoformat(),
        _BASE,
        near,
        _OFFSETS,
    )


def strategy_for(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (the subset of the bundled input schemas)."""
    unknown = set(schema) - _KNOWN
    if unknown:
        raise NotImplementedError(f"schema keywords outside the tested subset: {sorted(unknown)}")
    raw_type = schema.get("type", [])
    types = {raw_type} if isinstance(raw_type, str) else set(raw_type)
    base: st.SearchStrategy[Any]
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if schema.get("format") == "money":
        base = _CENTS.map(money_text)
    elif schema.get("format") == "date-time":
        base = _timestamps()
    elif "object" in types:
        required = set(schema.get("required", ()))
        properties = {name: strategy_for(sub) for name, sub in schema.get("properties", {}).items()}
        base = st.fixed_dictionaries(
            {n: s for n, s in properties.items() if n in required},
            optional={n: s for n, s in properties.items() if n not in required},
        )
    elif "array" in types:
        items = schema.get("items", {})
        size = schema.get("maxItems", 10)
        if schema.get("uniqueItems") and "enum" in items:
            size = min(size, len(items["enum"]))
        base = st.lists(strategy_for(items), max_size=size, unique=bool(schema.get("uniqueItems")))
    elif "integer" in types:
        low = int(schema.get("minimum", 0))
        base = st.integers(low, int(schema.get("maximum", low + 1000)))
    elif "number" in types:
        step = Decimal(str(schema["multipleOf"]))
        low, high = Decimal(str(schema["minimum"])), Decimal(str(schema["maximum"]))
        base = st.integers(int(low / step), int(high / step)).map(lambda n: n * step)
    elif "boolean" in types:
        base = st.booleans()
    else:
        raise NotImplementedError(f"no strategy for {dict(schema)}")
    return st.one_of(st.none(), base) if "null" in types else base


# ── the decisions ─────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Target:
    """One decision of one version."""

    policy: CompiledPolicy
    decision: CompiledDecision

    @property
    def key(self) -> str:
        return f"{self.policy.program}@{self.policy.version}:{self.decision.name}"

    def params(self) -> dict[str, Any]:
        values = {}
        for name, spec in self.policy.spec.params.items():
            value = param_value(spec)
            assert isinstance(value, ParamValue), value
            values[name] = value.value
        return values

    def decide(self, data: Any, at: datetime, *, explain: bool = False) -> dict[str, Any]:
        with localcontext() as context:
            context.traps[FloatOperation] = True  # a float meeting a Decimal anywhere raises
            answer: dict[str, Any] = evaluate(
                self.policy, self.decision, data, at=at, explain=explain
            ).to_json()
        return answer


TARGETS = [
    Target(window.policy, window.policy.decisions[name])
    for program in REGISTRY.programs.values()
    for window in program.windows
    for name in sorted(window.policy.decisions)
]


def _inputs(target: Target) -> st.SearchStrategy[tuple[dict[str, Any], datetime]]:
    at = st.builds(
        lambda base, delta, offset: (base + timedelta(seconds=delta)).astimezone(offset),
        _BASE,
        st.integers(0, 30 * 86400),
        _OFFSETS,
    )
    return st.tuples(strategy_for(target.decision.input_schema), at)


def _table_inputs(target: Target) -> list[tuple[dict[str, Any], datetime]]:
    """The inputs of the decision's policy test table that are valid for this version: hand-written cases
    reach the rules that random inputs rarely do (price protection pays only when eight conditions hold)."""
    found = []
    for case in TABLE_CASES:
        if (case.program, case.decision) != (target.policy.program, target.decision.name):
            continue
        if validate_input(target.decision.input_validator, case.input):
            continue
        found.append((case.input, parse_timestamp(case.at) if case.at else TABLE_AT))
    return found


TABLE_CASES, _ = load_test_cases(REPO / "policies")
TABLE_AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def money(value: str) -> Decimal:
    assert isinstance(value, str) and MONEY_TEXT.fullmatch(value), f"not money text: {value!r}"
    return Decimal(value)


# ── caps and sums, per decision, from the version's params ────────────────────────────────────────────

Check = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


def _alibaba_claim(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    compensation = money(out["compensation"])
    if inp["claim"]["type"] == "late_delivery":
        assert compensation <= p["late_delivery_cap"]
        assert compensation <= round_to_cent(p["late_delivery_rate"] * Decimal(inp["order"]["goods_amount"]))
    if inp["claim"]["type"] == "quality_mismatch":
        assert compensation <= p["inspection_fee_cap"]
        assert compensation <= Decimal(inp["claim"].get("inspection_fee") or "0")
    if out["outcome"] == "deny":
        assert compensation == ZERO


def _alibaba_service_fee(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    goods = Decimal(inp["order"]["goods_amount"])
    fee = money(out["fee"])
    assert fee <= p["fee_cap"]
    assert fee <= round_to_cent(p["fee_rate"] * goods)
    assert money(out["fee_base"]) == goods
    assert out["capped"] == (round_to_cent(p["fee_rate"] * goods) > p["fee_cap"])


def _alibaba_settlement(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    assert money(out["payout_fee"]) <= p["fast_payout_fee"]
    assert money(out["merchant_interest"]) <= p["credit_merchant_interest"]


def _douyin_claim(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    amount = Decimal(inp["order"]["amount"])
    parts = [money(out[f]) for f in ("refund", "compensation", "appraisal_fee", "shipping_subsidy")]
    refund, compensation, _, subsidy = parts
    assert money(out["total"]) == sum(parts)
    assert refund <= amount
    assert compensation <= round_to_cent(p["counterfeit_multiple"] * amount)
    if out["service"] == "instant_refund":
        assert refund <= p["instant_refund_max"]
    if out["service"] in ("seven_day_return", "allergy"):
        assert subsidy <= p["return_shipping_subsidy_cap"]
    if out["outcome"] == "deny":
        assert parts == [ZERO] * 4 and money(out["total"]) == ZERO


def _douyin_late_pickup(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    compensation = money(out["compensation"])
    assert compensation <= max(p["late_pickup_cap"], p["late_pickup_flat"])
    assert (out["form"] == "coupon") == (compensation > 0)


def _douyin_price_protection(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    order, drop = inp["order"], inp["price_drop"]
    drop_total = round_to_cent(
        (Decimal(order["unit_price"]) - Decimal(drop["new_price"])) * order["quantity"]
    )
    payout = money(out["payout"])
    assert payout == (drop_total if out["outcome"] == "approve" else ZERO)
    assert payout <= max(drop_total, ZERO)


def _taobao_late_shipment(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    compensation = money(out["compensation"])
    assert compensation <= p["late_cap"]
    if out["outcome"] == "compensate":
        floor = p["late_floor_special"] if inp["order"]["special_category"] else p["late_floor"]
        assert compensation >= min(floor, p["late_cap"])
    else:
        assert compensation == ZERO


def _taobao_return_request(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    refund = money(out["refund"])
    assert refund == (Decimal(inp["order"]["amount"]) if out["outcome"] == "approve" else ZERO)


def _zhima_deposit_waiver(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    due = money(out["deposit_due"])
    scene = p["deposit_scenarios"][inp["scenario"]]
    deposit = Decimal(inp["deposit"]) if inp.get("deposit") is not None else scene["deposit"]
    assert due == (ZERO if out["outcome"] == "waived" else deposit)


def _zhima_member_benefits(inp: dict[str, Any], out: dict[str, Any], p: dict[str, Any]) -> None:
    assert money(out["coupon"]) <= max(p["coupon_20_amount"], p["coupon_50_amount"])


CHECKS: dict[tuple[str, str], Check] = {
    ("alibaba-anxingou", "claim"): _alibaba_claim,
    ("alibaba-anxingou", "service_fee"): _alibaba_service_fee,
    ("alibaba-anxingou", "settlement"): _alibaba_settlement,
    ("douyin-anxingou", "claim"): _douyin_claim,
    ("douyin-anxingou", "late_pickup"): _douyin_late_pickup,
    ("douyin-anxingou", "price_protection"): _douyin_price_protection,
    ("taobao-anxingou", "late_shipment"): _taobao_late_shipment,
    ("taobao-anxingou", "return_request"): _taobao_return_request,
    ("zhima-credit", "deposit_waiver"): _zhima_deposit_waiver,
    ("zhima-credit", "member_benefits"): _zhima_member_benefits,
}
"""Decisions with an amount that has a cap or is a sum; the others have money only to be non-negative."""


def _money_fields(target: Target) -> list[str]:
    properties = target.decision.output_schema["properties"]
    return [name for name, sub in properties.items() if sub.get("format") == "money"]


# ── the tests ─────────────────────────────────────────────────────────────────────────────────────────


def test_every_decision_of_every_version_is_covered() -> None:
    assert len(TARGETS) == sum(len(w.policy.decisions) for p in REGISTRY.programs.values() for w in p.windows)
    with_money = {(t.policy.program, t.decision.name) for t in TARGETS if _money_fields(t)}
    assert with_money == set(CHECKS), "every decision answering an amount needs its caps here"


@pytest.mark.parametrize("target", TARGETS, ids=[t.key for t in TARGETS])
def test_invariants_over_generated_inputs(target: Target) -> None:
    params = target.params()
    check = CHECKS.get((target.policy.program, target.decision.name))
    money_fields = _money_fields(target)
    reached: set[tuple[str, ...]] = set()

    def run(case: tuple[dict[str, Any], datetime]) -> None:
        data, at = case
        assert validate_input(target.decision.input_validator, data) == [], "the strategy made invalid input"
        answer = target.decide(data, at)
        result = answer["result"]
        reached.add(tuple(answer["matched_rules"]))
        for name in money_fields:
            if result[name] is not None:
                amount = money(result[name])
                assert amount >= 0, f"{name} is negative: {result[name]}"
                assert f"{round_to_cent(Decimal(result[name])):f}" == result[name]  # exact round trip
        if check is not None:
            check(data, result, params)
        # The same input and version: the same answer, again, explained, and through JSON text.
        again = target.decide(data, at)
        explained = target.decide(data, at, explain=True)
        assert again == answer
        assert {k: v for k, v in explained.items() if k != "trace"} == answer
        assert loads_strict(dumps(answer)) == json.loads(dumps(answer))

    for case in _table_inputs(target):
        run = example(case)(run)
    SETTINGS(given(_inputs(target))(run))()
    assert reached, target.key


@pytest.mark.parametrize("target", TARGETS, ids=[t.key for t in TARGETS])
def test_the_generated_functions_never_use_float(target: Target) -> None:
    for code in (target.decision.plain, target.decision.traced):
        assert "float(" not in code.source, code.source
        assert not re.search(r"\d\.\d*[eE]|\bfloat\b", code.source), code.source
        names = code.function.__globals__
        assert "float" not in names["__builtins__"]
        floats = [name for name, value in names.items() if isinstance(value, float)]
        assert floats == [], floats


_SUBPROCESS = """
import sys
from pathlib import Path
from policy_engine import evaluate, load_registry
from policy_engine.expr.values import parse_timestamp
from policy_engine.jsonio import dumps, dumps_exact, loads_strict

registry = load_registry(Path(sys.argv[1]))
for line in sys.stdin:
    job = loads_strict(line)
    policy = registry.policy(job["program"], job["version"])
    decision = policy.decisions[job["decision"]]
    answer = evaluate(policy, decision, job["input"], at=parse_timestamp(job["at"]), explain=job["explain"])
    print(dumps(answer.to_json()))
"""


def test_the_same_answers_in_another_process() -> None:
    jobs: list[dict[str, Any]] = []
    expected: list[str] = []

    @settings(max_examples=4, deadline=None, database=None, derandomize=True)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        for target in TARGETS:
            value, at = data.draw(_inputs(target), label=target.key)
            explain = data.draw(st.booleans())
            job = {
                "program": target.policy.program,
                "version": target.policy.version,
                "decision": target.decision.name,
                "input": value,
                "at": at.isoformat(),
                "explain": explain,
            }
            jobs.append(job)
            expected.append(dumps(target.decide(loads_strict(dumps_exact(value)), at, explain=explain)))

    collect()
    stdin = "".join(dumps_exact(job) + "\n" for job in jobs)
    done = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS, str(REPO / "policies")],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    answers = done.stdout.splitlines()
    assert len(answers) == len(jobs) >= 4 * len(TARGETS)
    for job, mine, theirs in zip(jobs, expected, answers, strict=True):
        assert theirs == mine, job
