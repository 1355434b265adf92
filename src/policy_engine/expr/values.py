"""Values at the boundary: parse money, timestamps, durations, times of day; format them for people and JSON.

Everything here is exact and zone-explicit: money is :class:`~decimal.Decimal` (a float is never accepted),
timestamps are timezone-aware :class:`~datetime.datetime` values, and formatting a timestamp always names
the zone to show it in. Nothing reads the wall clock or the machine's local zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal
from itertools import pairwise
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

__all__ = (
    "MAX_MONEY",
    "bounded_cache",
    "clear_caches",
    "format_duration",
    "format_money",
    "format_timestamp",
    "is_money",
    "is_timestamp",
    "money_input",
    "parse_duration",
    "parse_money",
    "parse_time_of_day",
    "parse_timestamp",
    "plain_decimal",
    "remember",
    "render_value",
    "round_to_cent",
    "to_json_value",
)

MAX_MONEY = Decimal("999999999999999.99")
"""The largest money amount accepted at the boundary: 15 whole digits and two places."""

_CENT = Decimal("0.01")
_MONEY_TEXT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?", re.ASCII)
_MONEY_MESSAGE = "must be a non-negative amount in yuan with at most two decimal places"
_MONEY_TOO_LARGE = f"must be at most {MAX_MONEY} yuan"

_TIMESTAMP_TEXT = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))",
    re.ASCII,
)
_LOCAL_TIMESTAMP_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?",
    re.ASCII,
)
_NO_OFFSET_MESSAGE = "must have a UTC offset, e.g. +08:00"
_TIMESTAMP_MESSAGE = "must be an RFC 3339 timestamp such as 2021-09-01T10:00:00+08:00"
_RANGE_MESSAGE = "must lie between 2000-01-01 and 2100-01-01"
_FIRST_YEAR = 2000
_END_YEAR = 2100

_DURATION_TEXT = re.compile(r"[0-9]+[dhms](?: ?[0-9]+[dhms])*", re.ASCII)
_DURATION_PART = re.compile(r"([0-9]+)([dhms])", re.ASCII)
_DURATION_UNITS = "dhms"
_DURATION_DIGITS = 15
"""Most digits of one part: more is always too long a duration (and is refused before ``int()``)."""
_DURATION_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_MESSAGE = (
    "must be whole numbers with the units d, h, m, s, each at most once and in that order, "
    "such as 6h, 30m, 1h30m, 2d 3h or 45s"
)

_TIME_OF_DAY_TEXT = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?", re.ASCII)
_TIME_OF_DAY_MESSAGE = "must be a time of day such as 16:00 or 16:00:00"


# -- money ----------------------------------------------------------------------------------------


def _check_money(value: object) -> Decimal | str:
    """The amount, or the message saying why ``value`` is not one."""
    if isinstance(value, str):
        if _MONEY_TEXT.fullmatch(value) is None:
            return _MONEY_MESSAGE
        return Decimal(value)
    if isinstance(value, bool):
        return _MONEY_MESSAGE
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return _MONEY_MESSAGE
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -2:
            return _MONEY_MESSAGE
        amount = value
    else:
        return _MONEY_MESSAGE
    if amount < 0:
        return _MONEY_MESSAGE
    if amount > MAX_MONEY:
        return _MONEY_TOO_LARGE
    return amount.copy_abs() if amount.is_zero() else amount


def parse_money(value: object) -> Decimal:
    """Read a money amount in yuan from the boundary (request bodies, params).

    Accepted: a string of at most 15 digits with an optional point and one or two places (``"300"``,
    ``"300.5"``, ``"300.00"``); an ``int`` (not a ``bool``); a finite ``Decimal`` with at most two places.
    The amount must be non-negative and at most :data:`MAX_MONEY`. A float is never accepted.

    Args:
        value: The raw value.

    Returns:
        The amount as an exact ``Decimal`` (a negative zero becomes ``0``).

    Raises:
        ValueError: When the value is not such an amount; the message says what is wrong in plain words.
    """
    checked = _check_money(value)
    if isinstance(checked, str):
        raise ValueError(checked)
    return checked


def is_money(value: object) -> bool:
    """Whether :func:`parse_money` accepts ``value``; never raises (for a JSON Schema format checker).

    Args:
        value: The raw value.

    Returns:
        True when the value is a valid money amount.
    """
    return not isinstance(_check_money(value), str)


def money_input(value: object) -> Decimal | None:
    """A money value of a request as evaluation takes it (two places), or None when it is not money.

    Args:
        value: The raw value (a string, an int or a Decimal from the JSON body).

    Returns:
        The amount quantized to the cent (``"50"`` gives 50.00), or None when :func:`is_money` says no.
    """
    if type(value) is str:  # the common case: one check of the text, one Decimal
        return Decimal(value).quantize(_CENT) if _MONEY_TEXT.fullmatch(value) is not None else None
    if isinstance(_check_money(value), str):
        return None
    return Decimal(value).quantize(_CENT)  # type: ignore[arg-type]  # checked: an int or a Decimal


def round_to_cent(amount: Decimal) -> Decimal:
    """Round half-up to the cent, exactly, whatever the size of the amount.

    Args:
        amount: A finite decimal.

    Returns:
        The amount with exactly two places: ``0.005`` → ``0.01``, ``2.675`` → ``2.68``, ``-0.004`` →
        ``0.00`` (never ``-0.00``).

    Raises:
        ValueError: When ``amount`` is NaN or infinite.
    """
    if not amount.is_finite():
        raise ValueError(f"cannot round {amount} to the cent")
    adjusted = amount.adjusted()
    # A shared context serves every amount below 10^24 yuan; larger ones get a context of their own.
    context = _ROUNDING if adjusted < 24 else Context(prec=adjusted + 4, rounding=ROUND_HALF_UP)
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP, context=context)
    return rounded.copy_abs() if rounded.is_zero() else rounded


_ROUNDING = Context(prec=28, rounding=ROUND_HALF_UP)


_CACHE_LIMIT = 4096

_K = TypeVar("_K")
_V = TypeVar("_V")
_CACHES: list[dict[Any, Any]] = []


def bounded_cache() -> dict[Any, Any]:
    """A new cache for :func:`remember`, emptied with the others by :func:`clear_caches`."""
    cache: dict[Any, Any] = {}
    _CACHES.append(cache)
    return cache


def clear_caches() -> None:
    """Forget every cached text and value (the benchmarks measure the case where nothing repeats)."""
    for cache in _CACHES:
        cache.clear()


def remember(cache: dict[_K, _V], key: _K, value: _V, limit: int = _CACHE_LIMIT) -> _V:
    """Keep ``value`` in one of the bounded caches of pure functions (cleared when full), and return it."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def format_money(d: Decimal) -> str:
    """Money as the API writes it: two places, half-up, plain notation.

    Args:
        d: The amount (an ``int`` is accepted too).

    Returns:
        ``"299.00"``, ``"0.01"`` for ``0.005``, ``"100.00"`` for ``1E+2``; never ``"-0.00"``.

    Raises:
        ValueError: When ``d`` is NaN or infinite.
        TypeError: When ``d`` is not a ``Decimal`` or ``int`` (a float, for example).
    """
    if type(d) is Decimal and d.is_finite():  # the common case first, in one lookup
        # Equal amounts round to the same text (1.005 and 1.0050 both give "1.01"): cached by value.
        text = _FORMATTED_MONEY.get(d)
        if text is None:
            text = remember(_FORMATTED_MONEY, d, f"{round_to_cent(d):f}")
        return text
    if isinstance(d, bool) or not isinstance(d, Decimal | int):
        raise TypeError(f"money must be a Decimal, not {type(d).__name__}")
    if isinstance(d, Decimal) and d.is_nan():
        raise ValueError(f"cannot round {d} to the cent")
    text = _FORMATTED_MONEY.get(d)
    if text is None:
        text = remember(_FORMATTED_MONEY, d, f"{round_to_cent(Decimal(d)):f}")
    return text


