"""PostgreSQL connections the server ends (``pg_terminate_backend`` from an admin connection):
only agentsdb errors escape, reads on a pooled connection the server had ended run again on a
fresh one, writes never run twice, and the pool recovers.

Each test loops many trials; the timing of the termination against the next call varies from
trial to trial, which is what made asyncpg's errors escape untranslated before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

import agentsdb
from agentsdb import ConnectionLostError, Database
from agentsdb.db.base import Begin, Commit, Execute, FetchOne, Program
from agentsdb.db.placeholders import translate

TRIALS = 80


@pytest.fixture
async def admin(postgres_url: str, asyncpg_driver: ModuleType) -> AsyncIterator[Any]:
    """A plain asyncpg connection that ends the library's connections."""
    connection = await asyncpg_driver.connect(postgres_url)
    yield connection
    await connection.close()


async def end_every_agentsdb_connection(admin: Any) -> int:
    """Terminate every session of the library on the admin's database; how many there were."""
    ended = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'agentsdb' "
        "AND pid <> pg_backend_pid()"
    )
    return len(ended)


async def test_reads_on_connections_the_server_ended_while_idle_run_again_on_a_fresh_one(
    postgres_url: str, admin: Any
) -> None:
    async with agentsdb.connect(postgres_url, min_size=2, max_size=2) as db:
        pids: set[int] = set()
        for trial in range(TRIALS):
            await db.fetch_one("SELECT 1 AS warm")
            assert await end_every_agentsdb_connection(admin) >= 1
            if trial % 2:
                row = await db.fetch_one("SELECT pg_backend_pid() AS pid, :n::int AS n", {"n": 7})
                assert row is not None
                assert row["n"] == 7
                pids.add(row["pid"])
            else:
                rows = await db.fetch_all("SELECT generate_series(1, 3) AS n")
                assert [r["n"] for r in rows] == [1, 2, 3]
        assert len(pids) >= TRIALS // 2 - 1  # each read ran on a connection opened after the kill


async def test_writes_on_ended_connections_run_at_most_once_and_raise_only_connection_lost(
    postgres_url: str, admin: Any
) -> None:
    outcomes: Counter[str] = Counter()
    async with agentsdb.connect(postgres_url, min_size=1, max_size=2) as db:
        await db.execute("CREATE TABLE writes (trial INTEGER NOT NULL)")
        for trial in range(TRIALS):
            await db.fetch_one("SELECT 1 AS warm")
            await end_every_agentsdb_connection(admin)
            try:
                await db.execute("INSERT INTO writes (trial) VALUES (:trial)", {"trial": trial})
                outcomes["ran"] += 1
                expected = {1}
            except ConnectionLostError as error:
                # Nothing but the library's own error (anything else fails the test), saying
                # whether the write may have run.
                outcomes["lost"] += 1
                expected = {0, 1} if error.may_have_committed else {0}
            written = await admin.fetchval("SELECT count(*) FROM writes WHERE trial = $1", trial)
            assert written in expected, (trial, written, outcomes)
        assert await db.fetch_one("SELECT count(*) AS n FROM writes") is not None
    assert outcomes["ran"] + outcomes["lost"] == TRIALS


