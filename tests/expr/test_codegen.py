"""Compile single expressions with the code generator, run the generated code, and check values and problems.

Each class is one kind of ``ast`` node (or one concern: null, exact decimals, durations, problems); each
table row is an expression as a policy author writes it and what it must give on the default input below.
The harness builds a :class:`Scope` from a small inline input schema and typed params, compiles the text
the way a decision does (plain and traced), wraps the code in a function like the generated decision
functions and evaluates it on input coerced by :func:`build_coercer`.
"""

from __future__ import annotations

import ast
import decimal
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from policy_engine.coerce import build_coercer
from policy_engine.expr.codegen import CompiledExpr, ExprCompiler, TraceTable
from policy_engine.expr.function import build_function
from policy_engine.expr.scope import ConstantPool, Scope, param_name, result_name
from policy_engine.expr.signatures import SIGNATURES
from policy_engine.expr.syntax import MAX_EXPRESSION_CHARS, ExprProblem, parse_expression
from policy_engine.expr.types import (
    DURATION,
    MONEY,
    STRING,
    Kind,
    Type,
    list_of,
    type_of_schema,
)
from policy_engine.runtime import runtime_namespace

D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))

MONEY_SCHEMA = {"type": ["string", "number"], "format": "money"}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["amount", "placed_at", "shipped_at", "category", "items", "quantity", "discount"],
    "properties": {
        "amount": MONEY_SCHEMA,
        "placed_at": {"type": "string", "format": "date-time"},
        "shipped_at": {"type": ["string", "null"], "format": "date-time"},
        "category": {"type": "string", "enum": ["general", "fresh", "beauty"]},
        "items": {
            "type": "array",
            "items": {"type": "object", "required": ["price"], "properties": {"price": MONEY_SCHEMA}},
        },
        "quantity": {"type": "integer"},
        "note": {"type": "string"},
        # Beyond the brief's order: a nullable amount, an optional count and an optional object, so
        # that null arithmetic and fields of an absent object have something to read.
        "discount": {"type": ["string", "number", "null"], "format": "money"},
        "boxes": {"type": "integer"},
        "buyer": {"type": "object", "properties": {"vip": {"type": "boolean"}}},
    },
}
INPUT_SCHEMA = {
    "type": "object",
    "required": ["order", "at"],
    "properties": {"order": ORDER_SCHEMA, "at": {"type": "string", "format": "date-time"}},
}
INPUT = type_of_schema(INPUT_SCHEMA)
COERCE = build_coercer(INPUT)

ROW = Type(Kind.OBJECT, fields=(("id", STRING), ("threshold", Type(Kind.INTEGER)), ("deposit", MONEY)))
PARAMS: Mapping[str, tuple[Type, Any]] = {
    "cap": (MONEY, D("300.00")),
    "window": (DURATION, timedelta(hours=6)),
    "tags": (list_of(STRING), ["genuine", "fresh"]),
    "scenarios": (
        Type(Kind.TABLE, item=ROW),
        {
            "bike": {"id": "bike", "threshold": 650, "deposit": D("99.00")},
            "hotel": {"id": "hotel", "threshold": 600, "deposit": D("500.00")},
        },
    ),
}
RESULT = {"refund": MONEY, "outcome": Type(Kind.STRING, enum=("approve", "deny"))}
LET = ("since", "at - order.placed_at")
"""One ``let`` visible to every expression: the time between the order and the request."""

ORDER: dict[str, Any] = {
    "amount": "100.00",
    "placed_at": "2021-09-01T10:00:00+08:00",
    "shipped_at": None,
    "category": "general",
    "items": [{"price": "1.50"}, {"price": "2.25"}],
    "quantity": 3,
    "discount": None,
}
AT = "2021-09-01T16:30:00+08:00"


# -- the harness ----------------------------------------------------------------------------------


def base_scope(lets: Mapping[str, Type] | None = None, *, derive: bool = False) -> Scope:
    return Scope(
        inputs=dict(INPUT.fields),
        params={name: type_ for name, (type_, _) in PARAMS.items()},
        lets=dict(lets or {}),
        result=RESULT if derive else None,
    )


def problems_of(text: str, scope: Scope | None = None) -> list[ExprProblem]:
    """Every problem of one expression (parse or compile); empty when it compiles."""
    parsed = parse_expression(text)
    if isinstance(parsed, ExprProblem):
        return [parsed]
    scope = scope or base_scope({LET[0]: DURATION})
    compiler = ExprCompiler(parsed, scope, ConstantPool())
    result = compiler.compile()
    assert (result is None) == bool(compiler.problems)
    return compiler.problems