_FORMATTED_MONEY: dict[Decimal | int, str] = bounded_cache()


def plain_decimal(d: Decimal) -> str:
    """A decimal in plain notation, keeping its places: ``299.00`` → ``"299.00"``, ``1E+2`` → ``"100"``.

    Args:
        d: The number.

    Returns:
        The text, never in exponent notation and never with a minus sign on zero.
    """
    if d.is_zero():
        d = d.copy_abs()
    return f"{d:f}"


# -- timestamps -----------------------------------------------------------------------------------


def _common_timestamp(text: str) -> datetime | None:
    """``2021-09-01T10:00:00+08:00`` or ``…Z`` read in C, or None for any other form (or no timestamp).

    ``fromisoformat`` reads the digits and refuses anything else in their places; the separators it would
    also take in other ISO 8601 forms (week dates, ``hhmmss.f``) are checked by position afterwards, which
    costs less than matching the text against a pattern first. It takes ``+08:60``, so offsets are checked.
    """
    size = len(text)
    if size != 25 and size != 20:
        return None
    try:
        fast = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not (text[10] == "T" and text[4] == text[7] == "-" and text[13] == text[16] == ":"):
        return None
    if size == 20:
        return fast if text[19] == "Z" else None
    if text[19] in "+-" and text[22] == ":" and text[20:22] <= "23" and text[23:] <= "59":
        return fast
    return None


