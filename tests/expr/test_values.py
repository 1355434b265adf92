from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_engine.expr.values import (
    MAX_MONEY,
    _common_timestamp,
    format_duration,
    format_money,
    format_timestamp,
    is_money,
    is_timestamp,
    money_input,
    parse_duration,
    parse_money,
    parse_time_of_day,
    parse_timestamp,
    plain_decimal,
    render_value,
    round_to_cent,
    to_json_value,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CST = timezone(timedelta(hours=8))
MONEY_MESSAGE = "must be a non-negative amount in yuan with at most two decimal places"


# -- parse_money / is_money -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("300.00", Decimal("300.00")),
        ("300.01", Decimal("300.01")),
        ("300", Decimal("300")),
        ("300.5", Decimal("300.5")),
        ("0", Decimal("0")),
        ("0.00", Decimal("0.00")),
        ("0.01", Decimal("0.01")),
        ("007.10", Decimal("7.10")),
        ("999999999999999.99", Decimal("999999999999999.99")),
        (0, Decimal(0)),
        (299, Decimal(299)),
        (Decimal("300.00"), Decimal("300.00")),
        (Decimal("300.01"), Decimal("300.01")),
        (Decimal("300.1"), Decimal("300.1")),
        (Decimal("300"), Decimal("300")),
        (Decimal("3E+2"), Decimal("300")),
        (Decimal("-0"), Decimal("0")),
        (Decimal("-0.00"), Decimal("0.00")),
    ],
)
def test_parse_money_accepts(raw: object, expected: Decimal) -> None:
    result = parse_money(raw)
    assert isinstance(result, Decimal)
    assert result == expected
    assert not result.is_signed()
    assert is_money(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "300.001",
        "300.",
        ".5",
        "-1.00",
        "-0",
        "+1",
        "1e2",
        "1E+2",
        "1,000.00",
        " 300",
        "300 ",
        "300\n",
        "",
        "NaN",
        "Infinity",
        "１２３",  # full-width digits
        "٣٠٠",  # Arabic-Indic digits
        "1234567890123456",  # 16 whole digits
        -1,
        True,
        False,
        None,
        300.0,
        1.5,
        Decimal("300.001"),
        Decimal("-0.01"),
        Decimal("-1"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        [300],
        {"amount": 300},
    ],
)
def test_parse_money_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="must be a non-negative amount in yuan") as info:
        parse_money(raw)
    assert str(info.value) == MONEY_MESSAGE
    assert not is_money(raw)


@pytest.mark.parametrize(
    "raw", [10**15, Decimal("1E+15"), Decimal("1000000000000000.00"), MAX_MONEY + Decimal("0.01")]
)
def test_parse_money_rejects_too_large(raw: object) -> None:
    with pytest.raises(ValueError, match=re.escape("must be at most 999999999999999.99 yuan")):
        parse_money(raw)
    assert not is_money(raw)


def test_parse_money_upper_bound_is_inclusive() -> None:
    assert parse_money(MAX_MONEY) == MAX_MONEY
    assert parse_money(10**15 - 1) == Decimal(10**15 - 1)


def test_money_boundary_300() -> None:
    # "300元以内" is amount <= 300.00: both parse exactly and compare as expected.
    limit = parse_money("300.00")
    assert parse_money("300.00") <= limit
    assert not parse_money("300.01") <= limit
    assert parse_money(300) == limit


# -- format_money / round_to_cent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("299"), "299.00"),
        (Decimal("299.00"), "299.00"),
        (Decimal("299.5"), "299.50"),
        (Decimal("0.005"), "0.01"),
        (Decimal("0.004"), "0.00"),
        (Decimal("0.0049999"), "0.00"),
        (Decimal("2.675"), "2.68"),
        (Decimal("2.665"), "2.67"),
        (Decimal("1.005"), "1.01"),
        (Decimal("-1.005"), "-1.01"),
        (Decimal("-0.004"), "0.00"),
        (Decimal("-0.005"), "-0.01"),
        (Decimal("-0"), "0.00"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("0E-10"), "0.00"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("1.5E+3"), "1500.00"),
        (Decimal("1E-7"), "0.00"),
        (Decimal("12345678901234567890123456789.995"), "12345678901234567890123456790.00"),
        (Decimal("999999999999999.99"), "999999999999999.99"),
        (0, "0.00"),
        (42, "42.00"),
    ],
)
def test_format_money(amount: Decimal, text: str) -> None:
    assert format_money(amount) == text