def problem(text: str) -> ExprProblem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def compile_text(
    text: str, scope: Scope, pool: ConstantPool, trace: TraceTable | None = None
) -> CompiledExpr:
    parsed = parse_expression(text)
    assert not isinstance(parsed, ExprProblem), parsed
    compiler = ExprCompiler(parsed, scope, pool, trace)
    result = compiler.compile()
    assert result is not None, compiler.problems
    return result


def static_type(text: str, *, derive: bool = False) -> Type:
    return compile_text(text, base_scope({LET[0]: DURATION}, derive=derive), ConstantPool()).type


def evaluate(text: str, *, at: str = AT, result: Mapping[str, Any] | None = None, **order: Any) -> Any:
    """Compile ``text`` as a decision would and run it on the default order with ``order`` overrides.

    The plain and the traced code must agree; the plain value is returned.
    """
    pool = ConstantPool()
    let = compile_text(LET[1], base_scope(), pool)
    scope = base_scope({LET[0]: let.type}, derive=result is not None)
    plain = compile_text(text, scope, pool)
    traced = compile_text(text, scope, pool, TraceTable())
    namespace, _ = runtime_namespace(TZ, {}, pool.values, {})
    namespace.update({param_name(name): value for name, (_, value) in PARAMS.items()})
    namespace.update({f"_given_{k}": v for k, v in (result or {}).items()})
    results = "".join(f"    {result_name(k)} = _given_{k}\n" for k in result or {})
    values = []
    # The traced pass makes the plain code too: it must agree as well.
    for code in (plain.code, traced.traced or traced.code, traced.code):
        source = (
            "def decide(inp, tr):\n"
            "    i_order = inp['order']\n"
            "    i_at = inp['at']\n"
            f"    l_{LET[0]} = {let.code}\n"
            f"{results}"
            f"    return {code}\n"
        )
        function = build_function(source, "decide", namespace, "<test expression>")
        values.append(function(COERCE({"order": {**ORDER, **order}, "at": at}), {}))
    assert_same(values[1], values[0])
    assert_same(values[2], values[0])
    return values[0]


def assert_same(actual: Any, expected: Any) -> None:
    """Equal, and of exactly the same type: a Decimal is never a float (nor an int, nor a bool)."""
    assert type(actual) is type(expected), f"{actual!r} is a {type(actual).__name__}, want {expected!r}"
    if isinstance(expected, list):
        assert len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e)
    else:
        assert actual == expected


def cases(table: list[tuple[Any, ...]]) -> Any:
    """Parametrize a ``(text, …)`` table with the expression text as the test id."""
    return pytest.mark.parametrize(("text", "expected"), table, ids=[row[0][:60] for row in table])


# -- leaves ---------------------------------------------------------------------------------------


class TestConstant:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("300", D("300")),
        ("300.00", D("300.00")),
        ("0.5", D("0.5")),
        ("007.50", D("7.50")),
        ("123456789012345678901234567890", D("123456789012345678901234567890")),
        ("12345678901234567890.1234567890", D("12345678901234567890.1234567890")),
        ("'single'", "single"),
        ('"极速退款"', "极速退款"),
        ('"a" "b"', "ab"),
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("null", None),
        ("None", None),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    def test_numbers_are_decimals_from_their_text_never_floats(self) -> None:
        # 0.1 as a float is 0.1000000000000000055…; from its text it is exactly one tenth.
        assert evaluate("0.1") == D(1) / 10
        assert evaluate("0.1") != D(0.1)


class TestName:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("at", datetime(2021, 9, 1, 16, 30, tzinfo=CST)),
        ("since", timedelta(hours=6, minutes=30)),
        ("order.category", "general"),
        ("[p for p in params.tags]", ["genuine", "fresh"]),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    def test_an_input_root_is_its_object(self) -> None:
        assert evaluate("order")["amount"] == D("100.00")

    def test_result_fields_in_derive(self) -> None:
        assert_same(evaluate("result.refund + 1", result={"refund": D("2.50")}), D("3.50"))
        assert_same(evaluate("result.outcome == 'approve'", result={"outcome": "approve"}), True)


class TestAttribute:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("order.amount", D("100.00")),
        ("order.placed_at", datetime(2021, 9, 1, 10, tzinfo=CST)),
        ("order.shipped_at", None),
        ("order.note", None),
        ("order.quantity", 3),
        ("order.buyer.vip", None),
        ("params.cap", D("300.00")),
        ("params.window", timedelta(hours=6)),
        ("params.tags", ["genuine", "fresh"]),
        ("lookup(params.scenarios, 'hotel').deposit", D("500.00")),
        ("lookup(params.scenarios, 'bike').threshold", 650),
        ("(order).amount", D("100.00")),
        ("order . amount", D("100.00")),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    def test_fields_of_present_optional_values(self) -> None:
        assert_same(evaluate("order.note", note="gift"), "gift")
        assert_same(evaluate("order.buyer.vip", buyer={"vip": True}), True)
        assert_same(
            evaluate("order.shipped_at", shipped_at="2021-09-01T12:00:00Z"),
            datetime(2021, 9, 1, 20, tzinfo=CST),
        )


