from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_engine.expr import builtins
from policy_engine.expr.builtins import (
    BUILTIN_FUNCTIONS,
    ZONED_BUILTINS,
    bi_abs,
    bi_add_days,
    bi_all,
    bi_any,
    bi_coalesce,
    bi_day_window_end,
    bi_days_between,
    bi_duration,
    bi_end_of_day,
    bi_floor,
    bi_len,
    bi_local_date,
    bi_local_time,
    bi_lookup,
    bi_max,
    bi_min,
    bi_round_money,
    bi_start_of_day,
    bi_sum,
)
from policy_engine.expr.signatures import SIGNATURES
from policy_engine.expr.values import format_timestamp, parse_timestamp

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")  # its DST jumps happen at midnight
D = Decimal


def ts(text: str) -> datetime:
    return parse_timestamp(text)


# -- the registry -----------------------------------------------------------------------------------


def test_every_signature_has_a_function() -> None:
    assert set(BUILTIN_FUNCTIONS) == set(SIGNATURES)
    for name, function in BUILTIN_FUNCTIONS.items():
        assert function.__name__ == f"bi_{name}"
        assert getattr(builtins, f"bi_{name}") is function


def test_zoned_builtins_take_tz_last() -> None:
    assert set(BUILTIN_FUNCTIONS) >= ZONED_BUILTINS
    for name, function in BUILTIN_FUNCTIONS.items():
        parameters = list(inspect.signature(function).parameters)
        assert (parameters[-1] == "tz") == (name in ZONED_BUILTINS), name


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        BUILTIN_FUNCTIONS["min"] = bi_max  # type: ignore[index]


# -- null arguments -------------------------------------------------------------------------------

NULL_CALLS: list[tuple[str, Callable[..., object], tuple[Any, ...]]] = [
    ("min list", bi_min, (None,)),
    ("min arg", bi_min, (D(1), None)),
    ("max arg", bi_max, (None, D(1))),
    ("max list item", bi_max, ([D(1), None],)),
    ("abs", bi_abs, (None,)),
    ("floor", bi_floor, (None,)),
    ("round_money", bi_round_money, (None,)),
    ("len", bi_len, (None,)),
    ("sum", bi_sum, (None,)),
    ("sum item", bi_sum, ([D(1), None],)),
    ("any", bi_any, (None,)),
    ("all", bi_all, (None,)),
    ("coalesce all null", bi_coalesce, (None, None)),
    ("local_date", bi_local_date, (None, SHANGHAI)),
    ("local_time", bi_local_time, (None, SHANGHAI)),
    ("start_of_day", bi_start_of_day, (None, SHANGHAI)),
    ("end_of_day", bi_end_of_day, (None, SHANGHAI)),
    ("add_days date", bi_add_days, (None, 3)),
    ("add_days n", bi_add_days, (date(2021, 9, 1), None)),
    ("days_between first", bi_days_between, (None, ts("2021-09-01T00:00:00Z"), SHANGHAI)),
    ("days_between second", bi_days_between, (ts("2021-09-01T00:00:00Z"), None, SHANGHAI)),
    ("day_window_end ts", bi_day_window_end, (None, 7, SHANGHAI)),
    ("day_window_end n", bi_day_window_end, (ts("2021-09-01T00:00:00Z"), None, SHANGHAI)),
    ("lookup key", bi_lookup, ({"a": {"id": "a"}}, None)),
    ("lookup table", bi_lookup, (None, "a")),
    ("duration", bi_duration, (None,)),
]


@pytest.mark.parametrize(
    ("function", "args"), [(f, a) for _, f, a in NULL_CALLS], ids=[n for n, _, _ in NULL_CALLS]
)
def test_null_gives_null(function: Callable[..., object], args: tuple[Any, ...]) -> None:
    assert function(*args) is None


def test_every_builtin_has_a_null_case() -> None:
    covered = {function.__name__.removeprefix("bi_") for _, function, _ in NULL_CALLS}
    assert covered == set(BUILTIN_FUNCTIONS)


