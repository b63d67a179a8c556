"""WAL checkpoints in the background for the loop's writes (agentsdb.db.sqlite.checkpoints),
on real files: the writes stay on the loop's thread, the database file receives them, the WAL
stays bounded under writes that never pause, and a failing checkpoint falls back to the
worker's commits.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentsdb.db.sqlite import checkpoints as checkpoints_module
from agentsdb.db.sqlite.checkpoints import LONG_WAL_FACTOR, BackgroundCheckpoints
from agentsdb.db.sqlite.database import SQLiteDatabase
from agentsdb.db.sqlite.loop_writes import LOOP_COMMITS_PER_CHECKPOINT, LoopWriter

SCHEMA = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
INSERT = "INSERT INTO items (id, name) VALUES (:id, :name)"


@pytest.fixture
async def items(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    db = await SQLiteDatabase.open(str(tmp_path / "items.db"), url="items.db")
    try:
        await db.execute(SCHEMA)
        yield db
    finally:
        await db.close()


def writer_of(db: SQLiteDatabase) -> LoopWriter:
    assert db._writer is not None
    return db._writer


def checkpoints_of(db: SQLiteDatabase) -> BackgroundCheckpoints:
    assert db._checkpoints is not None
    return db._checkpoints


async def insert(db: SQLiteDatabase, start: int, count: int) -> None:
    for index in range(start, start + count):
        await db.execute(INSERT, {"id": index, "name": f"item-{index}"})


async def settled(checkpoints: BackgroundCheckpoints, finished: int) -> None:
    """Wait until ``finished`` checkpoints have ended and none runs."""
    deadline = time.monotonic() + 10
    # ``running`` first: reading it takes in the outcome of a checkpoint that has ended.
    while checkpoints.running or checkpoints.finished < finished:
        assert time.monotonic() < deadline, "the background checkpoints did not end"
        await asyncio.sleep(0.005)


async def test_loop_commits_stay_on_the_loop_while_checkpoints_copy_them_into_the_file(
    items: SQLiteDatabase, tmp_path: Path
) -> None:
    before = writer_of(items).loop_commits
    rounds = 3
    for round_ in range(rounds):
        await insert(items, round_ * LOOP_COMMITS_PER_CHECKPOINT, LOOP_COMMITS_PER_CHECKPOINT)
        await settled(checkpoints_of(items), round_ + 1)

    # No unit went to the worker for a checkpoint.
    assert writer_of(items).loop_commits - before == rounds * LOOP_COMMITS_PER_CHECKPOINT
    # The database file alone, without its WAL, holds every row the last checkpoint saw.
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(tmp_path / "items.db", copy / "items.db")
    with sqlite3.connect(copy / "items.db") as file_only:
        (count,) = file_only.execute("SELECT count(*) FROM items").fetchone()
    assert count == rounds * LOOP_COMMITS_PER_CHECKPOINT


async def test_writes_that_never_pause_keep_the_wal_bounded(
    items: SQLiteDatabase, tmp_path: Path
) -> None:
    checkpoint_pages = 100
    await items.execute(f"PRAGMA wal_autocheckpoint = {checkpoint_pages}")
    commits = 30 * LOOP_COMMITS_PER_CHECKPOINT
    # Back to back, never yielding to the event loop: each commit adds a few pages to the WAL,
    # several thousand in all unless a writer waits for a checkpoint once it is long.
    await insert(items, 0, commits)

    wal_pages = (tmp_path / "items.db-wal").stat().st_size // 4096
    # The longest it may grow: the limit, the frames a checkpoint's report lags behind, and
    # those of the commits until the next checkpoint is due.
    limit = LONG_WAL_FACTOR * checkpoint_pages + 2 * LOOP_COMMITS_PER_CHECKPOINT * 4
    assert wal_pages < limit < commits
    assert writer_of(items).loop_commits > commits * 0.9  # the loop still wrote nearly all


async def test_a_failing_background_checkpoint_is_logged_and_the_worker_checkpoints_from_then_on(
    items: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(conn: sqlite3.Connection) -> tuple[int, int]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(checkpoints_module, "_checkpoint", failing)
    checkpoints = checkpoints_of(items)
    with caplog.at_level(logging.WARNING, logger="agentsdb.db.sqlite"):
        await insert(items, 0, LOOP_COMMITS_PER_CHECKPOINT)
        await settled(checkpoints, 0)
        before = writer_of(items).loop_commits
        await insert(items, LOOP_COMMITS_PER_CHECKPOINT, 3 * LOOP_COMMITS_PER_CHECKPOINT)

    assert not checkpoints.available
    assert any(
        "checkpoint of" in record.message and "disk I/O error" in record.message
        for record in caplog.records
    )
    # Every LOOP_COMMITS_PER_HANDOVER commits, one unit went to the worker to checkpoint.
    assert writer_of(items).loop_commits - before < 3 * LOOP_COMMITS_PER_CHECKPOINT
    assert await items.fetch_one("SELECT count(*) AS n FROM items") == {
        "n": 4 * LOOP_COMMITS_PER_CHECKPOINT
    }


async def test_close_waits_for_a_running_checkpoint_and_closes_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended: list[tuple[int, int]] = []
    real = checkpoints_module._checkpoint

    def slow(conn: sqlite3.Connection) -> tuple[int, int]:
        time.sleep(0.2)
        ended.append(real(conn))
        return ended[-1]

    monkeypatch.setattr(checkpoints_module, "_checkpoint", slow)
    db = await SQLiteDatabase.open(str(tmp_path / "items.db"), url="items.db")
    try:
        await db.execute(SCHEMA)
        await insert(db, 0, LOOP_COMMITS_PER_CHECKPOINT)
        checkpoints = checkpoints_of(db)
        assert checkpoints.running
    finally:
        await db.close()

    assert len(ended) == 1
    assert not checkpoints.running
    assert not checkpoints.available


def test_a_checkpoint_connection_that_cannot_open_leaves_checkpoints_to_the_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-directory" / "items.db"
    with caplog.at_level(logging.WARNING, logger="agentsdb.db.sqlite"):
        checkpoints = BackgroundCheckpoints(
            str(missing), uri=False, path=str(missing), synchronous="NORMAL"
        )
    assert not checkpoints.available
    assert not checkpoints.request()
    assert any(str(missing) in record.message for record in caplog.records)
