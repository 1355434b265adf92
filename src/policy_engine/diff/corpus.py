"""Where the replayed requests come from: a JSON Lines corpus file, or the server's decision log (SQLite).

A corpus is cut into chunks of whole lines by byte offset, so a worker process reads its own chunk from the
file and only the chunk's place is sent to it. The decision log is read in time order (``recorded_at``, then
id, as the server's log store lists it), filtered by program and by ``recorded_at`` in ``[since, until)``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_engine.diff.versions import DiffInputError
from policy_engine.expr.values import parse_timestamp

__all__ = ("CHUNK_BYTES", "Chunk", "LogQuery", "Row", "log_time", "read_chunk", "scan_corpus")

CHUNK_BYTES = 1 << 20
"""About how many bytes of a corpus one unit of work holds (a few thousand requests)."""

Row = tuple[int, str, bytes | str]
"""(position in the source, how reports name it, the request's JSON text)."""


@dataclass(frozen=True)
class Chunk:
    """Whole lines of a corpus file: ``length`` bytes from ``start``; the first is line ``first_line``."""

    start: int
    length: int
    first_line: int
    lines: int


def scan_corpus(path: Path, chunk_bytes: int = CHUNK_BYTES) -> list[Chunk]:
    """Cut a corpus file into chunks of whole lines (one read of the file, no parsing).

    Raises:
        DiffInputError: The path is not a readable file.
    """
    if not path.is_file():
        raise DiffInputError(f"{path}: no such corpus file")
    chunks: list[Chunk] = []
    start, line = 0, 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(chunk_bytes)
            if not data:
                break
            if not data.endswith(b"\n"):
                data += handle.readline()
            count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            chunks.append(Chunk(start, len(data), line, count))
            start += len(data)
            line += count
    return chunks


def read_chunk(path: Path, chunk: Chunk) -> Iterator[Row]:
    """The lines of one chunk with their line numbers (blank lines left out)."""
    with path.open("rb") as handle:
        handle.seek(chunk.start)
        data = handle.read(chunk.length)
    for offset, text in enumerate(data.split(b"\n")):
        if text.strip():
            number = chunk.first_line + offset
            yield number, f"line {number}", text


def log_time(text: str, option: str) -> str:
    """A ``--since``/``--until`` time in the form the log stores ``recorded_at`` (UTC, microseconds).

    Raises:
        DiffInputError: The time is not RFC 3339 with an offset.
    """
    try:
        moment: datetime = parse_timestamp(text)
    except ValueError as exc:
        raise DiffInputError(f"{option}: {exc}") from None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LogQuery:
    """The records of one program in a decision log, in time order, within ``[since, until)``."""

    db: Path
    program: str
    since: str | None = None
    """``recorded_at`` lower bound as stored (see :func:`log_time`)."""
    until: str | None = None

    _WHERE = " WHERE program = ? AND (? IS NULL OR recorded_at >= ?) AND (? IS NULL OR recorded_at < ?)"

    def _args(self) -> tuple[str | None, ...]:
        return (self.program, self.since, self.since, self.until, self.until)

    def _connect(self) -> sqlite3.Connection:
        if not self.db.is_file():
            raise DiffInputError(f"{self.db}: no such decision log")
        try:
            return sqlite3.connect(self.db.resolve().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise DiffInputError(f"{self.db}: cannot open the decision log: {exc}") from None

    def count(self) -> int:
        """How many records match.

        Raises:
            DiffInputError: The file is missing or is not a decision log.
        """
        conn = self._connect()
        try:
            row = conn.execute("SELECT COUNT(*) FROM decisions" + self._WHERE, self._args()).fetchone()
        except sqlite3.Error as exc:
            raise DiffInputError(f"{self.db} is not a decision log: {exc}") from None
        finally:
            conn.close()
        return int(row[0])

    def rows(self, batch: int) -> Iterator[list[Row]]:
        """The matching records in batches: (position, ``decision <id>``, request JSON).

        Raises:
            DiffInputError: The file is missing or is not a decision log.
        """
        conn = self._connect()
        try:
            cursor = conn.execute(
                "SELECT id, request FROM decisions" + self._WHERE + " ORDER BY recorded_at, id", self._args()
            )
            position = 0
            while True:
                fetched = cursor.fetchmany(batch)
                if not fetched:
                    break
                out: list[Row] = []
                for record_id, request in fetched:
                    position += 1
                    out.append((position, f"decision {record_id}", request))
                yield out
        except sqlite3.Error as exc:
            raise DiffInputError(f"{self.db} is not a decision log: {exc}") from None
        finally:
            conn.close()
