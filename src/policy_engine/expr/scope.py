"""What names an expression may use, their types, and the Python names generated code gives them."""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policy_engine.expr.types import Type

__all__ = (
    "LITERAL_NAMES",
    "RESERVED_NAMES",
    "ConstantPool",
    "Scope",
    "Usage",
    "input_name",
    "let_name",
    "param_name",
    "result_name",
)

LITERAL_NAMES: Mapping[str, tuple[str, Any]] = {
    "true": ("True", True),
    "false": ("False", False),
    "null": ("None", None),
    "True": ("True", True),
    "False": ("False", False),
    "None": ("None", None),
}
"""Names that are literals: policy text may say ``true/false/null`` or Python's spelling."""

RESERVED_NAMES = frozenset({"params", "result", "at", *LITERAL_NAMES})
"""Names that a ``let`` may not take."""


def input_name(name: str) -> str:
    """Python name of an input root (``order`` → ``i_order``)."""
    return f"i_{name}"


def param_name(name: str) -> str:
    """Python name of a param."""
    return f"p_{name}"


def let_name(name: str) -> str:
    """Python name of a ``let`` value."""
    return f"l_{name}"


def result_name(name: str) -> str:
    """Python name of an output field inside a decision function."""
    return f"r_{name}"


@dataclass
class Usage:
    """Names one or more expressions use: decides which lets to compute and which params are unused."""

    inputs: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    lets: set[str] = field(default_factory=set)
    results: set[str] = field(default_factory=set)

    def merge(self, other: Usage) -> None:
        """Add another usage to this one."""
        self.inputs |= other.inputs
        self.params |= other.params
        self.lets |= other.lets
        self.results |= other.results


@dataclass(frozen=True)
class Scope:
    """The names visible to the expressions of one decision."""

    inputs: Mapping[str, Type]
    """Top-level input fields (``order``, ``claim``) and ``at``, the request time."""
    params: Mapping[str, Type]
    lets: Mapping[str, Type]
    """``let`` names whose type is known so far (filled in dependency order)."""
    result: Mapping[str, Type] | None = None
    """Output fields, visible as ``result.<field>`` in ``derive`` only."""

    def names(self) -> list[str]:
        """Every top-level name, for "did you mean" suggestions."""
        out = [*self.inputs, *self.lets, "params"]
        if self.result is not None:
            out.append("result")
        return out


class ConstantPool:
    """Constants and temporaries of one generated module: each value gets one global name."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        self._temps = 0

    def add(self, value: object) -> str:
        """The global name holding ``value`` (a Decimal, duration, time …), created once per value."""
        key = (type(value).__name__, repr(value))
        name = self._by_key.get(key)
        if name is None:
            name = f"_k{len(self._by_key)}"
            self._by_key[key] = name
            self.values[name] = value
        return name

    def decimal(self, text: str) -> str:
        """The global name of a Decimal literal written as ``text``."""
        return self.add(Decimal(text))

    def temp(self) -> str:
        """A fresh local name for an intermediate value."""
        self._temps += 1
        return f"_t{self._temps}"


def is_identifier(name: str) -> bool:
    """Whether a schema field or param name can be written in an expression."""
    return name.isidentifier() and not keyword.iskeyword(name)
