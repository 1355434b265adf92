"""The runtime side of the policy built-ins: the functions generated decision code calls as ``_bi_<name>``.

Null semantics follow docs/policy-language.md: a null (``None``) argument gives null, except that
``coalesce`` looks for the first non-null argument. ``len``, ``sum``, ``any`` and ``all`` give null for a
null list; ``min``, ``max`` and ``sum`` give null when any item is null. Money stays :class:`~decimal.Decimal`
throughout (a float is refused), and the time functions take the program's zone as their last parameter,
which the code generator passes; they never read the wall clock or the machine's zone. Timestamps they
return carry the zone's offset at that instant as a fixed-offset tzinfo (like parsed input timestamps), so
adding a duration to them is exact elapsed time and ``==`` compares instants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from policy_engine.expr.values import parse_duration, round_to_cent

__all__ = (
    "BUILTIN_FUNCTIONS",
    "ZONED_BUILTINS",
    "bi_abs",
    "bi_add_days",
    "bi_all",
    "bi_any",
    "bi_coalesce",
    "bi_day_window_end",
    "bi_days_between",
    "bi_duration",
    "bi_end_of_day",
    "bi_floor",
    "bi_len",
    "bi_local_date",
    "bi_local_time",
    "bi_lookup",
    "bi_max",
    "bi_min",
    "bi_round_money",
    "bi_start_of_day",
    "bi_sum",
)

_MIDNIGHT = time(0, 0, 0)
_SECOND = timedelta(seconds=1)


# -- helpers --------------------------------------------------------------------------------------


def _number(x: object, name: str) -> int | Decimal:
    """``x`` when it is an exact number (int or Decimal, not bool or float), else a TypeError."""
    if isinstance(x, bool) or not isinstance(x, int | Decimal):
        raise TypeError(f"{name} needs a number, not {type(x).__name__}")
    return x


def _whole(n: object, name: str) -> int:
    """A whole number given as int or as an integral Decimal."""
    number = _number(n, name)
    if isinstance(number, Decimal):
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{name} needs a whole number, not {number}")
        return int(number)
    return number


def _is_collection(value: object) -> bool:
    """Whether ``value`` is a list-like argument (list, tuple, generator …), not a scalar or string."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def _aware(ts: datetime) -> datetime:
    if not isinstance(ts, datetime):
        raise TypeError(f"needs a timestamp, not {type(ts).__name__}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no UTC offset")
    return ts


def _local_date(ts: datetime, tz: ZoneInfo) -> date:
    return _aware(ts).astimezone(tz).date()


def _in_zone(instant: datetime, tz: ZoneInfo) -> datetime:
    """``instant`` shown in ``tz``, carrying the offset in force there as a fixed-offset tzinfo.

    A fixed offset keeps later arithmetic exact (``+ duration`` is elapsed time, not wall-clock time) and
    keeps ``==`` working across zones, which Python disables for ``fold=1`` times of a ``ZoneInfo``.
    """
    local = instant.astimezone(tz)
    offset = local.utcoffset()
    if offset is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise ValueError(f"zone {tz} has no UTC offset at {instant.isoformat()}")
    return local.replace(tzinfo=timezone(offset), fold=0)


def _start_of_local_day(d: date, tz: ZoneInfo) -> datetime:
    """The first instant of local date ``d`` in ``tz``, also when a DST gap swallows midnight."""
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"needs a date, not {type(d).__name__}")
    naive = datetime.combine(d, _MIDNIGHT)
    as_utc = naive.replace(tzinfo=tz).astimezone(UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) == naive:
        return _in_zone(as_utc, tz)
    # Midnight falls in a gap (clocks jump forward over it): the day begins at the transition. fold=1
    # reads the wall time with the offset after the jump (an instant before the day), fold=0 with the
    # offset before it (an instant inside the day); search the whole seconds in between.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = as_utc
    if low > high:
        low, high = high, low
    while high - low > _SECOND:
        middle = low + (high - low) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if middle.astimezone(tz).date() >= d:
            high = middle
        else:
            low = middle
    return _in_zone(high, tz)


# -- numbers --------------------------------------------------------------------------------------


def _extreme(args: tuple[Any, ...], pick: Callable[[list[Any]], Any]) -> Any:
    items: list[Any]
    if len(args) == 1 and (args[0] is None or _is_collection(args[0])):
        if args[0] is None:
            return None
        items = list(args[0])
    else:
        items = list(args)
    if not items or any(item is None for item in items):
        return None
    return pick(items)


def bi_min(*args: Any) -> Any:
    """``min(a, b, …)`` or ``min(list)``: the smallest value.

    Args:
        *args: The values, or one list (or generator) of them.

    Returns:
        The smallest; null when any value is null, the list is null or it is empty.
    """
    return _extreme(args, min)


