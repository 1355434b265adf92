"""Server parts on their own: settings checks and the decision log lines."""

from __future__ import annotations

import io

import pytest

from server.logs import DecisionLines
from server.settings import Settings, SettingsError


class _BrokenStream(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise BrokenPipeError("stderr is gone")


def test_log_lines_that_cannot_be_written_are_dropped_not_raised() -> None:
    lines = DecisionLines(_BrokenStream(), max_lines=2)
    lines.add({"event": "decision", "decision_id": "a"})
    lines.add({"event": "decision", "decision_id": "b"})  # full: flushed now, into a broken stream
    assert lines.dropped == 2


def test_log_lines_carry_the_decision_id_as_json() -> None:
    stream = io.BytesIO()
    lines = DecisionLines(stream)
    lines.add({"event": "decision", "decision_id": "0193"})
    lines.flush()
    assert b'"decision_id":"0193"' in stream.getvalue() and stream.getvalue().endswith(b"\n")


@pytest.mark.parametrize("interval", [float("inf"), float("nan"), -1.0, 4000.0])
def test_a_watch_interval_that_is_not_a_sane_number_is_refused(interval: float) -> None:
    with pytest.raises(SettingsError, match="watch_interval"):
        Settings(watch_interval=interval)


def test_db_commit_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({}).db_commit == "loop"
    assert Settings.from_env({"POLICY_DB_COMMIT": "thread"}).db_commit == "thread"
    with pytest.raises(SettingsError, match="db_commit"):
        Settings.from_env({"POLICY_DB_COMMIT": "later"})
