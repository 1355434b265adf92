"""Property test: compiled expressions agree with a small, independent reference evaluator of the syntax tree.

Hypothesis builds random expression trees (``+ - *``, ``< <= == !=``, ``and or not``) over exact decimal
literals, input fields that may be null and null literals, at most four levels deep. Each tree is rendered
with :func:`ast.unparse`, compiled and run by the engine, and evaluated by :func:`reference`, which walks the
tree itself and implements the null rules of docs/policy-language.md ("Null"): ``==``/``!=`` compare null
as a value, ``<``/``<=`` with a null operand are false, arithmetic with null is null, ``and``/``or``
short-circuit. Nothing here evaluates the rendered text with Python.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from policy_engine.coerce import build_coercer
from policy_engine.expr.codegen import ExprCompiler
from policy_engine.expr.function import build_function
from policy_engine.expr.scope import ConstantPool, Scope
from policy_engine.expr.syntax import ExprProblem, parse_expression
from policy_engine.expr.types import type_of_schema
from policy_engine.runtime import runtime_namespace

ORDER_SCHEMA = {
    "type": "object",
    "required": ["amount", "rate", "count"],
    "properties": {
        "amount": {"type": ["string", "number", "null"], "format": "money"},
        "rate": {"type": ["number", "null"]},
        "count": {"type": ["integer", "null"]},
        "tip": {"type": ["string", "number"], "format": "money"},
    },
}
"""Every field may be null; ``tip`` is optional, so it reads as null when absent."""
INPUT = type_of_schema({"type": "object", "required": ["order"], "properties": {"order": ORDER_SCHEMA}})
SCOPE = Scope(inputs=dict(INPUT.fields), params={}, lets={})
COERCE = build_coercer(INPUT)
FIELDS = tuple(ORDER_SCHEMA["properties"])


# -- the reference evaluator ----------------------------------------------------------------------

ARITHMETIC: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}
ORDERING: Mapping[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
EQUALITY: Mapping[type[ast.cmpop], Callable[[Any, Any], bool]] = {ast.Eq: operator.eq, ast.NotEq: operator.ne}
LITERALS: Mapping[str, bool | None] = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "null": None,
    "None": None,
}


def reference(node: ast.expr, order: Mapping[str, Decimal | None]) -> Decimal | bool | None:
    """The value of a generated tree by the spec's rules, computed on plain Decimals."""
    if isinstance(node, ast.Constant):
        return (
            None
            if node.value is None
            else node.value
            if isinstance(node.value, bool)
            else Decimal(node.value)
        )
    if isinstance(node, ast.Name):
        return LITERALS[node.id]
    if isinstance(node, ast.Attribute):
        return order[node.attr]
    if isinstance(node, ast.BinOp):
        left, right = reference(node.left, order), reference(node.right, order)
        return None if left is None or right is None else ARITHMETIC[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        (op,), (right_node,) = node.ops, node.comparators
        left, right = reference(node.left, order), reference(right_node, order)
        if type(op) in EQUALITY:
            return EQUALITY[type(op)](left, right)
        return left is not None and right is not None and ORDERING[type(op)](left, right)
    if isinstance(node, ast.BoolOp):
        stop = isinstance(node.op, ast.Or)  # `or` stops at the first true value, `and` at the first false
        for value in node.values:
            result = reference(value, order)
            if bool(result) is stop:
                return result
        return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not reference(node.operand, order)
    raise AssertionError(f"the generator made a node the reference does not know: {ast.dump(node)}")


def rejected_at_load(node: ast.expr) -> bool:
    """Whether the engine must refuse the tree: ordering a null literal against a typed value.

    That is knowable at load, so it is a load error (type-mismatch). When the other side's type is not
    known at load either (another null literal, or arithmetic with one: ``null < null + 1``) the engine
    lets it through, and the comparison is false by the null rules.
    """
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Compare) and type(sub.ops[0]) in ORDERING):
            continue
        left, right = sub.left, sub.comparators[0]
        if (_is_null_literal(left) and not _has_null_literal(right)) or (
            _is_null_literal(right) and not _has_null_literal(left)
        ):
            return True
    return False


def _has_null_literal(node: ast.expr) -> bool:
    return any(_is_null_literal(sub) for sub in ast.walk(node))


def _is_null_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (
        isinstance(node, ast.Name) and LITERALS.get(node.id, False) is None
    )


# -- the engine -----------------------------------------------------------------------------------


def engine(text: str, order: Mapping[str, Any]) -> Any:
    """Compile ``text`` and run it on ``order``; an :class:`ExprProblem` when it does not compile."""
    parsed = parse_expression(text)
    if isinstance(parsed, ExprProblem):
        return parsed
    pool = ConstantPool()
    compiler = ExprCompiler(parsed, SCOPE, pool)
    compiled = compiler.compile()
    if compiled is None:
        return compiler.problems[0]
    namespace, _ = runtime_namespace(ZoneInfo("Asia/Shanghai"), {}, pool.values, {})
    source = f"def decide(inp):\n    i_order = inp['order']\n    return {compiled.code}\n"
    function = build_function(source, "decide", namespace, "<reference test>")
    return function(COERCE({"order": order}))


