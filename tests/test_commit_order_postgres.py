"""Commit order on PostgreSQL: 16 writers on 16 connections, 2 readers paging by key.

Identity values are taken at insert time and committed later, so without help a transaction can
commit a lower key after a reader has paged past it, and that reader never sees the row. Event
appends and session-log appends take a CommitOrder lock; these tests prove that each reader sees
every committed event (and log row) exactly once, in key order.

A test-only trigger sleeps a random few milliseconds after each insert statement, inside its
transaction, to widen the window between taking a key and committing it: with the lock switched
off, both tests fail on every run here (readers miss rows).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from entities_support import repos_for, stored_agent, stored_session

import agentsdb
from agentsdb.db.base import Database
from agentsdb.events import ANY, EventStore, NewEvent
from agentsdb.models import SessionLog
from agentsdb.repositories import SessionLogRepository

WRITERS = 16
READERS = 2
ROUNDS = 12


def slow_commits(table: str) -> list[str]:
    """A statement-level trigger that sleeps up to 5 ms after each insert into ``table``."""
    return [
        """CREATE OR REPLACE FUNCTION agentsdb_test_linger() RETURNS trigger
           LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(random() * 0.005); RETURN NULL; END $$""",
        f"""CREATE TRIGGER {table}_linger AFTER INSERT ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION agentsdb_test_linger()""",
    ]


@pytest.fixture
async def migrated_pg(postgres_url: str) -> AsyncIterator[Database]:
    async with agentsdb.connect(postgres_url) as db:
        await agentsdb.Migrator(db).migrate()
        yield db


async def page_concurrently(
    url: str,
    write: Callable[[Database, int], Awaitable[None]],
    read_page: Callable[[Database, int], Awaitable[tuple[list[int], int]]],
) -> list[list[int]]:
    """Run WRITERS writers (one database object each) while READERS readers page by key.

    ``read_page`` gives a page's keys and the key to read on from. Returns each reader's keys in
    the order it saw them, including a last pass after every writer has finished.
    """
    writers = [await agentsdb.connect(url, max_size=1) for _ in range(WRITERS)]
    readers = [await agentsdb.connect(url, max_size=1) for _ in range(READERS)]
    done = asyncio.Event()
    try:

        async def run_writers() -> None:
            await asyncio.gather(*(write(db, index) for index, db in enumerate(writers)))
            done.set()

        async def reader(db: Database) -> list[int]:
            seen: list[int] = []
            after = 0
            while True:
                finished = done.is_set()  # read before the page: a page after it is complete
                page, resume_after = await read_page(db, after)
                seen.extend(page)
                if resume_after != after:
                    after = resume_after
                elif finished:
                    return seen
                else:
                    await asyncio.sleep(0.001)

        _, *seen = await asyncio.gather(run_writers(), *(reader(db) for db in readers))
        return seen
    finally:
        for db in (*writers, *readers):
            await db.close()


async def test_readers_see_every_event_exactly_once_while_16_connections_append(
    migrated_pg: Database, postgres_url: str
) -> None:
    for statement in slow_commits("events"):
        await migrated_pg.execute(statement)

    async def write(db: Database, index: int) -> None:
        store = EventStore(db)
        for round_ in range(ROUNDS):
            count = random.randint(1, 3)
            events = [NewEvent("t", {"w": index, "r": round_, "i": i}) for i in range(count)]
            await store.append(f"stream-{index}", events, ANY)

    async def read_page(db: Database, after: int) -> tuple[list[int], int]:
        page = [e.position for e in await EventStore(db).read_all(after=after, limit=25)]
        return page, page[-1] if page else after

    seen_by = await page_concurrently(postgres_url, write, read_page)

    stored = [e.position for e in await EventStore(migrated_pg).read_all(limit=10_000)]
    assert len(stored) >= WRITERS * ROUNDS
    for seen in seen_by:
        assert seen == stored  # each once, in position order, none missing


async def test_readers_resuming_from_how_far_a_filtered_read_went_see_every_kept_event_once(
    migrated_pg: Database, postgres_url: str
) -> None:
    # read_page's scanned_to is the newest position the read saw: no event at or below it may
    # commit later, or a reader resuming from it would skip that event.
    for statement in slow_commits("events"):
        await migrated_pg.execute(statement)

    async def write(db: Database, index: int) -> None:
        store = EventStore(db)
        for round_ in range(ROUNDS):
            kind = "kept" if (index + round_) % 4 == 0 else "other"
            events = [NewEvent(kind, {"w": index, "r": round_, "i": i}) for i in range(2)]
            await store.append(f"stream-{index}", events, ANY)

    async def read_page(db: Database, after: int) -> tuple[list[int], int]:
        page = await EventStore(db).read_page(after=after, limit=5, types=["kept"])
        return [e.position for e in page.events], page.scanned_to

    seen_by = await page_concurrently(postgres_url, write, read_page)

    kept = await EventStore(migrated_pg).read_all(limit=10_000, types=["kept"])
    stored = [e.position for e in kept]
    assert len(stored) == WRITERS * ROUNDS // 4 * 2
    for seen in seen_by:
        assert seen == stored


async def test_readers_see_every_session_log_exactly_once_while_16_connections_append(
    migrated_pg: Database, postgres_url: str
) -> None:
    for statement in slow_commits("session_logs"):
        await migrated_pg.execute(statement)
    repos = repos_for(migrated_pg)
    session = await stored_session(repos, await stored_agent(repos))

    def entry(index: int, round_: int) -> SessionLog:
        return SessionLog(
            session_id=session.id, role="agent", type="message", content={"w": index, "r": round_}
        )

    async def write(db: Database, index: int) -> None:
        logs = SessionLogRepository(db)
        for round_ in range(ROUNDS):
            if round_ % 3 == 0:
                await logs.append_many([entry(index, round_) for _ in range(3)])
            else:
                await asyncio.gather(
                    logs.append(entry(index, round_)), logs.append(entry(index, round_))
                )

    async def read_page(db: Database, after: int) -> tuple[list[int], int]:
        page = await SessionLogRepository(db).page(session.id, after=after, limit=25)
        keys = [log.id for log in page if log.id is not None]
        return keys, keys[-1] if keys else after

    seen_by = await page_concurrently(postgres_url, write, read_page)

    stored = [
        log.id
        for log in await SessionLogRepository(migrated_pg).page(session.id, limit=10_000)
        if log.id is not None
    ]
    assert len(stored) == WRITERS * (ROUNDS // 3 * 3 + (ROUNDS - ROUNDS // 3) * 2)
    for seen in seen_by:
        assert seen == stored
