"""A decision's input check and coercion, generated as one Python function per input schema at load.

jsonschema walks a schema with a generic interpreter (most of a decide call's time); this module writes the
same walk out as straight-line Python once, as jinja2 writes templates out, for the subset of JSON Schema our
decision schemas use. The generated function returns the coerced evaluation values, or ``INVALID``. A
schema the generator accepts has also passed :func:`_check_values`, so it is a valid JSON Schema 2020-12
without the meta-schema check.

It may only ever be *stricter* than jsonschema: ``INVALID`` sends the caller to jsonschema, which finds the
located problems (or, if it finds none, the slow coercer is used). So a doubt compiles to ``INVALID`` and a
schema keyword outside the subset means no fast path at all (``compile_fast_input`` returns None). Inside
the function a refusal may also be raised: a missing required property raises KeyError, and a leaf written
as one expression (a timestamp, an amount, a string, an enum or a flag) raises ValueError through its reader
or ``_refuse()``; the function turns both into ``INVALID``. Property tests check the generated function
against jsonschema and the coercer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from policy_engine.expr.types import Kind, Type, type_of_schema
from policy_engine.expr.values import money_input, parse_timestamp
from policy_engine.fast_document import KEYWORD_VALUES

__all__ = ("INVALID", "FastInput", "compile_fast_input")

INVALID: Any = object()
"""What a fast input function returns when jsonschema must look at the input."""

FastInput = Callable[[Any], Any]

_IGNORED = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
_SUPPORTED = _IGNORED | {
    "type",
    "enum",
    "format",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
}
_TYPE_TESTS = {
    "string": "type({v}) is str",
    "null": "{v} is None",
    "boolean": "({v} is True or {v} is False)",
    "integer": "(type({v}) is int or (type({v}) is Decimal and {v}.is_finite()"
    " and {v} == {v}.to_integral_value()))",
    "number": "(type({v}) is int or (type({v}) is Decimal and {v}.is_finite()))",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
}
_NUMBER = "(type({v}) is int or type({v}) is Decimal)"
_OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})
_ARRAY_KEYWORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems"})


class _Unsupported(Exception):
    """The schema uses something the generator does not write out: no fast path for it."""


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._names = 0

    def name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def const(self, value: Any) -> str:
        name = self.name("_c")
        self.constants[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def fail_if(self, indent: int, condition: str) -> None:
        self.emit(indent, f"if {condition}:")
        self.emit(indent + 1, "return _INVALID")


def _types(schema: Mapping[str, Any]) -> list[str] | None:
    raw = schema.get("type")
    if raw is None:
        return None
    types = [raw] if isinstance(raw, str) else list(raw)
    if not types or any(t not in _TYPE_TESTS for t in types):
        raise _Unsupported(f"type {raw!r}")
    return types


_VALUE_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    **KEYWORD_VALUES,
    "$schema": lambda v: isinstance(v, str),
    "$id": lambda v: isinstance(v, str) and "#" not in v[:-1],  # the meta-schema: ^[^#]*#?$
}
"""What JSON Schema 2020-12's meta-schema allows as the value of each keyword of the subset (the policy-file
check's table, and the two identifiers input schemas may carry)."""


def _check_values(schema: Mapping[str, Any]) -> None:
    """Each keyword's value is one the meta-schema allows; any doubt leaves the check to jsonschema.

    So a schema that compiles here needs no meta-schema check, the slowest part of loading.
    """
    for key, value in schema.items():
        check = _VALUE_CHECKS.get(key)
        if check is not None and not check(value):
            raise _Unsupported(f"the value of {key}")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error as exc:
            raise _Unsupported("pattern") from exc


