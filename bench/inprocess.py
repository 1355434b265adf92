"""(a) In-process, per decision of every bundled program: evaluation only, and full decide.

Decisions come from the registry (every version of every program); inputs from the policy test tables
(``policies/*/tests/*.cases.yaml``), keeping only the cases the engine decides without an error.
Evaluation only calls the decision's generated function on values coerced beforehand (what
``evaluate()`` calls after validation and coercion); full decide takes the JSON bytes of a
``/v1/decide`` request and returns the JSON bytes of the answer (strict parse, request reading, version
resolution, schema validation, coercion, the generated function, answer building, encoding).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from common import (
    POLICIES,
    batch_over,
    fmt,
    full_decide,
    pin_to_one_core,
    registry,
    time_interleaved,
    time_per_call,
)

from policy_engine import DecisionRequest, EvaluationError, InputError, NotFoundError, Registry, decide
from policy_engine.jsonio import dumps_exact
from policy_engine.policy_tests import case_request_time, load_test_cases

REPEATS = 7
TARGET_BATCH_US = 30_000  # each timed batch runs about this long


@dataclass
class Prepared:
    """One valid case, ready to time both ways."""

    values: dict[str, Any]
    body: bytes


def _json(value: Any) -> str:
    try:
        return dumps_exact(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, default=str)


def prepare(reg: Registry) -> dict[tuple[str, str, str], list[Prepared]]:
    """Valid cases by (program, version, decision)."""
    cases, _errors = load_test_cases(POLICIES)
    prepared: dict[tuple[str, str, str], list[Prepared]] = {}
    for case in cases:
        if "error" in case.expect:
            continue
        try:
            at = case_request_time(case, reg.program(case.program))
            answer = decide(reg, DecisionRequest(case.program, case.decision, case.input, at, case.version))
        except (InputError, NotFoundError, EvaluationError, ValueError):
            continue
        compiled = reg.policy(answer.program, answer.version).decisions[answer.decision]
        values = compiled.coerce(case.input)
        values["at"] = at
        body: dict[str, Any] = {"program": case.program, "decision": case.decision, "input": case.input}
        if case.version is not None:
            body["version"] = case.version
        body["at"] = at.isoformat()
        prepared.setdefault((answer.program, answer.version, answer.decision), []).append(
            Prepared(values, _json(body).encode("utf-8"))
        )
    return prepared


def _batch_size(function: Any, items: list[Any]) -> int:
    """Enough calls for a batch of about TARGET_BATCH_US."""
    probe = time_per_call(batch_over(function, items, len(items)), len(items), 1)
    return max(len(items), min(20_000, int(TARGET_BATCH_US / max(probe, 0.05))))


def run(repeats: int = REPEATS) -> dict[str, Any]:
    """Time every decision that has valid cases; list the ones that have none."""
    core = pin_to_one_core()
    reg = registry()
    prepared = prepare(reg)
    decide_bytes = full_decide(reg)
    rows = []
    missing = []
    for program, versions in reg.programs.items():
        for window in versions.windows:
            policy = window.policy
            for name, compiled in policy.decisions.items():
                key = (program, policy.version, name)
                items = prepared.get(key)
                if not items:
                    missing.append(key)
                    continue
                function = compiled.plain.function
                values = [p.values for p in items]
                bodies = [p.body for p in items]
                n_eval = _batch_size(function, values)
                n_decide = _batch_size(decide_bytes, bodies)
                timings = time_interleaved(
                    {
                        "eval": (batch_over(function, values, n_eval), n_eval),
                        "decide": (batch_over(decide_bytes, bodies, n_decide), n_decide),
                    },
                    repeats,
                )
                eval_us, decide_us = timings["eval"], timings["decide"]
                rows.append(
                    {
                        "program": program,
                        "version": policy.version,
                        "decision": name,
                        "rules": len(compiled.rules),
                        "cases": len(items),
                        "eval_us": eval_us,
                        "decide_us": decide_us,
                    }
                )
    return {"rows": rows, "missing": missing, "repeats": repeats, "core": core}


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    lines = [
        "### (a) In-process, every decision (inputs: the valid cases of the policy test tables)",
        "",
        f"Median of {result['repeats']} batches of ~30 ms each, cycling over the decision's valid cases; "
        f"pinned to core {result['core']}.",
        "",
        "| program | version | decision | rules | cases | evaluation only µs | full decide µs "
        "| decide ÷ eval |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['program']} | {row['version']} | {row['decision']} | {row['rules']} | {row['cases']} "
            f"| {fmt(row['eval_us'])} | {fmt(row['decide_us'], 1)} "
            f"| {fmt(row['decide_us'] / row['eval_us'], 1)} |"
        )
    if result["rows"]:
        evals = sorted(r["eval_us"] for r in result["rows"])
        decides = sorted(r["decide_us"] for r in result["rows"])
        lines += [
            "",
            f"Evaluation only: {fmt(evals[0])}–{fmt(evals[-1])} µs (median {fmt(evals[len(evals) // 2])}); "
            f"full decide: {fmt(decides[0], 1)}–{fmt(decides[-1], 1)} µs "
            f"(median {fmt(decides[len(decides) // 2], 1)}).",
        ]
    if result["missing"]:
        shown = ", ".join(f"{p} {v} {d}" for p, v, d in result["missing"])
        lines += ["", f"No valid test case reaches: {shown}."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
