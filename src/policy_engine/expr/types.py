"""Static types of expression values: what a field, param or sub-expression holds, known at load."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = (
    "ANY",
    "BOOLEAN",
    "DATE",
    "DECIMAL",
    "DURATION",
    "INTEGER",
    "MONEY",
    "NULL",
    "NUMERIC",
    "STRING",
    "TIME",
    "TIMESTAMP",
    "Kind",
    "Type",
    "arithmetic_result",
    "comparable",
    "list_of",
    "type_of_schema",
    "unify",
)


class Kind(enum.Enum):
    """The kinds of value an expression can hold."""

    MONEY = "money"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DURATION = "duration"
    TIMESTAMP = "timestamp"
    DATE = "date"
    TIME = "time of day"
    BOOLEAN = "boolean"
    STRING = "string"
    LIST = "list"
    OBJECT = "object"
    TABLE = "table"
    NULL = "null"
    ANY = "any"


NUMERIC = frozenset({Kind.MONEY, Kind.DECIMAL, Kind.INTEGER})


@dataclass(frozen=True)
class Type:
    """A value's kind, whether it may be null, and its parts (list items, object fields)."""

    kind: Kind
    nullable: bool = False
    item: Type | None = None
    """Item type of a list, or row type of a table."""
    fields: tuple[tuple[str, Type], ...] = ()
    """Fields of an object or table row, in schema order."""
    enum: tuple[str, ...] = ()
    """Allowed values of an enumerated string."""
    has_default: bool = False
    """An output field whose schema gives a default."""
    default: Any = None

    def field(self, name: str) -> Type | None:
        """The type of one field of an object, or None when there is no such field."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of an object's fields."""
        return tuple(key for key, _ in self.fields)

    def or_null(self, nullable: bool = True) -> Type:
        """The same type, nullable (or not)."""
        return self if self.nullable == nullable else replace(self, nullable=nullable)

    def describe(self) -> str:
        """Words for messages: ``money``, ``list of string``, ``timestamp or null``."""
        text = self.kind.value
        if self.kind is Kind.LIST and self.item is not None:
            text = f"list of {self.item.describe()}"
        return f"{text} or null" if self.nullable and self.kind is not Kind.NULL else text


MONEY = Type(Kind.MONEY)
DECIMAL = Type(Kind.DECIMAL)
INTEGER = Type(Kind.INTEGER)
DURATION = Type(Kind.DURATION)
TIMESTAMP = Type(Kind.TIMESTAMP)
DATE = Type(Kind.DATE)
TIME = Type(Kind.TIME)
BOOLEAN = Type(Kind.BOOLEAN)
STRING = Type(Kind.STRING)
NULL = Type(Kind.NULL, nullable=True)
ANY = Type(Kind.ANY, nullable=True)


def list_of(item: Type, nullable: bool = False) -> Type:
    """A list type."""
    return Type(Kind.LIST, nullable=nullable, item=item)


def unify(a: Type, b: Type) -> Type:
    """The type of a value that is either ``a`` or ``b`` (conditional expression, coalesce, min/max)."""
    nullable = a.nullable or b.nullable
    if a.kind is Kind.NULL:
        return b.or_null()
    if b.kind is Kind.NULL:
        return a.or_null()
    if a.kind is b.kind:
        if a.kind is Kind.STRING and a.enum and b.enum:
            merged = a.enum + tuple(v for v in b.enum if v not in a.enum)
            return Type(Kind.STRING, nullable=nullable, enum=merged)
        return a.or_null(nullable) if a.kind is not Kind.STRING else Type(Kind.STRING, nullable=nullable)
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return Type(_wider_number(a.kind, b.kind), nullable=nullable)
    return ANY


def _wider_number(a: Kind, b: Kind) -> Kind:
    if Kind.MONEY in (a, b):
        return Kind.MONEY
    if Kind.DECIMAL in (a, b):
        return Kind.DECIMAL
    return Kind.INTEGER


def comparable(a: Type, b: Type, op: str) -> bool:
    """Whether ``a op b`` makes sense; ``==``/``!=`` also allow null on either side."""
    if Kind.ANY in (a.kind, b.kind):
        return True
    if op in ("==", "!=") and Kind.NULL in (a.kind, b.kind):
        return True
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return True
    if a.kind is b.kind:
        return op in ("==", "!=") or a.kind not in (Kind.BOOLEAN, Kind.OBJECT, Kind.LIST, Kind.TABLE)
    return False