# -- min / max --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "smallest", "largest"),
    [
        ((D("1.00"), D("2.00")), D("1.00"), D("2.00")),
        ((D("24.00"), D("12.50")), D("12.50"), D("24.00")),
        ((3, D("2.5"), 1), 1, 3),
        (([D(5), D(2), D(9)],), D(2), D(9)),
        (((D(5), D(2)),), D(2), D(5)),
        (([D(7)],), D(7), D(7)),
        ((D(7),), D(7), D(7)),
        (("b", "a", "c"), "a", "c"),
        ((timedelta(hours=1), timedelta(minutes=30)), timedelta(minutes=30), timedelta(hours=1)),
        (
            (ts("2021-09-01T10:00:00+08:00"), ts("2021-09-01T01:00:00Z")),
            ts("2021-09-01T01:00:00Z"),
            ts("2021-09-01T10:00:00+08:00"),
        ),
        (([],), None, None),
        (([D(1), None],), None, None),
        ((None, None), None, None),
    ],
)
def test_min_max(args: tuple[Any, ...], smallest: object, largest: object) -> None:
    assert bi_min(*args) == smallest
    assert bi_max(*args) == largest


def test_min_max_over_generators() -> None:
    assert bi_min(x * 2 for x in [D(3), D(1)]) == D(2)
    assert bi_max(x for x in [D(3), D(1)]) == D(3)
    nothing: list[Decimal] = []
    assert bi_max(x for x in nothing) is None


def test_min_max_keep_money_exact() -> None:
    result = bi_min(D("300.00"), D("299.99"))
    assert isinstance(result, Decimal)
    assert str(result) == "299.99"


# -- abs / floor / round_money ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (D("-1.50"), D("1.50")),
        (D("1.50"), D("1.50")),
        (D("-0"), D("0")),
        (-3, 3),
        (0, 0),
        (timedelta(hours=-2), timedelta(hours=2)),
        (D("-12345678901234567890123456789.01"), D("12345678901234567890123456789.01")),
    ],
)
def test_abs(x: Any, expected: object) -> None:
    result = bi_abs(x)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(result, Decimal):
        assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (D("2.99"), 2),
        (D("2"), 2),
        (D("2.00"), 2),
        (D("-2.01"), -3),
        (D("-2"), -2),
        (D("0.999999"), 0),
        (D("-0.000001"), -1),
        (D("1E+3"), 1000),
        (D("123456789012345678901234567890.5"), 123456789012345678901234567890),
        (7, 7),
        (-7, -7),
    ],
)
def test_floor(x: Any, expected: int) -> None:
    result = bi_floor(x)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (D("0.005"), "0.01"),
        (D("0.004"), "0.00"),
        (D("0.0049999999"), "0.00"),
        (D("2.675"), "2.68"),
        (D("2.665"), "2.67"),
        (D("1.005"), "1.01"),
        (D("3.59999"), "3.60"),
        (D("299"), "299.00"),
        (D("299.5"), "299.50"),
        (D("1E+2"), "100.00"),
        (D("-0.005"), "-0.01"),
        (D("-0.004"), "0.00"),
        (D("-2.675"), "-2.68"),
        (D("0"), "0.00"),
        (D("0.012") * D("888.88"), "10.67"),  # 10.66656
        (D("0.05") * D("1234.50"), "61.73"),  # 61.725
        (D("12345678901234567890123456789.995"), "12345678901234567890123456790.00"),
        (3, "3.00"),
    ],
)
def test_round_money(x: Any, expected: str) -> None:
    result = bi_round_money(x)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize("function", [bi_abs, bi_floor, bi_round_money])
@pytest.mark.parametrize("bad", [1.5, True, "1.00"])
def test_numbers_refuse_floats_bools_and_strings(function: Callable[[Any], object], bad: object) -> None:
    with pytest.raises(TypeError):
        function(bad)


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity")])
def test_floor_and_round_refuse_non_finite(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        bi_floor(bad)
    with pytest.raises(ValueError):
        bi_round_money(bad)


amounts = st.decimals(
    min_value=D("-1000000000000"),
    max_value=D("1000000000000"),
    allow_nan=False,
    allow_infinity=False,
    places=6,
)


@given(amounts)
def test_round_money_is_idempotent_and_within_half_a_cent(x: Decimal) -> None:
    once = bi_round_money(x)
    assert once is not None
    assert once.as_tuple().exponent == -2
    assert bi_round_money(once) == once
    assert str(bi_round_money(once)) == str(once)
    assert abs(once - x) <= D("0.005")
    if abs(once - x) == D("0.005"):
        assert abs(once) > abs(x)  # half-up: ties go away from zero
    assert not (once.is_zero() and once.is_signed())


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_floor_is_the_largest_whole_number_not_above(x: Decimal) -> None:
    result = bi_floor(x)
    assert result is not None
    assert result <= x < result + 1


# -- collections ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], 0),
        (["a", "b"], 2),
        ((1, 2, 3), 3),
        ({"a": {}, "b": {}}, 2),
        ((x for x in "abc"), 3),
        ([None, None], 2),
    ],
)
def test_len(items: Any, expected: int) -> None:
    assert bi_len(items) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([D("1.10"), D("2.20")], "3.30"),
        ([D("0.1")] * 3, "0.3"),
        ([D("100.00"), 5], "105.00"),
        ([], "0"),
        ((x for x in [D("1.00"), D("2.00")]), "3.00"),
    ],
)
def test_sum_of_decimals(items: Any, expected: str) -> None:
    result = bi_sum(items)
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_sum_of_integers_stays_integer() -> None:
    result = bi_sum([1, 2, 3])
    assert result == 6
    assert type(result) is int


