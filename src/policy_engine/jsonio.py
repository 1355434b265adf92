"""Strict JSON for decision requests: no duplicate keys, no NaN/Infinity, exact Decimals, bounded size.

Used by the CLI and the server alike, so a body means the same thing wherever it is sent.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

import msgspec

from policy_engine.errors import InputError, InputProblem

__all__ = (
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "deeper_than",
    "dumps",
    "dumps_exact",
    "loads_strict",
    "object_without_duplicates",
)

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 40


class _Reject(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses a key given twice (raises ValueError)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Reject(f"duplicate key {key!r}")
        out[key] = value
    return out


def _number(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Reject(f"number with more than {MAX_NUMBER_CHARS} characters")
    if "e" not in text and "E" not in text:  # written out: its length already bounds its digits
        return Decimal(text)
    try:
        value = Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal holds (1e5000000000000000000)
        raise _Reject(f"number with more than {MAX_NUMBER_CHARS} digits when written out: {text}") from None
    exponent = value.as_tuple().exponent
    if value.adjusted() >= MAX_NUMBER_CHARS or (isinstance(exponent, int) and exponent < -MAX_NUMBER_CHARS):
        # 1e400 is short to write but is the 401-digit number the limit above refuses.
        raise _Reject(f"number with more than {MAX_NUMBER_CHARS} digits when written out: {text}")
    return value


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Reject(f"number with more than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _constant(name: str) -> Any:
    raise _Reject(f"{name} is not valid JSON; send a number or null")


def deeper_than(text: str, limit: int) -> bool:
    """Whether [ and { nest deeper than ``limit`` outside JSON strings, found without parsing."""
    if text.count("[") + text.count("{") <= limit:
        return False  # too few brackets to be that deep: no scan (most documents)
    # The text outside strings, cut in C: with no backslash every quote opens or closes a string (an
    # unclosed one runs to the end); with escapes, a pattern reads them. Then only the brackets are walked.
    outside = "".join(text.split('"')[::2]) if "\\" not in text else _JSON_STRING.sub("", text)
    depths = accumulate(map(_DEPTH_STEP.__getitem__, _BRACKET.findall(outside)), initial=0)
    return max(depths) > limit


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)  # unrolled: runs in one step
_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def loads_strict(data: bytes | str, *, pointer: str = "") -> Any:
    """Decode a JSON document strictly; numbers become Decimal (integers int), never float.

    Raises:
        InputError: with a pointer and a message saying what is wrong and where (line and column).
    """
    if isinstance(data, bytes):
        fast = _read_plain(data)
        if fast is not _NOT_PLAIN:
            return fast
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError([InputProblem(pointer, f"body is not valid UTF-8 (byte {exc.start})")]) from exc
    else:
        text = data
    if deeper_than(text, MAX_DEPTH):
        raise InputError([InputProblem(pointer, f"JSON is nested deeper than {MAX_DEPTH} levels")])
    try:
        value = json.loads(
            text,
            object_pairs_hook=object_without_duplicates,
            parse_float=_number,
            parse_int=_integer,
            parse_constant=_constant,
        )
    except _Reject as exc:
        raise InputError([InputProblem(pointer, f"body is not acceptable JSON: {exc}")]) from exc
    except json.JSONDecodeError as exc:
        message = f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise InputError([InputProblem(pointer, message)]) from exc
    except RecursionError as exc:
        raise InputError([InputProblem(pointer, "JSON is nested too deeply")]) from exc
    if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(value):
        message = "body is not acceptable JSON: a \\u escape is half of a surrogate pair, not a character"
        raise InputError([InputProblem(pointer, message)])
    return value


_NOT_PLAIN: Any = object()
_PLAIN_DECODER = msgspec.json.Decoder(float_hook=_number)  # _number refuses what the careful reader does
# An integer longer than a number may be (msgspec reads any) shows as a run of digits, perhaps after a
# minus sign: seen as a run of "0" once digits and "-" are mapped to "0" (a translate and a substring
# search in C; a regular expression is ten times slower here). The same copy maps "{" to "[", so one count
# of "[" bounds the nesting depth.
_NUMBER_CHARS_AS_ZERO = bytes(
    ord("0") if byte in b"0123456789-" else ord("[") if byte in b"[{" else byte for byte in range(256)
)
_TOO_LONG_NUMBER = b"0" * (MAX_NUMBER_CHARS + 1)


def _read_plain(data: bytes) -> Any:
    """The common body read in C (msgspec), or ``_NOT_PLAIN`` when the careful reader must look at it.

    msgspec keeps the last of duplicate keys, so they are found by counting colons: each key brings one,
    and the colons inside strings are written back as they came (a colon is never escaped, and bodies with
    a backslash-u escape are left to the careful reader). So the body holds as many colons as its
    re-encoded value only when no key was dropped.
    """
    if b"\\" in data and b"\\u" in data:  # a one-byte search first: most bodies hold no backslash at all
        return _NOT_PLAIN
    mapped = data.translate(_NUMBER_CHARS_AS_ZERO)
    if mapped.count(b"[") > MAX_DEPTH or _TOO_LONG_NUMBER in mapped:
        return _NOT_PLAIN
    try:
        value = _PLAIN_DECODER.decode(data)
    except (msgspec.DecodeError, ValueError):
        return _NOT_PLAIN  # the careful reader says what is wrong, and where
    if data.count(b":") != _EXACT.encode(value).count(b":"):
        return _NOT_PLAIN
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a decoded document holds text that is not Unicode (a lone surrogate escape decodes so)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text of an answer: UTF-8 characters kept, Decimals as strings."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_default)


def dumps_exact(value: Any) -> str:
    """JSON text that ``loads_strict`` reads back to the same value: Decimals stay JSON numbers.

    Used to store a request exactly as it was decided (a number sent as ``4.60`` must replay as a number,
    not as the string ``"4.60"``).
    """
    return _EXACT.encode(value).decode()


_EXACT = msgspec.json.Encoder(decimal_format="number")