# -- operators ------------------------------------------------------------------------------------


class TestBoolOp:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("true and true", True),
        ("true and false", False),
        ("false or true", True),
        ("false or false", False),
        ("true and true and false", False),
        ("false or false or true", True),
        ("false or true and false", False),
        ("order.amount > 50 and order.category == 'general'", True),
        ("order.shipped_at is None or order.shipped_at > at", True),
        # Short-circuit: the right side would fail (division by zero, a key not in the table).
        ("false and 1 / 0 > 1", False),
        ("true or 1 / 0 > 1", True),
        ("false and lookup(params.scenarios, 'ferry').deposit > 0", False),
        ("order.shipped_at is not None and order.shipped_at - order.placed_at > params.window", False),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    @pytest.mark.parametrize("text", ["1 / 0 > 1", "true and 1 / 0 > 1", "false or 1 / 0 > 1"])
    def test_the_right_side_runs_when_needed(self, text: str) -> None:
        with pytest.raises(decimal.DivisionByZero):
            evaluate(text)


class TestUnaryOp:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("not true", False),
        ("not false", True),
        ("not not true", True),
        ("not order.shipped_at is None", False),
        ("-order.amount", D("-100.00")),
        ("+order.amount", D("100.00")),
        ("--1", D("1")),
        ("-order.quantity", -3),
        ("-params.window", timedelta(hours=-6)),
        ("+params.window", timedelta(hours=6)),
        ("-2 ** 2", D("-4")),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)


class TestBinOp:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("1 + 2", D("3")),
        ("order.amount + 0.5", D("100.50")),
        ("order.amount - 0.01", D("99.99")),
        ("order.amount * 3", D("300.00")),
        ("order.amount / 8", D("12.5")),
        ("order.amount / params.cap", D("100.00") / D("300.00")),
        ("7 // 2", D("3")),
        ("7.5 // 2", D("3")),
        ("7 % 2", D("1")),
        ("7.5 % 2", D("1.5")),
        ("2 ** 10", D("1024")),
        ("1.5 ** 2", D("2.25")),
        ("2 ** 0", D("1")),
        ("2 ** 64", D(2**64)),
        ("1 + 2 * 3", D("7")),
        ("(1 + 2) * 3", D("9")),
        ("10 - 4 - 3", D("3")),
        ("order.quantity + 1", D("4")),
        ("order.quantity * order.quantity", 9),
        ("order.quantity - 5", D("-2")),  # the literal 5 is a Decimal
        ("order.quantity // 2", D("1")),
        ("order.quantity % 2", D("1")),
        ("order.quantity - order.quantity", 0),  # two input integers stay an int
        ("order.quantity ** 2", D("9")),
        ("'a' + 'b'", "ab"),
        ("order.category + '/' + 'x'", "general/x"),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("order.quantity / 2", D("1.5")),
            ("order.quantity / order.boxes", D("1.5")),
            ("3 / 2", D("1.5")),
            ("order.boxes / 4", D("0.5")),
        ],
    )
    def test_whole_number_division_gives_an_exact_decimal(self, text: str, expected: Decimal) -> None:
        assert static_type(text).kind is Kind.DECIMAL
        assert_same(evaluate(text, boxes=2), expected)


class TestCompare:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("1 < 2", True),
        ("2 < 2", False),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("1 == 1.00", True),
        ("1 != 2", True),
        ("order.amount == 100", True),
        ("order.amount <= params.cap", True),
        ("order.amount > params.cap", False),
        ("order.quantity >= 3", True),
        ("1 < 2 <= 2", True),
        ("1 < 3 <= 2", False),
        ("0 < order.quantity <= 3 < 4", True),
        ("order.amount > 50 > 100", False),
        ("1 == 1 != 2", True),
        ("order.category == 'general'", True),
        ("order.category != 'fresh'", True),
        ("'a' < 'b'", True),
        ("'fresh' in params.tags", True),
        ("order.category in params.tags", False),
        ("order.category not in params.tags", True),
        ("order.category in ['general', 'beauty']", True),
        ("order.category in ('fresh',)", False),
        ("1.50 in [i.price for i in order.items]", True),
        ("'gen' in order.category", True),
        ("'x' in order.note", False),
        ("order.shipped_at is None", True),
        ("order.shipped_at is not None", False),
        ("order.note is null", True),
        ("order.placed_at < at", True),
        ("order.placed_at == at - since", True),
        ("local_time(at) >= local_time(order.placed_at)", True),
        ("local_date(at) == local_date(order.placed_at)", True),
        ("true == true", True),
        ("[1, 2] == [1, 2.0]", True),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    def test_a_chain_reads_each_operand_once(self) -> None:
        # Python's own `a < b < c` reads b once; the generated code must too (b is a temporary).
        code = static_and_code("1 < order.quantity < 5")[1]
        assert code.count("i_order['quantity']") == 1


