"""Compile the operators of an expression: and/or/not, arithmetic, comparisons and ``a if c else b``.

Arithmetic is exact (Decimals, whole-microsecond durations) and null in gives null out; an ordering
comparison with a null operand is false, and a chain evaluates each operand once.
"""

from __future__ import annotations

import ast
from datetime import timedelta

from policy_engine.expr.codegen_base import CompilerBase
from policy_engine.expr.types import ANY, BOOLEAN, Kind, Type, arithmetic_result, comparable, unify

__all__ = ("MAX_POWER", "OperatorsMixin")

MAX_POWER = 64
_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


class OperatorsMixin(CompilerBase):
    """The visitors for operators, comparisons and conditionals."""

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[str, Type]:
        """``and`` / ``or`` with short-circuit; operands must be true/false values."""
        op = " and " if isinstance(node.op, ast.And) else " or "
        parts = []
        for value in node.values:
            code, type_ = self.visit(value)
            self._require_boolean(value, type_, op.strip())
            parts.append(code)
        return f"({op.join(parts)})", BOOLEAN

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, Type]:
        """``not x``, ``-x``, ``+x``."""
        code, type_ = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            self._require_boolean(node.operand, type_, "not")
            return f"(not {code})", BOOLEAN
        if not isinstance(node.op, ast.USub | ast.UAdd):
            self.fail(node, "bitwise operators are not allowed", "expression-not-allowed")
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        if type_.kind not in (Kind.MONEY, Kind.DECIMAL, Kind.INTEGER, Kind.DURATION, Kind.ANY):
            self.fail(node, f"cannot negate a {type_.describe()}", "type")
        if type_.nullable:
            tmp = self.pool.temp()
            return f"(None if ({tmp} := {code}) is None else {sign}{tmp})", type_
        return f"({sign}{code})", type_

    def visit_BinOp(self, node: ast.BinOp) -> tuple[str, Type]:
        """Arithmetic with exact decimals; null in, null out."""
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.fail(node, "bitwise and matrix operators are not allowed", "expression-not-allowed")
        if op == "**":
            self._check_power(node.right)
        left, ltype = self.visit(node.left)
        right, rtype = self.visit(node.right)
        result = arithmetic_result(op, ltype, rtype)
        if result is None:
            self.fail(node, f"cannot apply {op} to {ltype.describe()} and {rtype.describe()}", "type")
        # Conversions apply after the null check: int(None) and _Decimal(None) would raise.
        wrap_left, wrap_right = self._operand_conversions(op, ltype, rtype)
        if ltype.nullable or rtype.nullable:
            a, b = self.pool.temp(), self.pool.temp()
            value = f"{wrap_left.format(a)} {op} {wrap_right.format(b)}"
            return f"(None if ({a} := {left}) is None or ({b} := {right}) is None else {value})", result
        return f"({wrap_left.format(left)} {op} {wrap_right.format(right)})", result

    def _operand_conversions(self, op: str, ltype: Type, rtype: Type) -> tuple[str, str]:
        """Templates that make Python compute what the policy means: ``int`` counts, exact quotients."""
        if ltype.kind is Kind.DURATION and rtype.kind is Kind.INTEGER:
            return "{}", "int({})"
        if rtype.kind is Kind.DURATION and ltype.kind is Kind.INTEGER:
            return "int({})", "{}"
        if op in ("/", "//", "%") and ltype.kind is Kind.INTEGER and rtype.kind is Kind.INTEGER:
            # Counts from the input are ints, literals Decimals: compute in Decimal so that // and %
            # truncate the same way whatever the operands' origin.
            return "_Decimal({})", "{}"
        if op == "/" and ltype.kind is Kind.DURATION and rtype.kind is Kind.DURATION:
            # timedelta / timedelta is a float; divide whole microseconds as Decimals instead.
            micro = self.pool.add(timedelta(microseconds=1))
            return f"_Decimal({{}} // {micro})", f"_Decimal({{}} // {micro})"
        return "{}", "{}"

    def _check_power(self, exponent: ast.expr) -> None:
        value = exponent.value if isinstance(exponent, ast.Constant) else None
        if type(value) is not int or not 0 <= value <= MAX_POWER:
            self.fail(exponent, f"** needs a whole-number literal exponent from 0 to {MAX_POWER}", "power")

    def visit_Compare(self, node: ast.Compare) -> tuple[str, Type]:
        """Comparisons; ordering with a null operand is false; chains evaluate each operand once."""
        operands = [node.left, *node.comparators]
        compiled = [self.visit(operand) for operand in operands]
        chained = len(node.ops) > 1
        codes = [code for code, _ in compiled]
        if chained:
            temps = [self.pool.temp() for _ in operands]
            first_use = [f"({t} := {c})" for t, c in zip(temps, codes, strict=True)]
        parts = []
        for index, cmpop in enumerate(node.ops):
            op = _CMPOPS[type(cmpop)]
            ltype, rtype = compiled[index][1], compiled[index + 1][1]
            self._check_comparison(node, operands[index + 1], op, ltype, rtype)
            if chained:
                left = first_use[index] if index == 0 else temps[index]
                right = first_use[index + 1]
            else:
                left, right = codes[0], codes[1]
            parts.append(self._comparison(op, left, right, ltype, rtype))
        return f"({' and '.join(parts)})", BOOLEAN

    def _check_comparison(self, node: ast.Compare, right: ast.expr, op: str, lt: Type, rt: Type) -> None:
        if op in ("is", "is not"):
            if not (isinstance(right, ast.Constant) and right.value is None) and not (
                isinstance(right, ast.Name) and right.id in ("null", "None")
            ):
                self.fail(
                    node, f"use {op} only with null (x {op} null); compare values with == or !=", "type"
                )
            return
        if op in ("in", "not in"):
            if rt.kind is Kind.STRING and lt.kind in (Kind.STRING, Kind.ANY):
                return
            if rt.kind not in (Kind.LIST, Kind.ANY, Kind.NULL):
                self.fail(node, f"{op} needs a list on its right, not a {rt.describe()}", "type")
            item = rt.item or ANY
            if not comparable(lt, item, "=="):
                self.fail(node, f"a {lt.describe()} is never {op} a {rt.describe()}", "type")
            return
        if not comparable(lt, rt, op):
            self.fail(node, f"cannot compare {lt.describe()} with {rt.describe()}", "type-mismatch")

    def _comparison(self, op: str, left: str, right: str, lt: Type, rt: Type) -> str:
        if op in ("in", "not in"):
            return f"({left} {op} ({right} or ()))" if rt.nullable else f"({left} {op} {right})"
        if op in ("==", "!=", "is", "is not") or not (lt.nullable or rt.nullable):
            return f"({left} {op} {right})"
        guards = []
        if lt.nullable:
            tmp = self.pool.temp()
            guards.append(f"({tmp} := {left}) is not None")
            left = tmp
        if rt.nullable:
            tmp = self.pool.temp()
            guards.append(f"({tmp} := {right}) is not None")
            right = tmp
        return f"({' and '.join(guards)} and {left} {op} {right})"

    def visit_IfExp(self, node: ast.IfExp) -> tuple[str, Type]:
        """``a if condition else b``."""
        test, ttype = self.visit(node.test)
        self._require_boolean(node.test, ttype, "if")
        body, btype = self.visit(node.body)
        other, otype = self.visit(node.orelse)
        return f"({body} if {test} else {other})", unify(btype, otype)
