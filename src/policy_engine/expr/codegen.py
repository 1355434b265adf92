"""Turn one allow-listed expression tree into Python source and a static type, one visitor per node type.

Anything without a ``visit_<Node>`` method is a located error: the allow-list is the set of methods here.
The generated text only names the engine's own locals (``i_``, ``p_``, ``l_``, ``r_``, ``c_``, ``_t``),
constant-pool globals (``_k``) and helpers (``_bi_…``, ``_T``, ``_NULLMAP``, ``_Decimal``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn

from policy_engine.errors import did_you_mean
from policy_engine.expr.scope import (
    LITERAL_NAMES,
    ConstantPool,
    Scope,
    Usage,
    input_name,
    let_name,
    param_name,
    result_name,
)
from policy_engine.expr.signatures import SIGNATURES
from policy_engine.expr.syntax import ExprProblem, ParsedExpression
from policy_engine.expr.types import (
    ANY,
    BOOLEAN,
    DECIMAL,
    INTEGER,
    NULL,
    STRING,
    Kind,
    Type,
    arithmetic_result,
    comparable,
    list_of,
    unify,
)
from policy_engine.expr.values import parse_duration

__all__ = ("MAX_DIGITS", "MAX_POWER", "MAX_STRING", "CompiledExpr", "ExprCompiler", "TraceTable")

MAX_DIGITS = 30
MAX_POWER = 64
MAX_STRING = 1000
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_ZONED = frozenset(
    {"local_date", "local_time", "start_of_day", "end_of_day", "days_between", "day_window_end"}
)
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
_FORBIDDEN: dict[str, str] = {
    "Lambda": "lambda is not allowed",
    "JoinedStr": "f-strings are not allowed; write a reason template instead",
    "NamedExpr": "assignment (:=) is not allowed",
    "Subscript": "indexing with [] is not allowed; use field names (order.amount)",
    "Dict": "dictionaries are not allowed",
    "Set": "sets are not allowed; use a list [a, b]",
    "SetComp": "set comprehensions are not allowed",
    "DictComp": "dictionary comprehensions are not allowed",
    "Await": "await is not allowed",
    "Yield": "yield is not allowed",
    "Starred": "* unpacking is not allowed",
}


class _Abort(Exception):
    """Stops compiling one expression after its first error."""


class TraceTable:
    """The sub-expressions a traced function records: index → source text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def register(self, text: str) -> int:
        """A new slot for one sub-expression."""
        self.texts.append(text)
        return len(self.texts) - 1


class CompiledExpr:
    """The result of compiling one expression."""

    def __init__(self, code: str, type_: Type, usage: Usage, slots: list[int]) -> None:
        self.code = code
        self.type = type_
        self.usage = usage
        self.slots = slots
        """Trace slots this expression records, in source order (empty when not traced)."""