@pytest.mark.parametrize("bad", [1.5, "1.50", None, True])
def test_format_money_refuses_non_decimals(bad: object) -> None:
    with pytest.raises(TypeError):
        format_money(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_format_money_refuses_non_finite(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        format_money(bad)


def test_round_to_cent_has_two_places() -> None:
    assert round_to_cent(Decimal("7")).as_tuple().exponent == -2
    assert round_to_cent(Decimal("-0.001")).is_signed() is False


@given(st.from_regex(r"\A[0-9]{1,15}\.[0-9]{2}\Z"))
def test_format_money_round_trips_two_place_strings(text: str) -> None:
    expected = text.lstrip("0")
    if expected.startswith("."):
        expected = "0" + expected
    assert format_money(parse_money(text)) == expected


@given(st.decimals(min_value=0, max_value=MAX_MONEY, places=2, allow_nan=False, allow_infinity=False))
def test_parse_money_accepts_every_two_place_amount(amount: Decimal) -> None:
    assert parse_money(amount) == amount
    assert parse_money(format_money(amount)) == amount


# -- timestamps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-09-01T10:00:00+08:00", datetime(2021, 9, 1, 10, tzinfo=CST)),
        ("2021-09-01T02:00:00Z", datetime(2021, 9, 1, 2, tzinfo=UTC)),
        ("2021-09-01t02:00:00z", datetime(2021, 9, 1, 2, tzinfo=UTC)),
        ("2021-09-01T02:00:00+00:00", datetime(2021, 9, 1, 2, tzinfo=UTC)),
        ("2021-09-01T02:00:00-00:00", datetime(2021, 9, 1, 2, tzinfo=UTC)),
        ("2021-09-01T10:00:00.5+08:00", datetime(2021, 9, 1, 10, 0, 0, 500000, tzinfo=CST)),
        ("2021-09-01T10:00:00.123456789+08:00", datetime(2021, 9, 1, 10, 0, 0, 123456, tzinfo=CST)),
        ("2021-09-01T23:59:59.999999+08:00", datetime(2021, 9, 1, 23, 59, 59, 999999, tzinfo=CST)),
        ("2021-03-01T10:00:00-05:30", datetime(2021, 3, 1, 15, 30, tzinfo=UTC)),
        ("2000-01-01T00:00:00+00:00", datetime(2000, 1, 1, tzinfo=UTC)),
        ("2000-01-01T00:00:00+08:00", datetime(1999, 12, 31, 16, tzinfo=UTC)),
        ("2099-12-31T23:59:59+08:00", datetime(2099, 12, 31, 15, 59, 59, tzinfo=UTC)),
        ("2024-02-29T12:00:00+08:00", datetime(2024, 2, 29, 12, tzinfo=CST)),
    ],
)
def test_parse_timestamp_accepts(text: str, expected: datetime) -> None:
    result = parse_timestamp(text)
    assert result == expected
    assert result.tzinfo is not None
    assert is_timestamp(text)


def test_parse_timestamp_keeps_the_written_offset() -> None:
    assert parse_timestamp("2021-09-01T10:00:00+08:00").utcoffset() == timedelta(hours=8)
    assert parse_timestamp("2021-09-01T10:00:00-05:30").utcoffset() == -timedelta(hours=5, minutes=30)


