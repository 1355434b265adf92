"""Every version of every program, immutable; resolves which version decides a request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from policy_engine.compiled import CompiledDecision, CompiledPolicy
from policy_engine.errors import InputError, InputProblem, NotFoundError, PolicyCompileError, PolicyError

__all__ = ("ProgramVersions", "Registry", "VersionWindow", "shown_name")


@dataclass(frozen=True)
class VersionWindow:
    """One version and the time it is in force: [start, end)."""

    policy: CompiledPolicy
    start: datetime
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        """Whether the version is in force at ``moment``."""
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class ProgramVersions:
    """The versions of one program, oldest first."""

    program: str
    windows: tuple[VersionWindow, ...]

    @property
    def latest(self) -> CompiledPolicy:
        """The version that starts last."""
        return self.windows[-1].policy

    @property
    def title(self) -> str | None:
        """The program's title, as its latest version gives it."""
        return self.latest.title

    def version(self, version: str) -> CompiledPolicy | None:
        """One version by name."""
        for window in self.windows:
            if window.policy.version == version:
                return window.policy
        return None

    def in_force(self, moment: datetime) -> CompiledPolicy | None:
        """The version in force at ``moment``, if any."""
        tz = moment.tzinfo
        if tz is not None and tz.utcoffset(moment) is not None:
            # Comparing aware datetimes of two zones costs two utcoffset() calls each time; one timestamp()
            # makes every comparison a float one. Below 2**32 s (the year 2106) floats are spaced under
            # half a microsecond, so microseconds apart stay apart and the order is exact.
            seconds = moment.timestamp()
            if -_EXACT_SECONDS < seconds < _EXACT_SECONDS:
                for start, end, policy in self._window_seconds:
                    if start <= seconds and (end is None or seconds < end):
                        return policy
                return None
        for window in reversed(self.windows):  # windows do not overlap; most requests are for the latest
            if window.contains(moment):
                return window.policy
        return None

    @cached_property
    def _window_seconds(self) -> tuple[tuple[float, float | None, CompiledPolicy], ...]:
        """Each window as timestamps, latest first (most requests are for the latest)."""
        return tuple(
            (w.start.timestamp(), None if w.end is None else w.end.timestamp(), w.policy)
            for w in reversed(self.windows)
        )

    def decision_names(self) -> list[str]:
        """Every decision any version has, in first-seen order."""
        return list(self._decision_names)

    @cached_property
    def _decision_names(self) -> dict[str, None]:
        names: dict[str, None] = {}
        for window in self.windows:
            names.update(dict.fromkeys(window.policy.decisions))
        return names

    def has_decision(self, name: str) -> bool:
        """Whether any version has the decision."""
        return name in self._decision_names


class Registry:
    """Immutable: built once from compiled policies, swapped whole on reload."""

    def __init__(self, programs: Mapping[str, ProgramVersions]) -> None:
        self._programs = dict(programs)

    @classmethod
    def build(cls, policies: Iterable[CompiledPolicy]) -> tuple[Registry, list[PolicyError]]:
        """Order each program's versions and check that their windows do not overlap."""
        errors: list[PolicyError] = []
        by_program: dict[str, list[CompiledPolicy]] = {}
        for policy in policies:
            by_program.setdefault(policy.program, []).append(policy)
        programs: dict[str, ProgramVersions] = {}
        for program, versions in sorted(by_program.items()):
            versions.sort(key=lambda p: (p.effective_from, p.version))
            windows = []
            for index, policy in enumerate(versions):
                following = versions[index + 1] if index + 1 < len(versions) else None
                end = policy.effective_until
                if following is not None:
                    if following.effective_from == policy.effective_from:
                        errors.append(_overlap(following, policy))
                    if end is not None and end > following.effective_from:
                        errors.append(_overlap(following, policy))
                    end = following.effective_from if end is None else min(end, following.effective_from)
                windows.append(VersionWindow(policy, policy.effective_from, end))
            programs[program] = ProgramVersions(program, tuple(windows))
        return cls(programs), errors

    @property
    def programs(self) -> Mapping[str, ProgramVersions]:
        """Every program by id."""
        return self._programs

    def program(self, program: str) -> ProgramVersions:
        """One program; NotFoundError when there is none."""
        found = self._programs.get(program)
        if found is None:
            known = ", ".join(sorted(self._programs)) or "none"
            raise NotFoundError(f"unknown program {shown_name(program)} (programs: {known})", "/program")
        return found

    def policy(self, program: str, version: str) -> CompiledPolicy:
        """One version of one program; NotFoundError when there is none."""
        versions = self.program(program)
        policy = versions.version(version)
        if policy is None:
            known = ", ".join(w.policy.version for w in versions.windows)
            raise NotFoundError(
                f"{program} has no version {shown_name(version)} (versions: {known})", "/version"
            )
        return policy

    def digests(self) -> dict[str, str]:
        """``program@version`` → digest, for health and reload reports."""
        return {
            f"{name}@{w.policy.version}": w.policy.digest
            for name, p in self._programs.items()
            for w in p.windows
        }

    def resolve(
        self, program: str, decision: str, *, version: str | None, as_of: datetime | None, as_of_pointer: str
    ) -> tuple[CompiledPolicy, CompiledDecision]:
        """The version that decides: the one named, else the one in force at ``as_of``.

        Raises:
            NotFoundError: unknown program, version or decision.
            InputError: no version in force at ``as_of``.
        """
        versions = self.program(program)
        if not versions.has_decision(decision):
            known = ", ".join(versions.decision_names())
            raise NotFoundError(
                f"{program} has no decision {shown_name(decision)} (decisions: {known})", "/decision"
            )
        if version is not None:
            policy = self.policy(program, version)
        else:
            assert as_of is not None
            found = versions.in_force(as_of)
            if found is None:
                raise InputError([InputProblem(as_of_pointer, _not_in_force(versions, as_of))])
            policy = found
        compiled = policy.decisions.get(decision)
        if compiled is None and version is None:
            raise InputError(
                [
                    InputProblem(
                        as_of_pointer,
                        f"{program} {policy.version}, in force at that time, "
                        f"has no decision {shown_name(decision)}",
                    )
                ]
            )
        if compiled is None:
            raise NotFoundError(
                f"{program} version {policy.version} has no decision {shown_name(decision)}", "/decision"
            )
        return policy, compiled


_EXACT_SECONDS = float(2**32)


def shown_name(name: str, limit: int = 64) -> str:
    """A name from a request, quoted, cut short: an answer never echoes a huge name back."""
    return repr(name) if len(name) <= limit else repr(name[:limit]) + f"… ({len(name)} characters)"


def _not_in_force(versions: ProgramVersions, moment: datetime) -> str:
    first, last = versions.windows[0], versions.windows[-1]
    text = f"no version of {versions.program} is in force at {moment.isoformat()}"
    if moment < first.start:
        return f"{text}: the first version starts {first.start.isoformat()}"
    if last.end is not None and moment >= last.end:
        return f"{text}: the last version ended {last.end.isoformat()}"
    return f"{text}: it falls between two versions"


def _overlap(later: CompiledPolicy, earlier: CompiledPolicy) -> PolicyError:
    return PolicyCompileError(
        "version-overlap",
        f"{later.program} {later.version} starts at {later.effective_from.isoformat()}, "
        f"while {earlier.version} "
        "is still in force; effective windows must not overlap",
        later.spec.where.child("effective_from").location(),
    )
