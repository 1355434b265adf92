"""Assemble the compiled pieces of one decision into the source of one Python function, and build it.

The function takes the coerced input (and, on the traced path, a trace dict) and returns
``(matched rule indexes, result dict ready for JSON, reasons)``; index -1 is ``otherwise``.
Each generated line remembers which rule, let or output it came from, so a failure at run time names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_engine.errors import SourceLocation
from policy_engine.expr.folding import UNKNOWN, Folder, is_plain_literal
from policy_engine.expr.scope import input_name, let_name, result_name

__all__ = (
    "BranchCode",
    "DecisionCode",
    "DecisionFunction",
    "LetCode",
    "Origin",
    "OutputCode",
    "RuleCode",
    "build_function",
    "generate_source",
)

_LOCAL = re.compile(r"\b[lr]_[A-Za-z0-9_]+")
"""A let or result local named in a generated line (a text literal can only make one look read)."""

DecisionFunction = Callable[..., Any]
"""The plain function returns ``(matched rule indexes, result, reasons)``; the traced one fills its trace."""


@dataclass(frozen=True)
class Origin:
    """Where a generated line comes from: a rule id (or ``otherwise``, ``let:x``, ``derive:x``) and place."""

    label: str
    location: SourceLocation | None


@dataclass(frozen=True)
class LetCode:
    """One ``let``: its code and the lets it needs first."""

    name: str
    code: str
    needs: frozenset[str]
    origin: Origin


@dataclass(frozen=True)
class OutputCode:
    """One output value of a branch (or one ``derive``)."""

    field: str
    code: str
    needs: frozenset[str]
    origin: Origin
    is_default: bool = False
    """Filled in from the output schema's default because the rule does not give the field."""


@dataclass(frozen=True)
class BranchCode:
    """What a rule (or ``otherwise``) answers: its output values and reason."""

    outputs: tuple[OutputCode, ...]
    reason_parts: tuple[str, ...]
    """The code of each part of the reason template, texts as literals, in order."""
    reason_needs: frozenset[str]
    origin: Origin


@dataclass(frozen=True)
class RuleCode:
    """One rule: its condition (None: always) and its branch."""

    index: int
    condition: str | None
    condition_needs: frozenset[str]
    branch: BranchCode


@dataclass(frozen=True)
class DecisionCode:
    """Everything needed to generate one decision function."""

    name: str
    inputs: tuple[str, ...]
    lets: Mapping[str, LetCode]
    rules: tuple[RuleCode, ...]
    otherwise: BranchCode | None
    derive: tuple[OutputCode, ...]
    fields: tuple[str, ...]
    """Output fields in schema order."""
    formatters: Mapping[str, str]
    """Output field → name of the global that formats it for JSON (absent: passed through)."""
    hit: str = "first"
    aggregate: Mapping[str, str] = field(default_factory=dict)
    list_fields: frozenset[str] = frozenset()


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: list[Origin | None] = []

    def line(self, indent: int, text: str, origin: Origin | None = None) -> None:
        self.lines.append("    " * indent + text)
        self.origins.append(origin)


class _Locals:
    """What is computed so far on one path through the function: lets written, and values known at load."""

    def __init__(self, done: set[str] | None = None, known: dict[str, Any] | None = None) -> None:
        self.done: set[str] = done if done is not None else set()
        self.known: dict[str, Any] = known if known is not None else {}
        """Generated local name → its value, for locals folded at load."""

    def copy(self) -> _Locals:
        return _Locals(set(self.done), dict(self.known))