def arithmetic_result(op: str, a: Type, b: Type) -> Type | None:
    """The type of ``a op b`` for ``+ - * / // % **``, or None when the operation makes no sense."""
    nullable = a.nullable or b.nullable
    if Kind.ANY in (a.kind, b.kind) or Kind.NULL in (a.kind, b.kind):
        return ANY
    kind = _arithmetic_kind(op, a.kind, b.kind)
    return None if kind is None else Type(kind, nullable=nullable)


_TIME_ARITHMETIC: Mapping[tuple[str, Kind, Kind], Kind] = {
    ("-", Kind.TIMESTAMP, Kind.TIMESTAMP): Kind.DURATION,
    ("+", Kind.TIMESTAMP, Kind.DURATION): Kind.TIMESTAMP,
    ("+", Kind.DURATION, Kind.TIMESTAMP): Kind.TIMESTAMP,
    ("-", Kind.TIMESTAMP, Kind.DURATION): Kind.TIMESTAMP,
    ("+", Kind.DURATION, Kind.DURATION): Kind.DURATION,
    ("-", Kind.DURATION, Kind.DURATION): Kind.DURATION,
    ("*", Kind.DURATION, Kind.INTEGER): Kind.DURATION,
    ("*", Kind.INTEGER, Kind.DURATION): Kind.DURATION,
    ("/", Kind.DURATION, Kind.DURATION): Kind.DECIMAL,
    ("+", Kind.STRING, Kind.STRING): Kind.STRING,
}


def _arithmetic_kind(op: str, a: Kind, b: Kind) -> Kind | None:
    if a in NUMERIC and b in NUMERIC:
        if op == "//":
            return Kind.INTEGER
        if op == "/" and a is b and a in (Kind.MONEY, Kind.INTEGER):
            return Kind.DECIMAL
        if op == "**":
            return a
        return _wider_number(a, b)
    if a is Kind.INTEGER or b is Kind.INTEGER:
        return _TIME_ARITHMETIC.get((op, a, b))
    if a is Kind.DECIMAL and b is Kind.DURATION and op == "*":
        return None
    return _TIME_ARITHMETIC.get((op, a, b))


def type_of_schema(schema: Mapping[str, Any], *, required: bool = True) -> Type:
    """The expression type of a value a JSON Schema describes (decision input and output schemas).

    Follows the schema conventions of ``schemas/``: ``format: money`` is money, ``format: date-time`` a
    timestamp, ``type: integer``, ``number``, ``boolean``, ``string`` (with ``enum``), ``array`` and
    ``object``. A field that is not required reads as null when absent, so it is nullable.
    """
    raw_type = schema.get("type", [])
    types = {raw_type} if isinstance(raw_type, str) else set(raw_type)
    nullable = "null" in types or not required
    if "enum" in schema and not types:
        types = {"string"}
    has_default = "default" in schema
    fmt = schema.get("format")
    kind: Kind
    item: Type | None = None
    fields: tuple[tuple[str, Type], ...] = ()
    enum_values: tuple[str, ...] = ()
    if fmt == "money":
        kind = Kind.MONEY
    elif fmt == "date-time":
        kind = Kind.TIMESTAMP
    elif "integer" in types:
        kind = Kind.INTEGER
    elif "number" in types:
        kind = Kind.DECIMAL
    elif "boolean" in types:
        kind = Kind.BOOLEAN
    elif "string" in types:
        kind = Kind.STRING
        enum_values = tuple(v for v in schema.get("enum", ()) if isinstance(v, str))
    elif "array" in types:
        kind = Kind.LIST
        item = type_of_schema(schema.get("items", {}), required=True)
    elif "object" in types:
        kind = Kind.OBJECT
        req = set(schema.get("required", ()))
        fields = tuple(
            (name, type_of_schema(sub, required=name in req))
            for name, sub in schema.get("properties", {}).items()
        )
    elif types == {"null"}:
        return NULL
    else:
        return ANY
    return Type(
        kind,
        nullable=nullable,
        item=item,
        fields=fields,
        enum=enum_values,
        has_default=has_default,
        default=schema.get("default"),
    )