def static_and_code(text: str) -> tuple[Type, str]:
    compiled = compile_text(text, base_scope({LET[0]: DURATION}), ConstantPool())
    return compiled.type, compiled.code


class TestIfExp:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("1 if true else 2", D("1")),
        ("1 if false else 2", D("2")),
        ("'yes' if order.amount > 50 else 'no'", "yes"),
        ("order.discount if order.discount is not None else 0", D("0")),
        ("1 if false else 2 if false else 3", D("3")),
        ("0 if true else 1 / 0", D("0")),
        ("(1 if true else null) + 1", D("2")),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)


# -- collections and calls ------------------------------------------------------------------------


class TestListAndTuple:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("[1, 2]", [D("1"), D("2")]),
        ("[]", []),
        ("[order.category, 'x']", ["general", "x"]),
        ("[order.amount, null]", [D("100.00"), None]),
        ("(1, 2)", [D("1"), D("2")]),
        ("(1,)", [D("1")]),
        ("()", []),
        ("len([1, 2, 3])", 3),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)


class TestComprehension:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("[i.price for i in order.items]", [D("1.50"), D("2.25")]),
        ("[i.price * 2 for i in order.items if i.price > 2]", [D("4.50")]),
        ("[t for t in params.tags if t != 'fresh']", ["genuine"]),
        ("[r.deposit for r in params.scenarios]", [D("99.00"), D("500.00")]),
        ("[r.id for r in params.scenarios if r.threshold < 620]", ["hotel"]),
        ("any(i.price > 2 for i in order.items)", True),
        ("all(i.price > 2 for i in order.items)", False),
        ("sum(i.price for i in order.items)", D("3.75")),
        ("max(i.price for i in order.items)", D("2.25")),
        ("min(i.price for i in order.items)", D("1.50")),
        ("len([i for i in order.items if i.price > 1])", 2),
        ("[any(j.price > i.price for j in order.items) for i in order.items]", [True, False]),
        ("any(x.price > 2 for x in order.items) and all(x.price > 1 for x in order.items)", True),
        ("[i.price + order.quantity for i in order.items]", [D("4.50"), D("5.25")]),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("[i.price for i in order.items]", []),
            ("any(i.price > 1 for i in order.items)", False),
            ("all(i.price > 1 for i in order.items)", True),
            ("sum(i.price for i in order.items)", D("0")),
            ("max(i.price for i in order.items)", None),
        ],
    )
    def test_over_an_empty_list(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text, items=[]), expected)


