"""Compile what a rule answers: its output values (literals or expressions) and its reason template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy_engine.compile_context import CompileContext
from policy_engine.errors import did_you_mean
from policy_engine.expr.function import BranchCode, Origin, OutputCode
from policy_engine.expr.scope import Scope
from policy_engine.expr.syntax import ExprProblem
from policy_engine.expr.types import Kind, Type, comparable
from policy_engine.model import Where
from policy_engine.templates import TemplatePart, split_template

__all__ = ("BranchCompiler", "Outputs", "assignable")


@dataclass
class Outputs:
    """The output fields of a decision and how each is formatted."""

    types: dict[str, Type]
    derived: set[str] = field(default_factory=set)


class BranchCompiler(CompileContext):
    """Compiles the ``then`` of rules and the ``otherwise`` of a decision."""

    def branch(
        self,
        then: Mapping[str, Any],
        where: Where,
        scope: Scope,
        outputs: Outputs,
        label: str,
        title: str | None,
    ) -> BranchCode:
        """The code of one ``then`` (or ``otherwise``): every output field, defaults, and the reason."""
        values: list[OutputCode] = []
        for name, raw in then.items():
            if name == "reason":
                continue
            field_where = where.child(name)
            field_type = outputs.types.get(name)
            if field_type is None:
                suggestion = did_you_mean(name, outputs.types)
                hint = f" (did you mean {suggestion}?)" if suggestion else ""
                self.error(
                    "unknown-output",
                    f"{name} is not a field of the output schema{hint}",
                    field_where,
                    key=True,
                )
                continue
            if name in outputs.derived:
                self.error(
                    "derived-output",
                    f"{name} is computed by derive; do not set it in a rule",
                    field_where,
                    key=True,
                )
                continue
            value = self._output_value(raw, field_type, field_where, scope)
            if value is not None:
                values.append(OutputCode(name, value[0], value[1], Origin(label, field_where.location())))
        origin = Origin(label, where.location())
        for name, field_type in outputs.types.items():
            if name in then or name in outputs.derived:
                continue  # given (every value compiled above is one of then's keys), or derived
            if field_type.has_default:
                default = self._literal(field_type.default, field_type)
                values.append(OutputCode(name, default, frozenset(), origin, is_default=True))
            else:
                self.error(
                    "missing-output",
                    f"{label} does not give output field {name}, and the output schema has no default",
                    where,
                    key=True,
                )
        reason, needs = self._reason(then.get("reason"), where.child("reason"), scope, title or label)
        return BranchCode(tuple(values), reason, needs, origin)

    def _literal(self, value: Any, field_type: Type) -> str:
        """A schema default as code: numbers (and money written as text) become exact Decimals."""
        numeric = field_type.kind in (Kind.MONEY, Kind.DECIMAL, Kind.INTEGER) and isinstance(value, str)
        if numeric or (isinstance(value, Decimal | int) and not isinstance(value, bool)):
            return self.pool.decimal(str(value))
        return repr(value)

    def _output_value(
        self, raw: Any, field_type: Type, where: Where, scope: Scope
    ) -> tuple[str, frozenset[str]] | None:
        if raw is None:
            if not field_type.nullable:
                self.error("output-null", "this output field cannot be null", where)
            return "None", frozenset()
        if isinstance(raw, bool):
            return repr(raw), frozenset()
        if isinstance(raw, Decimal):
            return self.pool.decimal(str(raw)), frozenset()
        if isinstance(raw, list):
            item_type = field_type.item or Type(Kind.ANY, nullable=True)
            parts = [self._output_value(v, item_type, where.child(i), scope) for i, v in enumerate(raw)]
            if any(p is None for p in parts):
                return None
            needs = frozenset().union(*(p[1] for p in parts if p is not None))
            return "[" + ", ".join(p[0] for p in parts if p is not None) + "]", needs
        if isinstance(raw, str) and field_type.kind is Kind.STRING and raw in field_type.enum:
            return repr(raw), frozenset()
        compiled = self.expression(raw, where, scope)
        if compiled is None:
            return None
        if not assignable(field_type, compiled.type):
            enum = f" (one of: {', '.join(field_type.enum)})" if field_type.enum else ""
            self.error(
                "output-type",
                f"this output is a {field_type.describe()}{enum}, but the value is a "
                f"{compiled.type.describe()}",
                where,
            )
        return compiled.code, frozenset(compiled.usage.lets)

    def _reason(
        self, raw: Any, where: Where, scope: Scope, fallback: str
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        if raw is None:
            return (repr(fallback),), frozenset()
        if not isinstance(raw, str):
            raw = str(raw)
        parts = split_template(raw)
        if isinstance(parts, ExprProblem):
            self._problem(parts, where, 0)
            return (repr(raw),), frozenset()
        needs: set[str] = set()
        codes = tuple(self._template_part(part, where, scope, needs) for part in parts)
        return codes, frozenset(needs)

    def _template_part(self, part: TemplatePart, where: Where, scope: Scope, needs: set[str]) -> str:
        if not part.is_expression:
            return repr(part.text)
        compiled = self.expression(part.text, where, scope, offset=part.offset)
        if compiled is None:
            return "''"
        needs |= compiled.usage.lets
        helper = _RENDERERS.get(compiled.type.kind, "_rv")
        return f"{helper}({compiled.code})"


# The runtime's renderer for a template part of each kind (runtime.runtime_namespace); others use _rv.
_RENDERERS = {Kind.MONEY: "_rm", Kind.TIMESTAMP: "_rt", Kind.DURATION: "_rd", Kind.STRING: "_rs"}


def assignable(target: Type, value: Type) -> bool:
    """Whether a value of type ``value`` may be given to an output field of type ``target``."""
    if value.kind in (Kind.ANY,) or target.kind is Kind.ANY:
        return True
    if value.kind is Kind.NULL:
        return target.nullable
    if target.kind is Kind.LIST:
        return value.kind is Kind.LIST and (
            value.item is None
            or target.item is None
            or assignable(target.item, value.item.or_null(False))
            or value.item.kind is Kind.NULL
        )
    return comparable(target, value, "==") and not (
        target.kind is Kind.STRING and value.kind is not Kind.STRING
    )
