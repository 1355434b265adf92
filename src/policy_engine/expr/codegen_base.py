"""The state and error reporting that the parts of the expression compiler share.

:class:`CompilerBase` declares what the compiler holds while it compiles one expression, so that the visitor
mixins (:mod:`.codegen_operators`, :mod:`.codegen_calls`) and the core (:mod:`.codegen`) can each use it;
``fail`` records a located problem and abandons the expression by raising :class:`_Abort`.
"""

from __future__ import annotations

import ast
from typing import NoReturn

from policy_engine.expr.scope import ConstantPool, Scope
from policy_engine.expr.syntax import ExprProblem, ParsedExpression
from policy_engine.expr.types import Kind, Type

__all__ = ("CompilerBase",)


class _Abort(Exception):
    """Stops compiling one expression after its first error."""


class CompilerBase:
    """What every part of the compiler shares; :class:`~.codegen.ExprCompiler` sets it up."""

    parsed: ParsedExpression
    scope: Scope
    pool: ConstantPool
    problems: list[ExprProblem]
    _comp_vars: dict[str, Type]
    _in_comprehension: int

    def visit(self, node: ast.AST) -> tuple[str, Type]:
        """Compile one node (the dispatch is :meth:`~policy_engine.expr.codegen.ExprCompiler.visit`)."""
        raise NotImplementedError

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

    def _require_boolean(self, node: ast.AST, type_: Type, where: str) -> None:
        if type_.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.NULL):
            text = self.parsed.source_of(node)
            self.fail(node, f"{where} needs a true/false value, but {text} is a {type_.describe()}", "type")
