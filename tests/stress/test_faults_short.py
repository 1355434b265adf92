"""The short form of tests/stress/faults.py: each fault under load for a few seconds, same invariants.

The long form (``python tests/stress/faults.py --duration 60``) is run by hand; its summary is in
tests/stress/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import faults  # tests/stress, put on sys.path just above

CLIENTS = 8
WORKERS = 2


def _ok(result: faults.PhaseResult) -> None:
    print(result.report())  # shown by pytest -rA, or when the test fails
    assert not result.violations, result.report()
    assert result.lost == 0, result.report()


def test_sigkill_under_load_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    result = faults.phase_sigkill(tmp_path, duration=3, clients=CLIENTS, workers=WORKERS)
    _ok(result)
    assert result.numbers["kills"] >= 1
    assert result.acked >= 50, result.report()
    assert set(result.statuses) <= {"200", "transport"}, result.report()


def test_policies_reloaded_every_second_good_and_broken_fail_no_request(tmp_path: Path) -> None:
    result = faults.phase_reload(tmp_path, duration=4, clients=CLIENTS, workers=WORKERS)
    _ok(result)
    assert set(result.statuses) == {"200"}, result.report()
    assert result.numbers["files_written"].get("broken", 0) >= 1
    assert result.numbers["reloads_refused_all_workers"] >= 1
    assert all(result.numbers["answers_by_digest"].values()), result.report()


def test_a_full_log_answers_503_problems_never_a_false_200_and_recovers(tmp_path: Path) -> None:
    result = faults.phase_full_log(tmp_path, duration=3, clients=CLIENTS, workers=WORKERS)
    _ok(result)
    assert set(result.statuses) == {"200", "503"}, result.report()
    assert result.numbers["times_full"] >= 1
    assert result.numbers["logged_but_answered_503"] == 0
    assert all(ms is not None for ms in result.numbers["first_probe_200_after_room_ms"]), result.report()


def test_a_decision_made_with_a_policy_loaded_while_the_log_was_full_can_be_replayed(tmp_path: Path) -> None:
    result = faults.phase_replay_after_full(tmp_path, workers=1)
    _ok(result)
    assert result.numbers["replay_status"] == 200
