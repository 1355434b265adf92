"""Located errors of every engine layer, and the set that collects, sorts and renders them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

__all__ = (
    "ErrorSet",
    "EvaluationError",
    "InputError",
    "InputProblem",
    "NotFoundError",
    "PolicyCompileError",
    "PolicyError",
    "PolicyLoadError",
    "PolicySchemaError",
    "PolicySyntaxError",
    "Severity",
    "SourceLocation",
    "did_you_mean",
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a policy file: 1-based line and column, and the JSON pointer of the node there."""

    file: str
    """Path of the file as the user named it."""
    line: int = 0
    """1-based line; 0 when only the file is known."""
    column: int = 0
    """1-based column; 0 when only the line is known."""
    pointer: str = ""
    """JSON pointer of the YAML node (``/decisions/claim/rules/0/when``), empty for the whole file."""

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class PolicyError(Exception):
    """One located problem in a policy or policy-test file.

    Renders as ``file:line:col: message`` so the CLI, the server and tests all show the same text.
    """

    code: str
    """Stable kebab-case identifier of the kind of problem (``unknown-field``, ``duplicate-key`` …)."""
    message: str
    """What is wrong, in plain words."""
    location: SourceLocation
    """Where it is."""
    suggestion: str | None = None
    """A close match for a misspelt name, shown as "did you mean …?"."""
    severity: Severity = "error"
    """Warnings are reported but do not stop a load."""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.suggestion is not None and "did you mean" not in self.message:
            text += f" (did you mean {self.suggestion}?)"
        if self.severity == "warning":
            text += " [warning]"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, line, column, then message."""
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message)

    def to_json(self) -> dict[str, object]:
        """The error as data, for HTTP answers and golden files."""
        out: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "pointer": self.location.pointer,
            "severity": self.severity,
        }
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        return out


class PolicySyntaxError(PolicyError):
    """The YAML itself is unusable: syntax, duplicate keys, anchors, tags, limits."""


class PolicySchemaError(PolicyError):
    """The document does not match ``schemas/policy.schema.json`` (or the test-table schema)."""


class PolicyCompileError(PolicyError):
    """The document is well-formed but means something impossible: bad expression, unknown field, cycle."""


class ErrorSet:
    """Every error of one load, deduplicated, sorted by location and capped.

    Warnings are kept beside errors; only errors make a load fail.
    """

    limit: ClassVar[int] = 200

    def __init__(self, items: Iterable[PolicyError] = ()) -> None:
        self._items: dict[str, PolicyError] = {}
        self.truncated = False
        self.extend(items)

    def add(self, error: PolicyError) -> None:
        """Add one error unless the same text is already in the set."""
        key = str(error)
        if key in self._items:
            return
        if len(self._items) >= self.limit:
            self.truncated = True
            return
        self._items[key] = error

    def extend(self, errors: Iterable[PolicyError]) -> None:
        """Add several errors."""
        for error in errors:
            self.add(error)

    def __iter__(self) -> Iterator[PolicyError]:
        return iter(sorted(self._items.values(), key=PolicyError.sort_key))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def errors(self) -> list[PolicyError]:
        """The errors (not warnings), sorted."""
        return [e for e in self if e.severity == "error"]

    @property
    def warnings(self) -> list[PolicyError]:
        """The warnings, sorted."""
        return [e for e in self if e.severity == "warning"]

    def has_errors(self) -> bool:
        """Whether any item is an error rather than a warning."""
        return any(e.severity == "error" for e in self._items.values())

    def render(self) -> str:
        """One ``file:line:col: message`` line per item, sorted."""
        lines = [str(e) for e in self]
        if self.truncated:
            lines.append(f"(more than {self.limit} problems; only the first {self.limit} are shown)")
        return "\n".join(lines)


class PolicyLoadError(Exception):
    """Raised when a set of policies cannot be loaded; carries every located error."""

    def __init__(self, errors: ErrorSet) -> None:
        self.errors = errors
        super().__init__(errors.render())


@dataclass(frozen=True)
class InputProblem:
    """One problem with a decision request, located by a JSON pointer into the request body."""

    pointer: str
    """JSON pointer into the request (``/input/order/amount``)."""
    message: str
    """What is wrong, in plain words."""

    def to_json(self) -> dict[str, str]:
        """The problem as ``{"pointer", "message"}``."""
        return {"pointer": self.pointer, "message": self.message}


class InputError(ValueError):
    """A decision request the engine cannot evaluate: invalid input, no version in force (HTTP 422)."""

    status: ClassVar[int] = 422
    title: ClassVar[str] = "Invalid decision request"

    def __init__(self, problems: list[InputProblem], detail: str | None = None) -> None:
        self.problems = problems
        self.detail = detail or "; ".join(f"{p.pointer or '/'}: {p.message}" for p in problems)
        super().__init__(self.detail)


class NotFoundError(LookupError):
    """An unknown program, version or decision (HTTP 404)."""

    status: ClassVar[int] = 404
    title: ClassVar[str] = "Not found"

    def __init__(self, message: str, pointer: str = "") -> None:
        self.detail = message
        self.problems = [InputProblem(pointer, message)]
        super().__init__(message)


@dataclass
class EvaluationError(Exception):
    """A policy failed while evaluating: a policy bug, never the client's input (HTTP 500).

    Names the rule and the place in the policy file of the expression that failed.
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Policy evaluation failed"

    program: str
    version: str
    decision: str
    rule: str
    """Id of the rule (or ``otherwise``, or ``let:<name>``) whose expression failed."""
    location: SourceLocation | None
    cause: str
    """The underlying error, in words."""
    problems: list[InputProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        where = f" at {self.location}" if self.location is not None else ""
        self.detail = (
            f"{self.program} {self.version} {self.decision}: rule {self.rule!r}{where} failed: {self.cause}"
        )

    def __str__(self) -> str:
        return self.detail


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