async def insert_then_lose_the_connection(db: Database, admin: Any, trial: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO kept (trial) VALUES (:t)", {"t": trial})
        row = await tx.fetch_one("SELECT pg_backend_pid() AS pid")
        assert row is not None
        await admin.execute("SELECT pg_terminate_backend($1)", row["pid"])
        await tx.fetch_one("SELECT 1 AS one")


async def test_a_transaction_whose_connection_is_ended_raises_connection_lost_and_keeps_nothing(
    postgres_url: str, admin: Any
) -> None:
    async with agentsdb.connect(postgres_url, min_size=1, max_size=2) as db:
        await db.execute("CREATE TABLE kept (trial INTEGER NOT NULL)")
        for trial in range(TRIALS // 2):
            with pytest.raises(ConnectionLostError) as caught:
                await insert_then_lose_the_connection(db, admin, trial)
            assert not caught.value.may_have_committed
            assert "rolled" in str(caught.value)
        assert await db.fetch_one("SELECT count(*) AS n FROM kept") == {"n": 0}
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO kept (trial) VALUES (-1)")
        assert await db.fetch_one("SELECT count(*) AS n FROM kept") == {"n": 1}


async def test_a_transaction_begun_after_its_idle_connection_was_ended_starts_on_a_fresh_one(
    postgres_url: str, admin: Any
) -> None:
    async with agentsdb.connect(postgres_url, min_size=1, max_size=1) as db:
        await db.execute("CREATE TABLE begun (trial INTEGER NOT NULL)")
        for trial in range(TRIALS // 2):
            await db.fetch_one("SELECT 1 AS warm")
            await end_every_agentsdb_connection(admin)
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO begun (trial) VALUES (:t)", {"t": trial})
        assert await db.fetch_one("SELECT count(*) AS n FROM begun") == {"n": TRIALS // 2}


async def test_a_program_whose_connection_is_ended_gets_connection_lost_and_keeps_nothing(
    postgres_url: str,
) -> None:
    def program(trial: int) -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO programs (trial) VALUES (:t)", {"t": trial})
        # The server ends this very session, as an administrator would.
        yield FetchOne("SELECT pg_terminate_backend(pg_backend_pid()) AS ended")
        yield Execute("INSERT INTO programs (trial) VALUES (:t)", {"t": -trial})
        yield Commit()

    async with agentsdb.connect(postgres_url, min_size=1, max_size=2) as db:
        await db.execute("CREATE TABLE programs (trial INTEGER NOT NULL)")
        for trial in range(1, 21):
            with pytest.raises(ConnectionLostError) as caught:
                await db.run(program(trial))
            assert not caught.value.may_have_committed
        assert await db.fetch_one("SELECT count(*) AS n FROM programs") == {"n": 0}


async def test_a_program_started_after_its_idle_connection_was_ended_runs_on_a_fresh_one(
    postgres_url: str, admin: Any
) -> None:
    def program(trial: int) -> Program[int]:
        yield Begin()
        yield Execute("INSERT INTO started (trial) VALUES (:t)", {"t": trial})
        row = yield FetchOne("SELECT count(*) AS n FROM started")
        yield Commit()
        assert row is not None
        return int(row["n"])

    def read(trial: int) -> Program[int]:
        row = yield FetchOne("SELECT :t::int AS t", {"t": trial})
        assert row is not None
        return int(row["t"])

    async with agentsdb.connect(postgres_url, min_size=1, max_size=1) as db:
        await db.execute("CREATE TABLE started (trial INTEGER NOT NULL)")
        for trial in range(1, TRIALS // 2 + 1):
            await db.fetch_one("SELECT 1 AS warm")
            await end_every_agentsdb_connection(admin)
            assert await db.run(program(trial)) == trial
            await end_every_agentsdb_connection(admin)
            assert await db.run(read(trial)) == trial


@pytest.mark.parametrize(
    ("sql", "read_only"),
    [
        ("SELECT * FROM agents WHERE id = :id", True),
        ("with x as (select 1) select * from x", True),
        ("VALUES (1), (2)", True),
        ("SHOW search_path", True),
        ("SELECT 'INSERT INTO t' AS text -- DELETE", True),
        ("INSERT INTO t (a) VALUES (:a) RETURNING id", False),
        ("WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone", False),
        ("SELECT * INTO copy FROM t", False),
        ("SELECT * FROM t FOR UPDATE", False),
        ("SELECT nextval('t_id_seq')", False),
        ("SELECT pg_advisory_lock(1)", False),
        ("SELECT set_config('search_path', 'x', false)", False),
        ("UPDATE t SET a = 1", False),
    ],
)
def test_only_statements_that_change_nothing_count_as_reads(sql: str, read_only: bool) -> None:
    assert translate(sql).read_only is read_only
