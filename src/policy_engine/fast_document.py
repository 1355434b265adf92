"""A yes/no check of a policy file (or test table) against its JSON Schema, built once from the schema.

jsonschema walks ``policy.schema.json`` with a generic interpreter and checks the schema against the
2020-12 meta-schema first; for valid files, the common case, both are most of the time spent validating
at load. This module turns the schema into a tree of small closures once, for the subset of JSON Schema
the policy schemas use, and answers only "valid" or "not known to be valid". Any "not valid" sends the
caller to jsonschema, which finds the located problems and words them exactly as before, so this check
never changes an error. It must only never say "valid" where jsonschema would not: each keyword is
implemented as jsonschema 4 implements it (with the engine's integer and format rules), a value of a
Python type the YAML reader does not produce, or a list that is not all strings under ``uniqueItems``,
stops the check with "not known" (:class:`_Doubt`), and a schema keyword outside the subset means no fast
check at all (:func:`compile_fast_document` returns None).

A schema the builder accepts has had every keyword value checked against what the 2020-12 meta-schema
allows (and its patterns compiled), so it needs no meta-schema check either. A test checks the answers
against jsonschema on every bundled policy and test table, the hostile corpus and hypothesis mutations.
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from jsonschema import FormatChecker

__all__ = ("KEYWORD_VALUES", "DocumentCheck", "compile_fast_document", "schema_in_subset")

DocumentCheck = Callable[[Any], bool]
"""True when the document is valid; False when jsonschema must look at it."""

_Check = Callable[[Any], bool]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_MAX_DEPTH = 64
_SIMPLE_TYPES = frozenset({"string", "number", "integer", "boolean", "null", "object", "array"})
_KNOWN_TYPES: frozenset[type] = frozenset({str, int, bool, Decimal, type(None), dict, list})
"""The Python types of documents from the strict YAML reader and JSON decoder; others are a doubt."""
_ENUM_TYPES: frozenset[type] = frozenset({str, int, bool, Decimal, type(None)})
_REF = re.compile(r"#/\$defs/([A-Za-z0-9_]+)")

_ANNOTATIONS: dict[str, Callable[[Any], bool]] = {
    "title": lambda v: isinstance(v, str),
    "description": lambda v: isinstance(v, str),
    "$comment": lambda v: isinstance(v, str),
    "default": lambda v: True,
    "examples": lambda v: isinstance(v, list),
    "patternErrorMessage": lambda v: True,  # ours, not a 2020-12 keyword: jsonschema ignores it
}
"""Keywords that do not validate, with what the meta-schema allows as their value."""


class _Unsupported(Exception):
    """The schema uses something the builder does not implement: no fast check for it."""


class _Doubt(Exception):
    """The document holds something the fast check does not decide: jsonschema must."""


def _is_count(value: Any) -> bool:
    # The meta-schema's nonNegativeInteger, as jsonschema's plain 2020-12 validator checks it.
    return type(value) is int and value >= 0


def _is_number(value: Any) -> bool:
    return type(value) is int or (type(value) is Decimal and value.is_finite())


def _is_schema(value: Any) -> bool:
    return type(value) is dict or isinstance(value, bool | Mapping)  # a dict, mostly: no ABC check


def _is_schema_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_schema(s) for s in value)


def _is_schema_map(value: Any) -> bool:
    return (type(value) is dict or isinstance(value, Mapping)) and all(_is_schema(s) for s in value.values())


def _is_type_value(value: Any) -> bool:
    if isinstance(value, str):
        return value in _SIMPLE_TYPES
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, str) and t in _SIMPLE_TYPES for t in value)
        and len(set(value)) == len(value)
    )


_KEYWORDS: dict[str, Callable[[Any], bool]] = {
    "type": _is_type_value,
    "enum": lambda v: isinstance(v, list) and all(type(x) in _ENUM_TYPES for x in v),
    "pattern": lambda v: isinstance(v, str),
    "format": lambda v: isinstance(v, str),
    "minLength": _is_count,
    "maxLength": _is_count,
    "minimum": _is_number,
    "maximum": _is_number,
    "exclusiveMinimum": _is_number,
    "exclusiveMaximum": _is_number,
    "multipleOf": lambda v: _is_number(v) and v > 0,
    "properties": _is_schema_map,
    "required": lambda v: (
        isinstance(v, list) and all(isinstance(n, str) for n in v) and len(set(v)) == len(v)
    ),
    "additionalProperties": _is_schema,
    "propertyNames": _is_schema,
    "minProperties": _is_count,
    "maxProperties": _is_count,
    "items": _is_schema,
    "minItems": _is_count,
    "maxItems": _is_count,
    "uniqueItems": lambda v: isinstance(v, bool),
    "oneOf": _is_schema_list,
    "anyOf": _is_schema_list,
    "allOf": _is_schema_list,
    "not": _is_schema,
    "if": _is_schema,
    "then": _is_schema,
    "else": _is_schema,
    "$ref": lambda v: isinstance(v, str) and _REF.fullmatch(v) is not None,
}
"""The keywords implemented here, with what the 2020-12 meta-schema allows as their value (stricter
where jsonschema's meta-schema check would depend on details, e.g. ``enum`` of strings only)."""

KEYWORD_VALUES: Mapping[str, Callable[[Any], bool]] = {**_ANNOTATIONS, **_KEYWORDS}
"""Every keyword of the subset, validating or not, with the values the meta-schema allows; a schema whose
keywords all pass needs no meta-schema check (:mod:`policy_engine.fast_input` relies on it too)."""


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _all(checks: list[_Check]) -> _Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks

        def both(value: Any) -> bool:
            return first(value) and second(value)

        return both
    group = tuple(checks)

    def every(value: Any) -> bool:
        return all(check(value) for check in group)

    return every


class _Builder:
    """Builds the closures of one schema document; ``$ref`` reaches the root's ``$defs`` only."""

    def __init__(self, root: Mapping[str, Any], formats: FormatChecker) -> None:
        self.root = root
        self.formats = formats
        self.cells: dict[str, list[_Check]] = {}

    def build(self) -> DocumentCheck:
        defs = self.root.get("$defs", {})
        if not _is_schema_map(defs):
            raise _Unsupported("$defs")
        schema = self.root.get("$schema", DRAFT_2020_12)
        if schema != DRAFT_2020_12:
            raise _Unsupported("$schema")
        top = {k: v for k, v in self.root.items() if k not in {"$defs", "$schema"}}
        check = self.node(top, 0)
        for name, sub in defs.items():  # every definition is built, used or not: it is checked so
            self.cells.setdefault(name, [_never])[0] = self.node(sub, 1)
        missing = set(self.cells) - set(defs)
        if missing:
            raise _Unsupported(f"$ref to a missing definition: {sorted(missing)}")
        return check

    def node(self, schema: Any, depth: int) -> _Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            raise _Unsupported("schema node")
        for key, value in schema.items():
            allowed = KEYWORD_VALUES.get(key)
            if allowed is None:
                raise _Unsupported(key)
            if not allowed(value):
                raise _Unsupported(f"the value of {key}")
        checks: list[_Check] = []
        if "type" in schema:
            checks.append(_type_check(schema["type"]))
        if "enum" in schema:
            checks.append(_enum_check(schema["enum"]))
        checks += self._string(schema)
        checks += self._number(schema)
        if "format" in schema:
            checks.append(self._format(str(schema["format"])))
        obj = self._object(schema, depth)
        if obj is not None:
            checks.append(obj)
        array = self._array(schema, depth)
        if array is not None:
            checks.append(array)
        checks += self._applicators(schema, depth)
        return _all(checks)

    def _string(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        if "pattern" in schema:
            try:
                search = re.compile(schema["pattern"]).search
            except re.error as exc:
                raise _Unsupported("pattern") from exc

            def pattern(value: Any) -> bool:
                kind = type(value)
                if kind is str:
                    return search(value) is not None
                if kind not in _KNOWN_TYPES:
                    raise _Doubt
                return True  # not a string: the keyword does not apply

            checks.append(pattern)
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None or high is not None:
            least = low or 0

            def length(value: Any) -> bool:
                kind = type(value)
                if kind is str:
                    size = len(value)
                    return size >= least and (high is None or size <= high)
                if kind not in _KNOWN_TYPES:
                    raise _Doubt
                return True

            checks.append(length)
        return checks

    def _number(self, schema: Mapping[str, Any]) -> list[_Check]:
        bounds = [
            (schema[key], test)
            for key, test in (
                ("minimum", operator.ge),
                ("maximum", operator.le),
                ("exclusiveMinimum", operator.gt),
                ("exclusiveMaximum", operator.lt),
            )
            if key in schema
        ]
        step = schema.get("multipleOf")
        if not bounds and step is None:
            return []

        def in_bounds(value: Any) -> bool:
            kind = type(value)
            if kind is not int and kind is not Decimal:
                if kind not in _KNOWN_TYPES:
                    raise _Doubt
                return True  # bool, str, … are not numbers: the bounds do not apply
            if kind is Decimal and not value.is_finite():
                raise _Doubt
            return all(test(value, bound) for bound, test in bounds) and (
                step is None or _is_multiple(value, step)
            )

        return [in_bounds]

    def _format(self, name: str) -> _Check:
        conforms = self.formats.conforms

        def format_(value: Any) -> bool:
            if type(value) not in _KNOWN_TYPES:
                raise _Doubt
            return conforms(value, name)

        return format_

    def _object(self, schema: Mapping[str, Any], depth: int) -> _Check | None:
        keys = ("properties", "required", "additionalProperties", "propertyNames", "minProperties")
        if not any(k in schema for k in (*keys, "maxProperties")):
            return None
        properties = {str(k): self.node(v, depth + 1) for k, v in schema.get("properties", {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        return _object_check(
            properties,
            tuple(schema.get("required", ())),
            None if extra_schema is True else self.node(extra_schema, depth + 1),
            self.node(schema["propertyNames"], depth + 1) if "propertyNames" in schema else None,
            schema.get("minProperties", 0),
            schema.get("maxProperties"),
        )

    def _array(self, schema: Mapping[str, Any], depth: int) -> _Check | None:
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return None
        items = self.node(schema["items"], depth + 1) if "items" in schema else _always
        least, most = schema.get("minItems", 0), schema.get("maxItems")
        unique = schema.get("uniqueItems") is True

        def array(value: Any) -> bool:
            if type(value) is not list:
                if type(value) not in _KNOWN_TYPES:
                    raise _Doubt
                return True  # not an array: these keywords do not apply
            if len(value) < least or (most is not None and len(value) > most):
                return False
            for item in value:
                if not items(item):
                    return False
            if unique:
                if not all(type(x) is str for x in value):
                    raise _Doubt  # jsonschema's equality of other values is not redone here
                if len(set(value)) != len(value):
                    return False
            return True

        return array

    def _applicators(self, schema: Mapping[str, Any], depth: int) -> list[_Check]:
        checks: list[_Check] = []
        if "$ref" in schema:
            match = _REF.fullmatch(schema["$ref"])
            assert match is not None  # checked with the keyword values
            cell = self.cells.setdefault(match.group(1), [_never])

            def ref(value: Any) -> bool:
                return cell[0](value)

            checks.append(ref)
        if "allOf" in schema:
            checks.append(_all([self.node(s, depth + 1) for s in schema["allOf"]]))
        if "anyOf" in schema:
            branches = tuple(self.node(s, depth + 1) for s in schema["anyOf"])

            def any_of(value: Any) -> bool:
                return any(branch(value) for branch in branches)

            checks.append(any_of)
        if "oneOf" in schema:
            checks.append(_one_of(tuple(self.node(s, depth + 1) for s in schema["oneOf"])))
        if "not" in schema:
            negated = self.node(schema["not"], depth + 1)

            def not_(value: Any) -> bool:
                return not negated(value)

            checks.append(not_)
        checks += self._conditional(schema, depth)
        return checks

    def _conditional(self, schema: Mapping[str, Any], depth: int) -> list[_Check]:
        # ``then`` and ``else`` are schemas (checked) even without ``if``, which alone gives them meaning.
        then = self.node(schema["then"], depth + 1) if "then" in schema else _always
        else_ = self.node(schema["else"], depth + 1) if "else" in schema else _always
        if "if" not in schema:
            return []
        condition = self.node(schema["if"], depth + 1)

        def if_(value: Any) -> bool:
            return then(value) if condition(value) else else_(value)

        return [if_]


def _object_check(
    properties: dict[str, _Check],
    required: tuple[str, ...],
    extra: _Check | None,
    names: _Check | None,
    least: int,
    most: int | None,
) -> _Check:
    """``properties``, ``required``, ``additionalProperties`` (None: any), ``propertyNames``, sizes."""
    needed = frozenset(required)
    largest = sys.maxsize if most is None else most

    def object_(value: Any) -> bool:
        if type(value) is not dict:
            return _not_applicable(value)
        if not least <= len(value) <= largest or not value.keys() >= needed:
            return False
        for key, item in value.items():
            check = _property(properties, key) or extra
            if check is not None and not check(item):
                return False
            if names is not None and not names(key):
                return False
        return True

    return object_


def _property(properties: dict[str, _Check], key: Any) -> _Check | None:
    """The check of a property by name; None for a key that names none."""
    if type(key) is str:
        return properties.get(key)
    if type(key) in _KNOWN_TYPES:
        return None  # never equal to a property's name
    raise _Doubt


def _not_applicable(value: Any) -> bool:
    """A keyword of another type's value does not apply (True), unless the value's type is unknown."""
    if type(value) not in _KNOWN_TYPES:
        raise _Doubt
    return True


def _one_of(choices: tuple[_Check, ...]) -> _Check:
    def one_of(value: Any) -> bool:
        found = 0
        for choice in choices:
            if choice(value):
                found += 1
                if found > 1:
                    return False
        return found == 1

    return one_of


def _type_check(declared: str | list[str]) -> _Check:
    types = {declared} if isinstance(declared, str) else set(declared)
    accepted: set[type] = set()
    if "string" in types:
        accepted.add(str)
    if "boolean" in types:
        accepted.add(bool)
    if "null" in types:
        accepted.add(type(None))
    if "object" in types:
        accepted.add(dict)
    if "array" in types:
        accepted.add(list)
    if "number" in types or "integer" in types:
        accepted.add(int)
    if "number" in types:
        accepted.add(Decimal)
    whole_decimal = "integer" in types and "number" not in types
    frozen = frozenset(accepted)

    def type_(value: Any) -> bool:
        kind = type(value)
        if kind in frozen:
            return True
        if kind not in _KNOWN_TYPES:
            raise _Doubt
        if whole_decimal and kind is Decimal:
            # The engine's integer: a finite Decimal without a fraction is one.
            return bool(value.is_finite() and value == value.to_integral_value())
        return False

    return type_


def _enum_check(options: list[Any]) -> _Check:
    """``enum`` as jsonschema decides it: strings by ``==``, numbers by value, true, false, null."""
    strings = frozenset(x for x in options if type(x) is str)
    numbers = tuple(x for x in options if type(x) is int or type(x) is Decimal)
    constants = tuple(x for x in options if x is None or type(x) is bool)

    def enum(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is int or kind is Decimal:
            return any(value == number for number in numbers)
        if kind is bool or value is None:
            return any(value is constant for constant in constants)
        if kind not in _KNOWN_TYPES:
            raise _Doubt
        return False  # a list or a mapping equals none of these

    return enum


def _is_multiple(value: int | Decimal, step: int | Decimal) -> bool:
    """``multipleOf`` as the engine's validator decides it (schemas._multiple_of): exactly, in Decimal."""
    try:
        return bool(Decimal(value) % Decimal(step) == 0)
    except (ArithmeticError, ValueError, TypeError):
        return False


def compile_fast_document(schema: Mapping[str, Any], formats: FormatChecker) -> DocumentCheck | None:
    """The fast yes/no check of documents against ``schema``, or None when the schema is outside the subset.

    Args:
        schema: A schema file as :func:`~policy_engine.schemas.load_schema` read it.
        formats: The format checker jsonschema validates with (its ``conforms`` decides ``format``).

    Returns:
        A function that answers True only for a document jsonschema finds valid; False means "ask
        jsonschema". None when the schema uses a keyword, a keyword value or a ``$ref`` outside the subset.
    """
    try:
        check = _Builder(schema, formats).build()
    except (_Unsupported, RecursionError):
        return None

    def document(data: Any) -> bool:
        try:
            return check(data)
        except (_Doubt, RecursionError):
            return False

    return document


_SUBSCHEMA = ("additionalProperties", "propertyNames", "items", "not", "if", "then", "else")
_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")


def schema_in_subset(schema: Mapping[str, Any]) -> bool:
    """Whether :func:`compile_fast_document` accepts ``schema``, found without building the check.

    Such a schema needs no meta-schema check: this is the stand-in for it where only that is wanted.
    """
    defs = schema.get("$defs", {})
    if not _is_schema_map(defs) or schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        return False
    top = {k: v for k, v in schema.items() if k not in {"$defs", "$schema"}}
    pending: list[tuple[Any, int]] = [(top, 0), *((sub, 1) for sub in defs.values())]
    refs: set[str] = set()
    while pending:
        node, depth = pending.pop()
        if node is True or node is False:
            continue
        if not (type(node) is dict or isinstance(node, Mapping)) or depth > _MAX_DEPTH:
            return False
        for key, value in node.items():
            allowed = KEYWORD_VALUES.get(key)
            if allowed is None or not allowed(value):
                return False
        if "pattern" in node:
            try:
                re.compile(node["pattern"])
            except re.error:
                return False
        if "$ref" in node:
            refs.add(node["$ref"].removeprefix("#/$defs/"))
        pending += [(node[key], depth + 1) for key in _SUBSCHEMA if key in node]
        pending += [(sub, depth + 1) for key in _SUBSCHEMA_LISTS for sub in node.get(key, ())]
        pending += [(sub, depth + 1) for sub in node.get("properties", {}).values()]
    return refs <= set(defs)
