"""PyYAML events → plain data, with the position of every node and every problem found.

:class:`_Builder` reads the events of ``yaml.parse`` without recursion, with one scalar resolver
(:func:`resolve_plain_scalar`: booleans, ``None``, exact :class:`~decimal.Decimal` numbers, else text).
Duplicate keys, anchors, aliases, merge keys, tags, non-text keys, more than one document, a YAML syntax
error (in plain words) and breaking the limits it is given (depth, node count, length of plain numbers)
are recorded as located :class:`~policy_engine.errors.PolicySyntaxError` items. Nodes are addressed by
JSON pointers (RFC 6901, :func:`escape_pointer_token`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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

from policy_engine.errors import ErrorSet, PolicySyntaxError, SourceLocation
from policy_engine.yaml_positions import Position, ScalarSpan, _advance, _position

__all__ = ("escape_pointer_token", "resolve_plain_scalar")

_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_NULLS = frozenset({"", "null", "~"})
_NUMBER_START = frozenset("+-0123456789")
_BOOLEANS = {"true": True, "false": False}
_WORDS = _NULLS | set(_BOOLEANS)
_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_new = tuple.__new__  # makes a Position or ScalarSpan without a call of its Python-level __new__
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


# ------------------------------------------------------------------------------------- scalars


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
    # Both number patterns start with a sign or a digit: most text is told apart without a regex.
    if value[0] in _NUMBER_START and (_INTEGER.fullmatch(value) or _DECIMAL.fullmatch(value)):
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
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def _unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


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


@dataclass(slots=True)
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
    entry: str = ""
    """Mapping: the pointer of the value of :attr:`key` (when it and :attr:`pointer` are not None)."""
    is_key: bool = False
    """This collection is itself a mapping key (an error) and is dropped."""


class _Builder:
    """Turns a stream of PyYAML events into data, positions and errors, without recursion."""

    yaml_error = False
    """Whether the parser stopped on a YAML error."""
    value_error: ValueError | None = None
    """An error PyYAML raised that is not a YAML error (it has no position)."""

    def __init__(
        self, text: str, path: str, *, max_depth: int, max_nodes: int, max_number_chars: int
    ) -> None:
        self.text = text
        self.path = path
        self.max_depth = max_depth
        """Deepest nesting of mappings and sequences; the root collection is level 1."""
        self.max_nodes = max_nodes
        """Most nodes (scalars, mappings, sequences)."""
        self.max_number_chars = max_number_chars
        """Longest plain number, in characters."""
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

    def read(self, get_event: Callable[[], Event | None]) -> None:
        """Process the events ``get_event`` gives until it gives None or reading must stop."""
        feed, quick = self.feed, self._quick_scalar
        while (event := get_event()) is not None:
            if (type(event) is not ScalarEvent or not quick(event)) and not feed(event):
                return

    def _quick_scalar(self, event: ScalarEvent) -> bool:
        """Do what :meth:`feed` does for the usual scalar, a text key or a value in a collection; else False.

        Most events of a file are these, and the calls :meth:`feed` makes per event were most of the reading
        time. Anything unusual (an anchor, a tag, a lone surrogate, a dropped node, a key that is no text,
        a long number, the node limit) is left to :meth:`feed`, untouched but for the style.
        """
        if event.style == "":
            event.style = None  # libyaml says "" for a plain scalar, the Python parser None
        text, style, stack = event.value, event.style, self.stack
        if (
            not stack
            or event.anchor is not None
            or event.tag is not None
            or (not text.isascii() and _SURROGATE.search(text) is not None)
            or self.nodes >= self.max_nodes
        ):
            return False
        top = stack[-1]
        container, key, mark, end = top.container, top.key, event.start_mark, event.end_mark
        if mark is None or end is None:
            return False
        if type(container) is list:
            if top.pointer is None:
                return False
            pointer = f"{top.pointer}/{len(container)}"
        elif not top.has_key:
            return self._quick_key(top, text, style, mark)
        elif top.pointer is None or key is None:
            return False
        else:
            pointer = top.entry
        if style is not None or (text and text[0] not in _NUMBER_START and text not in _WORDS):
            value = text  # quoted, or plain text that is no number, boolean or null: no resolving
        elif len(text) > self.max_number_chars and _is_number(text):
            return False
        else:
            value = resolve_plain_scalar(text)
        self.nodes += 1
        start = _new(Position, (mark.line + 1, mark.column + 1, mark.index))
        self.positions[pointer] = start
        stop = _new(Position, (end.line + 1, end.column + 1, end.index))
        self.scalars[pointer] = _new(ScalarSpan, (start, stop, style))
        if isinstance(container, list):
            container.append(value)
        elif key is not None:
            container[key] = value
            top.has_key = False
            top.key = None
        return True

    def _quick_key(self, top: _Frame, text: str, style: str | None, mark: Any) -> bool:
        """:meth:`_quick_scalar` for a key; False for a plain key that the resolver may not read as text."""
        if style is None and (
            text in _BOOLEANS or text in _NULLS or text[0] in _NUMBER_START or text == "<<"
        ):
            return False
        self.nodes += 1
        position = _new(Position, (mark.line + 1, mark.column + 1, mark.index))
        top.has_key = True
        if top.pointer is None or text in top.seen:
            top.key = None
            self._on_text_key(top, text, position)
            return True
        top.seen[text] = position
        top.key = text
        top.entry = entry = f"{top.pointer}/{escape_pointer_token(text)}"
        self.key_positions[entry] = position
        return True

    def feed(self, event: Event) -> bool:
        """Process one event; False when reading must stop."""
        if type(event) is ScalarEvent:  # most events: the steps below, in the same order
            self.nodes += 1
            if self.nodes > self.max_nodes:
                return self._too_many(event)
            self._on_scalar(event)
            return True
        if isinstance(event, DocumentStartEvent):
            return self._on_document(event)
        if isinstance(event, CollectionEndEvent):
            self._on_end()
            return True
        if not isinstance(event, NodeEvent):
            return True  # stream start/end, document end
        self.nodes += 1
        if self.nodes > self.max_nodes:
            return self._too_many(event)
        if isinstance(event, AliasEvent):
            self._on_alias(event)
            return True
        if isinstance(event, ScalarEvent):
            self._on_scalar(event)
            return True
        if isinstance(event, CollectionStartEvent):
            return self._on_start(event)
        return True

    def _too_many(self, event: NodeEvent) -> bool:
        self.error(
            "too-large",
            f"the document has more than {self.max_nodes:,} nodes (values, lists and mappings); split it",
            _position(event.start_mark),
            self._context_pointer(None),
        )
        return False

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
        return top.entry, False

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
        if event.anchor is not None or event.tag is not None:
            self._check_node(event, pointer)
        if not event.value.isascii() and _SURROGATE.search(event.value) is not None:
            self.error(
                "not-unicode",
                "this text holds a lone surrogate escape (\\ud800-\\udfff), which is not Unicode text",
                _position(event.start_mark),
                self._context_pointer(pointer),
            )
        if is_key:
            self._on_key(event)
            return
        if event.style is None and len(event.value) > self.max_number_chars and _is_number(event.value):
            self.error(
                "number-too-long",
                f"a number may have at most {self.max_number_chars} characters; "
                f"this one has {len(event.value):,}",
                _position(event.start_mark),
                self._context_pointer(pointer),
            )
            self._attach(None)
            return
        value = resolve_plain_scalar(event.value) if event.style is None else event.value
        if pointer is not None:
            start = _position(event.start_mark)  # the usual scalar is read by _quick_scalar instead
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
        self._on_text_key(top, key, position)

    def _on_text_key(self, top: _Frame, key: str, position: Position) -> None:
        """A mapping key that is text: its value comes next, unless the key is a duplicate."""
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
            top.entry = entry
            self.key_positions[entry] = position

    def _on_start(self, event: CollectionStartEvent) -> bool:
        pointer, is_key = self._slot()
        start = _position(event.start_mark)
        if len(self.stack) + 1 > self.max_depth:
            self.error(
                "too-deep",
                f"nesting is deeper than {self.max_depth} levels; flatten the document",
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
