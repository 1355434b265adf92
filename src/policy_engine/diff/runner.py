"""Run a corpus or log diff: in this process for small inputs, else on every core, with a progress bar.

Each worker process loads the two versions once (its initializer) and then takes chunks: a corpus chunk is
only a byte range of the file, a log batch carries its request texts. Each chunk gives an
:class:`~policy_engine.diff.summary.ImpactSummary`; the summaries are merged as chunks finish. Workers are
started by a fork server (or spawned), never forked from this process, which may hold threads. Should the
worker processes fail (killed, or not allowed to start), the run starts again in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Never

from tqdm import tqdm

from policy_engine.diff.compare import PairEvaluator
from policy_engine.diff.corpus import Chunk, LogQuery, Row, read_chunk, scan_corpus
from policy_engine.diff.records import BadRecord, parse_request
from policy_engine.diff.summary import ImpactSummary
from policy_engine.diff.versions import PairSpec, VersionPair, load_pair

__all__ = ("SMALL_RUN", "default_workers", "diff_corpus", "diff_log", "run_rows")

SMALL_RUN = 5_000
"""Requests below which the diff runs in this process (starting workers would cost more)."""
LOG_BATCH = 2_000
"""Log records per unit of work."""


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_rows(
    evaluator: PairEvaluator, program: str, default_at: datetime, rows: Iterable[Row]
) -> ImpactSummary:
    """Evaluate every request under both versions; bad requests are counted, never raised."""
    summary = ImpactSummary()
    old, new = evaluator.old.version, evaluator.new.version
    for order, ref, text in rows:
        request = parse_request(text, program, default_at)
        if isinstance(request, BadRecord):
            summary.add_bad(order, ref, request.message)
            continue
        info = evaluator.info(request.decision)
        if info is None:
            known = ", ".join(dict.fromkeys([*evaluator.old.decisions, *evaluator.new.decisions]))
            summary.add_bad(
                order, ref, f"neither {old} nor {new} has decision {request.decision!r} ({known})"
            )
            continue
        summary.add(order, ref, request, evaluator.compare(info, request.input, request.at))
    return summary


# ------------------------------------------------------------------------------------ worker processes


class _Worker:
    """The state of one worker process: the two versions, loaded once."""

    def __init__(self, pair: VersionPair, program: str, default_at: datetime) -> None:
        self.evaluator = PairEvaluator(pair.old, pair.new)
        self.program = program
        self.default_at = default_at

    def rows(self, rows: Iterable[Row]) -> ImpactSummary:
        return run_rows(self.evaluator, self.program, self.default_at, rows)


_WORKER: _Worker | None = None


def _init_worker(spec: PairSpec, default_at: datetime) -> None:
    global _WORKER
    _WORKER = _Worker(load_pair(spec), spec.program, default_at)


def _worker() -> _Worker:
    if _WORKER is None:
        raise RuntimeError("the worker process was not initialised")
    return _WORKER


def _chunk_job(path: Path, chunk: Chunk) -> ImpactSummary:
    return _worker().rows(read_chunk(path, chunk))


def _rows_job(rows: list[Row]) -> ImpactSummary:
    return _worker().rows(rows)


def _pool(spec: PairSpec, default_at: datetime, workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(workers, context, initializer=_init_worker, initargs=(spec, default_at))


# --------------------------------------------------------------------------------------------- drivers


def _bar(total: int, show: bool) -> tqdm[Never]:
    return tqdm(
        total=total, unit=" decisions", unit_scale=True, file=sys.stderr, disable=not show, leave=False
    )


def diff_corpus(
    pair: VersionPair,
    spec: PairSpec,
    corpus: Path,
    *,
    default_at: datetime,
    workers: int,
    progress: bool,
) -> ImpactSummary:
    """Replay a JSON Lines corpus under both versions.

    Raises:
        DiffInputError: The corpus file cannot be read.
    """
    chunks = scan_corpus(corpus)
    total = sum(c.lines for c in chunks)
    with _bar(total, progress) as bar:
        if workers > 1 and total >= SMALL_RUN and len(chunks) > 1:
            try:
                summary = ImpactSummary()
                with _pool(spec, default_at, workers) as pool:
                    futures = {pool.submit(_chunk_job, corpus, chunk): chunk.lines for chunk in chunks}
                    _collect(futures, summary, bar.update)
                return summary
            except BrokenProcessPool as exc:
                _pool_failed(exc, bar)
        summary = ImpactSummary()
        local = _Worker(pair, spec.program, default_at)
        for chunk in chunks:
            summary.merge(local.rows(read_chunk(corpus, chunk)))
            bar.update(chunk.lines)
        return summary


def diff_log(
    pair: VersionPair,
    spec: PairSpec,
    query: LogQuery,
    *,
    default_at: datetime,
    workers: int,
    progress: bool,
) -> ImpactSummary:
    """Replay the recorded requests of a decision log under both versions.

    Raises:
        DiffInputError: The log cannot be read.
    """
    total = query.count()
    with _bar(total, progress) as bar:
        if workers > 1 and total >= SMALL_RUN:
            try:
                summary = ImpactSummary()
                with _pool(spec, default_at, workers) as pool:
                    _submit_bounded(pool, query.rows(LOG_BATCH), summary, bar.update, limit=4 * workers)
                return summary
            except BrokenProcessPool as exc:
                _pool_failed(exc, bar)
        summary = ImpactSummary()
        local = _Worker(pair, spec.program, default_at)
        for rows in query.rows(LOG_BATCH):
            summary.merge(local.rows(rows))
            bar.update(len(rows))
        return summary


def _pool_failed(exc: BrokenProcessPool, bar: tqdm[Never]) -> None:
    """Say that the worker processes failed; the caller starts again in this process."""
    sys.stderr.write(f"warning: worker processes failed ({exc}); running in one process\n")
    bar.reset()


def _collect(
    futures: dict[Future[ImpactSummary], int], summary: ImpactSummary, update: Callable[[int], object]
) -> None:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when="FIRST_COMPLETED")
        for future in done:
            summary.merge(future.result())
            update(futures[future])


def _submit_bounded(
    pool: ProcessPoolExecutor,
    batches: Iterator[list[Row]],
    summary: ImpactSummary,
    update: Callable[[int], object],
    *,
    limit: int,
) -> None:
    pending: dict[Future[ImpactSummary], int] = {}
    for rows in batches:
        pending[pool.submit(_rows_job, rows)] = len(rows)
        if len(pending) >= limit:
            done, _ = wait(pending, return_when="FIRST_COMPLETED")
            for future in done:
                summary.merge(future.result())
                update(pending.pop(future))
    _collect(pending, summary, update)