def _check_timestamp(text: object) -> datetime | str:
    """The aware datetime, or the message saying why ``text`` is not an acceptable timestamp."""
    if not isinstance(text, str):
        return _TIMESTAMP_MESSAGE
    fast = _common_timestamp(text)
    if fast is not None:
        return fast if _FIRST_YEAR <= fast.year < _END_YEAR else _RANGE_MESSAGE
    match = _TIMESTAMP_TEXT.fullmatch(text)
    if match is None:
        if _LOCAL_TIMESTAMP_TEXT.fullmatch(text) is not None:
            return _NO_OFFSET_MESSAGE
        return _TIMESTAMP_MESSAGE
    if match["utc"] is not None:
        offset = timedelta(0)
    else:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return _TIMESTAMP_MESSAGE
        offset = timedelta(hours=off_hour, minutes=off_minute)
        if match["sign"] == "-":
            offset = -offset
    fraction = match["fraction"] or ""
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        result = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            microsecond,
            tzinfo=timezone(offset),
        )
    except ValueError:
        return _TIMESTAMP_MESSAGE
    if not _FIRST_YEAR <= result.year < _END_YEAR:
        return _RANGE_MESSAGE
    return result


def parse_timestamp(text: str) -> datetime:
    """Read an RFC 3339 date-time that carries its UTC offset.

    The form is ``YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)``: seconds are required, a fraction is optional
    (kept to the microsecond, extra digits are dropped), and ``T``/``Z`` may be lower case as RFC 3339
    allows. The year as written must lie in [2000, 2100). Leap seconds (``:60``) are not accepted.

    Args:
        text: The timestamp text.

    Returns:
        A timezone-aware datetime carrying the written offset.

    Raises:
        ValueError: ``must have a UTC offset, e.g. +08:00`` for a local date-time without an offset;
            ``must lie between 2000-01-01 and 2100-01-01`` for a year out of range; otherwise
            ``must be an RFC 3339 timestamp such as 2021-09-01T10:00:00+08:00``.
    """
    parsed = _PARSED_TIMESTAMPS.get(text) if type(text) is str else None
    if parsed is None:
        checked = _check_timestamp(text)
        if isinstance(checked, str):
            raise ValueError(checked)
        parsed = remember(_PARSED_TIMESTAMPS, text, checked, limit=64)
    return parsed


# A request often holds one timestamp twice (the version's as_of field is read, then validated; ``at`` may
# repeat it). Kept small: it serves one request's repeats, not a corpus cycled through.
_PARSED_TIMESTAMPS: dict[str, datetime] = bounded_cache()


def is_timestamp(value: object) -> bool:
    """Whether :func:`parse_timestamp` accepts ``value``; never raises (for a JSON Schema format checker).

    Args:
        value: The raw value; anything but a string is not a timestamp.

    Returns:
        True when the value is an acceptable timestamp string.
    """
    return not isinstance(_check_timestamp(value), str)


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"timestamp {dt.isoformat()} has no UTC offset")


def format_timestamp(dt: datetime, tz: ZoneInfo) -> str:
    """A timestamp as RFC 3339 in the given zone, to the second (fractions are dropped).

    Args:
        dt: An aware datetime.
        tz: The zone to show it in.

    Returns:
        For example ``"2021-09-01T11:00:05+08:00"``.

    Raises:
        ValueError: When ``dt`` is naive.
    """
    if type(dt.tzinfo) is not timezone:  # a zone's repeated hour: equal datetimes, different instants
        _require_aware(dt)
        return dt.astimezone(tz).isoformat(timespec="seconds")
    key = (dt, tz)
    text = _FORMATTED_TIMESTAMPS.get(key)
    if text is None:
        text = remember(_FORMATTED_TIMESTAMPS, key, dt.astimezone(tz).isoformat(timespec="seconds"))
    return text


# Equal instants show as the same text in a zone (seconds only), so the text is cached by instant and zone,
# for fixed offsets only (all parsed timestamps and day starts): there, equal means the same instant.
_FORMATTED_TIMESTAMPS: dict[tuple[datetime, ZoneInfo], str] = bounded_cache()