def test_sum_of_durations() -> None:
    assert bi_sum([timedelta(hours=1), timedelta(minutes=30)]) == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize("items", [[D(1), None], [None], (x for x in [None])])
def test_sum_with_a_null_item_is_null(items: Any) -> None:
    assert bi_sum(items) is None


@pytest.mark.parametrize("bad", [[1.5], ["1.00"], [True, D(1)]])
def test_sum_refuses_non_numbers(bad: list[object]) -> None:
    with pytest.raises(TypeError):
        bi_sum(bad)


@pytest.mark.parametrize(
    ("items", "any_", "all_"),
    [
        ([], False, True),
        ([True], True, True),
        ([False], False, False),
        ([True, False], True, False),
        ([True, True], True, True),
        ([None], False, False),
        ([True, None], True, False),
        ((x > 1 for x in [D(1), D(2)]), True, None),
    ],
)
def test_any_all(items: Any, any_: bool, all_: bool | None) -> None:
    assert bi_any(items) is any_
    if all_ is not None:
        assert bi_all(items) is all_


def test_all_over_a_generator() -> None:
    assert bi_all(x > 0 for x in [D(1), D(2)]) is True
    assert bi_all(x > 1 for x in [D(1), D(2)]) is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, D("0.00")), D("0.00")),
        ((D("5.00"), D("0.00")), D("5.00")),
        ((None, None, "x"), "x"),
        ((False, True), False),
        ((D(0), D(1)), D(0)),
        (("",), ""),
        ((None,), None),
    ],
)
def test_coalesce(args: tuple[Any, ...], expected: object) -> None:
    assert bi_coalesce(*args) == expected
    assert type(bi_coalesce(*args)) is type(expected)


SCENARIOS = {
    "bike_sharing": {"id": "bike_sharing", "threshold": 650, "deposit": D("99.00")},
    "hotel": {"id": "hotel", "threshold": 600, "deposit": D("500.00")},
}


def test_lookup() -> None:
    assert bi_lookup(SCENARIOS, "hotel") == {"id": "hotel", "threshold": 600, "deposit": D("500.00")}
    assert bi_lookup({1: {"n": 1}}, D("1")) == {"n": 1}


@pytest.mark.parametrize("key", ["car", "", 650, ("hotel",), ["hotel"]])
def test_lookup_missing_row(key: object) -> None:
    with pytest.raises(LookupError) as info:
        bi_lookup(SCENARIOS, key)
    assert str(info.value) == f"no row with key {key!r} in the table"


def test_duration() -> None:
    assert bi_duration("24h") == timedelta(hours=24)
    assert bi_duration("1d 2h") == timedelta(days=1, hours=2)
    with pytest.raises(ValueError):
        bi_duration("24 hours")


# -- local dates and times --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "local_date", "local_time"),
    [
        ("2021-09-01T10:00:00+08:00", SHANGHAI, date(2021, 9, 1), time(10)),
        ("2021-09-01T15:59:59Z", SHANGHAI, date(2021, 9, 1), time(23, 59, 59)),
        ("2021-09-01T16:00:00Z", SHANGHAI, date(2021, 9, 2), time(0)),
        ("2021-09-01T16:30:00Z", SHANGHAI, date(2021, 9, 2), time(0, 30)),
        ("2021-09-01T23:59:59+08:00", SHANGHAI, date(2021, 9, 1), time(23, 59, 59)),
        ("2021-09-01T00:00:00+08:00", SHANGHAI, date(2021, 9, 1), time(0)),
        ("2021-09-01T07:59:59.5-00:00", SHANGHAI, date(2021, 9, 1), time(15, 59, 59, 500000)),
        ("2021-03-28T00:59:59Z", BERLIN, date(2021, 3, 28), time(1, 59, 59)),
        ("2021-03-28T01:00:00Z", BERLIN, date(2021, 3, 28), time(3, 0)),
        ("2021-10-30T22:30:00Z", BERLIN, date(2021, 10, 31), time(0, 30)),
    ],
)
def test_local_date_and_time(text: str, tz: ZoneInfo, local_date: date, local_time: time) -> None:
    assert bi_local_date(ts(text), tz) == local_date
    result = bi_local_time(ts(text), tz)
    assert result == local_time
    assert result is not None and result.tzinfo is None