def bi_max(*args: Any) -> Any:
    """``max(a, b, …)`` or ``max(list)``: the largest value.

    Args:
        *args: The values, or one list (or generator) of them.

    Returns:
        The largest; null when any value is null, the list is null or it is empty.
    """
    return _extreme(args, max)


def bi_abs(x: int | Decimal | timedelta | None) -> int | Decimal | timedelta | None:
    """``abs(x)``: the absolute value of a number or a duration, exactly.

    Args:
        x: A number or duration, or null.

    Returns:
        The absolute value, or null.
    """
    if x is None:
        return None
    if isinstance(x, timedelta):
        return abs(x)
    number = _number(x, "abs")
    return number.copy_abs() if isinstance(number, Decimal) else abs(number)


def bi_floor(x: int | Decimal | None) -> int | None:
    """``floor(x)``: the largest whole number not above ``x``.

    Args:
        x: A number, or null.

    Returns:
        An int, or null.

    Raises:
        ValueError: For NaN or infinity.
    """
    if x is None:
        return None
    number = _number(x, "floor")
    if isinstance(number, Decimal):
        if not number.is_finite():
            raise ValueError(f"floor of {number}")
        return int(number.to_integral_value(rounding=ROUND_FLOOR))
    return number


def bi_round_money(x: int | Decimal | None) -> Decimal | None:
    """``round_money(x)``: half-up to the cent (``0.005`` → ``0.01``, ``2.675`` → ``2.68``).

    Args:
        x: A number, or null.

    Returns:
        A Decimal with exactly two places (never ``-0.00``), or null.
    """
    if x is None:
        return None
    return round_to_cent(Decimal(_number(x, "round_money")))


# -- collections ----------------------------------------------------------------------------------


def bi_len(items: Iterable[object] | None) -> int | None:
    """``len(list)``: how many items.

    Args:
        items: A list, table or generator, or null.

    Returns:
        The count, or null for a null list.
    """
    if items is None:
        return None
    if isinstance(items, list | tuple | Mapping):
        return len(items)
    return sum(1 for _ in items)


def bi_sum(items: Iterable[Any] | None) -> Any:
    """``sum(list)``: the exact total of numbers (or of durations).

    Numbers are added to ``Decimal(0)``, so a money list stays Decimal; a list of ints alone gives an int,
    a list of durations a duration, and an empty list ``Decimal(0)``.

    Args:
        items: A list or generator of numbers or durations, or null.

    Returns:
        The total, or null when the list or any item is null.
    """
    if items is None:
        return None
    values = list(items)
    if any(v is None for v in values):
        return None
    if values and all(isinstance(v, timedelta) for v in values):
        return sum(values, timedelta(0))
    numbers = [_number(v, "sum") for v in values]
    if numbers and all(isinstance(n, int) for n in numbers):
        return sum(numbers)
    total = Decimal(0)
    for number in numbers:
        total += number
    return total


def bi_any(items: Iterable[object] | None) -> bool | None:
    """``any(list)``: whether some item is true.

    Args:
        items: A list or generator of booleans, or null. A null item counts as false.

    Returns:
        The answer, or null for a null list.
    """
    if items is None:
        return None
    return any(bool(item) for item in items)


def bi_all(items: Iterable[object] | None) -> bool | None:
    """``all(list)``: whether every item is true (true for an empty list).

    Args:
        items: A list or generator of booleans, or null. A null item counts as false.

    Returns:
        The answer, or null for a null list.
    """
    if items is None:
        return None
    return all(bool(item) for item in items)


def bi_coalesce(*args: Any) -> Any:
    """``coalesce(a, b, …)``: the first argument that is not null.

    Args:
        *args: The candidates.

    Returns:
        The first non-null one, or null when all are null.
    """
    for arg in args:
        if arg is not None:
            return arg
    return None


def bi_lookup(table: Mapping[Any, Mapping[str, object]] | None, key: object) -> Mapping[str, object] | None:
    """``lookup(table, key)``: the row of a table param whose key column equals ``key``.

    Args:
        table: The table param: rows by key.
        key: The key, or null.

    Returns:
        The row, or null when the key (or table) is null.

    Raises:
        LookupError: When no row has that key (an evaluation error: a policy bug).
    """
    if table is None or key is None:
        return None
    try:
        return table[key]
    except (KeyError, TypeError):
        raise LookupError(f"no row with key {key!r} in the table") from None


def bi_duration(text: str | None) -> timedelta | None:
    """``duration("24h")``: a constant duration (the code generator usually folds it at load).

    Args:
        text: The duration text, or null.

    Returns:
        The duration, or null.

    Raises:
        ValueError: When the text is not a duration.
    """
    if text is None:
        return None
    return parse_duration(text)


# -- dates and times ------------------------------------------------------------------------------


