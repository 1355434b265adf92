"""Compile one decision of one version: schemas → scope → lets → rules → totality → derive → function.

Every problem is collected as a located error; a decision with errors yields None.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from policy_engine.branches import BranchCompiler, Outputs, assignable
from policy_engine.compiled import CompiledDecision, CompiledRule, GeneratedCode
from policy_engine.expr.codegen import CompiledExpr
from policy_engine.expr.folding import Folder
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
from policy_engine.expr.scope import RESERVED_NAMES, Scope
from policy_engine.expr.syntax import ExprProblem, parse_expression
from policy_engine.expr.types import ANY, TIMESTAMP, Kind, Type
from policy_engine.model import DecisionSpec, PolicySpec, RuleSpec
from policy_engine.params import ParamValue
from policy_engine.runtime import runtime_namespace
from policy_engine.schema_store import LoadedSchema, SchemaStore

__all__ = ("DecisionCompiler",)

_ALWAYS_TRUE = ("true", "True")


@dataclass(frozen=True)
class _Rule:
    """A compiled rule: its plain code, its traced condition, and what the API says about it."""

    code: RuleCode
    traced: str | None
    info: CompiledRule


class DecisionCompiler(BranchCompiler):
    """Compiles one decision; collects located errors in :attr:`errors`."""

    def __init__(
        self,
        policy: PolicySpec,
        spec: DecisionSpec,
        params: Mapping[str, ParamValue],
        store: SchemaStore,
        tz: ZoneInfo,
    ) -> None:
        super().__init__(policy, spec, params, store, tz)
        self.otherwise_reachable = True

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
        outputs = Outputs(types=dict(output_schema.type.fields))
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
            self.error(
                "as-of",
                f"as_of must name a required timestamp field; {as_of} is a {current.describe()}",
                where,
            )

    def _lets(self, scope: Scope) -> tuple[dict[str, LetCode] | None, Scope]:
        specs = self.spec.lets
        deps: dict[str, set[str]] = {}
        for name, let in specs.items():
            if name in RESERVED_NAMES or name in scope.inputs:
                self.error(
                    "let-name",
                    f"let name {name} is taken by an input field or a reserved name",
                    let.where,
                    key=True,
                )
            parsed = parse_expression(let.text) if isinstance(let.text, str) else None
            names = parsed.names if parsed and not isinstance(parsed, ExprProblem) else frozenset()
            deps[name] = set(names & specs.keys())
        order = self._toposort(deps)
        if order is None:
            return None, scope
        types: dict[str, Type] = {}
        lets: dict[str, LetCode] = {}
        for name in order:
            let = specs[name]
            compiled = self.expression(let.text, let.where, Scope(scope.inputs, scope.params, dict(types)))
            if compiled is None:
                types[name] = ANY  # known but broken: its uses should not add "unknown name" errors
                continue
            types[name] = compiled.type
            lets[name] = LetCode(
                name,
                compiled.code,
                frozenset(compiled.usage.lets),
                Origin(f"let:{name}", let.where.location()),
            )
        return lets, Scope(scope.inputs, scope.params, types)

    def _toposort(self, deps: Mapping[str, set[str]]) -> list[str] | None:
        """The lets in an order where each comes after those it uses; None (after reporting) on a cycle.

        Depth-first with an explicit stack: a chain of lets may be longer than Python's recursion limit.
        """
        order: list[str] = []
        state: dict[str, int] = {}
        failed = False
        for root in deps:
            if state.get(root) == 2:
                continue
            state[root] = 1
            path = [root]
            stack = [iter(sorted(deps[root]))]
            while stack:
                for dep in stack[-1]:
                    if state.get(dep) == 2:
                        continue
                    if state.get(dep) == 1:
                        cycle = " → ".join([*path[path.index(dep) :], dep])
                        self.error(
                            "let-cycle",
                            f"let values depend on each other in a cycle: {cycle}",
                            self.spec.lets[dep].where,
                            key=True,
                        )
                        failed = True
                        continue
                    state[dep] = 1
                    path.append(dep)
                    stack.append(iter(sorted(deps[dep])))
                    break
                else:
                    stack.pop()
                    done = path.pop()
                    state[done] = 2
                    order.append(done)
        return None if failed else order

    def _rules(self, scope: Scope, outputs: Outputs) -> list[_Rule]:
        seen: dict[str, RuleSpec] = {}
        compiled: list[_Rule] = []
        always: RuleSpec | None = None
        for index, rule in enumerate(self.spec.rules):
            if rule.id in seen:
                first = seen[rule.id].where.child("id").location()
                self.error(
                    "duplicate-rule",
                    f"duplicate rule id {rule.id}; first defined at {first}",
                    rule.where.child("id"),
                )
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
            branch = self.branch(rule.then, rule.where.child("then"), scope, outputs, rule.id, rule.title)
            needs = frozenset(condition.usage.lets) if condition else frozenset()
            code = RuleCode(index, condition.code if condition else None, needs, branch)
            info = CompiledRule(index, rule.id, rule.title, rule.when, rule.where.location(), slots)
            compiled.append(_Rule(code, traced, info))
        return compiled

    def _condition(
        self, rule: RuleSpec, scope: Scope
    ) -> tuple[CompiledExpr | None, str | None, tuple[int, ...]]:
        if rule.when is None:
            return None, None, ()
        where = rule.where.child("when")
        compiled = self.expression(rule.when, where, scope, trace=True)
        if compiled is None:
            return None, None, ()
        if compiled.type.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.NULL):
            self.error(
                "condition-type",
                f"when must be true or false, but this is a {compiled.type.describe()}",
                where,
            )
        if compiled.traced is None:
            return compiled, compiled.code, ()
        return compiled, compiled.traced, tuple(compiled.slots)

    def _otherwise(self, scope: Scope, outputs: Outputs, rules: list[_Rule]) -> BranchCode | None:
        always = any(r.code.condition is None for r in rules)
        self.otherwise_reachable = not always and not self._exhaustive(scope)
        if self.spec.otherwise is None:
            if self.otherwise_reachable:
                self.error(
                    "missing-otherwise",
                    f"decision {self.spec.name} has no otherwise: say what to answer when no rule matches",
                    self.spec.where,
                    key=True,
                )
            return None
        if always and self.spec.hit != "collect":
            return None
        return self.branch(self.spec.otherwise, self.spec.otherwise_where, scope, outputs, "otherwise", None)

    def _exhaustive(self, scope: Scope) -> bool:
        """Whether the rules provably cover every input.

        True when, for one required enumerated input field, some rule's whole condition is
        ``field == "value"`` for each of the field's values.
        """
        seen: dict[tuple[str, ...], set[str]] = {}
        for rule in self.spec.rules:
            parsed = parse_expression(rule.when) if isinstance(rule.when, str) else None
            if parsed is None or isinstance(parsed, ExprProblem):
                continue
            test = _equality_test(parsed.tree)
            if test is not None:
                seen.setdefault(test[0], set()).add(test[1])
        for path, values in seen.items():
            field_type: Type | None = scope.inputs.get(path[0])
            for part in path[1:]:
                field_type = field_type.field(part) if field_type is not None else None
            if (
                field_type is not None
                and field_type.enum
                and not field_type.nullable
                and set(field_type.enum) <= values
            ):
                return True
        return False

    def _check_aggregates(self, outputs: Outputs) -> None:
        where = self.spec.where.child("aggregate")
        for name in self.spec.aggregate:
            if name not in outputs.types:
                self.error(
                    "aggregate",
                    f"aggregate names {name}, which is not an output field",
                    where.child(name),
                    key=True,
                )
        if self.spec.hit != "collect":
            if self.spec.aggregate:
                self.error("aggregate", "aggregate is only used with hit: collect", where, key=True)
            return
        for name, type_ in outputs.types.items():
            if (
                type_.kind is not Kind.LIST
                and name not in outputs.derived
                and name not in self.spec.aggregate
            ):
                self.error(
                    "aggregate-missing",
                    f"hit: collect needs an aggregator for output {name} (max, min, sum, first or last)",
                    self.spec.where.child("hit"),
                )

    def _derive(self, scope: Scope, outputs: Outputs) -> tuple[OutputCode, ...]:
        result_scope = Scope(scope.inputs, scope.params, scope.lets, result=outputs.types)
        derived: list[OutputCode] = []
        for name, let in self.spec.derive.items():
            field_type = outputs.types.get(name)
            if field_type is None:
                self.error(
                    "unknown-output",
                    f"derive: {name} is not a field of the output schema",
                    let.where,
                    key=True,
                )
                continue
            compiled = self.expression(let.text, let.where, result_scope)
            if compiled is None:
                continue
            if not assignable(field_type, compiled.type):
                self.error(
                    "output-type",
                    f"{name} is a {field_type.describe()}, but the value is a {compiled.type.describe()}",
                    let.where,
                )
            derived.append(
                OutputCode(
                    name,
                    compiled.code,
                    frozenset(compiled.usage.lets),
                    Origin(f"derive:{name}", let.where.location()),
                )
            )
        return tuple(derived)

    def _build(
        self,
        code: DecisionCode,
        rules: list[_Rule],
        input_schema: LoadedSchema,
        output_schema: LoadedSchema,
        outputs: Outputs,
    ) -> CompiledDecision:
        namespace, formatters = runtime_namespace(self.tz, outputs.types, self.pool.values, self.params)
        plain_code = DecisionCode(**{**code.__dict__, "formatters": formatters})
        label = f"<policy {self.policy.program} {self.policy.version} {self.spec.name}>"
        folder = Folder(namespace, self.pool)
        source, origins = generate_source(plain_code, folder)
        traced_rules = tuple(
            RuleCode(r.code.index, r.traced, r.code.condition_needs, r.code.branch) for r in rules
        )
        traced_code = DecisionCode(**{**plain_code.__dict__, "rules": traced_rules})
        tsource, torigins = generate_source(traced_code, folder, traced=True)
        namespace.update(self.pool.values)  # with the constants folding added
        plain = GeneratedCode(
            build_function(source, plain_code.name, namespace, label), source, label, tuple(origins)
        )
        traced_label = label[:-1] + " traced>"
        traced = GeneratedCode(
            build_function(tsource, plain_code.name, namespace, traced_label),
            tsource,
            traced_label,
            tuple(torigins),
        )
        return CompiledDecision(
            program=self.policy.program,
            version=self.policy.version,
            name=self.spec.name,
            title=self.spec.title,
            as_of=self.spec.as_of or "at",
            hit=code.hit,
            rules=tuple(r.info for r in rules),
            otherwise_location=(
                self.spec.otherwise_where.location()
                if code.otherwise is not None and self.otherwise_reachable
                else None
            ),
            input_schema=input_schema.schema,
            output_schema=output_schema.schema,
            input_validator=input_schema.validator,
            output_validator=output_schema.validator,
            coerce=input_schema.coercer,
            fast_input=input_schema.fast_input,
            tz=self.tz,
            plain=plain,
            traced=traced,
            trace_texts=tuple(self.trace.texts),
            schema_files=(input_schema.name, output_schema.name),
        )


def _equality_test(tree: ast.expr) -> tuple[tuple[str, ...], str] | None:
    """``(path, value)`` when a condition is exactly ``a.b == "value"``."""
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq)):
        return None
    left, right = tree.left, tree.comparators[0]
    if isinstance(left, ast.Constant):
        left, right = right, left
    if not (isinstance(right, ast.Constant) and isinstance(right.value, str)):
        return None
    parts: list[str] = []
    while isinstance(left, ast.Attribute):
        parts.append(left.attr)
        left = left.value
    if not isinstance(left, ast.Name):
        return None
    return (left.id, *reversed(parts)), right.value