def test_local_time_compares_with_a_cutoff() -> None:
    cutoff = time(16)  # "16:00前" is local time < 16:00:00
    assert bi_local_time(ts("2021-09-01T15:59:59+08:00"), SHANGHAI) < cutoff  # type: ignore[operator]
    assert not bi_local_time(ts("2021-09-01T16:00:00+08:00"), SHANGHAI) < cutoff  # type: ignore[operator]
    assert bi_local_time(ts("2021-09-01T07:59:59Z"), SHANGHAI) < cutoff  # type: ignore[operator]


def test_naive_timestamps_are_refused() -> None:
    naive = datetime(2021, 9, 1, 10)  # noqa: DTZ001
    with pytest.raises(ValueError, match="no UTC offset"):
        bi_local_date(naive, SHANGHAI)
    with pytest.raises(ValueError, match="no UTC offset"):
        bi_day_window_end(naive, 7, SHANGHAI)


@pytest.mark.parametrize(
    ("day", "tz", "start", "end"),
    [
        (date(2021, 9, 1), SHANGHAI, "2021-09-01T00:00:00+08:00", "2021-09-01T23:59:59+08:00"),
        (date(2000, 1, 1), SHANGHAI, "2000-01-01T00:00:00+08:00", "2000-01-01T23:59:59+08:00"),
        # Berlin springs forward 02:00 → 03:00 on 2021-03-28 and falls back 03:00 → 02:00 on 2021-10-31.
        (date(2021, 3, 27), BERLIN, "2021-03-27T00:00:00+01:00", "2021-03-27T23:59:59+01:00"),
        (date(2021, 3, 28), BERLIN, "2021-03-28T00:00:00+01:00", "2021-03-28T23:59:59+02:00"),
        (date(2021, 3, 29), BERLIN, "2021-03-29T00:00:00+02:00", "2021-03-29T23:59:59+02:00"),
        (date(2021, 10, 31), BERLIN, "2021-10-31T00:00:00+02:00", "2021-10-31T23:59:59+01:00"),
        # Santiago springs forward 00:00 → 01:00 on 2022-09-11: that day starts at 01:00.
        (date(2022, 9, 10), SANTIAGO, "2022-09-10T00:00:00-04:00", "2022-09-10T23:59:59-04:00"),
        (date(2022, 9, 11), SANTIAGO, "2022-09-11T01:00:00-03:00", "2022-09-11T23:59:59-03:00"),
        # … and falls back 24:00 → 23:00 on 2022-04-02: that day ends at the second 23:59:59.
        (date(2022, 4, 2), SANTIAGO, "2022-04-02T00:00:00-03:00", "2022-04-02T23:59:59-04:00"),
        (date(2022, 4, 3), SANTIAGO, "2022-04-03T00:00:00-04:00", "2022-04-03T23:59:59-04:00"),
    ],
)
def test_start_and_end_of_day(day: date, tz: ZoneInfo, start: str, end: str) -> None:
    first = bi_start_of_day(day, tz)
    last = bi_end_of_day(day, tz)
    assert first is not None and last is not None
    assert first == ts(start) and format_timestamp(first, tz) == start
    assert last == ts(end) and format_timestamp(last, tz) == end
    for instant in (first, last):
        assert isinstance(instant.tzinfo, timezone)  # a fixed offset: arithmetic is elapsed time
        assert instant.utcoffset() == instant.astimezone(tz).utcoffset()
    assert bi_local_date(first, tz) == day
    assert bi_local_date(last, tz) == day
    assert bi_local_date(first - timedelta(seconds=1), tz) == day - timedelta(days=1)
    assert bi_local_date(last + timedelta(seconds=1), tz) == day + timedelta(days=1)