class TestCall:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("min(1, 2)", D("1")),
        ("min([3, 1, 2])", D("1")),
        ("min(order.amount, params.cap)", D("100.00")),
        ("max(order.amount, params.cap)", D("300.00")),
        ("max(params.tags)", "genuine"),
        ("max(params.window, since)", timedelta(hours=6, minutes=30)),
        ("abs(-1.5)", D("1.5")),
        ("abs(order.quantity - 5)", D("2")),
        ("abs(order.placed_at - at)", timedelta(hours=6, minutes=30)),
        ("floor(2.7)", 2),
        ("floor(-2.5)", -3),
        ("floor(order.amount / 3)", 33),
        ("round_money(0.005)", D("0.01")),
        ("round_money(2.675)", D("2.68")),
        ("round_money(order.amount / 3)", D("33.33")),
        ("len(order.items)", 2),
        ("len(params.tags)", 2),
        ("len(params.scenarios)", 2),
        ("sum([1, 2.5])", D("3.5")),
        ("sum([])", D("0")),
        ("any([false, true])", True),
        ("any([])", False),
        ("all([true, true])", True),
        ("all([])", True),
        ("coalesce(order.note, 'none')", "none"),
        ("coalesce(null, null, 3)", D("3")),
        ("coalesce(order.discount, order.amount)", D("100.00")),
        ("local_date(order.placed_at)", date(2021, 9, 1)),
        ("local_time(order.placed_at)", time(10, 0)),
        ("start_of_day(local_date(at))", datetime(2021, 9, 1, tzinfo=CST)),
        ("end_of_day(local_date(at))", datetime(2021, 9, 1, 23, 59, 59, tzinfo=CST)),
        ("add_days(local_date(at), 7)", date(2021, 9, 8)),
        ("add_days(local_date(at), -1)", date(2021, 8, 31)),
        ("days_between(order.placed_at, at)", 0),
        ("day_window_end(order.placed_at, 7)", datetime(2021, 9, 9, tzinfo=CST)),
        ("lookup(params.scenarios, 'bike').deposit", D("99.00")),
        ("duration('1h30m')", timedelta(hours=1, minutes=30)),
        ("duration('2d')", timedelta(days=2)),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    def test_every_builtin_is_called_above(self) -> None:
        called = {
            node.func.id
            for text, _ in self.TABLE
            for node in ast.walk(ast.parse(text, mode="eval"))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert called == set(SIGNATURES)

    def test_dates_use_the_program_zone(self) -> None:
        # 17:00 UTC on 31 August is already 1 September in Shanghai.
        assert_same(evaluate("local_date(at)", at="2021-08-31T17:00:00Z"), date(2021, 9, 1))
        assert_same(evaluate("days_between(order.placed_at, at)", at="2021-09-03T00:00:00+08:00"), 2)

    def test_lookup_of_a_missing_key_fails_at_run_time(self) -> None:
        with pytest.raises(LookupError, match="ferry"):
            evaluate("lookup(params.scenarios, 'ferry').deposit")


# -- semantics across nodes -----------------------------------------------------------------------


class TestNull:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        # Ordering with a null operand is false, whichever side and whichever operator.
        ("order.shipped_at < at", False),
        ("order.shipped_at <= at", False),
        ("order.shipped_at > at", False),
        ("order.shipped_at >= at", False),
        ("at > order.shipped_at", False),
        ("not (order.shipped_at < at)", True),
        ("order.discount < 1", False),
        ("1 < order.discount", False),
        ("0 < order.discount < 10", False),
        ("order.discount < 10 < 20", False),
        ("order.note < 'z'", False),
        # == and != compare null as a value.
        ("order.discount == null", True),
        ("order.discount != null", False),
        ("order.discount == None", True),
        ("null == null", True),
        ("order.discount == 0", False),
        ("order.discount != 0", True),
        ("order.note == null", True),
        # Arithmetic with null gives null.
        ("order.discount + 1", None),
        ("1 - order.discount", None),
        ("order.discount * order.amount", None),
        ("order.discount / 2", None),
        ("order.discount // 2", None),
        ("order.discount % 2", None),
        ("order.discount ** 2", None),
        ("-order.discount", None),
        ("null + 1", None),
        ("1 * null", None),
        ("order.boxes / 2", None),
        ("order.boxes + 1", None),
        ("params.window * order.boxes", None),
        ("order.boxes * params.window", None),
        ("order.shipped_at + params.window", None),
        ("order.shipped_at - order.placed_at", None),
        ("order.note + 'x'", None),
        ("(order.discount + 1) * 2", None),
        # … and built-ins pass it on, except coalesce.
        ("min(order.discount, 1)", None),
        ("max(1, null)", None),
        ("abs(order.discount)", None),
        ("round_money(order.discount)", None),
        ("local_date(order.shipped_at)", None),
        ("coalesce(order.discount, 0) + 1", D("1")),
        ("order.buyer.vip", None),
        ("order.buyer.vip == true", False),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("order.discount + 1", D("6.00")),
            ("order.discount < 10", True),
            ("0 < order.discount < 10", True),
            ("order.discount == null", False),
            ("-order.discount", D("-5.00")),
            ("order.boxes / 2", D("2.5")),
            ("params.window * order.boxes", timedelta(hours=30)),
            ("order.shipped_at - order.placed_at", timedelta(hours=2)),
        ],
    )
    def test_the_same_with_values(self, text: str, expected: Any) -> None:
        value = evaluate(text, discount="5.00", boxes=5, shipped_at="2021-09-01T12:00:00+08:00")
        assert_same(value, expected)


class TestDecimal:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("0.1 + 0.2 == 0.3", True),
        ("0.1 + 0.2", D("0.3")),
        ("0.3 - 0.1 - 0.2 == 0", True),
        ("1.10 + 2.20", D("3.30")),
        ("100.00 * 0.012", D("1.20000")),
        ("order.amount * 0.1", D("10.000")),
        ("order.amount / 4", D("25")),
        ("1 / 4", D("0.25")),
        ("2 / 2", D("1")),
        ("123456789012345678901234567890 - 123456789012345678901234567889", D("1")),
        ("sum([0.1, 0.1, 0.1]) == 0.3", True),
        ("round_money(1.005)", D("1.01")),
        ("order.amount * 3 == 300", True),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)


