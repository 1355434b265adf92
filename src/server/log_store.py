"""The decision log: an interface, and the embedded SQLite store with group commit.

A decide answer is sent only after its record is committed. Concurrent requests share one transaction
(group commit), so durability costs one commit per group of requests, not one per request.
Several worker processes may open the same file: SQLite's WAL mode and its lock serialize their commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, Protocol

__all__ = ("DecisionLog", "DecisionRecord", "LogWriteError", "SQLiteDecisionLog", "prepare_database")

_BUSY_TIMEOUT_MS = 10_000

# ``decisions`` is a rowid table: its rows (~1.5 kB) are appended at the end of the rowid tree, which
# measured 4 µs a row against 9 µs in a WITHOUT ROWID table ordered by id (files made by older versions
# keep their table; the statements work on both).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id TEXT PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    program TEXT NOT NULL,
    version TEXT NOT NULL,
    decision TEXT NOT NULL,
    digest TEXT NOT NULL,
    request TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (recorded_at);
CREATE TABLE IF NOT EXISTS policy_sources (
    digest TEXT PRIMARY KEY,
    program TEXT NOT NULL,
    version TEXT NOT NULL,
    sources TEXT NOT NULL
) WITHOUT ROWID;
"""


def prepare_database(path: Path, timeout: float = 30.0) -> None:
    """Create the log's file and tables in WAL mode, once, whoever comes first.

    ``policy serve`` calls this before starting its workers; each worker calls it again and finds the work
    done. Switching to WAL takes an exclusive lock that SQLite does not wait for, so workers starting
    together retry rather than fail.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000)
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
            finally:
                conn.close()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class LogWriteError(RuntimeError):
    """The log could not commit a record: the decision must not be answered (HTTP 503)."""


class DecisionRecord(NamedTuple):
    """One logged decision: what was asked (with the ``at`` used) and what was answered.

    A named tuple in the column order of the table: the row to insert as it is, made cheaply per decision.
    """

    decision_id: str
    recorded_at: str
    """RFC 3339 time the record was made (the request's ``at``, used for time-range queries)."""
    program: str
    version: str
    decision: str
    digest: str
    request: str
    """The decide request as JSON text (exact numbers; masked fields already masked)."""
    answer: str
    """The answer as JSON text, exactly as it was sent."""

    def to_json(self) -> dict[str, Any]:
        """The record as the API shows it."""
        return {
            "decision_id": self.decision_id,
            "recorded_at": self.recorded_at,
            "program": self.program,
            "version": self.version,
            "decision": self.decision,
            "policy_digest": self.digest,
            "request": json.loads(self.request, parse_float=Decimal),
            "answer": self.answer_json(),
        }

    def answer_json(self) -> dict[str, Any]:
        """The answer without its decision id and trace: what a replay must give again."""
        answer: dict[str, Any] = json.loads(self.answer)
        answer.pop("decision_id", None)
        answer.pop("trace", None)
        return answer


class DecisionLog(Protocol):
    """What the server needs of a decision log (SQLite here; PostgreSQL can implement the same)."""

    async def append(self, records: Sequence[DecisionRecord]) -> None:
        """Return once every record is durably committed; raise LogWriteError otherwise."""

    def get(self, decision_id: str) -> DecisionRecord | None:
        """One record by id."""

    def records(self, since: str | None = None, until: str | None = None) -> Iterator[DecisionRecord]:
        """Records in time order, optionally within [since, until)."""

    def save_sources(self, digest: str, program: str, version: str, sources: Mapping[str, str]) -> None:
        """Keep the policy files behind a digest, so a replay can use the exact policy decided with."""

    def sources(self, digest: str) -> dict[str, str] | None:
        """The policy files behind a digest, if kept."""

    def close(self) -> None:
        """Stop the writer and close the store."""


_Waiting = tuple[Sequence[DecisionRecord], "asyncio.Future[None]"]

_CHECKPOINT_ROWS = 10_000
"""Rows committed by a process between its checkpoints (~6,500 WAL pages of 4 kB, ~26 MB).

A page committed several times between two checkpoints is copied once: under wrk on one worker this
measured 110 against 116 µs of CPU per decision with checkpoints every 2,000 rows."""

_WAL_RESTART_PAGES = 25_000
"""WAL size (4 kB pages, ~100 MB) at which a checkpoint makes SQLite start the WAL afresh.

Only a WAL that is never idle for a whole checkpoint gets there (an idle moment lets the first pass
complete it, and SQLite starts it afresh by itself). The second pass stops commits for ~8 ms whatever it
copies (two fsyncs): at 10,000 pages that was once a second under full load on two workers, ~0.8% of
requests, enough to move the p99; at 25,000 it is every ~4 s."""

_ROWS_PER_INSERT = 256
"""Rows per INSERT statement (8 parameters each; SQLite allows 32,766 parameters per statement)."""


@functools.cache
def _insert(rows: int) -> str:
    """One INSERT statement for ``rows`` rows (SQLite's statement cache keeps each prepared)."""
    return "INSERT INTO decisions VALUES " + ",".join(["(?,?,?,?,?,?,?,?)"] * rows)


class SQLiteDecisionLog:
    """The decision log in one SQLite file, WAL mode, with group commit.

    Requests append their records to a list on the event loop and wait; one flush at a time commits the
    whole list in one transaction, and while a commit is under way the next group gathers.

    With ``synchronous=NORMAL`` a commit writes the WAL without waiting for the disk (~0.1 ms for a group),
    so the flush commits on the event loop itself: no thread hand-off, no wait for the GIL. Worker processes
    that share the file take turns through an ``flock`` on a lock file beside it; when another one holds it,
    the flush lets the event loop run and tries again after 0.1, 0.2, … at most 2 ms (a commit holds the
    lock ~0.1 ms). With ``synchronous=FULL`` (an fsync per commit), or when ``commit_on_loop`` is False, the
    group goes to a single writer thread, which waits for the lock without holding up the event loop.

    SQLite's automatic checkpoint would run inside whichever commit crosses its threshold (1,000 pages,
    ~8 ms of copying and fsyncs on the event loop); it is off, and a checkpoint thread copies the WAL every
    ``_CHECKPOINT_ROWS`` rows beside the commits instead (see :meth:`_checkpoint`).
    """

    def __init__(
        self, path: Path, *, sync: str = "normal", max_pages: int = 0, commit_on_loop: bool = True
    ) -> None:
        self.path = path
        self._sync = sync
        self._max_pages = max_pages
        prepare_database(path)
        self._reader = self._connect()
        self._reader_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints: see _checkpoint
        self._write_lock = open(path.with_name(path.name + ".write-lock"), "a+b")  # noqa: SIM115 - held open
        self._writing = threading.Lock()
        """Held with the flock: one transaction (or checkpoint) at a time within this process too."""
        self._commit_inline = sync == "normal" and commit_on_loop
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decision-log-writer")
        self._checkpoints = self._connect()
        self._checkpoint_lock = open(path.with_name(path.name + ".checkpoint-lock"), "a+b")  # noqa: SIM115
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decision-log-checkpoint")
        self._checkpoint_due: Future[None] | None = None
        self._waiting: list[_Waiting] = []
        self._sources_lock = threading.Lock()
        self._known_sources: dict[str, tuple[str, str, str, str]] = {}
        self._saved_sources: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._rows_since_checkpoint = 0
        self.commits = 0
        """How many commits were made (group commit shows as fewer commits than records)."""

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.isolation_level = None  # transactions are explicit
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA synchronous={self._sync.upper()}")
        if self._max_pages:
            conn.execute(f"PRAGMA max_page_count={int(self._max_pages)}")
        return conn

    async def append(self, records: Sequence[DecisionRecord]) -> None:
        """Add the records to the next group commit and wait until it is done."""
        if not records:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append((records, future))
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = loop.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0)  # one more turn of the loop: the requests read meanwhile join the group
        while self._waiting:
            group, self._waiting = self._waiting, []
            rows = [r for records, _ in group for r in records]
            error: BaseException | None = None
            try:
                if self._commit_inline:
                    pause = 0.0
                    while not self._write_if_free(rows):
                        await asyncio.sleep(pause)
                        pause = min(pause * 2 or 0.0001, 0.002)
                else:
                    await loop.run_in_executor(self._executor, self._write, rows)
            except BaseException as exc:  # every waiting request must hear of it
                error = (
                    exc
                    if isinstance(exc, LogWriteError)
                    else LogWriteError(f"the decision log failed: {exc}")
                )
            for _, future in group:
                if future.done():
                    continue
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
            self._rows_since_checkpoint += len(rows)
            if self._rows_since_checkpoint >= _CHECKPOINT_ROWS and (
                self._checkpoint_due is None or self._checkpoint_due.done()
            ):
                self._rows_since_checkpoint = 0
                with contextlib.suppress(RuntimeError):  # closing: the last connection checkpoints
                    self._checkpoint_due = self._checkpointer.submit(self._checkpoint)

    def append_sync(self, records: Sequence[DecisionRecord]) -> None:
        """``append`` for callers outside an event loop (tools and tests)."""
        self._executor.submit(self._write, list(records)).result()

    def _write_if_free(self, rows: list[DecisionRecord]) -> bool:
        """Commit on the calling thread if the write lock is free; False, with nothing done, if it is not."""
        if not self._writing.acquire(blocking=False):
            return False
        try:
            try:
                fcntl.flock(self._write_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            try:
                self._transaction(rows)
            finally:
                fcntl.flock(self._write_lock, fcntl.LOCK_UN)
        finally:
            self._writing.release()
        return True

    def _write(self, rows: list[DecisionRecord]) -> None:
        """Commit on the writer thread, waiting for the write lock."""
        with self._writing:
            fcntl.flock(self._write_lock, fcntl.LOCK_EX)
            try:
                self._transaction(rows)
            finally:
                fcntl.flock(self._write_lock, fcntl.LOCK_UN)

    def _transaction(self, rows: list[DecisionRecord]) -> None:
        """One transaction for a whole group (the caller holds the write lock)."""
        conn = self._writer
        try:
            with self._sources_lock:
                unsaved = [
                    self._known_sources[d]
                    for d in {r.digest for r in rows} - self._saved_sources
                    if d in self._known_sources
                ]
            if not unsaved and len(rows) <= _ROWS_PER_INSERT:  # one statement: its own transaction
                conn.execute(_insert(len(rows)), [value for row in rows for value in row])
            else:
                conn.execute("BEGIN IMMEDIATE")
                if unsaved:
                    conn.executemany("INSERT OR IGNORE INTO policy_sources VALUES (?, ?, ?, ?)", unsaved)
                # One statement per 256 rows, not one per row: fewer calls into SQLite, and on the writer
                # thread fewer waits to take the GIL back.
                for start in range(0, len(rows), _ROWS_PER_INSERT):
                    chunk = rows[start : start + _ROWS_PER_INSERT]
                    conn.execute(_insert(len(chunk)), [value for row in chunk for value in row])
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise LogWriteError(f"the decision log cannot be written: {exc}") from exc
        if unsaved:
            with self._sources_lock:
                self._saved_sources.update(row[0] for row in unsaved)
        self.commits += 1

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file (checkpoint thread; on failure, next time).

        One process at a time. The copy runs beside the commits, which go on appending to the WAL. Once
        the WAL holds ``_WAL_RESTART_PAGES``, more passes beside the commits copy what was committed during
        the one before (each shorter), then a last pass holds the write lock, copies the few pages left and
        so leaves the WAL complete, which lets SQLite start it afresh: commits wait for that pass only
        (~8 ms, two fsyncs), not for the whole copy (~15 ms per 2,000 rows).
        """
        try:
            fcntl.flock(self._checkpoint_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another process is checkpointing
        try:
            _, wal_pages, _ = self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if wal_pages < _WAL_RESTART_PAGES:
                return
            for _ in range(3):
                copied = wal_pages
                _, wal_pages, _ = self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if wal_pages - copied < 100:
                    break
            with self._writing:
                fcntl.flock(self._write_lock, fcntl.LOCK_EX)
                try:
                    self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    fcntl.flock(self._write_lock, fcntl.LOCK_UN)
        except sqlite3.Error:
            return
        finally:
            fcntl.flock(self._checkpoint_lock, fcntl.LOCK_UN)

    def get(self, decision_id: str) -> DecisionRecord | None:
        """One record by id."""
        with self._reader_lock:
            row = self._reader.execute(
                "SELECT id, recorded_at, program, version, decision, digest, request, answer"
                " FROM decisions WHERE id = ?",
                (decision_id,),
            ).fetchone()
        return DecisionRecord(*row) if row is not None else None

    def records(self, since: str | None = None, until: str | None = None) -> Iterator[DecisionRecord]:
        """Records in time order within [since, until), read on a connection of their own."""
        conn = self._connect()
        try:
            cursor = conn.execute(
                "SELECT id, recorded_at, program, version, decision, digest, request, answer FROM decisions"
                " WHERE (? IS NULL OR recorded_at >= ?) AND (? IS NULL OR recorded_at < ?)"
                " ORDER BY recorded_at, id",
                (since, since, until, until),
            )
            for row in cursor:
                yield DecisionRecord(*row)
        finally:
            conn.close()

    def save_sources(self, digest: str, program: str, version: str, sources: Mapping[str, str]) -> None:
        """Keep the policy files of a digest (once; a digest's files never change).

        Written now if the log has room, and in any case with the first decision made under the digest,
        in the same transaction: no decision is ever committed without the source it was decided with.
        """
        row = (digest, program, version, json.dumps(dict(sources), ensure_ascii=False))
        with self._sources_lock:
            self._known_sources[digest] = row
        try:
            # A connection of its own: this may wait for other workers' commits, reads must not.
            conn = self._connect()
            try:
                conn.execute("INSERT OR IGNORE INTO policy_sources VALUES (?, ?, ?, ?)", row)
            finally:
                conn.close()
        except sqlite3.Error:
            return  # the first decision under this digest writes it
        with self._sources_lock:
            self._saved_sources.add(digest)

    def sources(self, digest: str) -> dict[str, str] | None:
        """The policy files of a digest, if kept."""
        with self._reader_lock:
            row = self._reader.execute(
                "SELECT sources FROM policy_sources WHERE digest = ?", (digest,)
            ).fetchone()
        if row is None:
            return None
        loaded: dict[str, str] = json.loads(row[0])
        return loaded

    def close(self) -> None:
        """Finish the commit under way, stop the writer, close the connections."""
        self._executor.shutdown(wait=True)
        self._checkpointer.shutdown(wait=True)
        self._checkpoints.close()
        self._checkpoint_lock.close()
        with self._reader_lock:
            self._reader.close()
        self._writer.close()
        self._write_lock.close()
