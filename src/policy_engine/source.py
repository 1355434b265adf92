"""The strict YAML reader: policy file text → plain data, with the file position of every node.

Policies are read from PyYAML *events* (``yaml.parse``), never through a PyYAML constructor, so that
nothing in a file can build a Python object, expand an alias or guess a type. The tree is built here,
without recursion, with one scalar resolver:

* plain ``true`` / ``false`` are booleans; plain ``null``, ``~`` or nothing is ``None``;
* plain integers and decimals (``300``, ``-1.5``, ``2021.10``) are exact :class:`~decimal.Decimal` values
  made from the source text;
* every other scalar, and every quoted or block scalar, is a ``str`` (``yes``, ``16:00``,
  ``2021-08-10T00:00:00+08:00``, ``1e5``, ``0x1F``).

Duplicate keys, anchors, aliases, merge keys, tags, non-text keys, more than one document, nesting deeper
than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` nodes, plain numbers longer than
:data:`MAX_NUMBER_CHARS` and files over :data:`MAX_FILE_BYTES` are errors.
Every problem found in one pass is raised together as a :class:`~policy_engine.errors.PolicyLoadError`
of located :class:`~policy_engine.errors.PolicySyntaxError` items.

The resulting :class:`SourceDocument` maps JSON pointers (RFC 6901) to positions, so later stages (schema
validation, the model, the expression compiler) can point at the exact line and column of a problem, even
inside a multi-line expression (:meth:`SourceDocument.locate_in_scalar`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)

from policy_engine.errors import ErrorSet, PolicyLoadError, PolicySyntaxError, SourceLocation

__all__ = (
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_NUMBER_CHARS",
    "Position",
    "ScalarSpan",
    "SourceDocument",
    "escape_pointer_token",
    "parse_source",
    "read_source",
    "resolve_plain_scalar",
)

MAX_FILE_BYTES = 1024 * 1024
"""Largest policy file, in bytes (1 MiB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences; the root collection is level 1."""
MAX_NODES = 200_000
"""Most nodes (scalars, mappings, sequences) in one file."""
MAX_NUMBER_CHARS = 40
"""Longest plain number, in characters (the limit of numbers in request JSON); checked before conversion."""

_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_NULLS = frozenset({"", "null", "~"})
_BOOLEANS = {"true": True, "false": False}
_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_EVENT_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""libyaml's parser when PyYAML has it (16x faster; the same events and marks), else PyYAML's own."""
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
# Words for PyYAML's token names in syntax messages.
_TOKEN_WORDS = (
    ("'<stream end>'", "the end of the file"),
    ("<stream end>", "the end of the file"),
    ("'<block end>'", "the end of the indented block"),
    ("<block end>", "the end of the indented block"),
    ("'<block mapping start>'", "a mapping at a different indentation"),
    ("'<block sequence start>'", "a list at a different indentation"),
    ("'<document start>'", "'---'"),
    ("<document start>", "'---'"),
    ("'?'", "a new mapping key"),
    ("'<scalar>'", "a value"),
)


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Position:
    """A place in the text of a file."""

    line: int
    """1-based line."""
    column: int
    """1-based column, counted in characters."""
    index: int
    """0-based character offset in the text."""


@dataclass(frozen=True)
class ScalarSpan:
    """Where a scalar value's token lies in the text, and how it is written."""

    start: Position
    """Where the token starts: the first character of a plain scalar, the quote, or the ``|`` / ``>``."""
    end: Position
    """Just after the token (after the closing quote; for block scalars, after the trailing line breaks)."""
    style: str | None
    """``None`` for plain, ``"'"``, ``'"'``, ``"|"`` or ``">"``."""


@dataclass(frozen=True)
class SourceDocument:
    """One policy file read strictly: its text, its data and the position of every node."""

    path: str
    """The file name as the user gave it; used in every error."""
    text: str
    """The decoded text (without a byte-order mark)."""
    data: Any
    """``dict[str, Any]``, ``list``, ``str``, ``Decimal``, ``bool`` or ``None`` (None for an empty file)."""
    positions: Mapping[str, Position] = field(default_factory=dict)
    """JSON pointer (``""`` is the root) → position of the value node."""
    key_positions: Mapping[str, Position] = field(default_factory=dict)
    """JSON pointer of a mapping entry → position of its key."""
    scalars: Mapping[str, ScalarSpan] = field(default_factory=dict)
    """JSON pointer → span of every scalar value."""

    def location(self, pointer: str, *, key: bool = False) -> SourceLocation:
        """The file location of a node.

        Args:
            pointer: JSON pointer of the node.
            key: Locate the entry's key rather than its value, when the key position is known.

        Returns:
            The location of the node; for an unknown pointer, that of its nearest known ancestor; with
            line and column 0 when nothing is known (an empty file). The pointer is always ``pointer``.
        """
        position = self.key_positions.get(pointer) if key else None
        candidate = pointer
        while position is None:
            position = self.positions.get(candidate)
            if position is not None or candidate == "":
                break
            candidate = candidate.rsplit("/", 1)[0] if "/" in candidate else ""
        if position is None:
            return SourceLocation(file=self.path, pointer=pointer)
        return SourceLocation(self.path, position.line, position.column, pointer)

    def locate_in_scalar(self, pointer: str, offset: int) -> SourceLocation:
        """The file location of one character of a scalar's value.

        The value (after YAML folding and unquoting) is aligned with the raw text of its token, so a column
        reported by a parser of the value (an expression's ``col_offset``) points at the right line and
        column of the file, also in multi-line plain, quoted, literal and folded scalars.

        Args:
            pointer: JSON pointer of a scalar value.
            offset: 0-based character offset inside the value; ``len(value)`` means just after it.

        Returns:
            The location of that character, or the scalar's start when the value cannot be aligned with
            its source text (the location of :meth:`location` when the pointer is no scalar).
        """
        span = self.scalars.get(pointer)
        if span is None:
            return self.location(pointer)
        raw = self.text[span.start.index : span.end.index]
        value = _lookup(self.data, pointer)
        text_value = value if isinstance(value, str) else raw
        raw_index = _align(raw, text_value, span.style, offset)
        if raw_index is None:
            return SourceLocation(self.path, span.start.line, span.start.column, pointer)
        position = _advance(self.text, span.start, span.start.index + raw_index)
        return SourceLocation(self.path, position.line, position.column, pointer)


# ------------------------------------------------------------------------------------------ helpers


def resolve_plain_scalar(value: str) -> Any:
    """The value of a *plain* (unquoted, non-block) scalar: the one resolver of policy files.

    Args:
        value: The scalar's text as PyYAML reports it (folded, without comments).

    Returns:
        ``True`` / ``False`` for ``true`` / ``false``; ``None`` for ``null``, ``~`` or nothing; a
        :class:`~decimal.Decimal` for an integer or a decimal with digits on both sides of the point;
        otherwise the text itself.
    """
    if value in _BOOLEANS:
        return _BOOLEANS[value]
    if value in _NULLS:
        return None
    if _INTEGER.fullmatch(value) or _DECIMAL.fullmatch(value):
        return Decimal(value)
    return value


def _is_number(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None or _DECIMAL.fullmatch(value) is not None


def escape_pointer_token(token: str) -> str:
    """Escape one mapping key or list index for a JSON pointer (RFC 6901: ``~`` → ``~0``, ``/`` → ``~1``).

    Args:
        token: The key.

    Returns:
        The escaped reference token.
    """
    return token.replace("~", "~0").replace("/", "~1")


def _unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _lookup(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None when there is none."""
    if pointer == "":
        return data
    node = data
    for token in pointer.split("/")[1:]:
        if isinstance(node, dict):
            node = node.get(_unescape_pointer_token(token))
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


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


def _tag_text(tag: str) -> str:
    if tag.startswith(_YAML_TAG_PREFIX):
        return "!!" + tag[len(_YAML_TAG_PREFIX) :]
    return tag


def _describe_key(text: str, value: Any) -> str:
    if text == "":
        return "an empty key"
    if value is None:
        return f"the key {text}, read as null"
    if isinstance(value, bool):
        return f"the key {text}, read as a boolean"
    return f"the key {text}, read as a number"


def _plain_problem(problem: str) -> str:
    """PyYAML's problem text, with its token names in plain words."""
    if "'\\t'" in problem:
        return "a tab character cannot be used here; indent with spaces"
    if problem == "mapping values are not allowed here":
        return "a ':' is not allowed here; check the indentation, or quote a value that contains ': '"
    for token, words in _TOKEN_WORDS:
        problem = problem.replace(token, words)
    if problem.startswith("expected the end of the indented block"):
        problem += " (bad indentation?)"
    return problem


# ------------------------------------------------------------------------------------------ builder


@dataclass
class _Frame:
    """An open mapping or sequence while events are read."""

    container: dict[str, Any] | list[Any]
    pointer: str | None
    """None for a subtree that is dropped (a collection used as a key, the value of a rejected key)."""
    seen: dict[str, Position] = field(default_factory=dict)
    """Mapping: keys read so far → their positions."""
    has_key: bool = False
    """Mapping: a key was read and its value comes next."""
    key: str | None = None
    """Mapping: the key whose value comes next; None when that value is dropped."""
    is_key: bool = False
    """This collection is itself a mapping key (an error) and is dropped."""


class _Builder:
    """Turns a stream of PyYAML events into data, positions and errors, without recursion."""

    yaml_error = False
    """Whether the parser stopped on a YAML error."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.errors = ErrorSet()
        self.positions: dict[str, Position] = {}
        self.key_positions: dict[str, Position] = {}
        self.scalars: dict[str, ScalarSpan] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.nodes = 0

    # -- errors

    def error(self, code: str, message: str, position: Position | None, pointer: str | None) -> None:
        """Record one error."""
        if position is None:
            location = SourceLocation(file=self.path, pointer=pointer or "")
        else:
            location = SourceLocation(self.path, position.line, position.column, pointer or "")
        self.errors.add(PolicySyntaxError(code, message, location))

    def _context_pointer(self, pointer: str | None) -> str:
        if pointer is not None:
            return pointer
        for frame in reversed(self.stack):
            if frame.pointer is not None:
                return frame.pointer
        return ""

    def _find(self, event: Event, needle: str) -> Position:
        """The position of ``needle`` within the event's text, else the event's start."""
        start = _position(event.start_mark)
        end = event.end_mark.index if event.end_mark is not None else len(self.text)
        found = self.text.find(needle, start.index, max(end, start.index + len(needle)))
        return start if found < 0 else _advance(self.text, start, found)

    # -- events

    def feed(self, event: Event) -> bool:
        """Process one event; False when reading must stop."""
        if isinstance(event, DocumentStartEvent):
            return self._on_document(event)
        if isinstance(event, CollectionEndEvent):
            self._on_end()
            return True
        if not isinstance(event, NodeEvent):
            return True  # stream start/end, document end
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.error(
                "too-large",
                f"the document has more than {MAX_NODES:,} nodes (values, lists and mappings); split it",
                _position(event.start_mark),
                self._context_pointer(None),
            )
            return False
        if isinstance(event, AliasEvent):
            self._on_alias(event)
            return True
        if isinstance(event, ScalarEvent):
            self._on_scalar(event)
            return True
        if isinstance(event, CollectionStartEvent):
            return self._on_start(event)
        return True

    def _on_document(self, event: DocumentStartEvent) -> bool:
        self.documents += 1
        if self.documents == 1:
            return True
        self.error(
            "multiple-documents",
            "a policy file holds one YAML document; move the document after this '---' to its own file",
            _position(event.start_mark),
            "",
        )
        return False

    def _slot(self) -> tuple[str | None, bool]:
        """(pointer of the node that comes next or None when it is dropped, whether it is a mapping key)."""
        if not self.stack:
            return "", False
        top = self.stack[-1]
        if isinstance(top.container, list):
            if top.pointer is None:
                return None, False
            return f"{top.pointer}/{len(top.container)}", False
        if not top.has_key:
            return None, True
        if top.pointer is None or top.key is None:
            return None, False
        return f"{top.pointer}/{escape_pointer_token(top.key)}", False

    def _check_node(self, event: ScalarEvent | CollectionStartEvent, pointer: str | None) -> None:
        """Report an anchor or an explicit tag on a node."""
        where = self._context_pointer(pointer)
        if event.anchor is not None:
            self.error(
                "anchor",
                f'YAML anchors and aliases are not supported (anchor "&{event.anchor}"); '
                "write the value out in full",
                self._find(event, "&" + event.anchor),
                where,
            )
        if event.tag is not None:
            tag = _tag_text(event.tag)
            self.error(
                "tag",
                f'tag "{tag}" is not allowed: YAML tags are not supported in policy files; '
                "write a plain value",
                self._find(event, "!"),
                where,
            )

    def _attach(self, value: Any) -> None:
        """Put a finished value into its parent (or make it the root)."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
            return
        if top.key is not None:
            top.container[top.key] = value
        top.has_key = False
        top.key = None

    def _on_alias(self, event: AliasEvent) -> None:
        pointer, is_key = self._slot()
        self.error(
            "alias",
            f'YAML anchors and aliases are not supported (alias "*{event.anchor}"); '
            "write the value out in full",
            _position(event.start_mark),
            self._context_pointer(pointer),
        )
        if is_key:
            top = self.stack[-1]
            top.has_key, top.key = True, None
        else:
            self._attach(None)

    def _on_scalar(self, event: ScalarEvent) -> None:
        pointer, is_key = self._slot()
        self._check_node(event, pointer)
        if is_key:
            self._on_key(event)
            return
        if event.style is None and len(event.value) > MAX_NUMBER_CHARS and _is_number(event.value):
            self.error(
                "number-too-long",
                f"a number may have at most {MAX_NUMBER_CHARS} characters; this one has {len(event.value):,}",
                _position(event.start_mark),
                self._context_pointer(pointer),
            )
            self._attach(None)
            return
        value = resolve_plain_scalar(event.value) if event.style is None else event.value
        if pointer is not None:
            start = _position(event.start_mark)
            self.positions[pointer] = start
            self.scalars[pointer] = ScalarSpan(start, _position(event.end_mark), event.style)
        self._attach(value)

    def _key_text(self, event: ScalarEvent, top: _Frame, position: Position) -> str | None:
        """The text of a mapping key, or None (after reporting) when it is not an allowed key."""
        if event.style is not None:
            return event.value
        value = resolve_plain_scalar(event.value)
        pointer = self._context_pointer(top.pointer)
        if value == "<<":
            self.error(
                "merge-key",
                'merge keys ("<<") are not supported; write the entries out in full',
                position,
                pointer,
            )
            return None
        if not isinstance(value, str):
            quoted = json.dumps(event.value, ensure_ascii=False)
            described = _describe_key(event.value, value)
            self.error(
                "non-string-key",
                f"mapping keys must be text, but this is {described}; quote it: {quoted}",
                position,
                pointer if top.pointer is None else f"{top.pointer}/{escape_pointer_token(event.value)}",
            )
            return None
        return value

    def _on_key(self, event: ScalarEvent) -> None:
        top = self.stack[-1]
        position = _position(event.start_mark)
        top.has_key, top.key = True, None
        key = self._key_text(event, top, position)
        if key is None:
            return
        entry = None if top.pointer is None else f"{top.pointer}/{escape_pointer_token(key)}"
        first = top.seen.get(key)
        if first is not None:
            self.error(
                "duplicate-key",
                f"duplicate key {json.dumps(key, ensure_ascii=False)}; "
                f"first defined at line {first.line}, column {first.column}",
                position,
                entry,
            )
            return
        top.seen[key] = position
        top.key = key
        if entry is not None:
            self.key_positions[entry] = position

    def _on_start(self, event: CollectionStartEvent) -> bool:
        pointer, is_key = self._slot()
        start = _position(event.start_mark)
        if len(self.stack) + 1 > MAX_DEPTH:
            self.error(
                "too-deep",
                f"nesting is deeper than {MAX_DEPTH} levels; flatten the document",
                start,
                self._context_pointer(pointer),
            )
            return False
        self._check_node(event, pointer)
        if is_key:
            self.error(
                "non-scalar-key",
                "mapping keys must be plain or quoted text, not a list or a mapping",
                start,
                self._context_pointer(None),
            )
        elif pointer is not None:
            self.positions[pointer] = start
        container: dict[str, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
        self.stack.append(_Frame(container, None if is_key else pointer, is_key=is_key))
        return True

    def _on_end(self) -> None:
        frame = self.stack.pop()
        if frame.is_key:
            top = self.stack[-1]
            top.has_key, top.key = True, None
        else:
            self._attach(frame.container)

    # -- failures of the parser itself

    def syntax_error(self, exc: yaml.YAMLError) -> None:
        """Record the one error of a YAML syntax problem that stopped the parser."""
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            problem = _plain_problem(exc.problem or exc.context or "invalid YAML")
            message = f"YAML syntax error: {problem}"
            if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
                context = _position(exc.context_mark)
                if context.index != exc.problem_mark.index:
                    message += f" ({exc.context} started at line {context.line}, column {context.column})"
            self.error("yaml-syntax", message, None if mark is None else _position(mark), "")
            return
        if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.position, int):
            character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
            self.error(
                "yaml-syntax",
                f"the character U+{character:04X} is not allowed in a policy file; remove it",
                _advance(self.text, Position(1, 1, 0), exc.position),
                "",
            )
            return
        self.error("yaml-syntax", f"YAML syntax error: {exc}", None, "")


# ------------------------------------------------------------------------------------------- public


def _too_large(path: str, size: int) -> PolicyLoadError:
    error = PolicySyntaxError(
        "too-large",
        f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes (1 MiB)",
        SourceLocation(file=path),
    )
    return PolicyLoadError(ErrorSet([error]))


def _read_events(text: str, path: str, loader: Any) -> _Builder:
    builder = _Builder(text, path)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, ScalarEvent) and event.style == "":
                event.style = None  # libyaml says "" for a plain scalar, the Python parser None
            if not builder.feed(event):
                break
    except yaml.YAMLError as exc:
        builder.yaml_error = True
        builder.syntax_error(exc)
    return builder


def parse_source(text: str, path: str) -> SourceDocument:
    """Read one policy file's text strictly.

    Args:
        text: The file's text.
        path: The file name to show in positions and errors.

    Returns:
        The document: data (None for an empty file) and the position of every node.

    Raises:
        PolicyLoadError: With every problem found (see the module docstring); a YAML syntax error stops
            reading, so problems after it are not reported.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise _too_large(path, size)
    fast = _EVENT_LOADER is not yaml.SafeLoader and yaml.reader.Reader.NON_PRINTABLE.search(text) is None
    builder = _read_events(text, path, _EVENT_LOADER if fast else yaml.SafeLoader)
    if fast and builder.yaml_error:
        # Say a syntax error in PyYAML's own words (the words the tests and users know); libyaml's differ.
        builder = _read_events(text, path, yaml.SafeLoader)
    if len(builder.errors):
        raise PolicyLoadError(builder.errors)
    return SourceDocument(
        path=path,
        text=text,
        data=builder.root,
        positions=builder.positions,
        key_positions=builder.key_positions,
        scalars=builder.scalars,
    )


def _encoding_error(path: str, raw: bytes, exc: UnicodeDecodeError) -> PolicyLoadError:
    line_start = raw.rfind(b"\n", 0, exc.start) + 1
    line = raw.count(b"\n", 0, exc.start) + 1
    column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
    if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
        column -= 1  # the byte-order mark is not shown by editors and is dropped from the text
    bad = raw[exc.start : exc.start + 1].hex().upper()
    error = PolicySyntaxError(
        "encoding",
        f"the file is not valid UTF-8 (byte 0x{bad} at line {line}, column {column}); save it as UTF-8",
        SourceLocation(path, line, column, ""),
    )
    return PolicyLoadError(ErrorSet([error]))


def read_source(path: Path, display: str | None = None) -> SourceDocument:
    """Read one policy file from disk strictly.

    The size is checked with ``stat()`` before anything is read; a leading UTF-8 byte-order mark is dropped.

    Args:
        path: The file.
        display: The name to show in positions and errors; ``str(path)`` when None.

    Returns:
        The document, as :func:`parse_source` makes it.

    Raises:
        PolicyLoadError: The file is over :data:`MAX_FILE_BYTES`, is not UTF-8, or has YAML problems.
        OSError: The file cannot be read.
    """
    name = str(path) if display is None else display
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _too_large(name, size)
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:  # it grew after stat()
        raise _too_large(name, len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(name, raw, exc) from None
    return parse_source(text.removeprefix("\ufeff"), name)