@pytest.mark.parametrize("bad", [datetime(2021, 9, 1, tzinfo=UTC), "2021-09-01"])
def test_start_and_end_of_day_need_a_date(bad: Any) -> None:
    with pytest.raises(TypeError):
        bi_start_of_day(bad, SHANGHAI)
    with pytest.raises(TypeError):
        bi_end_of_day(bad, SHANGHAI)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2021, 9, 1), 7, date(2021, 9, 8)),
        (date(2021, 9, 1), D("7"), date(2021, 9, 8)),
        (date(2021, 9, 1), D("7.00"), date(2021, 9, 8)),
        (date(2021, 9, 1), 0, date(2021, 9, 1)),
        (date(2021, 9, 1), -1, date(2021, 8, 31)),
        (date(2024, 2, 28), 1, date(2024, 2, 29)),
        (date(2021, 12, 31), 1, date(2022, 1, 1)),
    ],
)
def test_add_days(day: date, n: Any, expected: date) -> None:
    assert bi_add_days(day, n) == expected


@pytest.mark.parametrize(
    ("n", "error"), [(D("1.5"), ValueError), (D("NaN"), ValueError), (1.0, TypeError), (True, TypeError)]
)
def test_add_days_needs_a_whole_number(n: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        bi_add_days(date(2021, 9, 1), n)


@pytest.mark.parametrize(
    ("first", "second", "tz", "days"),
    [
        ("2021-09-01T10:00:00+08:00", "2021-09-01T23:59:59+08:00", SHANGHAI, 0),
        ("2021-09-01T23:59:59+08:00", "2021-09-02T00:00:00+08:00", SHANGHAI, 1),
        ("2021-09-01T10:00:00+08:00", "2021-09-08T09:00:00+08:00", SHANGHAI, 7),
        ("2021-09-01T16:00:00Z", "2021-09-02T15:59:59Z", SHANGHAI, 0),  # both on 09-02 local
        ("2021-09-01T15:59:59Z", "2021-09-01T16:00:00Z", SHANGHAI, 1),
        ("2021-09-08T00:00:00+08:00", "2021-09-01T00:00:00+08:00", SHANGHAI, -7),
        ("2021-03-27T12:00:00+01:00", "2021-03-28T12:00:00+02:00", BERLIN, 1),  # a 23-hour day
    ],
)
def test_days_between(first: str, second: str, tz: ZoneInfo, days: int) -> None:
    assert bi_days_between(ts(first), ts(second), tz) == days


@pytest.mark.parametrize(
    ("signed", "n", "tz", "end"),
    [
        # 民法典 §201/§203: day 1 is the day after signing, day N ends at 24:00.
        ("2021-09-01T23:59:59+08:00", 7, SHANGHAI, "2021-09-09T00:00:00+08:00"),
        ("2021-09-01T00:00:00+08:00", 7, SHANGHAI, "2021-09-09T00:00:00+08:00"),
        ("2021-09-02T00:00:00+08:00", 7, SHANGHAI, "2021-09-10T00:00:00+08:00"),
        ("2021-09-01T16:30:00Z", 7, SHANGHAI, "2021-09-10T00:00:00+08:00"),  # 09-02 00:30 local
        ("2021-09-01T15:59:59Z", 7, SHANGHAI, "2021-09-09T00:00:00+08:00"),  # 09-01 23:59:59 local
        ("2021-09-01T10:00:00+08:00", D("7"), SHANGHAI, "2021-09-09T00:00:00+08:00"),
        ("2021-09-01T10:00:00+08:00", 15, SHANGHAI, "2021-09-17T00:00:00+08:00"),
        ("2021-09-01T10:00:00+08:00", 60, SHANGHAI, "2021-11-01T00:00:00+08:00"),
        ("2021-09-01T10:00:00+08:00", 0, SHANGHAI, "2021-09-02T00:00:00+08:00"),
        ("2024-02-22T10:00:00+08:00", 7, SHANGHAI, "2024-03-01T00:00:00+08:00"),
        ("2099-12-20T10:00:00+08:00", 7, SHANGHAI, "2099-12-28T00:00:00+08:00"),
        # Berlin: the window crosses the spring-forward and fall-back days.
        ("2021-03-21T12:00:00+01:00", 7, BERLIN, "2021-03-29T00:00:00+02:00"),
        ("2021-10-24T23:30:00+02:00", 7, BERLIN, "2021-11-01T00:00:00+01:00"),
        ("2021-03-27T23:30:00Z", 0, BERLIN, "2021-03-29T00:00:00+02:00"),  # 03-28 00:30 local
        ("2021-03-27T22:30:00Z", 0, BERLIN, "2021-03-28T00:00:00+01:00"),  # 03-27 23:30 local
        # Santiago: the end falls on a day whose midnight does not exist.
        ("2022-09-03T12:00:00-04:00", 7, SANTIAGO, "2022-09-11T01:00:00-03:00"),
    ],
)
def test_day_window_end(signed: str, n: Any, tz: ZoneInfo, end: str) -> None:
    result = bi_day_window_end(ts(signed), n, tz)
    assert result is not None
    assert result == ts(end)
    assert format_timestamp(result, tz) == end


def test_day_window_end_may_cross_into_2100() -> None:
    end = bi_day_window_end(ts("2099-12-25T10:00:00+08:00"), 7, SHANGHAI)
    assert end == datetime(2100, 1, 2, tzinfo=timezone(timedelta(hours=8)))


def test_results_add_durations_as_elapsed_time() -> None:
    # 2021-03-28 has 23 hours in Berlin: 24 hours after its start is 01:00 on the next day.
    start = bi_start_of_day(date(2021, 3, 28), BERLIN)
    assert start is not None
    assert format_timestamp(start + timedelta(hours=24), BERLIN) == "2021-03-29T01:00:00+02:00"
    end = bi_day_window_end(ts("2021-03-27T12:00:00+01:00"), 1, BERLIN)
    assert end is not None
    assert end - start == timedelta(hours=23)


def test_ambiguous_end_of_day_compares_equal_across_zones() -> None:
    last = bi_end_of_day(date(2022, 4, 2), SANTIAGO)  # the second 23:59:59 of a fall-back night
    assert last == datetime(2022, 4, 3, 3, 59, 59, tzinfo=UTC)
    assert last != datetime(2022, 4, 3, 2, 59, 59, tzinfo=UTC)


def test_day_window_end_is_the_exclusive_bound() -> None:
    signed = ts("2021-09-01T23:59:59+08:00")
    end = bi_day_window_end(signed, 7, SHANGHAI)
    assert end is not None
    assert ts("2021-09-08T23:59:59+08:00") < end  # day 7, last second: inside
    assert not ts("2021-09-09T00:00:00+08:00") < end  # day 8 begins: outside
    end_of_day_7 = bi_end_of_day(bi_add_days(bi_local_date(signed, SHANGHAI), 7), SHANGHAI)
    assert end_of_day_7 == end - timedelta(seconds=1)


zones = st.sampled_from([SHANGHAI, BERLIN, SANTIAGO, ZoneInfo("America/New_York"), ZoneInfo("UTC")])
# hypothesis takes naive bounds and attaches the zone itself
FIRST = datetime(2000, 1, 2)  # noqa: DTZ001
LAST = datetime(2099, 12, 1)  # noqa: DTZ001
instants = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC))


