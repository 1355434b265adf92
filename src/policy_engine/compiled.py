"""The runtime form of policies: frozen objects holding generated functions and compiled validators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema.protocols import Validator

from policy_engine.coerce import Coercer
from policy_engine.errors import SourceLocation
from policy_engine.expr.function import DecisionFunction, Origin
from policy_engine.fast_input import FastInput
from policy_engine.model import PolicySpec

__all__ = ("CompiledDecision", "CompiledPolicy", "CompiledRule", "GeneratedCode")


@dataclass(frozen=True)
class CompiledRule:
    """What the API and traces say about one rule."""

    index: int
    id: str
    title: str | None
    condition: str | None
    """The ``when`` text as written (None: always matches)."""
    location: SourceLocation
    trace_slots: tuple[int, ...] = ()
    """Trace slots of the condition's sub-expressions, in source order."""


@dataclass(frozen=True)
class GeneratedCode:
    """One generated function, its source, and the origin of each source line (for run-time errors)."""

    function: DecisionFunction
    source: str
    filename: str
    origins: tuple[Origin | None, ...]

    def origin_of_line(self, line: int) -> Origin | None:
        """The origin of a 1-based line of the generated source."""
        index = line - 1
        return self.origins[index] if 0 <= index < len(self.origins) else None


@dataclass(frozen=True)
class CompiledDecision:
    """One decision of one version, ready to evaluate."""

    program: str
    version: str
    name: str
    title: str | None
    as_of: str
    """``at`` or a dotted input path such as ``order.placed_at``."""
    hit: str
    rules: tuple[CompiledRule, ...]
    otherwise_location: SourceLocation | None
    """None when a rule always matches, so ``otherwise`` cannot answer."""
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    input_validator: Validator
    output_validator: Validator
    coerce: Coercer
    fast_input: FastInput | None
    """Generated check-and-coerce of valid input; ``INVALID`` sends the input to jsonschema."""
    tz: ZoneInfo
    plain: GeneratedCode
    traced: GeneratedCode
    trace_texts: tuple[str, ...]
    schema_files: tuple[str, str]
    """Input and output schema file names (relative to ``schemas/``)."""

    @cached_property
    def as_of_path(self) -> tuple[str, ...] | None:
        """The input path of the ``as_of`` field, or None when it is the request time."""
        return None if self.as_of == "at" else tuple(self.as_of.split("."))

    @cached_property
    def rule_ids(self) -> tuple[str, ...]:
        """The rule ids by index, then ``otherwise``: index -1 names it, as the generated function does."""
        return (*(rule.id for rule in self.rules), "otherwise")

    def rule_id(self, index: int) -> str:
        """The id of a rule by index; -1 is ``otherwise``."""
        return self.rule_ids[index]


@dataclass(frozen=True)
class CompiledPolicy:
    """One version of one program, compiled: its decisions, params and provenance."""

    program: str
    version: str
    title: str | None
    effective_from: datetime
    effective_until: datetime | None
    tz: ZoneInfo
    currency: str
    digest: str
    """``sha256:`` of the policy files of the version (with its bases) and the schemas it uses."""
    decisions: Mapping[str, CompiledDecision]
    spec: PolicySpec
    sources: Mapping[str, str] = field(default_factory=dict)
    """File name → text of every file the digest covers."""
    path: str = ""