def _node(w: _Writer, schema: Any, type_: Type, v: str, out: str, indent: int, depth: int) -> None:
    """Check value ``v`` against ``schema`` (of type ``type_``); assign its coerced value to ``out``."""
    leaf = _leaf_expression(w, schema, v)
    if leaf is not None:
        w.emit(indent, f"{out} = {leaf}")
        return
    if not isinstance(schema, Mapping) or depth > 32:
        raise _Unsupported("schema node")
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    _check_values(schema)
    types = _types(schema)
    if types is None:
        raise _Unsupported("a node without type")
    if not _enum_implies_type(schema, types):
        w.fail_if(indent, "not (" + " or ".join(_TYPE_TESTS[t].format(v=v) for t in types) + ")")
    _enum(w, schema, v, indent)
    _numeric(w, schema, v, indent)
    _string(w, schema, v, indent)
    kind = type_.kind
    if kind is not Kind.OBJECT and not _OBJECT_KEYWORDS.isdisjoint(schema):
        raise _Unsupported("object keywords on a node that is not an object")
    if kind is not Kind.LIST and not _ARRAY_KEYWORDS.isdisjoint(schema):
        raise _Unsupported("array keywords on a node that is not an array")
    containers = {"object", "array"} & set(types)
    if containers and len(set(types) - {"null"}) > 1:
        raise _Unsupported("a container mixed with other types")
    if kind is Kind.OBJECT:
        _object(w, schema, type_, v, out, indent, depth, "null" in types)
    elif kind is Kind.LIST:
        _array(w, schema, type_, v, out, indent, depth)
    elif "object" in types or "array" in types:
        raise _Unsupported("container kind")
    else:
        _scalar(w, schema, kind, types, v, out, indent)


_LEAF_KEYWORDS = _IGNORED | {"type", "format", "enum"}
_LEAF_READERS: dict[tuple[Any, frozenset[str]], str] = {
    ("date-time", frozenset({"string"})): "_parse_timestamp",
    ("money", frozenset({"string", "number"})): "_money_leaf",
}
_LEAF_TESTS = {frozenset({name}): _TYPE_TESTS[name] for name in ("string", "boolean")}


def _leaf_expression(w: _Writer, schema: Any, v: str, source: str | None = None) -> str | None:
    """A leaf with nothing more to check, as one expression (most leaves of our schemas), or None.

    A timestamp or an amount is read by a reader that raises ValueError for anything it refuses (a wrong
    type included); a string, an enum of strings or a boolean is tested, and ``_refuse()`` raises the
    ValueError. The function turns it into INVALID. Null, where allowed, is passed through. With
    ``source``, the expression also reads the value: it is named ``v`` where it is first evaluated.
    """
    if not isinstance(schema, Mapping) or not _LEAF_KEYWORDS.issuperset(schema):
        return None
    _check_values(schema)
    types = _types(schema)
    if types is None:
        return None
    kinds = frozenset(types) - {"null"}
    fmt = schema.get("format")
    first = v if source is None else f"({v} := {source})"
    if fmt is None:
        test = _LEAF_TESTS.get(kinds)
        if test is None:
            return None
        test = test.format(v=_FIRST)
        if "enum" in schema:
            values = schema["enum"]
            if kinds != {"string"} or not all(type(x) is str or x is None for x in values):
                return None
            test = f"{test} and {_FIRST} in {w.const(frozenset(x for x in values if x is not None))}"
            if "null" in types and None in values:
                test = f"{_FIRST} is None or ({test})"
        elif "null" in types:
            test = f"{_FIRST} is None or {test}"
        # the test is evaluated first, from its left: the value is named at its first occurrence there
        return f"{v} if {test.replace(_FIRST, first, 1).replace(_FIRST, v)} else _refuse()"
    reader = _LEAF_READERS.get((fmt, kinds))
    if reader is None or "enum" in schema:
        return None
    if "null" in types:
        return f"None if {first} is None else {reader}({v})"
    return f"{reader}({v if source is None else source})"


_FIRST = "\x00"
"""Where a leaf's test reads the value: the first is where a read value gets its name."""


def _refuse() -> Any:
    """What a leaf expression calls for a value its test refused."""
    raise ValueError("refused")


def _money_leaf(value: Any) -> Decimal:
    """A money value of a string-or-number node as evaluation takes it; ValueError when it is not one."""
    if type(value) is str or type(value) is int or (type(value) is Decimal and value.is_finite()):
        amount = money_input(value)
        if amount is not None:
            return amount
    raise ValueError("not an amount")


def _enum_implies_type(schema: Mapping[str, Any], types: list[str]) -> bool:
    """Whether the enum test alone proves the type: an enum of strings (and null) on a string node."""
    values = schema.get("enum")
    if not isinstance(values, list) or "string" not in types:
        return False
    allowed = {str, type(None)} if "null" in types else {str}
    return all(type(x) in allowed for x in values)