class _Generator:
    def __init__(self, code: DecisionCode, traced: bool, folder: Folder) -> None:
        self.code = code
        self.traced = traced
        self.folder = folder
        self.out = _Writer()
        self.defaults = {o.field: o.code for rule in code.rules for o in rule.branch.outputs if o.is_default}
        self.known_stores: dict[int, str] = {}
        """Line index → local, for the lines that store a value known at load."""

    def assign(self, indent: int, local: str, code: str, state: _Locals, origin: Origin) -> None:
        """``local = code``, or the value itself when it is known at load."""
        value = self.folder.value(code, state.known)
        if value is not UNKNOWN:
            state.known[local] = value
            code = self.folder.literal(value)
            self.known_stores[len(self.out.lines)] = local
        self.out.line(indent, f"{local} = {code}", origin)

    def drop_dead_stores(self, start: int) -> None:
        """Drop the stores of known values from line ``start`` on that no later line reads.

        Called when the lines from ``start`` end in a ``return``: nothing after them reads their locals.
        Once a value is known, the answer holds it as a literal, so most such stores are dead; storing a
        literal cannot fail, so dropping one changes nothing but the size of the source to compile.
        """
        lines, origins, stores = self.out.lines, self.out.origins, self.known_stores
        live: set[str] = set()
        dead: list[int] = []
        for index in range(len(lines) - 1, start - 1, -1):
            local = stores.pop(index, None)
            if local is not None and local not in live:
                dead.append(index)
                continue
            text = lines[index]
            live.update(_LOCAL.findall(text if local is None else text[text.index("=") + 1 :]))
        for index in dead:  # from the last line up: earlier indexes stay valid
            del lines[index], origins[index]

    def ensure_lets(self, names: frozenset[str], indent: int, state: _Locals) -> None:
        """Write each let of ``names`` not yet done after those it needs (a loop: chains may be long)."""
        done = state.done
        if names <= done:
            return  # most calls: nothing, or nothing new, is needed
        for name in sorted(names):
            stack = [(name, iter(sorted(self.code.lets[name].needs)))]
            while stack:
                current, needs = stack[-1]
                if current in done:
                    stack.pop()
                    continue
                dep = next((d for d in needs if d not in done), None)
                if dep is not None:
                    stack.append((dep, iter(sorted(self.code.lets[dep].needs))))
                    continue
                stack.pop()
                let = self.code.lets[current]
                self.assign(indent, let_name(current), let.code, state, let.origin)
                done.add(current)

    def branch_values(self, branch: BranchCode, indent: int, state: _Locals) -> None:
        for output in branch.outputs:
            self.ensure_lets(output.needs, indent, state)
            self.assign(indent, result_name(output.field), output.code, state, output.origin)
        self.ensure_lets(branch.reason_needs, indent, state)

    def derive(self, indent: int, state: _Locals) -> None:
        for output in self.code.derive:
            self.ensure_lets(output.needs, indent, state)
            self.assign(indent, result_name(output.field), output.code, state, output.origin)

    def result_dict(self, state: _Locals) -> str:
        """The code of the answer's dict; a copy of a constant one when every field is a literal.

        Copying a dict is quicker than building it from literals, and one name compiles quicker than
        all its items.
        """
        items = []
        constant: dict[str, Any] | None = {}
        for name in self.code.fields:
            formatter = self.code.formatters.get(name)
            local = result_name(name)
            value = state.known.get(local, UNKNOWN)
            if value is not UNKNOWN and formatter:
                value = self.folder.formatted(formatter, value, name)
            if value is UNKNOWN:
                constant = None
                items.append(
                    f"{name!r}: {formatter}({local}, {name!r})" if formatter else f"{name!r}: {local}"
                )
                continue
            if constant is not None and is_plain_literal(value):
                constant[name] = value
            else:
                constant = None
            items.append(f"{name!r}: {self.folder.literal(value)}")
        if constant:
            return f"{self.folder.pool.add(constant)}.copy()"
        return "{" + ", ".join(items) + "}"

    def reason(self, branch: BranchCode, state: _Locals) -> str:
        """The reason text: the template's parts joined, with the parts known at load as literals."""
        parts: list[str] = []
        texts: list[str] = []  # adjacent parts known at load, merged into one literal
        for part in branch.reason_parts:
            value = self.folder.value(part, state.known)
            if isinstance(value, str):
                texts.append(value)
                continue
            if texts:
                parts.append(repr("".join(texts)))
                texts.clear()
            parts.append(part)
        if texts or not parts:
            parts.append(repr("".join(texts)))
        # One flat call, not a + b + …: Python cannot compile thousands of nested +.
        return f"({parts[0]})" if len(parts) == 1 else "''.join((" + ", ".join(parts) + "))"

    def answer(self, indent: int, matched: str, reasons: str, origin: Origin, state: _Locals) -> None:
        self.out.line(indent, f"return ({matched}, {self.result_dict(state)}, {reasons})", origin)

    def header(self) -> None:
        params = "inp, tr" if self.traced else "inp"
        self.out.line(0, f"def {self.code.name}({params}):")
        for name in self.code.inputs:
            self.out.line(1, f"{input_name(name)} = inp[{name!r}]")

    def condition(self, rule: RuleCode) -> str:
        assert rule.condition is not None
        return f"_M(tr, {rule.index}, {rule.condition})" if self.traced else rule.condition

    def first_hit(self) -> None:
        state = _Locals()
        for rule in self.code.rules:
            branch = rule.branch
            if rule.condition is None:
                self.otherwise_like(rule.index, branch, 1, state)
                return
            self.ensure_lets(rule.condition_needs, 1, state)
            self.out.line(1, f"if {self.condition(rule)}:", branch.origin)
            self.otherwise_like(rule.index, branch, 2, state)
        if self.code.otherwise is not None:
            self.otherwise_like(-1, self.code.otherwise, 1, state)

    def otherwise_like(self, index: int, branch: BranchCode, indent: int, state: _Locals) -> None:
        local = state.copy()
        start = len(self.out.lines)
        self.branch_values(branch, indent, local)
        self.derive(indent, local)
        reason = self.reason(branch, local)
        self.answer(indent, f"({index},)", f"({reason},)", branch.origin, local)
        self.drop_dead_stores(start)

    def collect(self) -> None:
        state = _Locals()
        self.out.line(1, "_m = []")
        self.out.line(1, "_r = []")
        for name in self.code.fields:
            initial = "[]" if name in self.code.list_fields else "_UNSET"
            self.out.line(1, f"a_{name} = {initial}")
        for rule in self.code.rules:
            branch = rule.branch
            indent = 1
            if rule.condition is not None:
                self.ensure_lets(rule.condition_needs, 1, state)
                self.out.line(1, f"if {self.condition(rule)}:", branch.origin)
                indent = 2
            local = state.copy()
            self.branch_values(branch, indent, local)
            self.out.line(indent, f"_m.append({rule.index})", branch.origin)
            self.out.line(indent, f"_r.append({self.reason(branch, local)})", branch.origin)
            for output in branch.outputs:
                if not output.is_default:  # a field a rule leaves out does not take part in the aggregate
                    self.accumulate(output.field, indent, branch.origin)
        if self.code.otherwise is not None:
            self.out.line(1, "if not _m:")
            self.otherwise_like(-1, self.code.otherwise, 2, state)
        for name in self.code.fields:
            if name not in {d.field for d in self.code.derive}:
                default = self.defaults.get(name)
                value = f"a_{name}" if default is None else f"({default} if a_{name} is _UNSET else a_{name})"
                self.out.line(1, f"{result_name(name)} = {value}")
        self.derive(1, state)
        self.answer(1, "tuple(_m)", "tuple(_r)", Origin("collect", None), state)

    def accumulate(self, name: str, indent: int, origin: Origin) -> None:
        value = result_name(name)
        if name in self.code.list_fields:
            self.out.line(indent, f"a_{name}.extend({value} or ())", origin)
            return
        how = self.code.aggregate.get(name, "last")
        merged = {
            "max": f"_bi_max(a_{name}, {value})",
            "min": f"_bi_min(a_{name}, {value})",
            "sum": f"(None if a_{name} is None or {value} is None else a_{name} + {value})",
            "first": f"a_{name}",
            "last": value,
        }[how]
        self.out.line(indent, f"a_{name} = {value} if a_{name} is _UNSET else {merged}", origin)

    def trace_conditions(self) -> None:
        """The traced function: the rules' conditions as the plain function meets them, recorded.

        It answers nothing (the plain function does, on the same input): it looks at each rule in order,
        computing the lets a condition needs, and stops at the first match unless the hit policy is
        ``collect``.
        """
        state = _Locals()
        collect = self.code.hit == "collect"
        for rule in self.code.rules:
            origin = rule.branch.origin
            if rule.condition is None:
                self.out.line(1, f"_M(tr, {rule.index}, True)", origin)
                if not collect:
                    self.out.line(1, "return", origin)
                    return
                continue
            self.ensure_lets(rule.condition_needs, 1, state)
            if collect:
                self.out.line(1, self.condition(rule), origin)
            else:
                self.out.line(1, f"if {self.condition(rule)}:", origin)
                self.out.line(2, "return", origin)
        self.out.line(1, "return")

    def generate(self) -> tuple[str, list[Origin | None]]:
        self.header()
        if self.traced:
            self.trace_conditions()
        elif self.code.hit == "collect":
            self.collect()
        else:
            self.first_hit()
        return "\n".join(self.out.lines) + "\n", self.out.origins


def generate_source(
    code: DecisionCode, folder: Folder, *, traced: bool = False
) -> tuple[str, list[Origin | None]]:
    """The Python source of a decision function, and the origin of each of its lines (0-based).

    Values known at load are computed once by ``folder`` (see :mod:`.folding`). The traced function only
    records the rules' conditions (:meth:`_Generator.trace_conditions`); the plain one answers.
    """
    return _Generator(code, traced, folder).generate()


def build_function(source: str, name: str, namespace: dict[str, Any], filename: str) -> DecisionFunction:
    """Compile generated source once and return the function it defines."""
    module_globals: dict[str, Any] = {"__builtins__": {"int": int, "tuple": tuple}, **namespace}
    exec(compile(source, filename, "exec"), module_globals)  # the source is generated, never user text
    function: DecisionFunction = module_globals[name]
    return function