# -- random trees ---------------------------------------------------------------------------------


class Literal(Decimal):
    """A decimal literal that :func:`ast.unparse` writes as its text (``12.50``), as a policy would."""

    def __repr__(self) -> str:
        return str(self)


literals = st.one_of(
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-20, max_value=20).map(Decimal),
).map(lambda d: ast.Constant(Literal(d)))
fields = st.sampled_from(FIELDS).map(lambda name: ast.Attribute(ast.Name("order"), name))
nulls = st.sampled_from([ast.Constant(None), ast.Name("null"), ast.Name("None")]).map(
    lambda node: ast.Constant(None) if isinstance(node, ast.Constant) else ast.Name(node.id)
)
truths = st.sampled_from(["true", "false", "True", "False"]).map(ast.Name)


def numbers(depth: int) -> st.SearchStrategy[ast.expr]:
    leaves = st.one_of(literals, fields, fields, nulls)
    if depth == 0:
        return leaves
    below = numbers(depth - 1)
    operators = st.sampled_from(list(ARITHMETIC))
    return st.one_of(leaves, st.builds(lambda a, op, b: ast.BinOp(a, op(), b), below, operators, below))


def booleans(depth: int) -> st.SearchStrategy[ast.expr]:
    if depth == 0:
        return truths
    below, operands = booleans(depth - 1), numbers(depth - 1)
    comparisons = st.sampled_from([*ORDERING, *EQUALITY])
    return st.one_of(
        truths,
        st.builds(lambda a, op, b: ast.Compare(a, [op()], [b]), operands, comparisons, operands),
        st.builds(
            lambda a, op, b: ast.Compare(a, [op()], [b]), below, st.sampled_from(list(EQUALITY)), below
        ),
        st.builds(
            lambda op, values: ast.BoolOp(op(), values),
            st.sampled_from([ast.And, ast.Or]),
            st.lists(below, min_size=2, max_size=3),
        ),
        st.builds(lambda a: ast.UnaryOp(ast.Not(), a), below),
    )


trees = st.one_of(numbers(4), booleans(4))
amounts = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
orders = st.fixed_dictionaries(
    {
        "amount": st.none() | amounts.map(str),
        "rate": st.none() | st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False),
        "count": st.none() | st.integers(min_value=-20, max_value=20),
    },
    optional={"tip": amounts.map(str)},
)


def plain(order: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """The reference's view of an order: every field, as a Decimal or null."""
    return {name: None if order.get(name) is None else Decimal(order[name]) for name in FIELDS}


# -- the property ---------------------------------------------------------------------------------


def check(tree: ast.expr, order: Mapping[str, Any]) -> None:
    text = ast.unparse(tree)
    actual = engine(text, order)
    if rejected_at_load(tree):
        assert isinstance(actual, ExprProblem) and actual.code == "type-mismatch", (text, actual)
        return
    assert not isinstance(actual, ExprProblem), (text, actual)
    expected = reference(tree, plain(order))
    note = f"{text} on {dict(order)}: engine {actual!r}, reference {expected!r}"
    if expected is None or isinstance(expected, bool):
        assert actual is expected, note
    else:
        assert type(actual) in (Decimal, int), note  # never a float, never a bool
        assert actual == expected, note


@settings(max_examples=300, deadline=None)
@given(tree=trees, order=orders)
@example(
    tree=ast.BinOp(ast.Constant(Literal("0.1")), ast.Add(), ast.Constant(Literal("0.2"))),
    order={"amount": None, "rate": None, "count": None},
)
@example(
    tree=ast.Compare(ast.Attribute(ast.Name("order"), "tip"), [ast.Lt()], [ast.Constant(Literal("1"))]),
    order={"amount": None, "rate": None, "count": None},
)
@example(
    tree=ast.Compare(ast.Name("null"), [ast.LtE()], [ast.Constant(Literal("1"))]),
    order={"amount": None, "rate": None, "count": None},
)
def test_engine_agrees_with_the_reference(tree: ast.expr, order: dict[str, Any]) -> None:
    check(tree, order)


def test_the_reference_follows_the_spec() -> None:
    # The reference itself, on the spec's own sentences: it must be right for the property to mean much.
    order = {"amount": Decimal("5"), "rate": None, "count": None, "tip": None}
    rate = ast.Attribute(ast.Name("order"), "rate")
    one = ast.Constant(Literal("1"))
    assert reference(ast.Compare(rate, [ast.Lt()], [one]), order) is False
    assert reference(ast.Compare(rate, [ast.GtE()], [one]), order) is False
    assert reference(ast.Compare(rate, [ast.Eq()], [ast.Name("null")]), order) is True
    assert reference(ast.Compare(rate, [ast.NotEq()], [one]), order) is True
    assert reference(ast.BinOp(rate, ast.Mult(), one), order) is None
    assert reference(ast.BoolOp(ast.Or(), [ast.Name("true"), ast.Name("false")]), order) is True
    assert reference(ast.UnaryOp(ast.Not(), ast.Name("false")), order) is True
    assert ast.unparse(ast.BinOp(one, ast.Sub(), ast.Constant(Literal("-2.50")))) == "1 - -2.50"
