"""Work out at load what a decision's generated code would compute the same way on every call.

An output value, let or reason part whose code names only constants, params, pure built-ins and values
already folded is evaluated once here; the generated function then holds the value (or, for an output
field, its JSON text) instead of recomputing and reformatting it per decision. Anything that raises is
left to run, so it fails at run time exactly as it would have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import CodeType
from typing import Any

from policy_engine.expr.scope import ConstantPool

__all__ = ("UNKNOWN", "Folder", "is_plain_literal")

UNKNOWN: Any = object()
"""Marks a local whose value is only known at run time."""
_UNSEEN: Any = object()
_NEVER: Any = object()

_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([A-Za-z_][A-Za-z0-9_]*)\)")
_LITERAL_NAMES: dict[str, Any] = {"True": True, "False": False, "None": None}
_KEYWORDS = frozenset({"None", "True", "False", "and", "or", "not", "if", "else", "is", "in"})
_GLOBALS = re.compile(r"_k[0-9]+|p_[A-Za-z0-9_]+|_bi_[a-z_]+|_r[mvtds]|_TZ|_Decimal")
# Comprehensions, powers and assignments could make loading slow or touch the module; they run per call.
_NOT_FOLDED = re.compile(r"\*\*|:=| for |lambda")


class Folder:
    """Evaluates constant code against the generated module's globals."""

    def __init__(self, namespace: Mapping[str, Any], pool: ConstantPool) -> None:
        self.namespace = namespace
        self.pool = pool
        """The decision's constants: a folded value joins them (its globals are added after generation)."""
        self._memo: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        """Code text → the lets and results it names (paths repeat the same code)."""
        self._compiled: dict[str, CodeType] = {}
        self._globals = dict(namespace)

    def value(self, code: str, known: Mapping[str, Any]) -> Any:
        """The value ``code`` always has, given the locals in ``known``; :data:`UNKNOWN` if it varies."""
        if code in known:
            return known[code]
        memo = self._memo.get(code, _UNSEEN)
        if memo is not _UNSEEN:
            return memo
        local_names = self._locals.get(code)
        if local_names is None:
            local_names = self._locals[code] = self._local_names(code)
        if local_names is _NEVER:
            return self._remember(code, UNKNOWN)
        scope: dict[str, Any] = {}
        for name in local_names:
            local = known.get(name, UNKNOWN)
            if local is UNKNOWN:
                return UNKNOWN  # a let or result known on another path, perhaps
            scope[name] = local
        if not scope:
            simple = self._simple(code)
            if simple is not _UNSEEN:
                return self._remember(code, simple)
        compiled = self._compiled.get(code)
        if compiled is None:
            compiled = self._compiled[code] = compile(code, "<folded at load>", "eval")
        try:
            value = eval(compiled, self._globals, scope)  # generated code over constants only
        except Exception:  # it raises again at run time, where the rule is named
            value = UNKNOWN
        if isinstance(value, list | dict | set):
            value = UNKNOWN  # a fresh one per call: callers may change what they get
        return value if scope else self._remember(code, value)

    def _simple(self, code: str) -> Any:
        """The value of simple code worked out without compiling it, else ``_UNSEEN``.

        Most codes are these: a plain text literal (texts of reasons and enum outputs), ``True``, ``False``,
        ``None``, ``[]``, a constant name (``_k`` constants, params) or a one-name call of one (a reason
        part's renderer of a param, ``_rm(p_cap)``).
        """
        if len(code) >= 2 and code[0] == code[-1] == "'" and "\\" not in code and "'" not in code[1:-1]:
            return code[1:-1]  # repr of a text without quotes or escapes
        if code in _LITERAL_NAMES:
            return _LITERAL_NAMES[code]
        if code == "[]":
            return UNKNOWN  # a fresh list per call
        if code.isidentifier():
            value = self._globals.get(code, _UNSEEN)
            return UNKNOWN if isinstance(value, list | dict | set) else value
        call = _CALL.fullmatch(code)
        if call is None:
            return _UNSEEN
        function = self._globals.get(call.group(1), _UNSEEN)
        argument = self._globals.get(call.group(2), _UNSEEN)
        if function is _UNSEEN or argument is _UNSEEN:
            return _UNSEEN  # a built-in or an unknown name: compiled, as eval finds it
        try:
            value = function(argument)
        except Exception:  # it raises again at run time, where the rule is named
            return UNKNOWN
        return UNKNOWN if isinstance(value, list | dict | set) else value

    def _local_names(self, code: str) -> tuple[str, ...] | Any:
        """The lets and results ``code`` names; ``_NEVER`` when it names anything never known at load."""
        if _NOT_FOLDED.search(code) is not None:
            return _NEVER
        names: list[str] = []
        for name in dict.fromkeys(_NAME.findall(_STRING.sub("''", code) if "'" in code else code)):
            if name in _KEYWORDS or (name in self.namespace and _GLOBALS.fullmatch(name)):
                continue
            if name[:2] not in ("l_", "r_"):
                return _NEVER  # an input, a temporary, an accumulator …
            names.append(name)
        return tuple(names)

    def _remember(self, code: str, value: Any) -> Any:
        # Code naming no local has one value (or none) whatever the path: worked out once per decision.
        self._memo[code] = value
        return value

    def literal(self, value: Any) -> str:
        """Code for a folded value: a literal for text, numbers and flags, else a constant of the pool."""
        return repr(value) if is_plain_literal(value) else self.pool.add(value)

    def formatted(self, formatter: str, value: Any, field: str) -> Any:
        """The JSON value (text, int, flag or None) of a folded output value, else UNKNOWN.

        UNKNOWN when formatting raises (it raises again at run time) or gives any other kind of value.
        """
        try:
            text = self.namespace[formatter](value, field)
        except Exception:  # the formatter raises again at run time, where the rule is named
            return UNKNOWN
        return text if is_plain_literal(text) else UNKNOWN


def is_plain_literal(value: Any) -> bool:
    """Whether ``repr(value)`` is a Python literal of the value itself: None, text, a flag or an int."""
    return value is None or isinstance(value, str | bool) or type(value) is int
