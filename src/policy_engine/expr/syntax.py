"""Parse one expression with Python's ``ast`` and map node positions back to offsets in its text."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from functools import cached_property

__all__ = (
    "MAX_EXPRESSION_CHARS",
    "ExprProblem",
    "ParsedExpression",
    "parse_expression",
)

MAX_EXPRESSION_CHARS = 2000


@dataclass(frozen=True)
class ExprProblem:
    """A problem inside one expression, at a character offset of its text."""

    code: str
    message: str
    offset: int
    """0-based character offset into the expression text as written in the policy."""
    suggestion: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class ParsedExpression:
    """An expression's syntax tree, with what is needed to locate its nodes in the original text."""

    text: str
    """The expression as written."""
    tree: ast.expr
    shift: int
    """Characters of leading white space removed before parsing."""
    _parsed: str

    @cached_property
    def _encoded(self) -> bytes:
        return self._parsed.encode()

    @cached_property
    def names(self) -> frozenset[str]:
        """Every bare name the expression uses (the ids of its ``ast.Name`` nodes)."""
        found: set[str] = set()
        pending: list[object] = [self.tree]
        while pending:  # what ast.walk visits, without its generator per node
            node = pending.pop()
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.AST):
                for value in node.__dict__.values():
                    if isinstance(value, ast.AST):
                        pending.append(value)
                    elif type(value) is list:
                        pending.extend(value)
        return frozenset(found)

    def offset(self, node: ast.AST) -> int:
        """The 0-based character offset of a node in :attr:`text`."""
        col = getattr(node, "col_offset", 0)
        # ast columns count UTF-8 bytes; the policy author counts characters.
        return self.shift + len(self._encoded[:col].decode(errors="ignore"))

    def source_of(self, node: ast.AST) -> str:
        """The exact text of a node, for traces and messages."""
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if getattr(node, "lineno", None) == 1 and getattr(node, "end_lineno", None) == 1 and end is not None:
            # The parsed text is one line (line breaks became spaces): what ast.get_source_segment does.
            return self._encoded[start:end].decode()
        segment = ast.get_source_segment(self._parsed, node)
        return segment if segment is not None else ast.unparse(node)


def parse_expression(text: str) -> ParsedExpression | ExprProblem:
    """Parse an expression, or say why it cannot be parsed.

    The text may span several YAML lines; line breaks become spaces so that an offset into the parsed text
    is an offset into the original.

    The answer is cached by text: a decision's compiler reads a ``when`` or ``let`` more than once, and
    versions that extend others repeat most of their expressions. Both answers are immutable (nothing
    writes to a syntax tree after parsing), so sharing them is safe.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        return ExprProblem(
            "expression-too-long",
            f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}",
            0,
        )
    try:
        return _parse(text)
    except MemoryError:  # not cached: it may pass another time
        flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
        shift = len(flat) - len(flat.lstrip(" "))
        return ExprProblem("expression-syntax", "expression cannot be parsed (too deeply nested?)", shift)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ParsedExpression | ExprProblem:
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    stripped = flat.lstrip(" ")
    shift = len(flat) - len(stripped)
    if not stripped.strip():
        return ExprProblem("expression-empty", "expression is empty", 0)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        # Python 3.11 reports offset 0 for an error at the end of the text ("order.amount >"): point there.
        offset = exc.offset - 1 if exc.offset else len(stripped.rstrip())
        message = exc.msg
        if message.startswith("invalid syntax"):
            message = "invalid expression syntax"
        return ExprProblem("expression-syntax", message, shift + min(offset, len(stripped)))
    except (ValueError, RecursionError):
        return ExprProblem("expression-syntax", "expression cannot be parsed (too deeply nested?)", shift)
    return ParsedExpression(text=text, tree=tree.body, shift=shift, _parsed=stripped)