NO_OFFSET = "must have a UTC offset, e.g. +08:00"
NOT_RFC = "must be an RFC 3339 timestamp such as 2021-09-01T10:00:00+08:00"
OUT_OF_RANGE = "must lie between 2000-01-01 and 2100-01-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2021-09-01T10:00:00", NO_OFFSET),
        ("2021-09-01T10:00:00.250", NO_OFFSET),
        ("2021-09-01t10:00:00", NO_OFFSET),
        ("2021-09-01T10:00+08:00", NOT_RFC),
        ("2021-09-01T10:00", NOT_RFC),
        ("2021-09-01 10:00:00+08:00", NOT_RFC),
        ("2021-09-01", NOT_RFC),
        ("10:00:00+08:00", NOT_RFC),
        ("2021-09-01T10:00:00+0800", NOT_RFC),
        ("2021-09-01T10:00:00+08", NOT_RFC),
        ("2021-09-01T10:00:00 +08:00", NOT_RFC),
        ("2021-09-01T10:00:00+24:00", NOT_RFC),
        ("2021-09-01T10:00:00+08:60", NOT_RFC),
        ("2021-09-01T10:00:00.+08:00", NOT_RFC),
        ("2021-09-01T10:00:60+08:00", NOT_RFC),
        ("2021-09-01T24:00:00+08:00", NOT_RFC),
        ("2021-13-01T10:00:00+08:00", NOT_RFC),
        ("2021-02-29T10:00:00+08:00", NOT_RFC),
        ("2021-9-1T10:00:00+08:00", NOT_RFC),
        ("２０２１-09-01T10:00:00+08:00", NOT_RFC),
        ("2021-09-01T10:00:00+08:00\n", NOT_RFC),
        (" 2021-09-01T10:00:00+08:00", NOT_RFC),
        ("", NOT_RFC),
        ("1999-12-31T23:59:59+08:00", OUT_OF_RANGE),
        ("1999-12-31T23:59:59Z", OUT_OF_RANGE),
        ("2100-01-01T00:00:00+08:00", OUT_OF_RANGE),
        ("2100-01-01T00:00:00Z", OUT_OF_RANGE),
        ("0001-01-01T00:00:00Z", OUT_OF_RANGE),
        ("9999-12-31T23:59:59Z", OUT_OF_RANGE),
    ],
)
def test_parse_timestamp_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_timestamp(text)
    assert str(info.value) == message
    assert not is_timestamp(text)


@pytest.mark.parametrize("value", [None, 20210901, datetime(2021, 9, 1, tzinfo=UTC), b"2021-09-01T10:00:00Z"])
def test_is_timestamp_false_for_non_strings(value: object) -> None:
    assert is_timestamp(value) is False


@pytest.mark.parametrize(
    ("dt", "tz", "text"),
    [
        (datetime(2021, 9, 1, 11, 0, 5, tzinfo=CST), SHANGHAI, "2021-09-01T11:00:05+08:00"),
        (datetime(2021, 9, 1, 3, 0, 5, tzinfo=UTC), SHANGHAI, "2021-09-01T11:00:05+08:00"),
        (datetime(2021, 9, 1, 16, 30, tzinfo=UTC), SHANGHAI, "2021-09-02T00:30:00+08:00"),
        (datetime(2021, 9, 1, 11, 0, 5, 999999, tzinfo=CST), SHANGHAI, "2021-09-01T11:00:05+08:00"),
        (datetime(2021, 3, 28, 1, 30, tzinfo=UTC), BERLIN, "2021-03-28T03:30:00+02:00"),
        (datetime(2021, 3, 28, 0, 30, tzinfo=UTC), BERLIN, "2021-03-28T01:30:00+01:00"),
        (datetime(2021, 9, 1, 3, tzinfo=UTC), ZoneInfo("UTC"), "2021-09-01T03:00:00+00:00"),
    ],
)
def test_format_timestamp(dt: datetime, tz: ZoneInfo, text: str) -> None:
    assert format_timestamp(dt, tz) == text
    assert parse_timestamp(text) == dt.replace(microsecond=0)


def test_format_timestamp_refuses_naive() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        format_timestamp(datetime(2021, 9, 1, 11), SHANGHAI)  # noqa: DTZ001


# hypothesis takes naive bounds and attaches the zone itself
FIRST = datetime(2000, 1, 2)  # noqa: DTZ001
LAST = datetime(2099, 12, 30)  # noqa: DTZ001


@given(st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC)))
def test_timestamp_round_trip(dt: datetime) -> None:
    text = format_timestamp(dt, SHANGHAI)
    assert is_timestamp(text)
    assert parse_timestamp(text) == dt.replace(microsecond=0)


