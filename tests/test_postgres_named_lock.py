"""``Begin(lock_name=...)`` on PostgreSQL: a polled, transaction-scoped advisory lock."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentsdb import DatabaseBusyError, DatabaseError
from agentsdb.db.base import Begin, Commit, Database, FetchOne, Program, Rollback


def hold_lock(name: str, seconds: float) -> Program[str]:
    yield Begin(5.0, lock_name=name)
    yield FetchOne("SELECT pg_sleep(:seconds)", {"seconds": seconds})
    yield Commit()
    return "released"


def take_lock(name: str, wait: float) -> Program[float]:
    started = time.monotonic()
    yield Begin(wait, lock_name=name)
    waited = time.monotonic() - started
    yield Commit()
    return waited


def fail_holding_lock(name: str) -> Program[None]:
    yield Begin(5.0, lock_name=name)
    yield FetchOne("SELECT 1 / 0 AS boom")
    yield Commit()


async def test_a_second_holder_waits_for_the_first_to_commit(postgres_db: Database) -> None:
    holder = asyncio.create_task(postgres_db.run(hold_lock("migrations", 0.6)))
    await asyncio.sleep(0.2)
    waited = await postgres_db.run(take_lock("migrations", 5.0))
    assert await holder == "released"
    assert waited >= 0.25


async def test_waiting_past_the_lock_timeout_raises_busy(postgres_db: Database) -> None:
    holder = asyncio.create_task(postgres_db.run(hold_lock("migrations", 1.0)))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(DatabaseBusyError, match="'migrations' is held"):
        await postgres_db.run(take_lock("migrations", 0.3))
    assert time.monotonic() - started < 0.9
    await holder


async def test_different_names_do_not_block_each_other(postgres_db: Database) -> None:
    holder = asyncio.create_task(postgres_db.run(hold_lock("one", 0.8)))
    await asyncio.sleep(0.2)
    waited = await postgres_db.run(take_lock("two", 0.1))
    assert waited < 0.1
    await holder


async def test_a_failed_transaction_releases_the_lock(postgres_db: Database) -> None:
    with pytest.raises(DatabaseError, match="division by zero"):
        await postgres_db.run(fail_holding_lock("migrations"))
    assert await postgres_db.run(take_lock("migrations", 0.1)) < 0.1


async def test_a_rolled_back_transaction_releases_the_lock(postgres_db: Database) -> None:
    def roll_back() -> Program[None]:
        yield Begin(1.0, lock_name="migrations")
        yield Rollback()

    await postgres_db.run(roll_back())
    assert await postgres_db.run(take_lock("migrations", 0.1)) < 0.1