def _enum(w: _Writer, schema: Mapping[str, Any], v: str, indent: int) -> None:
    if "enum" not in schema:
        return
    values = schema["enum"]
    strings = [x for x in values if isinstance(x, str)]
    numbers = [x for x in values if isinstance(x, int | Decimal) and not isinstance(x, bool)]
    if len(strings) + len(numbers) + values.count(None) != len(values):
        raise _Unsupported("enum of other values")
    tests = []
    if strings:
        tests.append(f"(type({v}) is str and {v} in {w.const(frozenset(strings))})")
    if numbers:  # jsonschema compares numbers by value: 7, 7.0 and Decimal("7") are one enum member
        tests.append(f"({_NUMBER.format(v=v)} and {v} in {w.const(frozenset(numbers))})")
    if None in values:
        tests.append(f"{v} is None")
    w.fail_if(indent, "not (" + " or ".join(tests) + ")")


def _numeric(w: _Writer, schema: Mapping[str, Any], v: str, indent: int) -> None:
    is_number = _NUMBER.format(v=v)
    bounds = (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="), ("exclusiveMaximum", ">="))
    for key, op in bounds:
        if key in schema:
            bound = schema[key]
            if isinstance(bound, bool) or not isinstance(bound, int | Decimal):
                raise _Unsupported(key)
            w.fail_if(indent, f"{is_number} and {v} {op} {w.const(bound)}")
    if "multipleOf" in schema:
        step = schema["multipleOf"]
        if isinstance(step, bool) or not isinstance(step, int | Decimal) or step <= 0:
            raise _Unsupported("multipleOf")
        w.fail_if(indent, f"{is_number} and not _multiple_of({v}, {w.const(step)})")


def _string(w: _Writer, schema: Mapping[str, Any], v: str, indent: int) -> None:
    is_string = f"type({v}) is str"
    if "minLength" in schema:
        w.fail_if(indent, f"{is_string} and len({v}) < {int(schema['minLength'])}")
    if "maxLength" in schema:
        w.fail_if(indent, f"{is_string} and len({v}) > {int(schema['maxLength'])}")
    if "pattern" in schema:
        pattern = w.const(re.compile(str(schema["pattern"])))
        w.fail_if(indent, f"{is_string} and {pattern}.search({v}) is None")


def _scalar(
    w: _Writer, schema: Mapping[str, Any], kind: Kind, types: list[str], v: str, out: str, indent: int
) -> None:
    fmt = schema.get("format")
    if fmt not in (None, "money", "date-time"):
        raise _Unsupported(f"format {fmt}")
    # The type test above has run: a branch for a type the node does not allow is left out.
    if fmt == "money":
        if "null" in types or "boolean" in types:
            w.emit(indent, f"if {v} is None or {v} is True or {v} is False:")
            w.emit(indent + 1, f"{out} = {v}")
            w.emit(indent, "else:")
            indent += 1
        w.emit(indent, f"{out} = _money_input({v})")
        w.fail_if(indent, f"{out} is None")
    elif fmt == "date-time":
        if types != ["string"]:
            w.emit(indent, f"if type({v}) is not str:")
            w.emit(indent + 1, f"{out} = {v}")
            w.emit(indent, "else:")
            indent += 1
        w.emit(indent, f"{out} = _parse_timestamp({v})")  # its ValueError: the function returns INVALID
    elif kind is Kind.DECIMAL:
        w.emit(indent, f"{out} = Decimal({v}) if type({v}) is int else {v}")
    else:
        w.emit(indent, f"{out} = {v}")


def _object(
    w: _Writer,
    schema: Mapping[str, Any],
    type_: Type,
    v: str,
    out: str,
    indent: int,
    depth: int,
    nullable: bool,
) -> None:
    properties = schema.get("properties", {})
    required = list(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, Mapping) or extra not in (True, False):
        raise _Unsupported("object")
    inner = indent
    if nullable:
        w.emit(indent, f"if {v} is None:")
        w.emit(indent + 1, f"{out} = None")
        w.emit(indent, "else:")
        inner = indent + 1
    for name in required:
        if name not in properties:
            w.fail_if(inner, f"{str(name)!r} not in {v}")
    if extra is False:
        w.fail_if(inner, f"not {w.const(frozenset(properties))}.issuperset({v})")
    field_types = dict(type_.fields)
    fields = []
    for name, sub in properties.items():
        value, result = w.name("_v"), w.name("_r")
        if name in required:  # a missing one raises KeyError: the function returns INVALID
            leaf = _leaf_expression(w, sub, value, f"{v}[{name!r}]")
            if leaf is not None:  # one line: read, checked and coerced
                w.emit(inner, f"{result} = {leaf}")
            else:
                w.emit(inner, f"{value} = {v}[{name!r}]")
                _node(w, sub, field_types[name], value, result, inner, depth + 1)
        else:
            leaf = _leaf_expression(w, sub, value)
            if leaf is not None:  # one line: absent reads as None
                got = f"({value} := {v}.get({name!r}, _ABSENT))"
                w.emit(inner, f"{result} = None if {got} is _ABSENT else {leaf}")
                fields.append(f"{name!r}: {result}")
                continue
            w.emit(inner, f"{value} = {v}.get({name!r}, _ABSENT)")
            w.emit(inner, f"if {value} is _ABSENT:")
            w.emit(inner + 1, f"{result} = None")
            w.emit(inner, "else:")
            _node(w, sub, field_types[name], value, result, inner + 1, depth + 1)
        fields.append(f"{name!r}: {result}")
    w.emit(inner, f"{out} = {{{', '.join(fields)}}}")


def _array(
    w: _Writer, schema: Mapping[str, Any], type_: Type, v: str, out: str, indent: int, depth: int
) -> None:
    w.emit(indent, f"if {v} is None:")
    w.emit(indent + 1, f"{out} = None")
    w.emit(indent, "else:")
    inner = indent + 1
    if "minItems" in schema:
        w.fail_if(inner, f"len({v}) < {int(schema['minItems'])}")
    if "maxItems" in schema:
        w.fail_if(inner, f"len({v}) > {int(schema['maxItems'])}")
    items = schema.get("items")
    if items is None:
        w.emit(inner, f"{out} = list({v})")
    else:
        item, result = w.name("_i"), w.name("_r")
        w.emit(inner, f"{out} = []")
        w.emit(inner, f"for {item} in {v}:")
        if type_.item is None:
            raise _Unsupported("items")
        _node(w, items, type_.item, item, result, inner + 1, depth + 1)
        w.emit(inner + 1, f"{out}.append({result})")
    if schema.get("uniqueItems") is True:
        # only lists of strings are compared here; anything else goes to jsonschema
        w.fail_if(inner, f"not all(type(x) is str for x in {v}) or len(set({v})) != len({v})")


def _multiple_of(value: Any, step: Any) -> bool:
    try:
        return bool(Decimal(value) % Decimal(step) == 0)
    except ArithmeticError:
        return False


def compile_fast_input(schema: Mapping[str, Any], name: str = "input") -> FastInput | None:
    """The generated check-and-coerce function of a decision input schema, or None when unsupported."""
    w = _Writer()
    try:
        # the expression types of the whole tree, worked out once (each node's kind is read from them)
        _node(w, schema, type_of_schema(schema), "data", "result", 2, 0)
    except (_Unsupported, ValueError, TypeError, ArithmeticError, AttributeError):  # any doubt: no fast path
        return None
    # A KeyError means a required property is missing (each is read by subscript, on a value already tested
    # to be a dict), a ValueError a leaf its reader refused; were either anything else, INVALID only sends
    # the input to jsonschema.
    source = (
        "def fast_input(data):\n    try:\n"
        + "\n".join(w.lines)
        + "\n    except (KeyError, ValueError):\n        return _INVALID\n    return result\n"
    )
    namespace: dict[str, Any] = {
        "Decimal": Decimal,
        "_INVALID": INVALID,
        "_ABSENT": _ABSENT,
        "_money_input": money_input,
        "_money_leaf": _money_leaf,
        "_refuse": _refuse,
        "_parse_timestamp": parse_timestamp,
        "_multiple_of": _multiple_of,
        **w.constants,
    }
    try:
        code = compile(source, f"<input schema {name}>", "exec")
    except (SyntaxError, RecursionError, MemoryError):  # nested past Python's limits: no fast path
        return None
    exec(code, namespace)  # our own generated code
    function: FastInput = namespace["fast_input"]
    return function


_ABSENT: Any = object()
