"""Frozen typed model of a policy file that passed its schema; every item knows where it was written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_engine.errors import SourceLocation
from policy_engine.source import SourceDocument

__all__ = (
    "DecisionSpec",
    "LetSpec",
    "ParamSpec",
    "PolicySpec",
    "RuleSpec",
    "Where",
    "policy_from_document",
)

PARAM_TYPES = (
    "money",
    "decimal",
    "integer",
    "percent",
    "duration",
    "days",
    "time_of_day",
    "boolean",
    "string",
    "list",
    "table",
)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Where:
    """A node of a source document: the file and the JSON pointer of the node."""

    doc: SourceDocument
    pointer: str

    def child(self, *parts: str | int) -> Where:
        """The pointer of a node below this one."""
        if len(parts) == 1:  # most calls
            part = str(parts[0])
            if "~" in part or "/" in part:
                part = _escape(part)
            return Where(self.doc, f"{self.pointer}/{part}")
        suffix = "".join(f"/{_escape(str(p))}" for p in parts)
        return Where(self.doc, self.pointer + suffix)

    def location(self, *, key: bool = False) -> SourceLocation:
        """The file, line and column of the node (of its key with ``key=True``)."""
        return self.doc.location(self.pointer, key=key)

    def at_offset(self, offset: int) -> SourceLocation:
        """The place of a character inside this node's text (an expression or template)."""
        return self.doc.locate_in_scalar(self.pointer, offset)


@dataclass(frozen=True)
class ParamSpec:
    """One typed param as written."""

    name: str
    kind: str
    """The type key: money, duration, table …"""
    value: Any
    where: Where
    of: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    key: str | None = None
    title: str | None = None
    assumption: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class LetSpec:
    """One named intermediate value."""

    name: str
    text: str
    where: Where


@dataclass(frozen=True)
class RuleSpec:
    """One rule as written."""

    id: str
    title: str | None
    when: str | None
    then: Mapping[str, Any]
    where: Where
    before: str | None = None
    description: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class DecisionSpec:
    """One decision as written (in a file that ``extends``, only what that file changes)."""

    name: str
    where: Where
    title: str | None = None
    input: str | None = None
    output: str | None = None
    as_of: str | None = None
    hit: str | None = None
    aggregate: Mapping[str, str] = field(default_factory=dict)
    lets: Mapping[str, LetSpec] = field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()
    remove_rules: tuple[tuple[str, Where], ...] = ()
    otherwise: Mapping[str, Any] | None = None
    derive: Mapping[str, LetSpec] = field(default_factory=dict)

    @property
    def otherwise_where(self) -> Where:
        """Where the ``otherwise`` block is."""
        return self.where.child("otherwise")


@dataclass(frozen=True)
class PolicySpec:
    """One policy file: one version of one program."""

    program: str
    version: str
    doc: SourceDocument
    effective_from: str
    effective_until: str | None
    extends: str | None
    timezone: str
    currency: str
    title: str | None
    source: str | None
    params: Mapping[str, ParamSpec]
    decisions: Mapping[str, DecisionSpec]
    assumptions: Mapping[str, str] = field(default_factory=dict)
    """Notes on version-level values no source gives (``effective_from`` …), shown by the API."""

    @property
    def where(self) -> Where:
        """The whole document."""
        return Where(self.doc, "")


def _param(name: str, raw: Mapping[str, Any], where: Where) -> ParamSpec:
    kind = next(k for k in PARAM_TYPES if k in raw)
    return ParamSpec(
        name=name,
        kind=kind,
        value=raw[kind],
        where=where,
        of=raw.get("of"),
        columns=dict(raw.get("columns") or {}),
        key=raw.get("key"),
        title=raw.get("title"),
        assumption=raw.get("assumption"),
        source=raw.get("source"),
    )


def _rule(raw: Mapping[str, Any], where: Where) -> RuleSpec:
    return RuleSpec(
        id=raw["id"],
        title=raw.get("title"),
        when=raw.get("when"),
        then=dict(raw.get("then") or {}),
        where=where,
        before=raw.get("before"),
        description=raw.get("description"),
        source=raw.get("source"),
    )


def _lets(raw: Mapping[str, Any] | None, where: Where) -> dict[str, LetSpec]:
    return {name: LetSpec(name, str(text), where.child(name)) for name, text in (raw or {}).items()}


def _decision(name: str, raw: Mapping[str, Any], where: Where) -> DecisionSpec:
    rules = tuple(_rule(r, where.child("rules", i)) for i, r in enumerate(raw.get("rules") or ()))
    removed = tuple(
        (rid, where.child("remove_rules", i)) for i, rid in enumerate(raw.get("remove_rules") or ())
    )
    return DecisionSpec(
        name=name,
        where=where,
        title=raw.get("title"),
        input=raw.get("input"),
        output=raw.get("output"),
        as_of=raw.get("as_of"),
        hit=raw.get("hit"),
        aggregate=dict(raw.get("aggregate") or {}),
        lets=_lets(raw.get("let"), where.child("let")),
        rules=rules,
        remove_rules=removed,
        otherwise=raw.get("otherwise"),
        derive=_lets(raw.get("derive"), where.child("derive")),
    )


def policy_from_document(doc: SourceDocument) -> PolicySpec:
    """Build the typed model of a document that already passed ``schemas/policy.schema.json``."""
    data: Mapping[str, Any] = doc.data
    root = Where(doc, "")
    params = {n: _param(n, raw, root.child("params", n)) for n, raw in (data.get("params") or {}).items()}
    decisions = {
        n: _decision(n, raw, root.child("decisions", n)) for n, raw in (data.get("decisions") or {}).items()
    }
    return PolicySpec(
        program=data["program"],
        version=data["version"],
        doc=doc,
        effective_from=data["effective_from"],
        effective_until=data.get("effective_until"),
        extends=data.get("extends"),
        timezone=data.get("timezone", "Asia/Shanghai"),
        currency=data.get("currency", "CNY"),
        title=data.get("title"),
        source=data.get("source"),
        params=params,
        decisions=decisions,
        assumptions=dict(data.get("assumptions") or {}),
    )
