"""The SQLite decision log alone: group commits on the event loop, turns at the write lock, checkpoints."""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import threading
from pathlib import Path

import pytest

import server.log_store as log_store
from server.log_store import DecisionRecord, SQLiteDecisionLog


def _records(prefix: str, count: int) -> list[DecisionRecord]:
    return [
        DecisionRecord(
            f"{prefix}-{i:05d}",
            "2026-11-30T12:00:00.000000+00:00",
            "douyin-anxingou",
            "2021.08",
            "claim",
            "sha256:0",
            '{"input": {"n": 1.50}}',
            '{"result": {"total": "1.50"}}',
        )
        for i in range(count)
    ]


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        found: int = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    return found


@pytest.mark.parametrize("sync", ["normal", "full"])
def test_concurrent_appends_are_committed_in_groups(tmp_path: Path, sync: str) -> None:
    log = SQLiteDecisionLog(tmp_path / "d.sqlite3", sync=sync)

    async def main() -> None:
        await asyncio.gather(*(log.append(_records(f"r{i}", 3)) for i in range(50)))

    asyncio.run(main())
    assert _count(tmp_path / "d.sqlite3") == 150
    assert log.commits < 50  # the 50 appends shared commits
    record = log.get("r7-00002")
    assert record is not None and record.request == '{"input": {"n": 1.50}}'
    log.close()


def test_a_commit_waits_its_turn_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    log = SQLiteDecisionLog(path)
    other = open(path.with_name(path.name + ".write-lock"), "a+b")  # noqa: SIM115 - another open file
    fcntl.flock(other, fcntl.LOCK_EX)

    async def main() -> None:
        append = asyncio.ensure_future(log.append(_records("late", 2)))
        for _ in range(20):
            await asyncio.sleep(0.001)
        assert not append.done() and _count(path) == 0  # nothing is committed while the lock is held
        fcntl.flock(other, fcntl.LOCK_UN)
        await append

    asyncio.run(main())
    other.close()
    assert _count(path) == 2
    log.close()


def _wal_pages_after_load(path: Path) -> int:
    """Twelve groups (each one's checkpoint awaited), then one more group; the WAL's size in pages."""
    log = SQLiteDecisionLog(path)

    async def main() -> None:
        for group in range(12):
            await log.append(_records(f"g{group}", 25))
            if log._checkpoint_due is not None:
                log._checkpoint_due.result()  # the checkpoint of this group is over
        await log.append(_records("last", 1))

    asyncio.run(main())
    with sqlite3.connect(path) as conn:
        busy, wal_pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    log.close()
    assert busy == 0 and wal_pages == copied and _count(path) == 301
    return int(wal_pages)


def test_checkpoints_copy_the_wal_and_let_it_start_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_store, "_CHECKPOINT_ROWS", 10**9)
    never = _wal_pages_after_load(tmp_path / "never.sqlite3")  # SQLite's own checkpoints are off
    monkeypatch.setattr(log_store, "_CHECKPOINT_ROWS", 100)
    monkeypatch.setattr(log_store, "_WAL_RESTART_PAGES", 1)
    restarted = _wal_pages_after_load(tmp_path / "restarted.sqlite3")
    assert restarted < never / 3  # the WAL was started afresh, not appended to all along


def test_a_full_log_fails_every_waiting_append(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    log = SQLiteDecisionLog(path, max_pages=20)

    async def main() -> list[BaseException | None]:
        outcomes = await asyncio.gather(
            *(log.append(_records(f"f{i}", 40)) for i in range(10)), return_exceptions=True
        )
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    outcomes = asyncio.run(main())
    assert any(isinstance(o, log_store.LogWriteError) for o in outcomes)
    assert all(o is None or isinstance(o, log_store.LogWriteError) for o in outcomes)
    log.close()


@pytest.mark.parametrize(("sync", "commit_on_loop", "on_loop"), [
    ("normal", True, True),
    ("normal", False, False),
    ("full", True, False),
])  # fmt: skip
def test_where_a_group_commit_runs(tmp_path: Path, sync: str, commit_on_loop: bool, on_loop: bool) -> None:
    # normal: on the event loop unless told to use the writer thread; full (an fsync): always the thread
    log = SQLiteDecisionLog(tmp_path / "d.sqlite3", sync=sync, commit_on_loop=commit_on_loop)
    threads: list[str] = []
    transaction = log._transaction

    def recording(rows: list[DecisionRecord]) -> None:
        threads.append(threading.current_thread().name)
        transaction(rows)

    log._transaction = recording  # type: ignore[method-assign]

    async def main() -> str:
        await asyncio.gather(*(log.append(_records(f"r{i}", 2)) for i in range(10)))
        return threading.current_thread().name

    loop_thread = asyncio.run(main())
    assert _count(tmp_path / "d.sqlite3") == 20
    assert threads and all((name == loop_thread) is on_loop for name in threads), threads
    log.close()
