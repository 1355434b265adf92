"""The policies the server answers with: loaded, watched, reloaded aside and swapped in whole.

A request reads ``state.registry`` once and keeps that object to the end, so a reload never changes the
policies under a request in flight. A reload that fails leaves the old registry serving and keeps its
errors for the reload answer, ``/health/ready``, a log line and a metric.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policy_engine import (
    CompiledPolicy,
    ErrorSet,
    PolicyCompileError,
    PolicyError,
    Registry,
    SourceLocation,
    check_policies,
)
from policy_engine.schemas import find_schemas_dir
from server.coordination import WorkerCoordination
from server.log_store import DecisionLog

__all__ = ("PolicyState", "ReloadOutcome")

logger = logging.getLogger("server.policies")

_HISTORY_CACHE = 16
_GENERATION_POLL = 0.1


@dataclass(frozen=True)
class ReloadOutcome:
    """What one load or reload did."""

    ok: bool
    errors: tuple[PolicyError, ...] = ()
    warnings: tuple[PolicyError, ...] = ()
    digests: dict[str, str] = field(default_factory=dict)
    changed: bool = False


class PolicyState:
    """Holds the registry in force; reloads it from the policy directory on demand or on change."""

    def __init__(
        self,
        policy_dir: Path,
        log: DecisionLog | None = None,
        on_reload: Callable[[ReloadOutcome], None] | None = None,
    ) -> None:
        self.policy_dir = policy_dir
        self.schemas_dir = find_schemas_dir(policy_dir)
        self.registry: Registry | None = None
        self.last_error: ReloadOutcome | None = None
        self._log = log
        self._on_reload = on_reload
        self._reload_lock = threading.Lock()
        self._fingerprint: tuple[tuple[str, int, int], ...] = ()
        self._history: OrderedDict[str, CompiledPolicy] = OrderedDict()
        self._history_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._coordination: WorkerCoordination | None = None
        self._generation = 0

    def reload(self) -> ReloadOutcome:
        """Build a new registry aside; swap it in only when it has no error."""
        with self._reload_lock:
            fingerprint = self._current_fingerprint()
            registry, errors = _check(self.policy_dir, self.schemas_dir)
            self._fingerprint = fingerprint
            if registry is None or errors.has_errors():
                outcome = ReloadOutcome(False, tuple(errors.errors), tuple(errors.warnings))
                self.last_error = outcome
                logger.error(
                    "policy reload failed; the previous policies keep serving",
                    extra={"event": "reload_failed", "errors": [str(e) for e in errors.errors]},
                )
            else:
                old = self.registry.digests() if self.registry is not None else {}
                self._keep_sources(registry)  # before the swap: no decision without its source
                self.registry = registry
                self.last_error = None
                digests = registry.digests()
                outcome = ReloadOutcome(True, (), tuple(errors.warnings), digests, digests != old)
                logger.info("policies loaded", extra={"event": "reloaded", "digests": digests})
        if self._on_reload is not None:
            self._on_reload(outcome)
        return outcome

    def _keep_sources(self, registry: Registry) -> None:
        if self._log is None:
            return
        for versions in registry.programs.values():
            for window in versions.windows:
                policy = window.policy
                self._log.save_sources(policy.digest, policy.program, policy.version, policy.sources)

    def policy_by_digest(self, digest: str) -> CompiledPolicy | None:
        """The exact policy of a digest: in force now, recently rebuilt, or rebuilt from the log's copy."""
        registry = self.registry
        if registry is not None:
            for versions in registry.programs.values():
                for window in versions.windows:
                    if window.policy.digest == digest:
                        return window.policy
        with self._history_lock:
            cached = self._history.get(digest)
            if cached is not None:
                self._history.move_to_end(digest)
                return cached
        sources = self._log.sources(digest) if self._log is not None else None
        if sources is None:
            return None
        policy = _rebuild(sources, digest)
        if policy is not None:
            with self._history_lock:
                self._history[digest] = policy
                while len(self._history) > _HISTORY_CACHE:
                    self._history.popitem(last=False)
        return policy

    # ── watching ──────────────────────────────────────────────────────────────────────────────────

    def watch(self, interval: float, coordination: WorkerCoordination | None = None) -> None:
        """Check the files every ``interval`` seconds (0: never) and reload when they changed.

        With several workers (``coordination``), also follow the shared reload generation, so an admin
        reload received by one worker reaches every worker.
        """
        self._coordination = coordination
        if coordination is not None:
            self._generation = coordination.generation()
            coordination.reached(self._generation)
        if (interval <= 0 and coordination is None) or self._watcher is not None:
            return
        self._watcher = threading.Thread(
            target=self._watch_loop, args=(interval,), name="policy-watcher", daemon=True
        )
        self._watcher.start()

    def request_reload_everywhere(self, timeout: float = 10.0) -> int:
        """After a good reload here: make the other workers reload too; returns how many workers did."""
        coordination = self._coordination
        if coordination is None:
            return 1
        generation = coordination.request_reload()
        self._generation = generation
        coordination.reached(generation)
        return coordination.wait_for_workers(generation, timeout)

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if self._coordination is not None:
            self._coordination.close()

    def _watch_loop(self, interval: float) -> None:
        tick = (
            min(interval, _GENERATION_POLL) if self._coordination is not None and interval > 0 else interval
        )
        if interval <= 0:
            tick = _GENERATION_POLL
        next_file_check = time.monotonic() + interval
        settling: tuple[tuple[str, int, int], ...] | None = None
        while not self._stop.wait(tick):
            try:
                if self._coordination is not None:
                    generation = self._coordination.generation()
                    if generation != self._generation:
                        self.reload()
                        self._generation = generation
                        self._coordination.reached(generation)
                        continue
                if interval > 0 and time.monotonic() >= next_file_check:
                    next_file_check = time.monotonic() + interval
                    current = self._current_fingerprint()
                    if current == self._fingerprint:
                        settling = None
                    elif current == settling:  # unchanged for a whole interval: the edit is done
                        self.reload()
                        settling = None
                    else:  # still being written (an editor saving in place): look again next time
                        settling = current
            except Exception:  # the watcher must outlive any one bad reload
                logger.exception("policy watcher failed", extra={"event": "watch_failed"})

    def _current_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        entries = []
        for root in (self.policy_dir, self.schemas_dir):
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*")):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(entries)


def _check(policy_dir: Path, schemas_dir: Path) -> tuple[Registry | None, ErrorSet]:
    try:
        return check_policies(policy_dir, schemas_dir)
    except OSError as exc:
        errors = ErrorSet()
        where = SourceLocation(str(policy_dir))
        errors.add(PolicyCompileError("unreadable", f"cannot read policies: {exc}", where))
        return None, errors


def _rebuild(sources: dict[str, str], digest: str) -> CompiledPolicy | None:
    """Compile a policy from its stored files in a scratch directory; None if they no longer compile."""
    with tempfile.TemporaryDirectory(prefix="policy-replay-") as scratch:
        root = Path(scratch)
        for name, text in sources.items():
            path = Path(name)
            if name.startswith("schemas/"):
                target = root / "schemas" / path.parent.name / path.name
            else:
                target = root / "policies" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        registry, _ = check_policies(root / "policies", root / "schemas")
    if registry is None:
        return None
    for versions in registry.programs.values():
        for window in versions.windows:
            if window.policy.digest == digest:
                return window.policy
    return None
