"""Positions inside YAML scalars: where a character of a scalar's value lies in the file's text.

PyYAML reports where a scalar's token starts and ends, not where each character of its value comes from.
The helpers here count lines as PyYAML does (:func:`_advance`) and align a value (after YAML folding,
unquoting and escape decoding) with the raw text of its token (:func:`_align`), so a column inside a
multi-line plain, quoted, literal or folded scalar can be shown at the right line and column.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = ("Position", "ScalarSpan")

# Line breaks as PyYAML counts them ("\r\n" is one break, counted at the "\n").
_BREAKS = "\n\x85\u2028\u2029"
_ESCAPE_REPLACEMENTS: dict[str, str] = {
    "0": "\x00",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_ESCAPE_CODES = {"x": 2, "u": 4, "U": 8}


# --------------------------------------------------------------------------------------------- data


class Position(NamedTuple):
    """A place in the text of a file (a named tuple: a load makes one per node, quicker than a dataclass)."""

    line: int
    """1-based line."""
    column: int
    """1-based column, counted in characters."""
    index: int  # type: ignore[assignment]  # the field hides tuple.index, which nothing here calls
    """0-based character offset in the text."""


class ScalarSpan(NamedTuple):
    """Where a scalar value's token lies in the text, and how it is written (a named tuple, like Position)."""

    start: Position
    """Where the token starts: the first character of a plain scalar, the quote, or the ``|`` / ``>``."""
    end: Position
    """Just after the token (after the closing quote; for block scalars, after the trailing line breaks)."""
    style: str | None
    """``None`` for plain, ``"'"``, ``'"'``, ``"|"`` or ``">"``."""


# ------------------------------------------------------------------------------------ alignment


class _Mark(Protocol):
    line: int
    column: int
    index: int


def _position(mark: _Mark | None) -> Position:
    if mark is None:
        return Position(1, 1, 0)
    return Position(mark.line + 1, mark.column + 1, mark.index)


def _advance(text: str, start: Position, index: int) -> Position:
    """The position of ``text[index]``, counting lines as PyYAML does, from a known earlier position."""
    line, column = start.line, start.column
    for i in range(start.index, min(index, len(text))):
        ch = text[i]
        if ch in _BREAKS or (ch == "\r" and text[i + 1 : i + 2] != "\n"):
            line, column = line + 1, 1
        else:
            column += 1
    return Position(line, column, index)


def _body_start(raw: str, style: str | None) -> int:
    """Index in a scalar token of its first content character candidate (after quote or header line)."""
    if style in ("'", '"'):
        return 1
    if style in ("|", ">"):
        for i, ch in enumerate(raw):
            if ch in _BREAKS or ch == "\r":
                return i + 2 if raw[i : i + 2] == "\r\n" else i + 1
        return len(raw)
    return 0


def _decode_escape(raw: str, i: int) -> tuple[str | None, int]:
    """Decode the double-quoted escape at ``raw[i]``: (its character, None for a line break; its length)."""
    code = raw[i + 1 : i + 2]
    if code in _ESCAPE_REPLACEMENTS:
        return _ESCAPE_REPLACEMENTS[code], 2
    if code in _ESCAPE_CODES:
        width = _ESCAPE_CODES[code]
        digits = raw[i + 2 : i + 2 + width]
        try:
            return chr(int(digits, 16)), 2 + width
        except ValueError:
            return "", 1
    if code in _BREAKS or code == "\r":
        return None, 3 if raw[i + 1 : i + 3] == "\r\n" else 2
    return "", 1


def _match(raw: str, i: int, ch: str, style: str | None) -> tuple[int, int] | None:
    """Find the raw text of value character ``ch`` at or after ``raw[i]``: (its index, index after it)."""
    while i < len(raw):
        r = raw[i]
        if style == '"' and r == "\\":
            decoded, length = _decode_escape(raw, i)
            if decoded == ch:
                return i, i + length
            if decoded is not None:
                return None
            i += length  # an escaped line break joins the lines: skip it
            continue
        if ch.isspace():
            if r.isspace():
                return i, i + (2 if raw[i : i + 2] == "\r\n" else 1)
            return None
        if r == ch:
            doubled = style == "'" and ch == "'" and raw[i + 1 : i + 2] == "'"
            return i, i + (2 if doubled else 1)
        if not r.isspace():
            return None
        i += 1
    return None


def _align(raw: str, value: str, style: str | None, offset: int) -> int | None:
    """Index in ``raw`` (a scalar's token) of the character ``value[offset]``, or None when unsure."""
    if not 0 <= offset <= len(value):
        return None
    i = _body_start(raw, style)
    for k in range(min(offset + 1, len(value))):
        found = _match(raw, i, value[k], style)
        if found is None:
            return None
        if k == offset:
            return found[0]
        i = found[1]
    return i
