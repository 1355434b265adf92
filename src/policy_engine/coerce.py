"""Coerce validated JSON input into evaluation values (Decimal, aware datetimes), and format outputs for JSON.

Both sides are built once per decision from its schemas' types; evaluation only calls the built functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from policy_engine.expr.types import Kind, Type
from policy_engine.expr.values import format_money, format_timestamp, parse_timestamp

__all__ = ("Coercer", "OutputValueError", "build_coercer", "output_formatter")

Coercer = Callable[[Any], Any]


class OutputValueError(ValueError):
    """A rule produced a value its output field cannot hold (a policy bug)."""


def _identity(value: Any) -> Any:
    return value


_CENT = Decimal("0.01")


def _money(value: Any) -> Any:
    # Validated money has at most two places, so quantize is exact: "50" reads as 50.00 everywhere.
    if isinstance(value, Decimal | str | int) and not isinstance(value, bool):
        return Decimal(value).quantize(_CENT)
    return value


def _decimal(value: Any) -> Any:
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _timestamp(value: Any) -> Any:
    return parse_timestamp(value) if isinstance(value, str) else value


def build_coercer(type_: Type) -> Coercer:
    """A function turning a schema-valid JSON value of this type into evaluation values.

    Absent optional object fields become null, so generated code may index every declared field.
    """
    kind = type_.kind
    if kind is Kind.OBJECT:
        fields = tuple((name, build_coercer(sub)) for name, sub in type_.fields)

        def coerce_object(value: Any) -> Any:
            if value is None:
                return None
            return {name: convert(value.get(name)) for name, convert in fields}

        return coerce_object
    if kind is Kind.LIST:
        convert_item = build_coercer(type_.item) if type_.item is not None else _identity

        def coerce_list(value: Any) -> Any:
            return None if value is None else [convert_item(v) for v in value]

        return coerce_list
    return {Kind.MONEY: _money, Kind.DECIMAL: _decimal, Kind.TIMESTAMP: _timestamp}.get(kind, _identity)


Formatter = Callable[[Any, str], Any]


def _null_check(nullable: bool) -> Callable[[Any, str], bool]:
    def is_null(value: Any, name: str) -> bool:
        if value is None:
            if nullable:
                return True
            raise OutputValueError(f"output field {name} cannot be null")
        return False

    return is_null


def _money_formatter(is_null: Callable[[Any, str], bool], tz: ZoneInfo) -> Formatter:
    def fmt_money(value: Any, name: str) -> Any:
        if type(value) is Decimal:  # the common case, checked once
            return format_money(value)
        if is_null(value, name):
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise OutputValueError(f"output field {name} must be an amount, got {value!r}")
        return format_money(Decimal(value))

    return fmt_money


def _timestamp_formatter(is_null: Callable[[Any, str], bool], tz: ZoneInfo) -> Formatter:
    def fmt_timestamp(value: Any, name: str) -> Any:
        if is_null(value, name):
            return None
        if not isinstance(value, datetime):
            raise OutputValueError(f"output field {name} must be a timestamp, got {value!r}")
        return format_timestamp(value, tz)

    return fmt_timestamp


def _integer_formatter(is_null: Callable[[Any, str], bool], tz: ZoneInfo) -> Formatter:
    def fmt_integer(value: Any, name: str) -> Any:
        if is_null(value, name):
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int) or value != int(value):
            raise OutputValueError(f"output field {name} must be a whole number, got {value!r}")
        return int(value)

    return fmt_integer


def _required_formatter(is_null: Callable[[Any, str], bool], tz: ZoneInfo) -> Formatter:
    def fmt_required(value: Any, name: str) -> Any:
        is_null(value, name)
        return value

    return fmt_required


_FORMATTERS = {
    Kind.MONEY: _money_formatter,
    Kind.TIMESTAMP: _timestamp_formatter,
    Kind.INTEGER: _integer_formatter,
}


def output_formatter(type_: Type, tz: ZoneInfo) -> Formatter | None:
    """A function turning one output value into its JSON form, checking it fits; None when none is needed."""
    is_null = _null_check(type_.nullable)
    if type_.kind is Kind.LIST:
        item = output_formatter(type_.item, tz) if type_.item is not None else None

        def fmt_list(value: Any, name: str) -> Any:
            if is_null(value, name):
                return None
            return [item(v, name) for v in value] if item is not None else list(value)

        return fmt_list
    factory = _FORMATTERS.get(type_.kind)
    if factory is not None:
        return factory(is_null, tz)
    return None if type_.nullable else _required_formatter(is_null, tz)
