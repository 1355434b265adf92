"""Load the two versions a diff compares: ``--from`` from the policy directory, ``--to`` a version or a draft.

Only the program's own files are compiled (``extends`` never leaves a program), so a broken file of another
program does not stop a diff. A draft file is compiled together with the bundled files of its program, so its
``extends`` works; a draft that names the same version as a bundled file replaces that file. A draft is
never loaded by a server, so its file name and its effective window are not checked against the others,
and versions that extend the version it replaces are not its concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from policy_engine.compiled import CompiledPolicy
from policy_engine.compiler import compile_documents
from policy_engine.errors import ErrorSet, NotFoundError, PolicyLoadError
from policy_engine.loader import discover_policies, display_path
from policy_engine.registry import Registry
from policy_engine.schemas import find_schemas_dir
from policy_engine.source import SourceDocument, read_source

__all__ = ("DiffInputError", "DiffPolicyError", "PairSpec", "VersionPair", "is_draft_path", "load_pair")

_DRAFT_TOLERATED = frozenset({"file-name", "version-overlap"})
"""Errors that concern where a file lives and when it is in force: they do not apply to a draft."""


class DiffInputError(Exception):
    """Bad usage: unknown program or version, a draft that cannot be read or belongs to another program."""


class DiffPolicyError(Exception):
    """A policy (bundled or draft) has errors; carries every located error."""

    def __init__(self, errors: ErrorSet) -> None:
        self.errors = errors
        super().__init__(errors.render())


def is_draft_path(to: str) -> bool:
    """Whether ``--to`` names a draft policy file rather than a version."""
    return to.endswith((".yaml", ".yml")) or "/" in to or "\\" in to


@dataclass(frozen=True)
class PairSpec:
    """What names the two versions; small and picklable, so every worker process can load them itself."""

    policies_dir: Path
    program: str
    from_version: str
    to: str
    """A version name, or the path of a draft policy file."""

    @property
    def draft(self) -> Path | None:
        """The draft file, when ``to`` names one."""
        return Path(self.to) if is_draft_path(self.to) else None


@dataclass(frozen=True)
class VersionPair:
    """The two compiled versions, old and new."""

    old: CompiledPolicy
    new: CompiledPolicy
    draft: str | None
    """The draft file the new version comes from, as shown to the user (None for a bundled version)."""

    @property
    def to_label(self) -> str:
        """How the new version is named in reports."""
        return self.new.version if self.draft is None else f"{self.new.version} (draft {self.draft})"


def load_pair(spec: PairSpec) -> VersionPair:
    """Compile the program's versions (and the draft) and pick the two versions.

    Raises:
        DiffInputError: Unknown program or version; a draft that cannot be read or is of another program.
        DiffPolicyError: A bundled policy of the program, or the draft, has errors.
    """
    documents = _program_documents(spec.policies_dir, spec.program)
    schemas_dir = find_schemas_dir(spec.policies_dir)
    errors = ErrorSet()
    registry = compile_documents(documents, schemas_dir, errors)
    if errors.has_errors():
        raise DiffPolicyError(errors)
    old = _version(registry, spec.program, spec.from_version, "--from")
    draft = spec.draft
    if draft is None:
        return VersionPair(old, _version(registry, spec.program, spec.to, "--to"), None)
    doc, version = _read_draft(draft, spec.program)
    kept = [d for d in documents if _identity(d) != (spec.program, version)]
    draft_errors = ErrorSet()
    draft_registry = compile_documents([*kept, doc], schemas_dir, draft_errors)
    new = (
        draft_registry.programs[spec.program].version(version)
        if spec.program in draft_registry.programs
        else None
    )
    if new is None:  # the draft did not compile: every error may be its doing (also those in its bases)
        raise DiffPolicyError(ErrorSet(e for e in draft_errors if e.code not in _DRAFT_TOLERATED))
    return VersionPair(old, new, doc.path)


def _program_documents(policies_dir: Path, program: str) -> list[SourceDocument]:
    if not policies_dir.is_dir():
        raise DiffInputError(f"{policies_dir}: no such policy directory")
    paths = discover_policies(policies_dir)
    mine = [p for p in paths if p.parent.name == program]
    if not mine:
        known = ", ".join(sorted({p.parent.name for p in paths})) or "none"
        raise DiffInputError(f"unknown program {program!r} in {policies_dir} (programs: {known})")
    documents: list[SourceDocument] = []
    errors = ErrorSet()
    for path in mine:
        try:
            documents.append(read_source(path, display=display_path(path)))
        except PolicyLoadError as exc:
            errors.extend(exc.errors)
    if errors.has_errors():
        raise DiffPolicyError(errors)
    return documents


def _read_draft(path: Path, program: str) -> tuple[SourceDocument, str]:
    if not path.is_file():
        raise DiffInputError(f"{path}: no such draft policy file")
    try:
        doc = read_source(path, display=str(path))
    except PolicyLoadError as exc:
        raise DiffPolicyError(exc.errors) from None
    draft_program, version = _identity(doc)
    if draft_program is None or version is None:
        raise DiffInputError(f"{path}: a draft policy must name its program and version")
    if draft_program != program:
        raise DiffInputError(f"{path} is a policy of {draft_program}, not of {program}")
    return doc, version


def _identity(doc: SourceDocument) -> tuple[str | None, str | None]:
    data = doc.data
    if not isinstance(data, dict):
        return None, None
    program, version = data.get("program"), data.get("version")
    return (
        program if isinstance(program, str) else None,
        version if isinstance(version, str) else None,
    )


def _version(registry: Registry, program: str, version: str, option: str) -> CompiledPolicy:
    try:
        return registry.policy(program, version)
    except NotFoundError as exc:
        raise DiffInputError(f"{option}: {exc.detail}") from None
