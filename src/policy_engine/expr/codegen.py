"""Turn one allow-listed expression tree into Python source and a static type, one visitor per node type.

Anything without a ``visit_<Node>`` method is a located error: the allow-list is the set of visitors of
:class:`ExprCompiler` and its mixins. The generated text only names the engine's own locals (``i_``, ``p_``,
``l_``, ``r_``, ``c_``, ``_t``), constant-pool globals (``_k``) and helpers (``_bi_…``, ``_T``, ``_NULLMAP``,
``_Decimal``).

This module is the visitor core: dispatch, tracing, literals, names and fields. Operators are compiled by
:mod:`.codegen_operators`, lists, comprehensions and built-in calls by :mod:`.codegen_calls`, both on the
shared state and error reporting of :mod:`.codegen_base`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from policy_engine.errors import did_you_mean
from policy_engine.expr.codegen_base import _Abort
from policy_engine.expr.codegen_calls import CallsMixin
from policy_engine.expr.codegen_operators import MAX_POWER, OperatorsMixin
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
from policy_engine.expr.types import ANY, BOOLEAN, DECIMAL, INTEGER, NULL, STRING, Kind, Type

__all__ = ("MAX_DIGITS", "MAX_POWER", "MAX_STRING", "CompiledExpr", "ExprCompiler", "TraceTable")

MAX_DIGITS = 30
MAX_STRING = 1000
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
# Where a traced sub-expression starts and ends; generated code has no raw control characters otherwise
# (texts are written with repr, which escapes them).
_TRACE_MARKS = re.compile("\x00[0-9]+\x01|\x02")
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

    def __init__(
        self, code: str, type_: Type, usage: Usage, slots: list[int], traced: str | None = None
    ) -> None:
        self.code = code
        """The plain code."""
        self.type = type_
        self.usage = usage
        self.slots = slots
        """Trace slots the traced code records, in source order (empty when there is no traced code)."""
        self.traced = traced
        """The same code recording its sub-expressions' values (``_T``), when compiled with a trace."""


class ExprCompiler(CallsMixin, OperatorsMixin):
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
        traced = None
        if self.trace is not None:  # one pass made both: the plain code is the traced one without _T
            traced = code.replace("\x00", "_T(tr, ").replace("\x01", ", ").replace("\x02", ")")
            code = _TRACE_MARKS.sub("", code)
        if not _compiles(code):
            self.problems.append(ExprProblem("expression-too-deep", "expression is nested too deeply", 0))
            return None
        if traced is not None and not _compiles(traced):
            return CompiledExpr(code, type_, self.usage, [])  # the trace's _T calls nest too deep
        return CompiledExpr(code, type_, self.usage, self.slots, traced)

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
            code = f"\x00{slot}\x01{code}\x02"  # :meth:`compile` makes it _T(tr, slot, code), or drops them
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