class ExprCompiler:
    """Compiles one parsed expression against a scope."""

    def __init__(
        self,
        parsed: ParsedExpression,
        scope: Scope,
        pool: ConstantPool,
        trace: TraceTable | None = None,
    ) -> None:
        self.parsed = parsed
        self.scope = scope
        self.pool = pool
        self.trace = trace
        self.usage = Usage()
        self.slots: list[int] = []
        self.problems: list[ExprProblem] = []
        self._comp_vars: dict[str, Type] = {}
        self._in_comprehension = 0
        self._quiet: set[ast.AST] = set()
        """Nodes not worth a trace entry: the object part of a field path (``order`` in ``order.amount``)."""

    def compile(self) -> CompiledExpr | None:
        """Source and type of the expression, or None with :attr:`problems` filled in."""
        try:
            code, type_ = self.visit(self.parsed.tree)
        except _Abort:
            self._note_names_used()
            return None
        except RecursionError:
            self.problems.append(ExprProblem("expression-too-deep", "expression is nested too deeply", 0))
            return None
        if not _compiles(code):
            self.problems.append(ExprProblem("expression-too-deep", "expression is nested too deeply", 0))
            return None
        return CompiledExpr(code, type_, self.usage, self.slots)

    def _note_names_used(self) -> None:
        """After a problem, still count the params and lets the expression names.

        So an expression's real problem is not joined by "unused param" warnings.
        """
        for node in ast.walk(self.parsed.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "params"
            ):
                if node.attr in self.scope.params:
                    self.usage.params.add(node.attr)
            elif isinstance(node, ast.Name) and node.id in self.scope.lets:
                self.usage.lets.add(node.id)

    # -- dispatch ---------------------------------------------------------------------------------

    def fail(
        self,
        node: ast.AST,
        message: str,
        code: str = "expression",
        suggestion: str | None = None,
        offset: int | None = None,
    ) -> NoReturn:
        """Record a problem located at ``node`` (or at ``offset``) and abandon this expression."""
        where = self.parsed.offset(node) if offset is None else offset
        self.problems.append(ExprProblem(code, message, where, suggestion))
        raise _Abort

    def _attr_offset(self, node: ast.Attribute) -> int:
        """The offset of the field name of ``node``: ``amout`` in ``order.amout``, not ``order``."""
        text = self.parsed.source_of(node)
        after_dot = text.rfind(".") + 1
        name = text[after_dot:]
        return self.parsed.offset(node) + after_dot + len(name) - len(name.lstrip())

    def visit(self, node: ast.AST) -> tuple[str, Type]:
        """Compile one node, wrapping it for the trace where a trace is being built."""
        name = type(node).__name__
        method: Callable[[ast.AST], tuple[str, Type]] | None = getattr(self, f"visit_{name}", None)
        if method is None:
            message = _FORBIDDEN.get(name, f"{_describe(node)} is not allowed in policy expressions")
            self.fail(node, message, "expression-not-allowed")
        code, type_ = method(node)
        if (
            self.trace is not None
            and not self._in_comprehension
            and not _is_literal(node)
            and node not in self._quiet
        ):
            slot = self.trace.register(self.parsed.source_of(node))
            self.slots.append(slot)
            code = f"_T(tr, {slot}, {code})"
        return code, type_

    # -- leaves -----------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> tuple[str, Type]:
        """Numbers (as exact Decimals from their text), strings, true/false/null."""
        value = node.value
        if value is None or isinstance(value, bool):
            return repr(value), NULL if value is None else BOOLEAN
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                self.fail(node, f"text literal is longer than {MAX_STRING} characters", "expression-limit")
            return repr(value), STRING
        if isinstance(value, int | float):
            text = self.parsed.source_of(node)
            if not _NUMBER.fullmatch(text):
                self.fail(node, f"write numbers as plain decimals such as 300 or 1.25, not {text}", "number")
            if len(text.replace(".", "")) > MAX_DIGITS:
                self.fail(node, f"a number may have at most {MAX_DIGITS} digits", "expression-limit")
            return self.pool.decimal(text), DECIMAL if "." in text else INTEGER
        self.fail(node, f"{type(value).__name__} literals are not allowed", "expression-not-allowed")

    def visit_Name(self, node: ast.Name) -> tuple[str, Type]:
        """Literal names, comprehension variables, lets and input roots."""
        name = node.id
        if name in LITERAL_NAMES:
            text, value = LITERAL_NAMES[name]
            return text, NULL if value is None else BOOLEAN
        if name.startswith("_"):
            self.fail(node, f"names starting with _ are not allowed ({name})", "dunder")
        if name in self._comp_vars:
            return f"c_{name}", self._comp_vars[name]
        if name in self.scope.lets:
            self.usage.lets.add(name)
            return let_name(name), self.scope.lets[name]
        if name in self.scope.inputs:
            self.usage.inputs.add(name)
            return input_name(name), self.scope.inputs[name]
        if name in SIGNATURES:
            self.fail(node, f"{name} is a function: call it as {SIGNATURES[name].usage}")
        if name == "params":
            self.fail(node, "name a param: params.<name>")
        if name == "result" and self.scope.result is not None:
            self.fail(node, "name an output field: result.<field>")
        candidates = [*self.scope.names(), *self._comp_vars]
        suggestion = did_you_mean(name, candidates)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        self.fail(node, f"unknown name {name}{hint}", "unknown-name", suggestion)

    def visit_Attribute(self, node: ast.Attribute) -> tuple[str, Type]:
        """Field access on input objects, params, table rows and (in derive) the result."""
        if node.attr.startswith("_"):
            message = f"attribute {node.attr} is not allowed: names starting with _ are reserved"
            self.fail(node, message, "dunder", offset=self._attr_offset(node))
        base = node.value
        if isinstance(base, ast.Name) and base.id == "params":
            return self._param(node)
        if isinstance(base, ast.Name) and base.id == "result" and self.scope.result is not None:
            return self._result_field(node)
        if isinstance(base, ast.Name | ast.Attribute):
            self._quiet.add(base)
        code, parent = self.visit(base)
        if parent.kind is Kind.ANY:
            return f"{self._nullsafe(code, parent)}[{node.attr!r}]", ANY
        if parent.kind is not Kind.OBJECT:
            what = self.parsed.source_of(base)
            message = f"{what} is a {parent.describe()}; only objects have fields"
            self.fail(node, message, "not-an-object", offset=self._attr_offset(node))
        field = parent.field(node.attr)
        if field is None:
            path = self.parsed.source_of(base)
            suggestion = did_you_mean(node.attr, parent.field_names)
            full = f"{path}.{suggestion}" if suggestion else None
            hint = f"; did you mean {full}?" if full else ""
            message = f"unknown field {path}.{node.attr}{hint}"
            self.fail(node, message, "unknown-field", full, self._attr_offset(node))
        return f"{self._nullsafe(code, parent)}[{node.attr!r}]", field.or_null(
            field.nullable or parent.nullable
        )

    def _param(self, node: ast.Attribute) -> tuple[str, Type]:
        name = node.attr
        type_ = self.scope.params.get(name)
        if type_ is None:
            suggestion = did_you_mean(name, self.scope.params)
            full = f"params.{suggestion}" if suggestion else None
            hint = f"; did you mean {full}?" if full else ""
            message = f"unknown param params.{name}{hint}"
            self.fail(node, message, "unknown-param", full, self._attr_offset(node))
        self.usage.params.add(name)
        return param_name(name), type_

    def _result_field(self, node: ast.Attribute) -> tuple[str, Type]:
        assert self.scope.result is not None
        type_ = self.scope.result.get(node.attr)
        if type_ is None:
            suggestion = did_you_mean(node.attr, self.scope.result)
            full = f"result.{suggestion}" if suggestion else None
            message = f"unknown output field result.{node.attr}"
            self.fail(node, message, "unknown-field", full, self._attr_offset(node))
        self.usage.results.add(node.attr)
        return result_name(node.attr), type_

    @staticmethod
    def _nullsafe(code: str, type_: Type) -> str:
        return f"({code} or _NULLMAP)" if type_.nullable else code

    # -- operators --------------------------------------------------------------------------------

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[str, Type]:
        """``and`` / ``or`` with short-circuit; operands must be true/false values."""
        op = " and " if isinstance(node.op, ast.And) else " or "
        parts = []
        for value in node.values:
            code, type_ = self.visit(value)
            self._require_boolean(value, type_, op.strip())
            parts.append(code)
        return f"({op.join(parts)})", BOOLEAN

    def _require_boolean(self, node: ast.AST, type_: Type, where: str) -> None:
        if type_.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.NULL):
            text = self.parsed.source_of(node)
            self.fail(node, f"{where} needs a true/false value, but {text} is a {type_.describe()}", "type")

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

    # -- collections and calls --------------------------------------------------------------------

    def visit_List(self, node: ast.List) -> tuple[str, Type]:
        """A list literal."""
        return self._sequence(node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> tuple[str, Type]:
        """A parenthesised list ``(a, b)``: treated as a list."""
        return self._sequence(node.elts)

    def _sequence(self, elements: list[ast.expr]) -> tuple[str, Type]:
        compiled = [self.visit(e) for e in elements]
        item = NULL if not compiled else compiled[0][1]
        for _, type_ in compiled[1:]:
            item = unify(item, type_)
        return f"[{', '.join(code for code, _ in compiled)}]", list_of(item)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> tuple[str, Type]:
        """``f(x) for x in <input or param list> if …`` as an argument of any/all/sum/min/max/len."""
        return self._comprehension(node, "(", ")")

    def visit_ListComp(self, node: ast.ListComp) -> tuple[str, Type]:
        """``[f(x) for x in <input or param list> if …]``."""
        return self._comprehension(node, "[", "]")

    def _comprehension(
        self, node: ast.GeneratorExp | ast.ListComp, open_: str, close: str
    ) -> tuple[str, Type]:
        if len(node.generators) != 1:
            self.fail(node, "use one `for` per comprehension", "expression-not-allowed")
        gen = node.generators[0]
        if gen.is_async or not isinstance(gen.target, ast.Name) or gen.target.id.startswith("_"):
            self.fail(gen.target, "the loop variable must be a plain name", "expression-not-allowed")
        if not _is_data_path(gen.iter):
            self.fail(
                gen.iter, "a comprehension may only loop over an input list or a param list", "comprehension"
            )
        iter_code, iter_type = self.visit(gen.iter)
        if iter_type.kind not in (Kind.LIST, Kind.TABLE, Kind.ANY):
            self.fail(gen.iter, f"cannot loop over a {iter_type.describe()}", "type")
        var = gen.target.id
        if var in self.scope.inputs or var in self.scope.lets or var in LITERAL_NAMES:
            self.fail(gen.target, f"the loop variable {var} hides another name; choose another", "shadowing")
        outer = self._comp_vars.get(var)
        self._comp_vars[var] = iter_type.item or ANY
        self._in_comprehension += 1
        try:
            conds = []
            for cond in gen.ifs:
                code, ctype = self.visit(cond)
                self._require_boolean(cond, ctype, "if")
                conds.append(f" if {code}")
            elt, elt_type = self.visit(node.elt)
        finally:
            self._in_comprehension -= 1
            if outer is None:
                del self._comp_vars[var]
            else:
                self._comp_vars[var] = outer
        source = f"({iter_code} or ())" if iter_type.nullable else iter_code
        if iter_type.kind is Kind.TABLE:
            source = f"{iter_code}.values()"
        return f"{open_}{elt} for c_{var} in {source}{''.join(conds)}{close}", list_of(elt_type)

    def visit_Call(self, node: ast.Call) -> tuple[str, Type]:
        """A call of a built-in function."""
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only the built-in functions can be called (round_money(x), min(a, b) …)", "call")
        name = node.func.id
        if name.startswith("_"):
            self.fail(node, f"names starting with _ are not allowed ({name})", "dunder")
        signature = SIGNATURES.get(name)
        if signature is None:
            suggestion = did_you_mean(name, SIGNATURES)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            self.fail(node, f"unknown function {name}{hint}", "unknown-function", suggestion)
        if node.keywords:
            self.fail(node, f"{name} takes no keyword arguments: {signature.usage}", "call")
        count = len(node.args)
        if count < signature.min_args or (signature.max_args is not None and count > signature.max_args):
            self.fail(
                node, f"{name} takes {_arity(signature.min_args, signature.max_args)}: {signature.usage}"
            )
        if name == "duration":
            return self._duration(node)
        compiled = [self.visit(arg) for arg in node.args]
        result = signature.check([t for _, t in compiled])
        if isinstance(result, str):
            self.fail(node, f"{name}: {result}", "type")
        args = [code for code, _ in compiled]
        if name in _ZONED:
            args.append("_TZ")
        return f"_bi_{name}({', '.join(args)})", result

    def _duration(self, node: ast.Call) -> tuple[str, Type]:
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            self.fail(node, 'duration needs a quoted constant such as duration("24h")', "call")
        try:
            value = parse_duration(arg.value)
        except ValueError as exc:
            self.fail(arg, f"invalid duration {arg.value!r}: {exc}", "duration")
        return self.pool.add(value), Type(Kind.DURATION)


def _compiles(code: str) -> bool:
    """Whether Python can compile ``code`` inside a decision function.

    Python refuses more than 200 nested brackets, and generated code nests deeper than the expression
    (``1 + 1 + … + 1`` parses flat but becomes ``((1 + 1) + …)``); the margin is for the brackets the
    decision function puts around an expression.
    """
    margin = 10
    if code.count("(") + code.count("[") + code.count("{") + margin < 150:
        return True  # too few brackets to nest that deep: no need to ask the compiler (most expressions)
    try:
        compile(f"{'(' * margin}{code}{')' * margin}", "<policy expression>", "eval")
    except (SyntaxError, RecursionError, MemoryError):
        return False
    return True


def _describe(node: ast.AST) -> str:
    names = {
        "Import": "import",
        "Attribute": "attribute access",
        "Compare": "this comparison",
        "BinOp": "this operator",
    }
    return names.get(type(node).__name__, type(node).__name__)


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id in LITERAL_NAMES)


def _is_data_path(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"
