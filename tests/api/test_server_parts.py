"""Server parts on their own: settings checks and the decision log lines."""

from __future__ import annotations

import io
import json

import pytest

from server.logs import DecisionLines
from server.settings import Settings, SettingsError


class _BrokenStream(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise BrokenPipeError("stderr is gone")


def _add(lines: DecisionLines, decision_id: str) -> None:
    lines.add(decision_id, "douyin-anxingou", "2021.08", "claim", "approve", ["fresh-rot"], 1.25)


def test_log_lines_that_cannot_be_written_are_dropped_not_raised() -> None:
    lines = DecisionLines(_BrokenStream(), max_lines=2)
    _add(lines, "a")
    _add(lines, "b")  # full: flushed now, into a broken stream
    assert lines.dropped == 2


def test_a_decision_line_is_one_json_object_with_every_field_in_order() -> None:
    stream = io.BytesIO()
    lines = DecisionLines(stream)
    _add(lines, "0193")
    lines.add("0194", "p", "v", "d", None, [], 0.5)
    lines.flush()
    text = stream.getvalue().decode()
    assert text.endswith("\n") and len(text.splitlines()) == 2
    first, second = (json.loads(line) for line in text.splitlines())
    assert list(first) == [
        "time", "level", "logger", "message", "event", "decision_id", "program", "version", "decision",
        "outcome", "rules", "ms",
    ]  # fmt: skip
    assert first["time"].endswith("+00:00") and len(first["time"]) == len("2026-11-30T12:00:00.000+00:00")
    assert {k: v for k, v in first.items() if k != "time"} == {
        "level": "info",
        "logger": "server.decisions",
        "message": "decision",
        "event": "decision",
        "decision_id": "0193",
        "program": "douyin-anxingou",
        "version": "2021.08",
        "decision": "claim",
        "outcome": "approve",
        "rules": ["fresh-rot"],
        "ms": 1.25,
    }
    assert second["decision_id"] == "0194" and second["outcome"] is None and second["rules"] == []


@pytest.mark.parametrize("interval", [float("inf"), float("nan"), -1.0, 4000.0])
def test_a_watch_interval_that_is_not_a_sane_number_is_refused(interval: float) -> None:
    with pytest.raises(SettingsError, match="watch_interval"):
        Settings(watch_interval=interval)


def test_db_commit_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({}).db_commit == "loop"
    assert Settings.from_env({"POLICY_DB_COMMIT": "thread"}).db_commit == "thread"
    with pytest.raises(SettingsError, match="db_commit"):
        Settings.from_env({"POLICY_DB_COMMIT": "later"})