@given(instants, st.integers(min_value=0, max_value=400), zones)
def test_day_window_end_properties(instant: datetime, n: int, tz: ZoneInfo) -> None:
    end = bi_day_window_end(instant, n, tz)
    assert end is not None
    local_day = instant.astimezone(tz).date()
    assert bi_local_date(end, tz) == local_day + timedelta(days=n + 1)
    assert bi_local_date(end - timedelta(microseconds=1), tz) == local_day + timedelta(days=n)
    assert end > instant
    assert bi_days_between(instant, end, tz) == n + 1


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 30)), zones)
def test_start_and_end_of_day_bracket_the_day(day: date, tz: ZoneInfo) -> None:
    first = bi_start_of_day(day, tz)
    last = bi_end_of_day(day, tz)
    assert first is not None and last is not None
    assert bi_local_date(first, tz) == day == bi_local_date(last, tz)
    assert bi_local_date(first - timedelta(microseconds=1), tz) == day - timedelta(days=1)
    assert bi_local_date(last + timedelta(seconds=1), tz) == day + timedelta(days=1)


def test_fixed_offset_zone_also_works() -> None:
    # Only ZoneInfo is passed in production, but any tzinfo with the same interface behaves.
    cst: Any = timezone(timedelta(hours=8))
    assert bi_day_window_end(ts("2021-09-01T23:59:59+08:00"), 7, cst) == ts("2021-09-09T00:00:00+08:00")
