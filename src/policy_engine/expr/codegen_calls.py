"""Compile lists, comprehensions and calls of the built-in functions, checking each call's signature.

A call names a built-in of :data:`~policy_engine.expr.signatures.SIGNATURES`; its arity and argument types
are checked there, ``duration("…")`` is folded into a constant at load, and the zoned built-ins get the
program's zone (``_TZ``) as their last argument.
"""

from __future__ import annotations

import ast

from policy_engine.errors import did_you_mean
from policy_engine.expr.codegen_base import CompilerBase
from policy_engine.expr.scope import LITERAL_NAMES
from policy_engine.expr.signatures import SIGNATURES
from policy_engine.expr.types import ANY, NULL, Kind, Type, list_of, unify
from policy_engine.expr.values import parse_duration

__all__ = ("CallsMixin",)

_ZONED = frozenset(
    {"local_date", "local_time", "start_of_day", "end_of_day", "days_between", "day_window_end"}
)


class CallsMixin(CompilerBase):
    """The visitors for list literals, comprehensions and built-in calls."""

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
