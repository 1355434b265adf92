"""Shared state of compiling one decision: collected errors, usage, constants, and expression compiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from policy_engine.errors import PolicyCompileError, PolicyError, Severity
from policy_engine.expr.codegen import CompiledExpr, ExprCompiler, TraceTable
from policy_engine.expr.scope import ConstantPool, Scope, Usage
from policy_engine.expr.syntax import ExprProblem, parse_expression
from policy_engine.model import DecisionSpec, PolicySpec, Where
from policy_engine.params import ParamValue
from policy_engine.schema_store import SchemaStore

__all__ = ("CompileContext",)


class CompileContext:
    """What every stage of compiling one decision shares; errors are collected, never raised."""

    def __init__(
        self,
        policy: PolicySpec,
        spec: DecisionSpec,
        params: Mapping[str, ParamValue],
        store: SchemaStore,
        tz: ZoneInfo,
    ) -> None:
        self.policy = policy
        self.spec = spec
        self.params = params
        self.store = store
        self.tz = tz
        self.errors: list[PolicyError] = []
        self.usage = Usage()
        self.pool = ConstantPool()
        self.trace = TraceTable()
        self._compiled: dict[tuple[str, int], tuple[Scope, CompiledExpr]] = {}
        """(text, id of its scope) → that scope and the plain compile of the text in it, without problems."""

    # -- helpers ----------------------------------------------------------------------------------

    def error(self, code: str, message: str, where: Where, *, key: bool = False) -> None:
        """Record a located compile error."""
        self.errors.append(PolicyCompileError(code, message, where.location(key=key)))

    def _problem(self, problem: ExprProblem, where: Where, offset: int) -> None:
        location = where.at_offset(offset + problem.offset)
        severity: Severity = "warning" if problem.severity == "warning" else "error"
        self.errors.append(
            PolicyCompileError(problem.code, problem.message, location, problem.suggestion, severity)
        )

    def expression(
        self, text: Any, where: Where, scope: Scope, *, offset: int = 0, trace: bool = False
    ) -> CompiledExpr | None:
        """Compile one expression text found at ``where`` (``offset`` into that node's text).

        With ``trace``, the result also has the traced code (:attr:`CompiledExpr.traced`), from the same pass.
        """
        if not isinstance(text, str):
            self.error("expression-type", f"expected an expression, got {text!r}", where)
            return None
        if not trace:
            # Rules repeat outputs and reason parts (order.amount): compiled once per decision and scope.
            # Never a traced one: its trace slots are its own. Sharing the temporaries' names is safe:
            # generated code sets a temporary before it reads it, within one expression.
            cached = self._compiled.get((text, id(scope)))
            if cached is not None and cached[0] is scope:
                self.usage.merge(cached[1].usage)
                return cached[1]
        parsed = parse_expression(text)
        if isinstance(parsed, ExprProblem):
            self._problem(parsed, where, offset)
            return None
        compiler = ExprCompiler(parsed, scope, self.pool, self.trace if trace else None)
        result = compiler.compile()
        for problem in compiler.problems:
            self._problem(problem, where, offset)
        # Names used before a problem still count as used: no "unused param" on top of the real error.
        self.usage.merge(compiler.usage)
        if not trace and result is not None and not compiler.problems:  # problems are reported per place
            self._compiled[(text, id(scope))] = (scope, result)
        return result

    # -- stages -----------------------------------------------------------------------------------

    # -- helpers ----------------------------------------------------------------------------------
