"""The globals a generated decision function sees: built-ins, params, constants and small helpers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from policy_engine.coerce import output_formatter
from policy_engine.expr.builtins import BUILTIN_FUNCTIONS
from policy_engine.expr.scope import param_name
from policy_engine.expr.types import Type
from policy_engine.expr.values import format_duration, format_money, format_timestamp, render_value
from policy_engine.params import ParamValue

__all__ = ("UNSET", "runtime_namespace")


class _NullMap(dict[str, Any]):
    """Stands in for a null object so that a field of it reads as null."""

    def __missing__(self, key: str) -> None:
        return None


class _Unset:
    """Marks an aggregate that no rule has contributed to yet."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


def _record(trace: dict[Any, Any], slot: int, value: Any) -> Any:
    trace[slot] = value
    return value


def _record_rule(trace: dict[Any, Any], index: int, value: Any) -> Any:
    trace[("rule", index)] = bool(value)
    return value


def runtime_namespace(
    tz: ZoneInfo,
    outputs: Mapping[str, Type],
    constants: Mapping[str, object],
    params: Mapping[str, ParamValue],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The generated module's globals, and the name of each output field's formatter among them."""
    namespace: dict[str, Any] = {f"_bi_{name}": function for name, function in BUILTIN_FUNCTIONS.items()}
    namespace.update(constants)
    namespace.update({param_name(name): p.value for name, p in params.items()})

    # One renderer per static kind of a template part, each taking its common case first; anything else
    # (null, or an int where money is expected) goes to render_value, so the text is the same either way.
    def render(value: Any) -> str:
        return render_value(value, tz)

    def render_money(value: Any) -> str:
        return format_money(value) if type(value) is Decimal else render_value(value, tz, money=True)

    def render_timestamp(value: Any) -> str:
        return format_timestamp(value, tz) if type(value) is datetime else render_value(value, tz)

    def render_duration(value: Any) -> str:
        return format_duration(value) if type(value) is timedelta else render_value(value, tz)

    def render_string(value: Any) -> str:
        return value if type(value) is str else render_value(value, tz)

    namespace.update(
        {
            "_TZ": tz,
            "_NULLMAP": _NullMap(),
            "_Decimal": Decimal,
            "_UNSET": UNSET,
            "_T": _record,
            "_M": _record_rule,
            "_rv": render,
            "_rm": render_money,
            "_rt": render_timestamp,
            "_rd": render_duration,
            "_rs": render_string,
        }
    )
    formatters: dict[str, str] = {}
    for index, (name, type_) in enumerate(outputs.items()):
        formatter = output_formatter(type_, tz)
        if formatter is not None:
            formatters[name] = f"_f{index}"
            namespace[f"_f{index}"] = formatter
    return namespace, formatters
