"""Compile one decision of one version: schemas → scope → lets → rules → totality → derive → function.

Every problem is collected as a located error; a decision with errors yields None.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from policy_engine.compiled import CompiledDecision, CompiledRule, GeneratedCode
from policy_engine.errors import PolicyCompileError, PolicyError, did_you_mean
from policy_engine.expr.codegen import CompiledExpr, ExprCompiler, TraceTable
from policy_engine.expr.function import (
    BranchCode,
    DecisionCode,
    LetCode,
    Origin,
    OutputCode,
    RuleCode,
    build_function,
    generate_source,
)
from policy_engine.expr.scope import RESERVED_NAMES, ConstantPool, Scope, Usage
from policy_engine.expr.syntax import ExprProblem, parse_expression
from policy_engine.expr.types import TIMESTAMP, Kind, Type, comparable
from policy_engine.model import DecisionSpec, PolicySpec, RuleSpec, Where
from policy_engine.params import ParamValue
from policy_engine.runtime import runtime_namespace
from policy_engine.schema_store import LoadedSchema, SchemaStore
from policy_engine.templates import TemplatePart, split_template

__all__ = ("DecisionCompiler",)

_ALWAYS_TRUE = ("true", "True")


@dataclass(frozen=True)
class _Rule:
    """A compiled rule: its plain code, its traced condition, and what the API says about it."""

    code: RuleCode
    traced: str | None
    info: CompiledRule


@dataclass
class _Outputs:
    """The output fields of a decision and how each is formatted."""

    types: dict[str, Type]
    derived: set[str] = field(default_factory=set)


class DecisionCompiler:
    """Compiles one decision; collects located errors in :attr:`errors`."""

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

    # -- helpers ----------------------------------------------------------------------------------

    def error(self, code: str, message: str, where: Where, *, key: bool = False) -> None:
        """Record a located compile error."""
        self.errors.append(PolicyCompileError(code, message, where.location(key=key)))

    def _problem(self, problem: ExprProblem, where: Where, offset: int) -> None:
        location = where.at_offset(offset + problem.offset)
        severity = "warning" if problem.severity == "warning" else "error"
        self.errors.append(
            PolicyCompileError(problem.code, problem.message, location, problem.suggestion, severity)
        )

    def expression(
        self, text: Any, where: Where, scope: Scope, *, offset: int = 0, trace: bool = False
    ) -> CompiledExpr | None:
        """Compile one expression text found at ``where`` (``offset`` into that node's text)."""
        if not isinstance(text, str):
            self.error("expression-type", f"expected an expression, got {text!r}", where)
            return None
        parsed = parse_expression(text)
        if isinstance(parsed, ExprProblem):
            self._problem(parsed, where, offset)
            return None
        compiler = ExprCompiler(parsed, scope, self.pool, self.trace if trace else None)
        result = compiler.compile()
        if not trace:
            for problem in compiler.problems:
                self._problem(problem, where, offset)
            if result is not None:
                self.usage.merge(result.usage)
        return result

    # -- stages -----------------------------------------------------------------------------------

    def compile(self) -> CompiledDecision | None:
        """Run every stage; None when any of them found an error."""
        loaded = self._schemas()
        if loaded is None:
            return None
        input_schema, output_schema = loaded
        inputs = {name: sub for name, sub in input_schema.type.fields}
        inputs["at"] = TIMESTAMP
        self._check_as_of(input_schema.type)
        param_types = {name: p.type for name, p in self.params.items()}
        scope = Scope(inputs=inputs, params=param_types, lets={})
        lets, scope = self._lets(scope)
        outputs = _Outputs(types=dict(output_schema.type.fields))
        outputs.derived = set(self.spec.derive)
        rules = self._rules(scope, outputs)
        otherwise = self._otherwise(scope, outputs, rules)
        self._check_aggregates(outputs)
        derive = self._derive(scope, outputs)
        if any(e.severity == "error" for e in self.errors) or lets is None:
            return None
        code = DecisionCode(
            name=f"decide_{self.spec.name}",
            inputs=tuple(sorted(self.usage.inputs)),
            lets=lets,
            rules=tuple(r.code for r in rules),
            otherwise=otherwise,
            derive=derive,
            fields=tuple(outputs.types),
            formatters={},
            hit=self.spec.hit or "first",
            aggregate=dict(self.spec.aggregate),
            list_fields=frozenset(n for n, t in outputs.types.items() if t.kind is Kind.LIST),
        )
        return self._build(code, rules, input_schema, output_schema, outputs)

    def _schemas(self) -> tuple[LoadedSchema, LoadedSchema] | None:
        missing = [n for n in ("input", "output", "as_of") if getattr(self.spec, n) is None]
        if not self.spec.rules and self.spec.otherwise is None:
            missing.append("rules")
        if missing:
            self.error(
                "decision-incomplete",
                f"decision {self.spec.name} needs {', '.join(missing)}",
                self.spec.where,
                key=True,
            )
            return None
        loaded = []
        for kind in ("input", "output"):
            name = getattr(self.spec, kind)
            result = self.store.load(self.policy.program, name)
            if isinstance(result, str):
                self.error("schema-file", result, self.spec.where.child(kind))
                return None
            loaded.append(result)
        return loaded[0], loaded[1]

    def _check_as_of(self, input_type: Type) -> None:
        as_of = self.spec.as_of
        if as_of is None or as_of == "at":
            return
        where = self.spec.where.child("as_of")
        current: Type | None = input_type
        for part in as_of.split("."):
            current = current.field(part) if current is not None else None
        if current is None:
            self.error("as-of", f"as_of names {as_of}, which is not a field of the input schema", where)
        elif current.kind is not Kind.TIMESTAMP or current.nullable:
            self.error("as-of", f"as_of must name a required timestamp field; {as_of} is a {current.describe()}", where)

    def _lets(self, scope: Scope) -> tuple[dict[str, LetCode] | None, Scope]:
        specs = self.spec.lets
        deps: dict[str, set[str]] = {}
        for name, let in specs.items():
            if name in RESERVED_NAMES or name in scope.inputs:
                self.error("let-name", f"let name {name} is taken by an input field or a reserved name", let.where, key=True)
            parsed = parse_expression(let.text) if isinstance(let.text, str) else None
            names = {n.id for n in ast.walk(parsed.tree) if isinstance(n, ast.Name)} if parsed and not isinstance(parsed, ExprProblem) else set()
            deps[name] = names & set(specs)
        order = self._toposort(deps)
        if order is None:
            return None, scope
        types: dict[str, Type] = {}
        lets: dict[str, LetCode] = {}
        for name in order:
            let = specs[name]
            compiled = self.expression(let.text, let.where, Scope(scope.inputs, scope.params, dict(types)))
            if compiled is None:
                continue
            types[name] = compiled.type
            lets[name] = LetCode(name, compiled.code, frozenset(compiled.usage.lets), Origin(f"let:{name}", let.where.location()))
        return lets, Scope(scope.inputs, scope.params, types)

    def _toposort(self, deps: Mapping[str, set[str]]) -> list[str] | None:
        order: list[str] = []
        state: dict[str, int] = {}
        failed = False

        def visit(name: str, path: list[str]) -> None:
            nonlocal failed
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " → ".join([*path[path.index(name):], name])
                self.error("let-cycle", f"let values depend on each other in a cycle: {cycle}", self.spec.lets[name].where, key=True)
                failed = True
                return
            state[name] = 1
            for dep in sorted(deps[name]):
                visit(dep, [*path, name])
            state[name] = 2
            order.append(name)

        for name in deps:
            visit(name, [])
        return None if failed else order

    def _rules(self, scope: Scope, outputs: _Outputs) -> list[_Rule]:
        seen: dict[str, RuleSpec] = {}
        compiled: list[_Rule] = []
        always: RuleSpec | None = None
        for index, rule in enumerate(self.spec.rules):
            if rule.id in seen:
                first = seen[rule.id].where.child("id").location()
                self.error("duplicate-rule", f"duplicate rule id {rule.id}; first defined at {first}", rule.where.child("id"))
            seen.setdefault(rule.id, rule)
            if always is not None and self.spec.hit != "collect":
                self.error(
                    "unreachable-rule",
                    f"rule {rule.id} can never match: rule {always.id} before it always matches",
                    rule.where.child("id"),
                )
            condition, traced, slots = self._condition(rule, scope)
            if rule.when is None or (isinstance(rule.when, str) and rule.when.strip() in _ALWAYS_TRUE):
                always = always or rule
            branch = self._branch(rule.then, rule.where.child("then"), scope, outputs, rule.id, rule.title)
            needs = frozenset(condition.usage.lets) if condition else frozenset()
            code = RuleCode(index, condition.code if condition else None, needs, branch)
            info = CompiledRule(index, rule.id, rule.title, rule.when, rule.where.location(), slots)
            compiled.append(_Rule(code, traced, info))
        return compiled

    def _condition(self, rule: RuleSpec, scope: Scope) -> tuple[CompiledExpr | None, str | None, tuple[int, ...]]:
        if rule.when is None:
            return None, None, ()
        where = rule.where.child("when")
        plain = self.expression(rule.when, where, scope)
        if plain is None:
            return None, None, ()
        if plain.type.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.NULL):
            self.error("condition-type", f"when must be true or false, but this is a {plain.type.describe()}", where)
        traced = self.expression(rule.when, where, scope, trace=True)
        if traced is None:
            return plain, plain.code, ()
        return plain, traced.code, tuple(traced.slots)

    def _branch(
        self, then: Mapping[str, Any], where: Where, scope: Scope, outputs: _Outputs, label: str, title: str | None
    ) -> BranchCode:
        values: list[OutputCode] = []
        for name, raw in then.items():
            if name == "reason":
                continue
            field_type = outputs.types.get(name)
            if field_type is None:
                suggestion = did_you_mean(name, outputs.types)
                hint = f" (did you mean {suggestion}?)" if suggestion else ""
                self.error("unknown-output", f"{name} is not a field of the output schema{hint}", where.child(name), key=True)
                continue
            if name in outputs.derived:
                self.error("derived-output", f"{name} is computed by derive; do not set it in a rule", where.child(name), key=True)
                continue
            value = self._output_value(raw, field_type, where.child(name), scope)
            if value is not None:
                values.append(OutputCode(name, value[0], value[1], Origin(label, where.child(name).location())))
        given = {v.field for v in values} | set(then)
        for name, field_type in outputs.types.items():
            if name in given or name in outputs.derived:
                continue
            if field_type.has_default:
                default = self._literal(field_type.default, field_type)
                values.append(OutputCode(name, default, frozenset(), Origin(label, where.location())))
            else:
                self.error("missing-output", f"{label} does not give output field {name} (and the output schema has no default for it)", where, key=True)
        reason, needs = self._reason(then.get("reason"), where.child("reason"), scope, title or label)
        return BranchCode(tuple(values), reason, needs, Origin(label, where.location()))

    def _literal(self, value: Any, field_type: Type) -> str:
        """A schema default as code: numbers (and money written as text) become exact Decimals."""
        numeric = field_type.kind in (Kind.MONEY, Kind.DECIMAL, Kind.INTEGER) and isinstance(value, str)
        if numeric or (isinstance(value, Decimal | int) and not isinstance(value, bool)):
            return self.pool.decimal(str(value))
        return repr(value)

    def _output_value(self, raw: Any, field_type: Type, where: Where, scope: Scope) -> tuple[str, frozenset[str]] | None:
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
        if not _assignable(field_type, compiled.type):
            enum = f" (one of: {', '.join(field_type.enum)})" if field_type.enum else ""
            self.error("output-type", f"this output is a {field_type.describe()}{enum}, but the value is a {compiled.type.describe()}", where)
        return compiled.code, frozenset(compiled.usage.lets)

    def _reason(self, raw: Any, where: Where, scope: Scope, fallback: str) -> tuple[str, frozenset[str]]:
        if raw is None:
            return repr(fallback), frozenset()
        if not isinstance(raw, str):
            raw = str(raw)
        parts = split_template(raw)
        if isinstance(parts, ExprProblem):
            self._problem(parts, where, 0)
            return repr(raw), frozenset()
        codes: list[str] = []
        needs: set[str] = set()
        for part in parts:
            codes.append(self._template_part(part, where, scope, needs))
        return ("(" + " + ".join(codes) + ")") if codes else "''", frozenset(needs)

    def _template_part(self, part: TemplatePart, where: Where, scope: Scope, needs: set[str]) -> str:
        if not part.is_expression:
            return repr(part.text)
        compiled = self.expression(part.text, where, scope, offset=part.offset)
        if compiled is None:
            return "''"
        needs |= compiled.usage.lets
        helper = "_rm" if compiled.type.kind is Kind.MONEY else "_rv"
        return f"{helper}({compiled.code})"

    def _otherwise(self, scope: Scope, outputs: _Outputs, rules: list[_Rule]) -> BranchCode | None:
        always = any(r.code.condition is None for r in rules)
        if self.spec.otherwise is None:
            if not always:
                self.error("missing-otherwise", f"decision {self.spec.name} has no otherwise: say what to answer when no rule matches", self.spec.where, key=True)
            return None
        if always and self.spec.hit != "collect":
            return None
        return self._branch(self.spec.otherwise, self.spec.otherwise_where, scope, outputs, "otherwise", None)

    def _check_aggregates(self, outputs: _Outputs) -> None:
        where = self.spec.where.child("aggregate")
        for name in self.spec.aggregate:
            if name not in outputs.types:
                self.error("aggregate", f"aggregate names {name}, which is not an output field", where.child(name), key=True)
        if self.spec.hit != "collect":
            if self.spec.aggregate:
                self.error("aggregate", "aggregate is only used with hit: collect", where, key=True)
            return
        for name, type_ in outputs.types.items():
            if type_.kind is not Kind.LIST and name not in outputs.derived and name not in self.spec.aggregate:
                self.error("aggregate-missing", f"hit: collect needs an aggregator for output {name} (max, min, sum, first or last)", self.spec.where.child("hit"))

    def _derive(self, scope: Scope, outputs: _Outputs) -> tuple[OutputCode, ...]:
        result_scope = Scope(scope.inputs, scope.params, scope.lets, result=outputs.types)
        derived: list[OutputCode] = []
        for name, let in self.spec.derive.items():
            field_type = outputs.types.get(name)
            if field_type is None:
                self.error("unknown-output", f"derive: {name} is not a field of the output schema", let.where, key=True)
                continue
            compiled = self.expression(let.text, let.where, result_scope)
            if compiled is None:
                continue
            if not _assignable(field_type, compiled.type):
                self.error("output-type", f"{name} is a {field_type.describe()}, but the value is a {compiled.type.describe()}", let.where)
            derived.append(OutputCode(name, compiled.code, frozenset(compiled.usage.lets), Origin(f"derive:{name}", let.where.location())))
        return tuple(derived)

    def _build(
        self,
        code: DecisionCode,
        rules: list[_Rule],
        input_schema: LoadedSchema,
        output_schema: LoadedSchema,
        outputs: _Outputs,
    ) -> CompiledDecision:
        namespace, formatters = runtime_namespace(self.tz, outputs.types, self.pool.values, self.params)
        plain_code = DecisionCode(**{**code.__dict__, "formatters": formatters})
        label = f"<policy {self.policy.program} {self.policy.version} {self.spec.name}>"
        source, origins = generate_source(plain_code)
        plain = GeneratedCode(build_function(source, plain_code.name, namespace, label), source, label, tuple(origins))
        traced_rules = tuple(RuleCode(r.code.index, r.traced, r.code.condition_needs, r.code.branch) for r in rules)
        traced_code = DecisionCode(**{**plain_code.__dict__, "rules": traced_rules})
        traced_label = label[:-1] + " traced>"
        tsource, torigins = generate_source(traced_code, traced=True)
        traced = GeneratedCode(build_function(tsource, plain_code.name, namespace, traced_label), tsource, traced_label, tuple(torigins))
        return CompiledDecision(
            program=self.policy.program,
            version=self.policy.version,
            name=self.spec.name,
            title=self.spec.title,
            as_of=self.spec.as_of or "at",
            hit=code.hit,
            rules=tuple(r.info for r in rules),
            otherwise_location=self.spec.otherwise_where.location() if code.otherwise is not None else None,
            input_schema=input_schema.schema,
            output_schema=output_schema.schema,
            input_validator=input_schema.validator,
            output_validator=output_schema.validator,
            coerce=input_schema.coercer,
            tz=self.tz,
            plain=plain,
            traced=traced,
            trace_texts=tuple(self.trace.texts),
            schema_files=(input_schema.name, output_schema.name),
        )


def _assignable(target: Type, value: Type) -> bool:
    if value.kind in (Kind.ANY,) or target.kind is Kind.ANY:
        return True
    if value.kind is Kind.NULL:
        return target.nullable
    if target.kind is Kind.LIST:
        return value.kind is Kind.LIST and (value.item is None or target.item is None or _assignable(target.item, value.item.or_null(False)) or value.item.kind is Kind.NULL)
    return comparable(target, value, "==") and not (target.kind is Kind.STRING and value.kind is not Kind.STRING)
