"""Split a reason template into text and ``{expression}`` parts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy_engine.expr.syntax import ExprProblem

__all__ = ("TemplatePart", "split_template")

_BRACE = re.compile("[{}]")


@dataclass(frozen=True)
class TemplatePart:
    """Literal text, or an expression with its offset in the template."""

    text: str
    is_expression: bool
    offset: int = 0


def split_template(template: str) -> list[TemplatePart] | ExprProblem:
    """The parts of ``"refund {order.amount} yuan"``; ``{{`` and ``}}`` stand for literal braces."""
    parts: list[TemplatePart] = []
    text: list[str] = []
    index = 0
    while True:
        found = _BRACE.search(template, index)  # the text up to the next brace is copied as it is
        if found is None:
            text.append(template[index:])
            break
        at = found.start()
        text.append(template[index:at])
        char = template[at]
        if template[at + 1 : at + 2] == char:
            text.append(char)
            index = at + 2
            continue
        if char == "}":
            return ExprProblem("template", "unmatched } in reason; write }} for a literal brace", at)
        end = template.find("}", at + 1)
        if end < 0:
            return ExprProblem("template", "unclosed { in reason; write {{ for a literal brace", at)
        if not template[at + 1 : end].strip():
            return ExprProblem("template", "empty {} in reason: put an expression inside", at)
        literal = "".join(text)
        if literal:
            parts.append(TemplatePart(literal, False))
            text = []
        parts.append(TemplatePart(template[at + 1 : end], True, at + 1))
        index = end + 1
    literal = "".join(text)
    if literal:
        parts.append(TemplatePart(literal, False))
    return parts
