"""Static signatures of the built-in functions: how many arguments, of what types, giving what type."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from policy_engine.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DURATION,
    INTEGER,
    MONEY,
    NUMERIC,
    TIME,
    TIMESTAMP,
    Kind,
    Type,
    unify,
)

__all__ = ("SIGNATURES", "Signature")

Checker = Callable[[Sequence[Type]], "Type | str"]
"""Given the argument types, the result type, or a message saying what is wrong."""


@dataclass(frozen=True)
class Signature:
    """How a built-in is called."""

    min_args: int
    max_args: int | None
    check: Checker
    usage: str
    """How to call it, for messages: ``round_money(amount)``."""


def _nullable(args: Sequence[Type]) -> bool:
    return any(a.nullable for a in args)


def _known(t: Type) -> bool:
    return t.kind not in (Kind.ANY, Kind.NULL)


def _extreme(args: Sequence[Type]) -> Type | str:
    if len(args) == 1:
        only = args[0]
        if only.kind is Kind.LIST and only.item is not None:
            return only.item.or_null()
        if only.kind is Kind.ANY:
            return ANY
        return "with one argument, min and max need a list"
    result = args[0]
    for arg in args[1:]:
        result = unify(result, arg)
    if result.kind is Kind.ANY and all(_known(a) for a in args):
        kinds = ", ".join(a.describe() for a in args)
        return f"cannot compare {kinds}"
    return result


def _number(name: str, out: Type | None = None) -> Checker:
    def check(args: Sequence[Type]) -> Type | str:
        arg = args[0]
        if _known(arg) and arg.kind not in NUMERIC and not (name == "abs" and arg.kind is Kind.DURATION):
            return f"{name} needs a number, not {arg.describe()}"
        base = out or (arg if _known(arg) else ANY)
        return base.or_null(arg.nullable)

    return check


def _collection(out: Type | None) -> Checker:
    def check(args: Sequence[Type]) -> Type | str:
        arg = args[0]
        if _known(arg) and arg.kind is not Kind.LIST and arg.kind is not Kind.TABLE:
            return f"needs a list, not {arg.describe()}"
        if out is not None:
            return out.or_null(arg.nullable)
        item = arg.item if arg.item is not None else ANY
        return item.or_null(arg.nullable or item.nullable)

    return check


def _coalesce(args: Sequence[Type]) -> Type | str:
    result = args[0]
    for arg in args[1:]:
        result = unify(result, arg)
    return result.or_null(all(a.nullable for a in args))


def _typed(expected: Sequence[Kind | frozenset[Kind]], out: Type) -> Checker:
    def check(args: Sequence[Type]) -> Type | str:
        for position, (arg, want) in enumerate(zip(args, expected, strict=False), start=1):
            allowed = want if isinstance(want, frozenset) else frozenset({want})
            if _known(arg) and arg.kind not in allowed:
                names = " or ".join(sorted(k.value for k in allowed))
                return f"argument {position} must be a {names}, not {arg.describe()}"
        return out.or_null(_nullable(args))

    return check


def _lookup(args: Sequence[Type]) -> Type | str:
    table = args[0]
    if table.kind is not Kind.TABLE or table.item is None:
        return "the first argument of lookup must be a table param, e.g. lookup(params.scenarios, scenario)"
    return table.item.or_null(args[1].nullable)


SIGNATURES: Mapping[str, Signature] = {
    "min": Signature(1, None, _extreme, "min(a, b, …) or min(list)"),
    "max": Signature(1, None, _extreme, "max(a, b, …) or max(list)"),
    "abs": Signature(1, 1, _number("abs"), "abs(x)"),
    "floor": Signature(1, 1, _number("floor", INTEGER), "floor(x)"),
    "round_money": Signature(1, 1, _number("round_money", MONEY), "round_money(x)"),
    "len": Signature(1, 1, _collection(INTEGER), "len(list)"),
    "sum": Signature(1, 1, _collection(None), "sum(list)"),
    "any": Signature(1, 1, _collection(BOOLEAN), "any(list)"),
    "all": Signature(1, 1, _collection(BOOLEAN), "all(list)"),
    "coalesce": Signature(1, None, _coalesce, "coalesce(a, b, …)"),
    "local_date": Signature(1, 1, _typed([Kind.TIMESTAMP], DATE), "local_date(timestamp)"),
    "local_time": Signature(1, 1, _typed([Kind.TIMESTAMP], TIME), "local_time(timestamp)"),
    "start_of_day": Signature(1, 1, _typed([Kind.DATE], TIMESTAMP), "start_of_day(date)"),
    "end_of_day": Signature(1, 1, _typed([Kind.DATE], TIMESTAMP), "end_of_day(date)"),
    "add_days": Signature(2, 2, _typed([Kind.DATE, Kind.INTEGER], DATE), "add_days(date, n)"),
    "days_between": Signature(
        2, 2, _typed([Kind.TIMESTAMP, Kind.TIMESTAMP], INTEGER), "days_between(timestamp, timestamp)"
    ),
    "day_window_end": Signature(
        2, 2, _typed([Kind.TIMESTAMP, Kind.INTEGER], TIMESTAMP), "day_window_end(timestamp, days)"
    ),
    "lookup": Signature(2, 2, _lookup, "lookup(table, key)"),
    "duration": Signature(1, 1, _typed([Kind.STRING], DURATION), 'duration("24h")'),
}
"""Every built-in an expression may call."""