# -- durations and times of day -------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """Read an exact elapsed time: ``"6h"``, ``"30m"``, ``"45s"``, ``"2d"``, ``"1h30m"``, ``"1d 2h"``.

    Each part is a whole number and a unit ``d`` (24 hours), ``h``, ``m`` or ``s``; each unit appears at
    most once, in that order; parts may be separated by one space.

    Args:
        text: The duration text.

    Returns:
        The duration.

    Raises:
        ValueError: When the text is not such a duration or is too long to represent.
    """
    if not isinstance(text, str) or _DURATION_TEXT.fullmatch(text) is None:
        raise ValueError(_DURATION_MESSAGE)
    parts = _DURATION_PART.findall(text)
    positions = [_DURATION_UNITS.index(unit) for _, unit in parts]
    if any(later <= earlier for earlier, later in pairwise(positions)):
        raise ValueError(_DURATION_MESSAGE)
    if any(len(number) > _DURATION_DIGITS for number, _ in parts):
        raise ValueError("is too long a duration")
    seconds = sum(int(number) * _DURATION_SECONDS[unit] for number, unit in parts)
    try:
        return timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ValueError("is too long a duration") from exc


def format_duration(td: timedelta) -> str:
    """A duration as people read it: ``"6h"``, ``"2d 3h"``, ``"1h 5s"``, ``"0s"``, ``"-30m"``.

    Args:
        td: The duration; parts smaller than a second are dropped.

    Returns:
        The non-zero parts (days, hours, minutes, seconds) joined by a space, with a leading ``-`` when
        negative, or ``"0s"``.
    """
    text = _FORMATTED_DURATIONS.get(td)
    if text is None:
        text = remember(_FORMATTED_DURATIONS, td, _duration_text(td))
    return text


_FORMATTED_DURATIONS: dict[timedelta, str] = bounded_cache()


def _duration_text(td: timedelta) -> str:
    negative = td < timedelta(0)
    magnitude = -td if negative else td
    total = magnitude.days * 86400 + magnitude.seconds
    if total == 0:
        return "0s"
    sign = "-" if negative else ""
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return sign + " ".join(parts)


def parse_time_of_day(text: str) -> time:
    """Read a local time of day: ``"16:00"`` or ``"16:00:00"``.

    Args:
        text: The time text, two digits for each part.

    Returns:
        A naive time of day (it is read in the program's zone).

    Raises:
        ValueError: When the text is not such a time.
    """
    match = _TIME_OF_DAY_TEXT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(_TIME_OF_DAY_MESSAGE)
    try:
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError as exc:
        raise ValueError(_TIME_OF_DAY_MESSAGE) from exc


# -- JSON and text --------------------------------------------------------------------------------


def _json_key(key: object, tz: ZoneInfo) -> str:
    converted = to_json_value(key, tz)
    return converted if isinstance(converted, str) else render_value(key, tz)


def to_json_value(value: object, tz: ZoneInfo) -> object:
    """A runtime value as JSON data, for traces and reason data.

    Args:
        value: Any value an expression can hold.
        tz: The program's zone, for timestamps.

    Returns:
        ``Decimal`` → plain string keeping its places (``"299.00"``); ``int``, ``bool``, ``str`` and
        ``None`` as they are; datetime → RFC 3339 in ``tz``; date → ISO date; time → ``"HH:MM:SS"``;
        duration → ``"2d 3h"``; lists and tuples → lists; mappings → dicts with string keys; anything
        else → ``str(value)``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime):
        return format_timestamp(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return [to_json_value(item, tz) for item in value]
    if isinstance(value, Mapping):
        return {_json_key(k, tz): to_json_value(v, tz) for k, v in value.items()}
    return str(value)


def render_value(value: object, tz: ZoneInfo, *, money: bool = False) -> str:
    """A runtime value as text for a reason template.

    Args:
        value: Any value an expression can hold.
        tz: The program's zone, for timestamps.
        money: Whether the value is money (decimals then show two places, half-up).

    Returns:
        Money ``"299.00"``; other decimals in plain notation without trailing zeros (a rate of 1.200 reads
        ``"1.2"``); ``"true"``/``"false"``; ``"null"``;
        timestamps RFC 3339 in ``tz``; durations ``"2d 3h"``; dates ISO; times ``"HH:MM:SS"``; lists as
        their items joined by ``", "``; anything else ``str(value)``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_money(value) if money else plain_decimal(value.normalize())
    if isinstance(value, int) and money:
        return format_money(Decimal(value))
    if isinstance(value, datetime):
        return format_timestamp(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return ", ".join(render_value(item, tz, money=money) for item in value)
    return str(value)