# -- durations --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h", timedelta(hours=6)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1d 2h 3m 4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0s", timedelta(0)),
        ("0h", timedelta(0)),
        ("24h", timedelta(days=1)),
        ("90m", timedelta(minutes=90)),
        ("72h", timedelta(hours=72)),
        ("06h", timedelta(hours=6)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6",
        "h",
        "6 h",
        "6H",
        "1.5h",
        "-6h",
        "+6h",
        "30m1h",
        "1h1h",
        "1h  30m",
        " 6h",
        "6h ",
        "6h\n",
        "6w",
        "6ms",
        "PT6H",
        "６h",
        "1d,2h",
        "9999999999d",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(hours=6), "6h"),
        (timedelta(days=2, hours=3), "2d 3h"),
        (timedelta(hours=1, seconds=5), "1h 5s"),
        (timedelta(0), "0s"),
        (timedelta(minutes=30), "30m"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1d 2h 3m 4s"),
        (timedelta(hours=25), "1d 1h"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (-timedelta(minutes=30), "-30m"),
        (-timedelta(days=1, hours=1), "-1d 1h"),
        (timedelta(seconds=5, microseconds=999999), "5s"),
        (-timedelta(seconds=5, microseconds=999999), "-5s"),
        (timedelta(microseconds=1), "0s"),
        (-timedelta(microseconds=1), "0s"),
        (timedelta.max, "999999999d 23h 59m 59s"),
        (timedelta.min, "-999999999d"),
    ],
)
def test_format_duration(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10**5)))
def test_duration_round_trip(td: timedelta) -> None:
    whole = td - timedelta(microseconds=td.microseconds)
    assert parse_duration(format_duration(td)) == whole


# -- times of day ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16:00", time(16)),
        ("16:00:00", time(16)),
        ("00:00", time(0)),
        ("23:59:59", time(23, 59, 59)),
        ("09:05:07", time(9, 5, 7)),
    ],
)
def test_parse_time_of_day(text: str, expected: time) -> None:
    result = parse_time_of_day(text)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize(
    "text",
    ["", "16", "9:00", "16:0", "24:00", "23:60", "23:59:60", "16:00:00.5", "16:00+08:00", "16h", " 16:00"],
)
def test_parse_time_of_day_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_time_of_day(text)


# -- to_json_value / render_value -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (False, False),
        (3, 3),
        ("text", "text"),
        (Decimal("299.00"), "299.00"),
        (Decimal("0.012"), "0.012"),
        (Decimal("1E+2"), "100"),
        (Decimal("1.5E-7"), "0.00000015"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("-3.5"), "-3.5"),
        (datetime(2021, 9, 1, 3, 0, 5, tzinfo=UTC), "2021-09-01T11:00:05+08:00"),
        (date(2021, 9, 1), "2021-09-01"),
        (time(16, 0), "16:00:00"),
        (time(9, 5, 7, 123), "09:05:07"),
        (timedelta(days=2, hours=3), "2d 3h"),
        ([Decimal("1.00"), None, True], ["1.00", None, True]),
        ((1, "a"), [1, "a"]),
        ({"a": Decimal("2.50"), "b": [date(2021, 1, 2)]}, {"a": "2.50", "b": ["2021-01-02"]}),
        ({1: "x", Decimal("2.0"): "y"}, {"1": "x", "2.0": "y"}),
        (frozenset(), "frozenset()"),
    ],
)
def test_to_json_value(value: object, expected: object) -> None:
    converted = to_json_value(value, SHANGHAI)
    assert converted == expected
    assert json.loads(json.dumps(converted)) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_json_decimals_are_plain_and_exact(value: Decimal) -> None:
    text = to_json_value(value, SHANGHAI)
    assert isinstance(text, str)
    assert "E" not in text and "e" not in text
    assert Decimal(text) == value


