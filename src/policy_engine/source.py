"""The strict YAML reader: policy file text → plain data, with the file position of every node.

Policies are read from PyYAML *events* (``yaml.parse``), never through a PyYAML constructor, so that
nothing in a file can build a Python object, expand an alias or guess a type. This module holds the
document and its reading (limits, decoding, the choice of parser); the tree is built by
:mod:`policy_engine.yaml_events`, without recursion, with one scalar resolver:

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

Positions inside scalars are worked out by :mod:`policy_engine.yaml_positions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policy_engine.errors import ErrorSet, PolicyLoadError, PolicySyntaxError, SourceLocation
from policy_engine.yaml_events import (
    _Builder,
    _unescape_pointer_token,
    escape_pointer_token,
    resolve_plain_scalar,
)
from policy_engine.yaml_positions import Position, ScalarSpan, _advance, _align

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

_EVENT_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""libyaml's parser when PyYAML has it (16x faster; the same events and marks), else PyYAML's own."""


# --------------------------------------------------------------------------------------------- data


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


# ------------------------------------------------------------------------------------------- public


def _too_large(path: str, size: int) -> PolicyLoadError:
    error = PolicySyntaxError(
        "too-large",
        f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes (1 MiB)",
        SourceLocation(file=path),
    )
    return PolicyLoadError(ErrorSet([error]))


def _read_events(text: str, path: str, loader: Any) -> _Builder:
    builder = _Builder(
        text, path, max_depth=MAX_DEPTH, max_nodes=MAX_NODES, max_number_chars=MAX_NUMBER_CHARS
    )
    parser = None
    try:
        parser = loader(text)  # its events only, as yaml.parse reads them (without the generator)
        builder.read(parser.get_event)  # both parsers give None after the last event
    except yaml.YAMLError as exc:
        builder.yaml_error = True
        builder.syntax_error(exc)
    except ValueError as exc:  # PyYAML's chr() of an escape beyond U+10FFFF
        builder.yaml_error = True
        builder.value_error = exc
        builder.syntax_error(yaml.YAMLError(f"an escape names no Unicode character ({exc})"))
    finally:
        if parser is not None:
            parser.dispose()
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
        # Only the words: if PyYAML reads the file without a YAML error, libyaml's error stands.
        worded = _read_events(text, path, yaml.SafeLoader)
        if worded.yaml_error and worded.value_error is None:
            builder = worded
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
