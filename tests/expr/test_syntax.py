"""Parsing an expression: the cached answer and the one-line source lookup equal what ``ast`` gives."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_engine.expr.syntax import ExprProblem, ParsedExpression, parse_expression

TEXTS = [
    'claim.type == "instant_refund" and order.amount <= params.instant_refund_max',
    "  min(order.amount,\n   params.cap) - 1.5",
    '"未发货订单" in order.tags or order.note == "极速退款"',
    "order.amount >",
    "",
    "a if b else (c + d) * 2",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_cached_answer_is_the_same_object_and_equals_a_fresh_parse(text: str) -> None:
    first, again = parse_expression(text), parse_expression(text)
    assert first is again
    if isinstance(first, ExprProblem):
        return
    fresh = ast.parse(first._parsed, mode="eval").body
    assert ast.dump(first.tree, include_attributes=True) == ast.dump(fresh, include_attributes=True)


@pytest.mark.parametrize("text", TEXTS)
def test_source_of_every_node_is_what_ast_get_source_segment_gives(text: str) -> None:
    parsed = parse_expression(text)
    if not isinstance(parsed, ParsedExpression):
        return
    for node in ast.walk(parsed.tree):
        if isinstance(node, ast.expr):
            assert parsed.source_of(node) == ast.get_source_segment(parsed._parsed, node)


_ATOMS = st.sampled_from(["order.amount", "1.5", '"极速"', "params.x", "len(items)", "None", "'a\\nb'"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_ATOMS, st.sampled_from([" + ", " and ", " == ", "\n  * ", " in ", " if x else "])))
)
def test_offsets_and_sources_match_ast_on_generated_expressions(parts: list[tuple[str, str]]) -> None:
    text = "  " + "".join(atom + op for atom, op in parts) + "1"
    parsed = parse_expression(text)
    if not isinstance(parsed, ParsedExpression):
        return
    encoded = parsed._parsed.encode()
    for node in ast.walk(parsed.tree):
        if isinstance(node, ast.expr):
            assert parsed.source_of(node) == ast.get_source_segment(parsed._parsed, node)
            expected = parsed.shift + len(encoded[: node.col_offset].decode(errors="ignore"))
            assert parsed.offset(node) == expected