class TestDuration:
    TABLE: ClassVar[list[tuple[str, Any]]] = [
        ("at - order.placed_at", timedelta(hours=6, minutes=30)),
        ("order.placed_at - at", timedelta(hours=-6, minutes=-30)),
        ("order.placed_at + params.window", datetime(2021, 9, 1, 16, tzinfo=CST)),
        ("params.window + order.placed_at", datetime(2021, 9, 1, 16, tzinfo=CST)),
        ("order.placed_at - params.window", datetime(2021, 9, 1, 4, tzinfo=CST)),
        ("params.window * 2", timedelta(hours=12)),
        ("2 * params.window", timedelta(hours=12)),
        ("params.window * order.quantity", timedelta(hours=18)),
        ("params.window * (7 // 2)", timedelta(hours=18)),
        ("params.window + duration('30m')", timedelta(hours=6, minutes=30)),
        ("params.window - duration('1h')", timedelta(hours=5)),
        ("params.window / duration('2h')", D("3")),
        ("duration('90m') / duration('1h')", D("1.5")),
        ("since / params.window * 12", D("13")),
        ("since <= params.window", False),
        ("since > params.window", True),
        ("since == duration('6h30m')", True),
        ("at <= order.placed_at + params.window", False),
    ]

    @cases(TABLE)
    def test_value(self, text: str, expected: Any) -> None:
        assert_same(evaluate(text), expected)


class TestStaticType:
    TABLE: ClassVar[list[tuple[str, str]]] = [
        ("300", "integer"),
        ("300.00", "decimal"),
        ("'x'", "string"),
        ("null", "null"),
        ("order.amount", "money"),
        ("order.amount * 2", "money"),
        ("order.amount / order.amount", "decimal"),
        ("order.quantity / 2", "decimal"),
        ("order.quantity // 2", "integer"),
        ("order.quantity * 2", "integer"),
        ("at - order.placed_at", "duration"),
        ("order.placed_at + params.window", "timestamp"),
        ("order.shipped_at", "timestamp or null"),
        ("order.shipped_at - at", "duration or null"),
        ("order.discount + 1", "money or null"),
        ("order.buyer.vip", "boolean or null"),
        ("params.window * 2", "duration"),
        ("params.window / params.window", "decimal"),
        ("local_date(at)", "date"),
        ("local_time(at)", "time of day"),
        ("[i.price for i in order.items]", "list of money"),
        ("params.tags", "list of string"),
        ("order.note", "string or null"),
        ("coalesce(order.note, 'x')", "string"),
        ("1 < 2", "boolean"),
        ("len(order.items)", "integer"),
        ("lookup(params.scenarios, 'bike').deposit", "money"),
        ("1 if true else null", "integer or null"),
        ("1 if true else 2.5", "decimal"),
        ("max(order.amount, 1)", "money"),
        ("round_money(1)", "money"),
        ("floor(1.5)", "integer"),
        ("duration('1h')", "duration"),
    ]

    @cases(TABLE)
    def test_type(self, text: str, expected: str) -> None:
        assert static_type(text).describe() == expected

    def test_derive_sees_result_fields(self) -> None:
        assert static_type("result.refund * 2", derive=True).describe() == "money"


