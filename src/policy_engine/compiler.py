"""Compile policy files into a Registry, in named stages; every stage adds located errors to one ErrorSet.

Stages (OPA's ordered list; each needs the ones above it):
1. ``read``      files → SourceDocuments (strict YAML)
2. ``schema``    documents → checked against schemas/policy.schema.json
3. ``model``     documents → PolicySpec; file names agree with program and version
4. ``extends``   versions merged onto their bases
5. ``compile``   params, then each decision (schemas → lets → rules → totality → function), digest
6. ``register``  versions of a program ordered; effective windows must not overlap
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from policy_engine.compiled import CompiledDecision, CompiledPolicy
from policy_engine.decision_compiler import DecisionCompiler
from policy_engine.errors import ErrorSet, PolicyCompileError, PolicyLoadError, SourceLocation
from policy_engine.expr.values import parse_timestamp
from policy_engine.inherit import resolve_extends
from policy_engine.loader import discover_policies, display_path
from policy_engine.model import DecisionSpec, PolicySpec, policy_from_document
from policy_engine.params import ParamValue, param_value
from policy_engine.registry import Registry
from policy_engine.schema_store import SchemaStore
from policy_engine.schemas import find_schemas_dir, validate_policy
from policy_engine.source import SourceDocument, read_source

__all__ = ("check_policies", "compile_documents", "load_registry")


def load_registry(policies_dir: Path, schemas_dir: Path | None = None) -> Registry:
    """Load, check and compile every policy under ``policies_dir``.

    Raises:
        PolicyLoadError: with every located error, when any policy has one.
    """
    registry, errors = check_policies(policies_dir, schemas_dir)
    if registry is None or errors.has_errors():
        raise PolicyLoadError(errors)
    return registry


def check_policies(policies_dir: Path, schemas_dir: Path | None = None) -> tuple[Registry | None, ErrorSet]:
    """Load every policy; the registry (None on any error) and every error and warning found."""
    with _no_cycle_collection():
        return _check_policies(policies_dir, schemas_dir)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while loading.

    A load allocates many objects that all stay alive (the registry), and each full collection walks all of
    them again, so with it on the load grows faster than the policies (100 copies of the bundled policies:
    15.6 s against 10.4 s when measured). Reference counting still frees everything that is not in a cycle.
    The collector resumes after (if it was on). What the load made is long-lived, so it goes straight to
    the oldest generation (freeze then unfreeze: no object is walked); left in the youngest, the first
    allocation after the load would walk all of it (~2 ms for the bundled policies), and later collections
    again on its way up. The next full collection still finds any cycle the load left behind. Skipped
    when something else froze objects (the server does): unfreezing would release those too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _check_policies(policies_dir: Path, schemas_dir: Path | None) -> tuple[Registry | None, ErrorSet]:
    errors = ErrorSet()
    if not policies_dir.is_dir():
        errors.add(
            PolicyCompileError("no-policies", "no such policy directory", _file_location(policies_dir))
        )
        return None, errors
    documents = []
    cwd = Path.cwd().resolve()
    for path in discover_policies(policies_dir):
        try:
            documents.append(read_source(path, display=display_path(path, cwd)))
        except PolicyLoadError as exc:
            errors.extend(exc.errors)
    registry = compile_documents(documents, schemas_dir or find_schemas_dir(policies_dir), errors)
    return (None if errors.has_errors() else registry), errors


def compile_documents(documents: Iterable[SourceDocument], schemas_dir: Path, errors: ErrorSet) -> Registry:
    """Stages 2–6 over documents already read; errors go into ``errors``."""
    specs: dict[tuple[str, str], PolicySpec] = {}
    for doc in documents:
        spec = _model(doc, errors)
        if spec is None:
            continue
        key = (spec.program, spec.version)
        if key in specs:
            first = specs[key].where.location()
            errors.add(
                PolicyCompileError(
                    "duplicate-version",
                    f"{spec.program} version {spec.version} is also defined in {first}",
                    spec.where.child("version").location(),
                )
            )
            continue
        specs[key] = spec
    merged, merge_errors = resolve_extends(specs)
    errors.extend(merge_errors)
    store = SchemaStore(schemas_dir)
    inherited = _Inherited()
    compiled = []
    for key, spec in sorted(merged.items()):
        policy = _compile_policy(spec, _chain(key, specs), store, errors, inherited)
        if policy is not None:
            compiled.append(policy)
    registry, register_errors = Registry.build(compiled)
    errors.extend(register_errors)
    return registry


def _file_location(path: Path) -> SourceLocation:
    return SourceLocation(str(path))


def _model(doc: SourceDocument, errors: ErrorSet) -> PolicySpec | None:
    if not isinstance(doc.data, dict):
        errors.add(
            PolicyCompileError(
                "not-a-policy", "a policy file must be a YAML mapping (program, version, …)", doc.location("")
            )
        )
        return None
    schema_errors = validate_policy(doc)
    if schema_errors:
        errors.extend(schema_errors)
        return None
    spec = policy_from_document(doc)
    path = Path(doc.path)
    if path.stem != spec.version:
        errors.add(
            PolicyCompileError(
                "file-name",
                f"this file is named {path.name} but says version {spec.version}; "
                f"name it {spec.version}.yaml",
                doc.location("/version"),
            )
        )
    if path.parent.name != spec.program:
        errors.add(
            PolicyCompileError(
                "file-name",
                f"this file is in folder {path.parent.name}/ but says program {spec.program}",
                doc.location("/program"),
            )
        )
    return spec


def _chain(key: tuple[str, str], specs: Mapping[tuple[str, str], PolicySpec]) -> list[SourceDocument]:
    docs: list[SourceDocument] = []
    seen: set[tuple[str, str]] = set()
    current = specs.get(key)
    while current is not None and key not in seen:
        seen.add(key)
        docs.append(current.doc)
        if current.extends is None:
            break
        key = (current.program, current.extends)
        current = specs.get(key)
    return docs


def _compile_policy(
    spec: PolicySpec,
    chain: list[SourceDocument],
    store: SchemaStore,
    errors: ErrorSet,
    inherited: _Inherited | None = None,
) -> CompiledPolicy | None:
    count = len(errors.errors)
    try:
        tz = ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(
            PolicyCompileError(
                "timezone", f"unknown time zone {spec.timezone}", spec.where.child("timezone").location()
            )
        )
        return None
    start = _timestamp(spec, "effective_from", errors)
    until = _timestamp(spec, "effective_until", errors) if spec.effective_until is not None else None
    params: dict[str, ParamValue] = {}
    for name, param in spec.params.items():
        value = param_value(param)
        if isinstance(value, ParamValue):
            params[name] = value
        else:
            errors.add(value)
    decisions: dict[str, CompiledDecision] = {}
    used: set[str] = set()
    schema_names: set[str] = set()
    for name, decision_spec in spec.decisions.items():
        found = inherited.find(decision_spec, params, tz) if inherited is not None else None
        if found is not None:
            decisions[name] = replace(found.decision, version=spec.version)
            used.update(name for name, _ in found.params)
            schema_names.update(found.decision.schema_files)
            continue
        compiler = DecisionCompiler(spec, decision_spec, params, store, tz)
        compiled = compiler.compile()
        errors.extend(compiler.errors)
        used |= compiler.usage.params
        if compiled is not None:
            decisions[name] = compiled
            schema_names.update(compiled.schema_files)
            if inherited is not None and not compiler.errors:
                inherited.keep(decision_spec, params, tz, compiled, compiler.usage.params)
    for name in sorted(set(params) - used):
        where = spec.params[name].where
        errors.add(
            PolicyCompileError(
                "unused-param",
                f"param {name} is not used by any rule of {spec.program} {spec.version}",
                where.location(key=True),
                severity="warning",
            )
        )
    if len(errors.errors) > count or start is None:
        return None
    sources = {doc.path: doc.text for doc in chain}
    for name in sorted(schema_names):  # only the schemas this version uses: not every schema loaded so far
        text = store.text(name)
        if text is not None:
            sources[f"schemas/{name}"] = text
    return CompiledPolicy(
        program=spec.program,
        version=spec.version,
        title=spec.title,
        effective_from=start,
        effective_until=until,
        tz=tz,
        currency=spec.currency,
        digest=_digest(sources),
        decisions=decisions,
        spec=spec,
        sources=sources,
        path=spec.doc.path,
    )


@dataclass(frozen=True)
class _Compiled:
    """A decision compiled without errors or warnings, and what its compiling read that versions change."""

    spec: DecisionSpec
    tz: ZoneInfo
    params: tuple[tuple[str, ParamValue], ...]
    """The params it reads (``params.x``), each with its value and type."""
    decision: CompiledDecision


class _Inherited:
    """Decisions compiled once per load and reused by the versions that inherit them unchanged.

    A version that ``extends`` another keeps the base's decision spec, the very object, for every decision
    it does not change (inherit.py). Compiling it again reads only that spec, the schemas it names (the
    same files: the same program), the time zone, and the params it uses; when all of these are the same,
    the result is the same except for the version it is labelled with. So it is reused: the version is
    replaced, the generated functions are shared (their code is labelled with the version compiled first,
    which only Python tracebacks show). A decision whose compiling gave any error or warning is never
    reused. Renamed copies of a program have their own specs, so nothing is reused across programs.
    """

    def __init__(self) -> None:
        self._by_spec: dict[int, list[_Compiled]] = {}

    def find(self, spec: DecisionSpec, params: Mapping[str, ParamValue], tz: ZoneInfo) -> _Compiled | None:
        """The decision compiled from this very spec with the same time zone and values of its params."""
        for found in self._by_spec.get(id(spec), ()):
            if found.spec is not spec or found.tz is not tz:
                continue
            if all(n in params and _same_param(params[n], v) for n, v in found.params):
                return found
        return None

    def keep(
        self,
        spec: DecisionSpec,
        params: Mapping[str, ParamValue],
        tz: ZoneInfo,
        decision: CompiledDecision,
        used: set[str],
    ) -> None:
        """Remember a decision compiled without errors or warnings."""
        read = tuple((n, params[n]) for n in sorted(used))
        self._by_spec.setdefault(id(spec), []).append(_Compiled(spec, tz, read, decision))


def _same_param(a: ParamValue, b: ParamValue) -> bool:
    return a.type == b.type and _same_value(a.value, b.value)


def _same_value(a: Any, b: Any) -> bool:
    """Equal and written the same: ``Decimal("1.0")`` and ``Decimal("1.00")`` render differently."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return bool(a.as_tuple() == b.as_tuple())
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def _timestamp(spec: PolicySpec, name: str, errors: ErrorSet) -> datetime | None:
    text = getattr(spec, name)
    try:
        return parse_timestamp(text)
    except (TypeError, ValueError) as exc:
        errors.add(PolicyCompileError("timestamp", f"{name}: {exc}", spec.where.child(name).location()))
        return None


def _digest(sources: Mapping[str, str]) -> str:
    """``sha256:`` over the policy files and schemas, by name; a file's place on disk does not matter."""
    hasher = hashlib.sha256()
    for name in sorted(sources, key=lambda n: (not n.startswith("schemas/"), Path(n).name, n)):
        label = name if name.startswith("schemas/") else Path(name).parent.name + "/" + Path(name).name
        hasher.update(label.encode() + b"\0" + sources[name].encode() + b"\0")
    return "sha256:" + hasher.hexdigest()
