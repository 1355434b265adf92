"""The strict JSON reader: the plain path (msgspec) reads a body exactly as the careful path, or declines.

``loads_strict`` on ``bytes`` tries the plain path first; on ``str`` it always reads carefully, which is
how these tests get the careful answer to compare with.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_engine.errors import InputError
from policy_engine.jsonio import _NOT_PLAIN, _read_plain, deeper_than, loads_strict

# Characters that make JSON text hard: quotes, backslashes, colons, braces, controls, non-ASCII.
_TEXT = st.text(
    alphabet=st.sampled_from(["a", "b", '"', "\\", ":", "{", "}", " ", "\n", "\x01", "é", "中", "/"])
)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\x01": "\\u0001"}


def _string(text: str, escape_slash: bool) -> str:
    body = "".join(_ESCAPES.get(c, "\\/" if c == "/" and escape_slash else c) for c in text)
    return f'"{body}"'


_NUMBERS = st.one_of(
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: f"{d:f}"),
    st.sampled_from(["1e5", "1E+2", "-0.0", "0.10", "1" * 41, "-" + "9" * 40, "1.", "01", "NaN", "Infinity"]),
)
_SPACE = st.sampled_from(["", "", " ", "\n "])


@st.composite
def _json_text(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON-like text, mostly valid, with duplicate keys, odd strings and odd numbers now and then."""
    choice = draw(st.integers(0, 5 if depth < 3 else 2))
    if choice == 0:
        return draw(_NUMBERS)
    if choice == 1:
        return _string(draw(_TEXT), draw(st.booleans()))
    if choice == 2:
        return draw(st.sampled_from(["true", "false", "null"]))
    if choice == 3:
        items = draw(st.lists(_json_text(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(["a", "b", 'q"', "c:", "é", "\\"]), max_size=4))
    pairs = []
    for key in keys:
        space_before, space_after = draw(_SPACE), draw(_SPACE)
        value = draw(_json_text(depth + 1))
        pairs.append(f"{_string(key, False)}{space_before}:{space_after}{value}")
    return "{" + ",".join(pairs) + "}"


def _careful(text: str) -> Any:
    try:
        return loads_strict(text)
    except InputError as exc:
        return exc


@settings(max_examples=1500, deadline=None)
@given(_json_text())
def test_plain_path_reads_as_the_careful_path_or_declines(text: str) -> None:
    data = text.encode("utf-8")
    plain = _read_plain(data)
    careful = _careful(text)
    if plain is _NOT_PLAIN:
        return
    assert not isinstance(careful, InputError), f"plain path accepted {text!r}: {careful}"
    assert repr(plain) == repr(careful)  # repr: Decimal("1.50") is not Decimal("1.5"), 1 is not True


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"a":2}',
        b'{"a":{"b":1,"b":1}}',
        b'{"a":"x\\":","a":2}',
        b'{"a":1,"\\u0061":2}',
        b'{"a":1e400}',
        b'{"a":' + b"1" * 41 + b"}",
        b'{"a":NaN}',
        b'{"a":"\\ud800"}',
        b"[" * 65 + b"]" * 65,
        b'{"a": 1e5000000000000000000}',
        b'{"a": -1e-5000000000000000000}',
    ],
)
def test_bodies_the_plain_path_must_leave_to_the_careful_one(body: bytes) -> None:
    assert _read_plain(body) is _NOT_PLAIN
    with pytest.raises(InputError):
        loads_strict(body)


def test_common_body_is_read_on_the_plain_path_with_exact_numbers() -> None:
    body = b'{"program": "p", "input": {"amount": 129.90, "count": 3, "tags": ["a"]}, "explain": false}'
    value = _read_plain(body)
    assert value == {
        "program": "p",
        "input": {"amount": Decimal("129.90"), "count": 3, "tags": ["a"]},
        "explain": False,
    }
    assert str(value["input"]["amount"]) == "129.90"
    assert value == loads_strict(body)


def _depth_by_scan(text: str, limit: int) -> bool:
    """The specification of deeper_than, one character at a time (its first implementation)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


@settings(max_examples=3000, deadline=None)
@given(text=st.text(alphabet='[]{}"\\ax:,\n', max_size=60), limit=st.integers(0, 4))
def test_deeper_than_agrees_with_a_scan_of_every_character(text: str, limit: int) -> None:
    # strings (escapes, unclosed ones) and brackets in any order, with and without a backslash anywhere
    assert deeper_than(text, limit) is _depth_by_scan(text, limit)
    plain = text.replace("\\", "")
    assert deeper_than(plain, limit) is _depth_by_scan(plain, limit)
