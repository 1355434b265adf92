"""(b) The reference decision three ways in one run: hand-written Python, our generated function, zen-engine.

Douyin ``claim`` 2021.08, first hit, on the 1,000-input corpus of ``claim_corpus``. First every input is
checked to give the same answer everywhere (hand-written vs generated: matched rule, result and reason
texts; zen-engine vs generated: matched rule and every result field, numerically; full decide vs
generated: the answer's result and matched_rules). Then batches of 1,000 decisions are timed,
``REPEATS`` times, pinned to one core, and the medians and ratios printed.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import claim_corpus
import msgspec
from claim_handwritten import decide_claim
from common import BENCH, batch_over, fmt, full_decide, pin_to_one_core, registry, time_interleaved

from policy_engine import evaluate
from policy_engine.expr.values import clear_caches, parse_timestamp
from policy_engine.jsonio import dumps_exact

PROGRAM, VERSION, DECISION = "douyin-anxingou", "2021.08", "claim"
REPEATS = 21
UNCACHED_FLOOR = "hand-written Python function, with the cache-emptying call"
UNCACHED = "our generated function, engine caches emptied before each call"
MONEY = ("refund", "compensation", "appraisal_fee", "shipping_subsidy", "total")


def zen_engine() -> Any:
    """The JDM table behind a static loader (bench-reference: the fair path, not create_decision)."""
    import zen

    content = json.loads((BENCH / "claim.jdm.json").read_text(encoding="utf-8"))
    return zen.ZenEngine({"loader": {"type": "static", "content": {DECISION: content}}})


def zen_context(raw: dict[str, Any]) -> dict[str, Any]:
    """The input as zen-engine takes a dict: money as JSON numbers (floats), the rest as it is."""
    order = dict(raw["order"])
    claim = dict(raw["claim"])
    order["amount"] = float(Decimal(order["amount"]))
    for key in ("appraisal_fee", "return_shipping_cost", "claimed_amount"):
        if key in claim:
            claim[key] = float(Decimal(claim[key]))
    return {"order": order, "claim": claim}


def _same_money(theirs: Any, ours: str) -> bool:
    return isinstance(theirs, int | float) and Decimal(repr(theirs)) == Decimal(ours)


def check_agreement(reg: Any, compiled: Any, inputs: list[dict[str, Any]], engine: Any) -> list[str]:
    """Every disagreement between the implementations on the corpus (empty: all agree)."""
    problems: list[str] = []
    policy = reg.policy(PROGRAM, VERSION)
    decide_bytes = full_decide(reg)
    for index, raw in enumerate(inputs):
        values = coerced_values(compiled, raw)
        generated = compiled.plain.function(values)
        if decide_claim(values) != generated:
            problems.append(f"input {index}: hand-written {decide_claim(values)} != generated {generated}")
        rule = compiled.rule_id(generated[0][0])
        result = generated[1]
        zen_result = engine.evaluate(DECISION, zen_context(raw))["result"]
        if (
            zen_result.get("rule") != rule
            or any(zen_result.get(k) != result[k] for k in ("outcome", "service"))
            or not all(_same_money(zen_result.get(k), result[k]) for k in MONEY)
        ):
            problems.append(f"input {index}: zen-engine {zen_result} != generated {rule} {result}")
        answer = msgspec.json.decode(decide_bytes(request_body(raw)))
        if answer["version"] != VERSION or answer["matched_rules"] != [rule] or answer["result"] != result:
            problems.append(f"input {index}: full decide {answer} != generated {rule} {result}")
        via_evaluate = evaluate(policy, compiled, raw, at=values["at"])
        if via_evaluate.result != result:
            problems.append(f"input {index}: evaluate() {via_evaluate.result} != generated {result}")
    return problems


def coerced_values(compiled: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """What the generated function takes for one input: coerced, with ``at`` = when the claim was filed."""
    values: dict[str, Any] = compiled.coerce(raw)
    values["at"] = parse_timestamp(raw["claim"]["filed_at"])
    return values


def request_body(raw: dict[str, Any]) -> bytes:
    """The ``/v1/decide`` body for one input (``at`` = when the claim was filed)."""
    body = {"program": PROGRAM, "decision": DECISION, "input": raw, "at": raw["claim"]["filed_at"]}
    return dumps_exact(body).encode("utf-8")


def run(repeats: int = REPEATS) -> dict[str, Any]:
    """Check, then time; the numbers for the summary."""
    core = pin_to_one_core()
    reg = registry()
    policy = reg.policy(PROGRAM, VERSION)
    compiled = policy.decisions[DECISION]
    inputs = claim_corpus.corpus()
    engine = zen_engine()
    problems = check_agreement(reg, compiled, inputs, engine)
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        raise SystemExit(f"(b) the implementations disagree on {len(problems)} checks; not timing")

    values = [coerced_values(compiled, raw) for raw in inputs]
    contexts = [zen_context(raw) for raw in inputs]
    zen_bytes = [json.dumps(c).encode() for c in contexts]
    bodies = [request_body(raw) for raw in inputs]
    ats = [parse_timestamp(raw["claim"]["filed_at"]) for raw in inputs]
    function = compiled.plain.function
    n = len(inputs)

    def run_evaluate() -> None:
        for raw, at in zip(inputs, ats, strict=True):
            evaluate(policy, compiled, raw, at=at)

    def zen_eval(context: Any) -> Any:
        return engine.evaluate(DECISION, context)

    decide_bytes = full_decide(reg)

    def hand_written_uncached(coerced: dict[str, Any]) -> Any:
        clear_caches()  # no effect on it: the same call cost as the row below, so the ratio is fair
        return decide_claim(coerced)

    def generated_uncached(coerced: dict[str, Any]) -> Any:
        clear_caches()
        return function(coerced)

    timings = time_interleaved(
        {
            "hand-written Python function": (batch_over(decide_claim, values, n), n),
            "our generated function": (batch_over(function, values, n), n),
            UNCACHED_FLOOR: (batch_over(hand_written_uncached, values, n), n),
            UNCACHED: (batch_over(generated_uncached, values, n), n),
            "our evaluate() on a dict (validate + coerce + call)": (run_evaluate, n),
            "our full decide, JSON bytes in → out": (batch_over(decide_bytes, bodies, n), n),
            "zen-engine JDM table, dict in (static loader)": (batch_over(zen_eval, contexts, n), n),
            "zen-engine JDM table, JSON bytes in": (batch_over(zen_eval, zen_bytes, n), n),
        },
        repeats,
    )
    floor = timings["hand-written Python function"]
    zen_us = timings["zen-engine JDM table, dict in (static loader)"]
    return {
        "inputs": n,
        "repeats": repeats,
        "core": core,
        "rules_hit": len({compiled.rule_id(compiled.plain.function(v)[0][0]) for v in values}),
        "timings": timings,
        "eval_ratio": timings["our generated function"] / floor,
        "eval_ratio_uncached": timings[UNCACHED] / timings[UNCACHED_FLOOR],
        "decide_vs_zen": timings["our full decide, JSON bytes in → out"] / zen_us,
        "floor": floor,
        "zen": zen_us,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    floor, zen_us = result["floor"], result["zen"]
    lines = [
        f"### (b) Reference decision: douyin-anxingou claim 2021.08, first hit, {result['inputs']} inputs",
        "",
        f"All implementations agree on all {result['inputs']} inputs ({result['rules_hit']} of 26 rule "
        f"outcomes reached). Batches of {result['inputs']}, the implementations taking turns, median of "
        f"{result['repeats']} turns, pinned to core {result['core']}.",
        "",
        "| implementation | µs per decision | × hand-written | × zen-engine |",
        "|---|---:|---:|---:|",
    ]
    for name, us in result["timings"].items():
        lines.append(f"| {name} | {fmt(us)} | {fmt(us / floor)} | {fmt(us / zen_us)} |")
    eval_ok = "met" if result["eval_ratio"] <= 1.5 else "MISSED"
    decide_ok = "met" if result["decide_vs_zen"] <= 1.0 else "MISSED"
    lines += [
        "",
        f"- Evaluation only / hand-written = **{fmt(result['eval_ratio'])}×** (target ≤ 1.5×: {eval_ok})",
        f"- The same with the engine's caches emptied before every call (no amount, timestamp, duration or "
        f"day repeats; both sides pay the emptying call) = **{fmt(result['eval_ratio_uncached'])}×**",
        f"- Full decide / zen-engine = **{fmt(result['decide_vs_zen'])}×** (target ≤ 1.0×: {decide_ok})",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
