"""Loading pauses Python's cycle collector and leaves it as it found it, also when the load fails."""

from __future__ import annotations

import gc
from pathlib import Path

from policy_engine import check_policies

ROOT = Path(__file__).resolve().parent.parent


def test_the_collector_is_on_again_after_a_load() -> None:
    assert gc.isenabled()
    registry, errors = check_policies(ROOT / "policies")
    assert registry is not None and not errors.has_errors()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_failed_load(tmp_path: Path) -> None:
    (tmp_path / "policies" / "bad").mkdir(parents=True)
    (tmp_path / "policies" / "bad" / "2024.01.yaml").write_text("program: [\n", encoding="utf-8")
    registry, errors = check_policies(tmp_path / "policies")
    assert registry is None and errors.has_errors()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        check_policies(ROOT / "policies")
        assert not gc.isenabled()
    finally:
        gc.enable()