def test_every_allowed_node_type_is_exercised() -> None:
    allowed = {name.removeprefix("visit_") for name in dir(ExprCompiler) if name.startswith("visit_")}
    tables = [
        TestConstant.TABLE,
        TestName.TABLE,
        TestAttribute.TABLE,
        TestBoolOp.TABLE,
        TestUnaryOp.TABLE,
        TestBinOp.TABLE,
        TestCompare.TABLE,
        TestIfExp.TABLE,
        TestListAndTuple.TABLE,
        TestComprehension.TABLE,
        TestCall.TABLE,
    ]
    seen = {
        type(node).__name__ for table in tables for text, _ in table for node in ast.walk(ast.parse(text))
    }
    assert allowed <= seen, allowed - seen
    operators = {
        type(node.op).__name__
        for table in tables
        for text, _ in table
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp)
    }
    assert operators >= {
        "Add",
        "Sub",
        "Mult",
        "Div",
        "FloorDiv",
        "Mod",
        "Pow",
        "Not",
        "USub",
        "UAdd",
        "And",
        "Or",
    }
    comparisons = {
        type(op).__name__
        for table in tables
        for text, _ in table
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Compare)
        for op in node.ops
    }
    assert comparisons == {"Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "In", "NotIn", "Is", "IsNot"}


# -- problems -------------------------------------------------------------------------------------

DEEP_PARENS = "(" * 200 + "order.amount" + ")" * 200
TOO_DEEP_PARENS = "(" * 201 + "order.amount" + ")" * 201
LONG_SUM = " + ".join(["1"] * 300)
TOO_LONG = "1 + " * 500 + "1"
LONG_TEXT = '"' + "x" * 1001 + '"'


def problem_cases(table: list[tuple[Any, ...]]) -> Any:
    """Parametrize a ``(text, code, offset[, suggestion])`` table of problems."""
    rows = [(*row, None) if len(row) == 3 else row for row in table]
    return pytest.mark.parametrize(
        ("text", "code", "offset", "suggestion"), rows, ids=[row[0][:50] for row in rows]
    )


class TestProblems:
    """Every kind of problem, located at the 0-based character that is wrong."""

    NAMES: ClassVar[list[tuple[Any, ...]]] = [
        ("__import__", "dunder", 0),
        ("_private", "dunder", 0),
        ("order.__class__", "dunder", 6),
        ("order.amount.__class__", "dunder", 13),
        ("order . __dict__", "dunder", 8),
        ("params._cap", "dunder", 7),
        ("order.amount.cents", "not-an-object", 13),
        ("at.year", "not-an-object", 3),
        ("'x'.upper", "not-an-object", 4),
        ("order.amout", "unknown-field", 6, "order.amount"),
        ("1 + order.amout", "unknown-field", 10, "order.amount"),
        ("order.buyer.vipp", "unknown-field", 12, "order.buyer.vip"),
        ("any(i.prise > 1 for i in order.items)", "unknown-field", 6, "i.price"),
        (
            "lookup(params.scenarios, 'bike').deposti",
            "unknown-field",
            33,
            "lookup(params.scenarios, 'bike').deposit",
        ),
        ("order.zzz", "unknown-field", 6),
        ("params.cpa", "unknown-param", 7, "params.cap"),
        ("params.windw * 2", "unknown-param", 7, "params.window"),
        ("params.nothing_like_it", "unknown-param", 7),
        ("ordr.amount", "unknown-name", 0, "order"),
        ("sinse > params.window", "unknown-name", 0, "since"),
        ("foo", "unknown-name", 0),
        ("result.refund", "unknown-name", 0),
        ("params", "expression", 0),
        ("min", "expression", 0),
        ("mni(1, 2)", "unknown-function", 0, "min"),
        ("lenght(order.items)", "unknown-function", 0, "len"),
        ("print(1)", "unknown-function", 0),
        ("__import__('os')", "dunder", 0),
    ]

    CALLS: ClassVar[list[tuple[Any, ...]]] = [
        ("min(1, b=2)", "call", 0),
        ("round_money(x=order.amount)", "call", 0),
        ("order.amount.quantize(1)", "call", 0),
        ("(lambda: 1)()", "call", 0),
        ("min()", "expression", 0),
        ("len(order.items, 1)", "expression", 0),
        ("duration(order.note)", "call", 0),
        ("duration('6x')", "duration", 9),
        ("round_money(at)", "type", 0),
        ("local_date(order.amount)", "type", 0),
        ("min(order.amount, at)", "type", 0),
        ("lookup(params.tags, 'x')", "type", 0),
        ("len(order.note)", "type", 0),
    ]

    SYNTAX: ClassVar[list[tuple[Any, ...]]] = [
        ("lambda: 1", "expression-not-allowed", 0),
        ("f'{order.amount}'", "expression-not-allowed", 0),
        ("order.items[0]", "expression-not-allowed", 0),
        ("params.tags[0:1]", "expression-not-allowed", 0),
        ("{'a': 1}", "expression-not-allowed", 0),
        ("{1, 2}", "expression-not-allowed", 0),
        ("{i for i in order.items}", "expression-not-allowed", 0),
        ("{i: 1 for i in order.items}", "expression-not-allowed", 0),
        ("(y := 1)", "expression-not-allowed", 1),
        ("min(*params.tags)", "expression-not-allowed", 4),
        ("~1", "expression-not-allowed", 0),
        ("1 << 2", "expression-not-allowed", 0),
        ("1 | 2", "expression-not-allowed", 0),
        ("1j", "expression-not-allowed", 0),
        ("b'x'", "expression-not-allowed", 0),
        ("...", "expression-not-allowed", 0),
        ("[i for i in order.items for j in order.items]", "expression-not-allowed", 0),
        ("[_i for _i in order.items]", "expression-not-allowed", 8),
        ("import os", "expression-syntax", 0),
        ("order.amount = 1", "expression-syntax", 13),
        ("1 +", "expression-syntax", 3),
        ("order.amount >", "expression-syntax", 14),
        ("", "expression-empty", 0),
        ("   ", "expression-empty", 0),
    ]

    LIMITS: ClassVar[list[tuple[Any, ...]]] = [
        ("9**9**9", "power", 3),
        ("2 ** 100", "power", 5),
        ("2 ** 65", "power", 5),
        ("2 ** -1", "power", 5),
        ("2 ** 1.5", "power", 5),
        ("2 ** 3 ** 2", "power", 5),
        ("order.quantity ** order.quantity", "power", 18),
        ("'x' * 10**9", "type", 0),
        ("1e999999999", "number", 0),
        ("1.5e3", "number", 0),
        ("0x10", "number", 0),
        ("0o17", "number", 0),
        ("0b1", "number", 0),
        ("1_000", "number", 0),
        ("order.amount + 1_000.5", "number", 15),
        ("1234567890123456789012345678901", "expression-limit", 0),
        ("order.amount + 1234567890123456789.012345678901", "expression-limit", 15),
        (LONG_TEXT, "expression-limit", 0),
        (TOO_LONG, "expression-too-long", 0),
        (TOO_DEEP_PARENS, "expression-syntax", 200),
        ("(" * 999 + ")" * 999, "expression-syntax", 200),
        (LONG_SUM, "expression-too-deep", 0),
        ("-" * 300 + "1", "expression-too-deep", 0),
        ("not " * 499 + "true", "expression-too-deep", 0),
    ]

    TYPES: ClassVar[list[tuple[Any, ...]]] = [
        ("order.amount < order.placed_at", "type-mismatch", 0),
        ("order.amount == at", "type-mismatch", 0),
        ("params.window > 6", "type-mismatch", 0),
        ("order.category < 1", "type-mismatch", 0),
        ("true < false", "type-mismatch", 0),
        ("null < 1", "type-mismatch", 0),
        ("1 + (2 < at)", "type-mismatch", 5),
        ("order.amount and true", "type", 0),
        ("true or order.amount", "type", 8),
        ("not order.amount", "type", 4),
        ("1 if order.amount else 2", "type", 5),
        ("[i for i in order.items if i.price]", "type", 27),
        ("-order.category", "type", 0),
        ("-null", "type", 0),
        ("order.amount + at", "type", 0),
        ("true + 1", "type", 0),
        ("2.5 * params.window", "type", 0),
        ("params.window * 1.5", "type", 0),
        ("order.category is 'x'", "type", 0),
        ("'a' in order.amount", "type", 0),
        ("order.amount in params.tags", "type", 0),
        ("[i for i in order.amount]", "type", 12),
        ("[x for x in [1, 2]]", "comprehension", 12),
        ("any(x for x in lookup(params.scenarios, 'bike'))", "comprehension", 15),
        ("[order for order in order.items]", "shadowing", 11),
        ("[at for at in order.items]", "shadowing", 8),
        ("[since for since in order.items]", "shadowing", 11),
        ("[true for true in order.items]", "shadowing", 10),
    ]

    def check(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        found = problem(text)
        assert (found.code, found.offset, found.suggestion) == (code, offset, suggestion), found
        assert found.severity == "error"
        assert found.message
        assert 0 <= found.offset <= len(text)  # len(text): just after the end

    @problem_cases(NAMES)
    def test_names(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        self.check(text, code, offset, suggestion)

    @problem_cases(CALLS)
    def test_calls(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        self.check(text, code, offset, suggestion)

    @problem_cases(SYNTAX)
    def test_syntax(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        self.check(text, code, offset, suggestion)

    @problem_cases(LIMITS)
    def test_limits(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        self.check(text, code, offset, suggestion)

    @problem_cases(TYPES)
    def test_types(self, text: str, code: str, offset: int, suggestion: str | None) -> None:
        self.check(text, code, offset, suggestion)

    def test_the_long_texts_above_are_just_over_the_limits(self) -> None:
        assert len(TOO_LONG) == MAX_EXPRESSION_CHARS + 1 == 2001
        assert problem(TOO_LONG).message == "expression is 2001 characters long; the limit is 2000"
        assert len(LONG_TEXT) - 2 == 1001

    def test_suggestions_are_in_the_message(self) -> None:
        found = problem("order.amout")
        assert found.message == "unknown field order.amout; did you mean order.amount?"
        assert problem("params.cpa").message == "unknown param params.cpa; did you mean params.cap?"
        assert problem("mni(1, 2)").message == "unknown function mni; did you mean min?"

    def test_offsets_count_characters_not_bytes(self) -> None:
        assert problem("'金额' + order.amout").offset == len("'金额' + order.")

    def test_leading_white_space_and_line_breaks_keep_offsets(self) -> None:
        text = "  order.amount > 1 and\n  order.amout < 2"
        assert problem(text).offset == text.index("amout")

    def test_an_unknown_result_field_in_derive(self) -> None:
        problems = problems_of("result.refnd", base_scope(derive=True))
        assert [(p.code, p.offset, p.suggestion) for p in problems] == [("unknown-field", 7, "result.refund")]

    def test_the_longest_and_deepest_allowed_expressions_compile(self) -> None:
        assert_same(evaluate(DEEP_PARENS), D("100.00"))
        padded = "order.amount" + " " * (MAX_EXPRESSION_CHARS - len("order.amount"))
        assert len(padded) == MAX_EXPRESSION_CHARS
        assert_same(evaluate(padded), D("100.00"))
        assert_same(evaluate(" + ".join(["1"] * 90)), D("90"))
        # Deeper code compiles without its trace wrappers (a decision then runs it untraced).
        assert problems_of(" + ".join(["1"] * 150)) == []
