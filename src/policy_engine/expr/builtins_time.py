"""Built-ins on durations and local time: ``duration``, local dates and times, day starts, ends and windows.

The zoned functions take the program's zone as their last parameter, which the code generator passes;
they never read the wall clock or the machine's zone. Timestamps they return carry the zone's offset at
that instant as a fixed-offset tzinfo (like parsed input timestamps), so adding a duration to them is exact
elapsed time and ``==`` compares instants. A null argument gives null.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from policy_engine.expr.builtins_numbers import _whole
from policy_engine.expr.values import bounded_cache, parse_duration, remember

__all__ = (
    "bi_add_days",
    "bi_day_window_end",
    "bi_days_between",
    "bi_duration",
    "bi_end_of_day",
    "bi_local_date",
    "bi_local_time",
    "bi_start_of_day",
)

_MIDNIGHT = time(0, 0, 0)
_SECOND = timedelta(seconds=1)


# -- helpers --------------------------------------------------------------------------------------


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
    key = (d, tz)
    start = _DAY_STARTS.get(key)
    if start is None:
        start = remember(_DAY_STARTS, key, _find_start_of_local_day(d, tz))
    return start


# Days repeat across decisions (every claim signed on one day shares its window): cached by date and zone.
_DAY_STARTS: dict[tuple[date, ZoneInfo], datetime] = bounded_cache()


def _find_start_of_local_day(d: date, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(d, _MIDNIGHT)
    local = naive.replace(tzinfo=tz)
    offset = local.utcoffset()
    if offset is not None and offset == local.replace(fold=1).utcoffset():
        return naive.replace(tzinfo=timezone(offset))  # midnight neither skipped nor repeated: most days
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) == naive:
        return _in_zone(as_utc, tz)
    # Midnight falls in a gap (clocks jump forward over it): the day begins at the transition. fold=1
    # reads the wall time with the offset after the jump (an instant before the day), fold=0 with the
    # offset before it (an instant inside the day); search the whole seconds in between.
    low = local.replace(fold=1).astimezone(UTC)
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


# -- durations ------------------------------------------------------------------------------------


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
