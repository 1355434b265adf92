"""Split a reason template into text and ``{expression}`` parts."""

from __future__ import annotations

from dataclasses import dataclass

from policy_engine.expr.syntax import ExprProblem

__all__ = ("TemplatePart", "split_template")


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
    while index < len(template):
        char = template[index]
        if char in "{}" and template[index + 1 : index + 2] == char:
            text.append(char)
            index += 2
            continue
        if char == "}":
            return ExprProblem("template", "unmatched } in reason; write }} for a literal brace", index)
        if char == "{":
            end = template.find("}", index + 1)
            if end < 0:
                return ExprProblem("template", "unclosed { in reason; write {{ for a literal brace", index)
            if not template[index + 1 : end].strip():
                return ExprProblem("template", "empty {} in reason: put an expression inside", index)
            if text:
                parts.append(TemplatePart("".join(text), False))
                text = []
            parts.append(TemplatePart(template[index + 1 : end], True, index + 1))
            index = end + 1
            continue
        text.append(char)
        index += 1
    if text:
        parts.append(TemplatePart("".join(text), False))
    return parts
