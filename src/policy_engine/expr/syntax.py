"""Parse one expression with Python's ``ast`` and map node positions back to offsets in its text."""

from __future__ import annotations

import ast
from dataclasses import dataclass

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

    def offset(self, node: ast.AST) -> int:
        """The 0-based character offset of a node in :attr:`text`."""
        col = getattr(node, "col_offset", 0)
        # ast columns count UTF-8 bytes; the policy author counts characters.
        return self.shift + len(self._parsed.encode()[:col].decode(errors="ignore"))

    def source_of(self, node: ast.AST) -> str:
        """The exact text of a node, for traces and messages."""
        segment = ast.get_source_segment(self._parsed, node)
        return segment if segment is not None else ast.unparse(node)


def parse_expression(text: str) -> ParsedExpression | ExprProblem:
    """Parse an expression, or say why it cannot be parsed.

    The text may span several YAML lines; line breaks become spaces so that an offset into the parsed text
    is an offset into the original.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        return ExprProblem(
            "expression-too-long",
            f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}",
            0,
        )
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
    except (ValueError, RecursionError, MemoryError):
        return ExprProblem("expression-syntax", "expression cannot be parsed (too deeply nested?)", shift)
    return ParsedExpression(text=text, tree=tree.body, shift=shift, _parsed=stripped)
