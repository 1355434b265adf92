"""Structured log lines: one JSON object per line on stderr, with the fields passed as ``extra``.

Operational events go through :mod:`logging`. The line of every decision, the hot path, goes through a
:class:`DecisionLines` buffer instead: encoded in C and written a batch at a time (at most every 50 ms),
which costs a decision a few microseconds instead of a handler call and a system call each. The durable
record of a decision is the decision log; these lines are for operators.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec

__all__ = ("DecisionLines", "JsonFormatter", "configure_logging")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the server's loggers to stderr as JSON lines (idempotent)."""
    root = logging.getLogger("server")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


class DecisionLines:
    """Buffered JSON lines of decisions, in the same shape as the :class:`JsonFormatter` lines."""

    def __init__(
        self, stream: BinaryIO | None = None, *, max_lines: int = 512, interval: float = 0.05
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr.buffer
        self._lines: list[bytes] = []
        self._max_lines = max_lines
        self._interval = interval
        self._lock = threading.Lock()
        self._scheduled = False
        self._encoder = msgspec.json.Encoder()
        self._stamp_ms = -1
        self._stamp = ""
        self.dropped = 0
        """Lines that could not be written (the decision log still holds their decisions)."""

    def add(
        self,
        decision_id: str,
        program: str,
        version: str,
        decision: str,
        outcome: str | None,
        rules: list[str],
        ms: float,
    ) -> None:
        """Queue the line of one decision; it is written within ``interval`` seconds (or when full).

        The line is built whole: the :class:`JsonFormatter` fields first, then the decision's.
        """
        now_ms = time.time_ns() // 1_000_000
        if now_ms != self._stamp_ms:  # decisions of one millisecond share the formatted time
            self._stamp_ms = now_ms
            self._stamp = datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="milliseconds")
        line = {
            "time": self._stamp,
            "level": "info",
            "logger": "server.decisions",
            "message": "decision",
            "event": "decision",
            "decision_id": decision_id,
            "program": program,
            "version": version,
            "decision": decision,
            "outcome": outcome,
            "rules": rules,
            "ms": ms,
        }
        with self._lock:
            self._lines.append(self._encoder.encode(line))
            full = len(self._lines) >= self._max_lines
        if full:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_later(self._interval, self.flush)
            except RuntimeError:  # no event loop (tools, tests): write now
                self.flush()

    def flush(self) -> None:
        """Write every queued line."""
        with self._lock:
            lines, self._lines = self._lines, []
            self._scheduled = False
        if lines:
            try:
                self._stream.write(b"\n".join(lines) + b"\n")
                self._stream.flush()
            except (OSError, ValueError):  # stderr gone or full: the lines are lost, the decisions are not
                self.dropped += len(lines)