@pytest.mark.parametrize(
    ("value", "money", "text"),
    [
        (Decimal("299"), True, "299.00"),
        (Decimal("0.005"), True, "0.01"),
        (Decimal("-0.001"), True, "0.00"),
        (7, True, "7.00"),
        (Decimal("299"), False, "299"),
        (Decimal("1E+2"), False, "100"),
        (Decimal("0.012"), False, "0.012"),
        (Decimal("1.200"), False, "1.2"),  # a percent param times 100 reads like the PM wrote it
        (Decimal("5.00"), False, "5"),
        (Decimal("0.000"), False, "0"),
        (7, False, "7"),
        (True, False, "true"),
        (False, True, "false"),
        (None, False, "null"),
        (None, True, "null"),
        ("genuine", False, "genuine"),
        (datetime(2021, 9, 1, 3, tzinfo=UTC), False, "2021-09-01T11:00:00+08:00"),
        (timedelta(hours=1), False, "1h"),
        (timedelta(days=2, hours=3), False, "2d 3h"),
        (date(2021, 9, 9), False, "2021-09-09"),
        (time(16), False, "16:00:00"),
        (["genuine", "seven_day_return"], False, "genuine, seven_day_return"),
        ([Decimal("1"), Decimal("2.5")], True, "1.00, 2.50"),
        ([], False, ""),
    ],
)
def test_render_value(value: object, money: bool, text: str) -> None:
    assert render_value(value, SHANGHAI, money=money) == text


def test_render_timestamp_in_another_zone() -> None:
    assert render_value(datetime(2021, 7, 1, 10, tzinfo=UTC), BERLIN) == "2021-07-01T12:00:00+02:00"


@pytest.mark.parametrize("value", [Decimal("-0"), Decimal("0E+3"), Decimal("-0.000")])
def test_plain_decimal_never_negative_zero(value: Decimal) -> None:
    assert not plain_decimal(value).startswith("-")


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, 9999),
    st.integers(0, 19),
    st.integers(0, 39),
    st.integers(0, 29),
    st.integers(0, 69),
    st.integers(0, 69),
    st.sampled_from(["Z", "+08:00", "-05:30", "+23:59", "+24:00", "-00:00", "+08:60", "+99:00"]),
)
def test_the_fast_timestamp_reader_agrees_with_the_full_one(
    year: int, month: int, day: int, hour: int, minute: int, second: int, offset: str
) -> None:
    import policy_engine.expr.values as values

    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{offset}"
    fast = values._check_timestamp(text)
    common = values._common_timestamp
    try:
        values._common_timestamp = lambda _text: None  # no form is the common one: the full reader only
        full = values._check_timestamp(text)
    finally:
        values._common_timestamp = common
    assert fast == full
    if isinstance(fast, datetime):
        assert isinstance(full, datetime) and fast.utcoffset() == full.utcoffset()


_CANONICAL_FORM = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[+-][0-9]{2}:[0-9]{2}|Z)", re.ASCII
)


def _canonical_by_pattern(text: str) -> datetime | None:
    """The common form as a regular expression says it (the oracle for the positional check)."""
    if _CANONICAL_FORM.fullmatch(text) is None:
        return None
    if text[-1] != "Z" and (text[-5:-3] > "23" or text[-2:] > "59"):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_TIMESTAMP_CHARS = st.sampled_from([*list("0123456789-:T+Z .Wtz٣０"), "12", ""])


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["2021-09-01T10:00:00+08:00", "2021-09-01T10:00:00Z", "2021-W35-3T10:00:00+08:00"]),
    st.lists(st.tuples(st.integers(0, 25), _TIMESTAMP_CHARS), max_size=3),
)
def test_common_timestamp_form_is_read_as_the_pattern_says(base: str, edits: list[tuple[int, str]]) -> None:
    text = base
    for position, replacement in edits:
        text = text[:position] + replacement + text[position + 1 :]
    got, want = _common_timestamp(text), _canonical_by_pattern(text)
    assert repr(got) == repr(want), text  # repr: the same instant with the same offset, not only equal


@pytest.mark.parametrize(
    "value", ["0", "50", "300.5", "129.90", Decimal("7.1"), 12, "-1", "1.234", "1e2", True, None, 1.5]
)
def test_money_input_is_is_money_then_two_places(value: object) -> None:
    expected = Decimal(value).quantize(Decimal("0.01")) if is_money(value) else None  # type: ignore[arg-type]
    got = money_input(value)
    assert got == expected and str(got) == str(expected)


def test_a_zone_s_repeated_hour_shows_each_instant_with_its_own_offset() -> None:
    new_york = ZoneInfo("America/New_York")
    first = datetime(2021, 11, 7, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)  # equal to first (same wall time, same zone), one hour later
    assert format_timestamp(first, new_york) == "2021-11-07T01:30:00-04:00"
    assert format_timestamp(second, new_york) == "2021-11-07T01:30:00-05:00"
