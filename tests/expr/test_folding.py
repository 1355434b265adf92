"""Values known at load are computed once: constant outputs, their JSON text, and constant reason parts.

The fixture program is tests/fixtures/evaluate (acme-perks 2024.01). The plain function answers both with
and without ``explain`` (the traced function only records the conditions), so an explanation never changes
an answer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policy_engine import (
    DecisionRequest,
    EvaluationError,
    InputError,
    NotFoundError,
    Registry,
    decide,
    load_registry,
)
from policy_engine.expr.folding import UNKNOWN, Folder
from policy_engine.expr.scope import ConstantPool
from policy_engine.policy_tests import case_request_time, load_test_cases


@pytest.fixture(scope="module")
def registry(fixtures_dir: Path) -> Registry:
    return load_registry(fixtures_dir / "evaluate" / "policies")


def source(registry: Registry, decision: str, *, traced: bool = False) -> str:
    compiled = registry.policy("acme-perks", "2024.01").decisions[decision]
    return (compiled.traced if traced else compiled.plain).source


def answer_globals(registry: Registry, decision: str) -> dict[str, Any]:
    function = registry.policy("acme-perks", "2024.01").decisions[decision].plain.function
    return dict(function.__globals__)


def test_constant_outputs_are_json_text_in_the_plain_function(registry: Registry) -> None:
    plain = source(registry, "calc")
    # otherwise: {value: 0}, refund from the schema default: both money, written as their JSON text;
    # every field is known, so the answer is a copy of one constant dict.
    found = re.search(r"return \(\(-1,\), (_k[0-9]+)\.copy\(\), ", plain)
    assert found, plain
    answer = answer_globals(registry, "calc")[found.group(1)]
    assert answer == {"value": "0.00", "refund": "0.00", "due": None, "note": "n/a"}
    assert list(answer) == ["value", "refund", "due", "note"]  # the schema's order, as JSON shows it
    assert "_f1(r_refund, 'refund')" in plain  # the rule that refunds the input amount still formats it
    # A field known only at run time: the dict is written out, the known fields as JSON text.
    assert "{'value': _f0(r_value, 'value'), 'refund': '0.00', 'due': None, 'note': 'n/a'}" in plain


def test_constant_reason_parts_merge_into_one_literal(registry: Registry) -> None:
    plain = source(registry, "calc")
    # "waited {waited} (limit {params.window}), amount {amount}": the param part is known at load.
    assert "' (limit 6h), amount '" in plain
    assert "_rd(p_window)" not in plain


def test_derived_output_of_constants_is_folded(registry: Registry) -> None:
    plain = source(registry, "perks")
    otherwise = plain[plain.index("if not _m:") :]
    assert "'total': '0.00'" in otherwise
    assert "'labels': _f6(r_labels, 'labels')" in otherwise  # lists stay fresh per call


def test_traced_function_records_the_conditions_and_answers_nothing(registry: Registry) -> None:
    traced = source(registry, "calc", traced=True)
    assert "_M(tr, 0, " in traced and "_T(tr, " in traced
    assert "return ((" not in traced and "'0.00'" not in traced  # the plain function answers


def test_folder_leaves_what_raises_or_varies_to_run_time() -> None:
    pool = ConstantPool()
    namespace = {
        pool.add(Decimal("1")): Decimal("1"),
        pool.add(Decimal("0")): Decimal("0"),
        "p_limit": Decimal("5"),
    }
    folder = Folder(namespace, pool)
    assert folder.value("(_k0 / _k1)", {}) is UNKNOWN  # raises at load: raises again, located, per call
    assert folder.value("(i_order['amount'] + _k0)", {}) is UNKNOWN
    assert folder.value("[_k0, _k1]", {}) is UNKNOWN  # mutable: a fresh list per call
    assert folder.value("(_k0 ** _k0)", {}) is UNKNOWN  # powers are not worked out at load
    assert folder.value("(r_a + p_limit)", {"r_a": UNKNOWN}) is UNKNOWN
    assert folder.value("(r_a + p_limit)", {"r_a": Decimal("2")}) == Decimal("7")
    assert folder.value("(p_limit if True else _k0)", {}) == Decimal("5")
    assert folder.value("os.system('x')", {}) is UNKNOWN  # only the module's own names
    assert folder.literal(Decimal("7")) == folder.literal(Decimal("7")) == "_k2"
    assert folder.literal(Decimal("1")) == "_k0"  # a folded value equal to a constant reuses it
    assert pool.values == {"_k0": Decimal("1"), "_k1": Decimal("0"), "_k2": Decimal("7")}


def test_explaining_changes_no_bundled_answer(
    bundled_registry: Registry, repo_root: Path
) -> None:
    cases, errors = load_test_cases(repo_root / "policies")
    assert not errors
    compared = 0
    for case in cases:
        at = case_request_time(case, bundled_registry.program(case.program))
        answers = []
        for explain in (False, True):
            request = DecisionRequest(
                case.program, case.decision, case.input, at, case.version, explain=explain
            )
            try:
                decision = decide(bundled_registry, request)
            except (InputError, NotFoundError, EvaluationError) as exc:
                answers.append(type(exc).__name__)
                continue
            answers.append((decision.result, decision.matched_rules, [r.message for r in decision.reasons]))
        assert answers[0] == answers[1], case.id
        compared += isinstance(answers[0], tuple)
    assert compared > 450  # every valid case of the bundled tables (the rest expect an error)


def test_known_values_the_answer_holds_as_literals_are_not_stored(registry: Registry) -> None:
    plain = source(registry, "calc")
    assert "r_note = " not in plain  # 'n/a' everywhere: the answers hold the literal
    assert plain.count("r_refund = ") == 1  # only where the answer formats it from the input
    assert "return ((-1,), _k" in plain
    perks = source(registry, "perks")
    assert "r_coupon = _k0" in perks  # collect: the accumulators read each rule's values


def test_a_constant_answer_is_a_fresh_dict_per_call(registry: Registry) -> None:
    function = registry.policy("acme-perks", "2024.01").decisions["calc"].plain.function
    placed = datetime(2024, 5, 1, tzinfo=UTC)
    inp = {
        "mode": "plain",
        "amount": Decimal("10"),
        "bonus": None,
        "tier": "gold",
        "placed_at": placed,
        "filed_at": placed + timedelta(days=1),  # past the window: otherwise
    }
    first = function(inp)
    assert first[0] == (-1,)
    first[1]["note"] = "changed by a caller"
    second = function(inp)
    assert second[1] is not first[1]
    assert second[1]["note"] == "n/a"
