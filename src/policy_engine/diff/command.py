"""What ``policy diff`` does, without click: load the versions, replay the requests, build the report.

The click command in :mod:`policy_engine.cli` only parses options, calls :func:`build_report` and prints;
usage errors are :class:`~policy_engine.diff.versions.DiffInputError` (exit 2), policy errors
:class:`~policy_engine.diff.versions.DiffPolicyError` (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from policy_engine.diff.corpus import LogQuery, log_time
from policy_engine.diff.report import DiffReport
from policy_engine.diff.runner import default_workers, diff_corpus, diff_log
from policy_engine.diff.structural import structural_diff
from policy_engine.diff.versions import DiffInputError, PairSpec, load_pair

__all__ = ("DiffOptions", "build_report")


@dataclass(frozen=True)
class DiffOptions:
    """The options of one ``policy diff`` run."""

    spec: PairSpec
    corpus: Path | None = None
    log: Path | None = None
    since: str | None = None
    until: str | None = None
    workers: int | None = None
    progress: bool = False
    default_at: datetime | None = None
    """The request time of requests without ``at`` (the CLI passes the time the run started)."""


def _check(options: DiffOptions) -> None:
    if options.corpus is not None and options.log is not None:
        raise DiffInputError("give either --corpus or --from-log, not both")
    if options.log is None and (options.since is not None or options.until is not None):
        raise DiffInputError("--since and --until filter the decision log: use them with --from-log")
    if options.workers is not None and options.workers < 1:
        raise DiffInputError("--workers must be at least 1")


def build_report(options: DiffOptions) -> DiffReport:
    """Compare the two versions; with a corpus or a log, replay it under both.

    Raises:
        DiffInputError: Bad usage, unknown program or version, unreadable corpus or log.
        DiffPolicyError: A policy of the program, or the draft, has errors.
    """
    _check(options)
    spec = options.spec
    since = None if options.since is None else log_time(options.since, "--since")
    until = None if options.until is None else log_time(options.until, "--until")
    pair = load_pair(spec)
    report = DiffReport(
        program=spec.program,
        old_version=pair.old.version,
        new_version=pair.new.version,
        draft=pair.draft,
        structure=structural_diff(pair.old, pair.new),
    )
    if options.corpus is None and options.log is None:
        return report
    default_at = options.default_at or datetime.now().astimezone()
    workers = options.workers or default_workers()
    if options.corpus is not None:
        impact = diff_corpus(
            pair, spec, options.corpus, default_at=default_at, workers=workers, progress=options.progress
        )
        source = f"corpus {options.corpus}"
    else:
        assert options.log is not None
        query = LogQuery(options.log, spec.program, since, until)
        impact = diff_log(
            pair, spec, query, default_at=default_at, workers=workers, progress=options.progress
        )
        window = [f"since {options.since}"] if options.since else []
        window += [f"until {options.until}"] if options.until else []
        source = f"decision log {options.log}" + (f" ({', '.join(window)})" if window else "")
    return DiffReport(
        program=report.program,
        old_version=report.old_version,
        new_version=report.new_version,
        draft=report.draft,
        structure=report.structure,
        source=source,
        impact=impact,
        default_at=default_at,
    )
