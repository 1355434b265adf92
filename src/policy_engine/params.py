"""Typed params: turn ``{money: 300}``, ``{duration: 6h}``, tables … into runtime values and static types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from policy_engine.errors import PolicyCompileError, PolicyError
from policy_engine.expr.types import (
    BOOLEAN,
    DECIMAL,
    DURATION,
    INTEGER,
    MONEY,
    STRING,
    TIME,
    Kind,
    Type,
    list_of,
)
from policy_engine.expr.values import parse_duration, parse_money, parse_time_of_day
from policy_engine.model import ParamSpec, Where

__all__ = ("ParamValue", "param_value", "to_json_param")

_SCALAR_TYPES: Mapping[str, Type] = {
    "money": MONEY,
    "decimal": DECIMAL,
    "integer": INTEGER,
    "percent": DECIMAL,
    "duration": DURATION,
    "days": INTEGER,
    "time_of_day": TIME,
    "boolean": BOOLEAN,
    "string": STRING,
}


@dataclass(frozen=True)
class ParamValue:
    """A param ready for expressions: its value and its static type."""

    spec: ParamSpec
    value: Any
    type: Type


class _BadValue(ValueError):
    pass


def _money(raw: Any) -> Any:
    if not isinstance(raw, Decimal):
        raise _BadValue("a money value is a number such as 300.00")
    try:
        return parse_money(raw)
    except ValueError as exc:
        raise _BadValue(str(exc)) from exc


def _number(raw: Any) -> Decimal:
    if not isinstance(raw, Decimal):
        raise _BadValue("this value must be a number")
    return raw


def _whole(raw: Any) -> int:
    if not isinstance(raw, Decimal) or raw != raw.to_integral_value():
        raise _BadValue("this value must be a whole number")
    return int(raw)


def _days(raw: Any) -> int:
    days = _whole(raw)
    if days < 0:
        raise _BadValue("days cannot be negative")
    return days


def _boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _BadValue("a boolean is true or false")
    return raw


def _string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _BadValue(f'a string value must be text; quote it: "{raw}"')
    return raw


_CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    "money": _money,
    "decimal": _number,
    "percent": lambda raw: _number(raw) / 100,
    "integer": _whole,
    "days": _days,
    "duration": lambda raw: parse_duration(str(raw)),
    "time_of_day": lambda raw: parse_time_of_day(str(raw)),
    "boolean": _boolean,
    "string": _string,
}


def _scalar(kind: str, raw: Any) -> Any:
    converter = _CONVERTERS.get(kind)
    if converter is None:
        raise _BadValue(f"unknown param type {kind}")
    return converter(raw)


def _table(spec: ParamSpec) -> tuple[dict[Any, dict[str, Any]], Type]:
    columns = spec.columns
    for column, kind in columns.items():
        if kind not in _SCALAR_TYPES:
            raise _BadValue(f"column {column} has unknown type {kind}")
    if spec.key is None or spec.key not in columns:
        raise _BadValue(f"key must name one of the columns: {', '.join(columns)}")
    rows: dict[Any, dict[str, Any]] = {}
    for index, raw_row in enumerate(spec.value or ()):
        if not isinstance(raw_row, Mapping):
            raise _BadValue(f"row {index + 1} must be a mapping of column values")
        unknown = set(raw_row) - set(columns)
        missing = set(columns) - set(raw_row)
        if unknown or missing:
            parts = [f"unknown column {', '.join(sorted(unknown))}"] if unknown else []
            parts += [f"missing column {', '.join(sorted(missing))}"] if missing else []
            raise _BadValue(f"row {index + 1}: {'; '.join(parts)}")
        row = {}
        for column, kind in columns.items():
            try:
                row[column] = _scalar(kind, raw_row[column])
            except ValueError as exc:
                raise _BadValue(f"row {index + 1}, column {column}: {exc}") from exc
        key = row[spec.key]
        if key in rows:
            raise _BadValue(f"row {index + 1}: key {key} appears twice")
        rows[key] = row
    row_type = Type(Kind.OBJECT, fields=tuple((c, _SCALAR_TYPES[k]) for c, k in columns.items()))
    return rows, Type(Kind.TABLE, item=row_type)


def param_value(spec: ParamSpec) -> ParamValue | PolicyError:
    """The runtime value and type of a param, or a located error saying what is wrong with it."""
    where: Where = spec.where.child(spec.kind)
    try:
        if spec.kind == "table":
            rows, type_ = _table(spec)
            return ParamValue(spec, rows, type_)
        if spec.kind == "list":
            item_kind = spec.of or "string"
            if item_kind not in _SCALAR_TYPES:
                raise _BadValue(f"of: unknown item type {item_kind}")
            values = [_scalar(item_kind, v) for v in spec.value or ()]
            return ParamValue(spec, values, list_of(_SCALAR_TYPES[item_kind]))
        return ParamValue(spec, _scalar(spec.kind, spec.value), _SCALAR_TYPES[spec.kind])
    except ValueError as exc:
        return PolicyCompileError("param-value", f"param {spec.name}: {exc}", where.location())


def to_json_param(spec: ParamSpec) -> dict[str, Any]:
    """A param as the API shows it: type, value as written, and its notes."""
    out: dict[str, Any] = {"type": spec.kind, "value": _jsonable(spec.value)}
    for name in ("of", "key", "title", "assumption", "source"):
        value = getattr(spec, name)
        if value is not None:
            out[name] = value
    if spec.columns:
        out["columns"] = dict(spec.columns)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