def bi_local_date(ts: datetime | None, tz: ZoneInfo) -> date | None:
    """``local_date(ts)``: the calendar date of a timestamp in the program's zone.

    Args:
        ts: An aware timestamp, or null.
        tz: The program's zone.

    Returns:
        The local date, or null.
    """
    if ts is None:
        return None
    return _local_date(ts, tz)


def bi_local_time(ts: datetime | None, tz: ZoneInfo) -> time | None:
    """``local_time(ts)``: the time of day of a timestamp in the program's zone (without a zone).

    Args:
        ts: An aware timestamp, or null.
        tz: The program's zone.

    Returns:
        The naive local time of day, or null.
    """
    if ts is None:
        return None
    return _aware(ts).astimezone(tz).time()


def bi_start_of_day(d: date | None, tz: ZoneInfo) -> datetime | None:
    """``start_of_day(date)``: 00:00:00 of a local date, as an aware timestamp in the program's zone.

    When a daylight-saving jump skips midnight, the day starts at the jump.

    Args:
        d: A date, or null.
        tz: The program's zone.

    Returns:
        The first instant of that day with the zone's offset then (``2021-09-01T00:00:00+08:00``), or null.
    """
    if d is None:
        return None
    return _start_of_local_day(d, tz)


def bi_end_of_day(d: date | None, tz: ZoneInfo) -> datetime | None:
    """``end_of_day(date)``: 23:59:59 of a local date, as an aware timestamp in the program's zone.

    It is the last whole second of the day: one second before the next day starts, which is 23:59:59 on
    every day of a zone without a daylight-saving jump at midnight.

    Args:
        d: A date, or null.
        tz: The program's zone.

    Returns:
        The last second of that day with the zone's offset then, or null.
    """
    if d is None:
        return None
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"end_of_day needs a date, not {type(d).__name__}")
    following = _start_of_local_day(d + timedelta(days=1), tz)
    return _in_zone(following - _SECOND, tz)


def bi_add_days(d: date | None, n: int | Decimal | None) -> date | None:
    """``add_days(date, n)``: the date ``n`` calendar days later (earlier when negative).

    Args:
        d: A date, or null.
        n: A whole number (int or integral Decimal), or null.

    Returns:
        The date, or null.
    """
    if d is None or n is None:
        return None
    return d + timedelta(days=_whole(n, "add_days"))


def bi_days_between(ts1: datetime | None, ts2: datetime | None, tz: ZoneInfo) -> int | None:
    """``days_between(ts1, ts2)``: local date of ``ts2`` minus local date of ``ts1``, in days.

    Args:
        ts1: The earlier timestamp, or null.
        ts2: The later timestamp, or null.
        tz: The program's zone.

    Returns:
        The number of calendar days (negative when ``ts2`` is on an earlier day), or null.
    """
    if ts1 is None or ts2 is None:
        return None
    return (_local_date(ts2, tz) - _local_date(ts1, tz)).days


def bi_day_window_end(ts: datetime | None, n: int | Decimal | None, tz: ZoneInfo) -> datetime | None:
    """``day_window_end(ts, n)``: the end (exclusive) of "within ``n`` days of ``ts``" per 民法典 §201/§203.

    Day 1 is the day after the local date of ``ts`` and day ``n`` ends at 24:00, so the window ends at the
    start of local day ``local_date(ts) + n + 1``: signed 2021-09-01T23:59:59+08:00 with ``n = 7`` ends
    at 2021-09-09T00:00:00+08:00.

    Args:
        ts: The event's timestamp, or null.
        n: The number of days (int or integral Decimal), or null.
        tz: The program's zone.

    Returns:
        The first instant after the window, with the zone's offset then, or null.
    """
    if ts is None or n is None:
        return None
    last = _local_date(ts, tz) + timedelta(days=_whole(n, "day_window_end") + 1)
    return _start_of_local_day(last, tz)


BUILTIN_FUNCTIONS: Mapping[str, Callable[..., object]] = MappingProxyType(
    {
        "min": bi_min,
        "max": bi_max,
        "abs": bi_abs,
        "floor": bi_floor,
        "round_money": bi_round_money,
        "len": bi_len,
        "sum": bi_sum,
        "any": bi_any,
        "all": bi_all,
        "coalesce": bi_coalesce,
        "local_date": bi_local_date,
        "local_time": bi_local_time,
        "start_of_day": bi_start_of_day,
        "end_of_day": bi_end_of_day,
        "add_days": bi_add_days,
        "days_between": bi_days_between,
        "day_window_end": bi_day_window_end,
        "lookup": bi_lookup,
        "duration": bi_duration,
    }
)
"""Every built-in by its policy name; generated code calls them as ``_bi_<name>``."""

ZONED_BUILTINS: frozenset[str] = frozenset(
    {"local_date", "local_time", "start_of_day", "end_of_day", "days_between", "day_window_end"}
)
"""The built-ins whose last parameter is the program's zone, which the code generator appends."""
