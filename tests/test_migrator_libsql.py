"""The Migrator on a remote libSQL server, over ws:// (interactive transactions, a lease per
transaction) and http:// (one atomic batch per migration under a lease for the run), against a
real sqld (the session's, wiped; see tests/sqld_server.py) through the real libsql-client: what
is particular to libSQL (the lease, batches, the server's foreign keys). The Migrator's behaviour
itself is proved on every backend by tests/test_migrator_contract_*.py.

One test runs against the Hrana server in tests/hrana_server.py instead: a server whose
connections have foreign keys off, which sqld cannot be made into."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agentsdb
from agentsdb import (
    LeaseLostError,
    Migration,
    MigrationError,
    MigrationLockError,
    Migrator,
)
from agentsdb.db.libsql import LibsqlDatabase
from agentsdb.db.libsql.lease import CREATE
from agentsdb.migrations import builtin_migrations

pytest.importorskip("libsql_client", reason="the libSQL tests need agentsdb[libsql]")

from hrana_server import HranaServer
from sqld_server import SqldServer

TRANSPORTS = ("ws", "http")
LEASE = "agentsdb_lease"


@pytest.fixture
def server(sqld: SqldServer) -> SqldServer:
    """The session's sqld, with an empty database."""
    return sqld


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def url_of(server: SqldServer | SqldServer, transport: str) -> str:
    return server.ws_url if transport == "ws" else server.http_url


@pytest.fixture
async def remote(server: SqldServer, transport: str) -> AsyncIterator[LibsqlDatabase]:
    async with agentsdb.connect(url_of(server, transport)) as db:
        assert isinstance(db, LibsqlDatabase)
        yield db


def query(server: SqldServer | HranaServer, sql: str) -> list[tuple[object, ...]]:
    """Run one statement on a connection of its own, beside the client under test."""
    if isinstance(server, SqldServer):
        return server.query(sql)
    conn = server.connect()
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def tables(server: SqldServer | HranaServer) -> set[str]:
    return {str(row[0]) for row in query(server, "SELECT name FROM sqlite_master")}


def leases(server: SqldServer | HranaServer) -> list[tuple[object, ...]]:
    if LEASE not in tables(server):
        return []
    return query(server, f"SELECT name, owner FROM {LEASE}")


def recorded(server: SqldServer | HranaServer) -> list[str]:
    if "agentsdb_migrations" not in tables(server):
        return []
    return [str(r[0]) for r in query(server, "SELECT id FROM agentsdb_migrations ORDER BY seq")]


def m(number: int, up: list[str], down: list[str] | None = None, **options: bool) -> Migration:
    return Migration(f"{number:03d}", f"step {number}", up, down, **options)


SIMPLE = [
    m(1, ["CREATE TABLE one (id INTEGER PRIMARY KEY)"], ["DROP TABLE one"]),
    m(2, ["CREATE TABLE two (id INTEGER PRIMARY KEY)"], ["DROP TABLE two"]),
    m(3, ["CREATE TABLE three (id INTEGER PRIMARY KEY)"], ["DROP TABLE three"]),
]


# --- applying ------------------------------------------------------------------------------------


async def test_builtin_migrations_apply_with_the_same_schema_as_on_sqlite(
    server: SqldServer, remote: LibsqlDatabase, tmp_path: Path
) -> None:
    results = await Migrator(remote).migrate()

    assert [r.migration.id for r in results] == [x.id for x in builtin_migrations()]
    assert recorded(server) == [x.id for x in builtin_migrations()]
    assert await Migrator(remote).migrate() == []
    assert (await Migrator(remote).validate_migrations()).is_valid
    async with agentsdb.connect(str(tmp_path / "local.db")) as local:
        await Migrator(local).migrate()
        local_head = (await Migrator(local).get_applied())[-1]
    remote_head = (await Migrator(remote).get_applied())[-1]
    assert remote_head.schema_fingerprint == local_head.schema_fingerprint
    assert remote_head.chain == local_head.chain
    assert leases(server) == []


async def test_a_failing_tracking_row_undoes_the_statements_before_it(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    # The row is the batch's last step: a row that cannot be written (its id is taken by a
    # record written behind the migrator's back) must undo the migration's table too.
    await Migrator(remote, SIMPLE[:1]).migrate()
    query(
        server,
        "CREATE TRIGGER refuse_002 BEFORE INSERT ON agentsdb_migrations "
        "WHEN NEW.id = '002' BEGIN SELECT RAISE(ABORT, 'row 002 refused'); END",
    )

    with pytest.raises(MigrationError, match="row 002 refused"):
        await Migrator(remote, SIMPLE[:2]).migrate()

    assert "two" not in tables(server)
    assert recorded(server) == ["001"]


async def test_racing_migrators_apply_each_migration_once(server: SqldServer) -> None:
    counted = [m(1, ["CREATE TABLE applied_log (id TEXT PRIMARY KEY)"])] + [
        m(n, [f"INSERT INTO applied_log VALUES ('{n:03d}')"]) for n in range(2, 8)
    ]
    urls = [server.ws_url, server.http_url, server.ws_url, server.http_url]
    async with (
        agentsdb.connect(urls[0]) as a,
        agentsdb.connect(urls[1]) as b,
        agentsdb.connect(urls[2]) as c,
        agentsdb.connect(urls[3]) as d,
    ):
        outcomes = await asyncio.gather(
            *(Migrator(db, counted, lock_timeout=30).migrate() for db in (a, b, c, d))
        )

    applied = sorted(result.migration.id for results in outcomes for result in results)
    assert applied == [x.id for x in counted]
    assert [r[0] for r in query(server, "SELECT id FROM applied_log ORDER BY id")] == [
        f"{n:03d}" for n in range(2, 8)
    ]
    assert recorded(server) == [x.id for x in counted]
    assert leases(server) == []


# --- the lease -----------------------------------------------------------------------------------


async def test_a_holder_whose_lease_was_expired_cannot_commit(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    # The test expires the holder's lease from inside the work the holder is about to commit.
    stalled = m(
        2,
        ["CREATE TABLE never_kept (id INTEGER PRIMARY KEY)", f"UPDATE {LEASE} SET expires_at = 0"],
    )

    with pytest.raises(LeaseLostError, match="lease") as caught:
        await Migrator(remote, [SIMPLE[0], stalled, SIMPLE[2]]).migrate()

    assert isinstance(caught.value, MigrationLockError)
    notes = "\n".join(caught.value.__notes__)
    assert "applying migration 002 stopped there: nothing of it was kept" in notes
    assert "applied and committed 001" in notes
    assert "never_kept" not in tables(server)
    assert "three" not in tables(server)
    assert recorded(server) == ["001"]
    assert leases(server) == []


#: Where a run notices that its lease is gone: while committing a migration (the tracking row's
#: INSERT), or while recording the run's schema fingerprint after its last migration committed
#: (the head row's UPDATE). A trigger on that write expires the lease inside the same
#: transaction, so the run's next lease check finds it lost, at exactly that point, every time.
LOSS_POINTS = {
    "committing a migration": (
        "INSERT",
        [],
        "agentsdb: applying migration 001 stopped there: nothing of it was kept",
    ),
    "recording the run after its migrations committed": (
        "UPDATE",
        ["001"],
        "agentsdb: this run applied and committed 001 before the error",
    ),
}


@pytest.mark.parametrize("point", LOSS_POINTS)
async def test_a_lost_lease_raises_the_lock_error_wherever_the_run_notices_it(
    server: SqldServer, remote: LibsqlDatabase, point: str
) -> None:
    event, committed, note = LOSS_POINTS[point]
    await Migrator(remote, []).initialize()
    query(
        server,
        f"CREATE TRIGGER expire_lease AFTER {event} ON agentsdb_migrations "
        f"BEGIN UPDATE {LEASE} SET expires_at = 0; END",
    )

    with pytest.raises(LeaseLostError) as caught:
        await Migrator(remote, SIMPLE[:1]).migrate()

    assert caught.value.name == "agentsdb_migrations"
    assert isinstance(caught.value.__cause__, agentsdb.CheckViolationError)
    assert recorded(server) == committed
    assert ("one" in tables(server)) is bool(committed)
    assert note in caught.value.__notes__
    assert leases(server) == []


async def test_a_lease_lost_while_rolling_back_raises_the_lock_error_and_keeps_it_applied(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    await Migrator(remote, SIMPLE[:2]).migrate()
    query(
        server,
        "CREATE TRIGGER expire_lease AFTER DELETE ON agentsdb_migrations "
        f"BEGIN UPDATE {LEASE} SET expires_at = 0; END",
    )

    with pytest.raises(LeaseLostError) as caught:
        await Migrator(remote, SIMPLE[:2]).rollback_last()

    assert "agentsdb: rolling back migration 002 stopped there: it is still applied" in (
        caught.value.__notes__
    )
    assert recorded(server) == ["001", "002"]
    assert "two" in tables(server)
    assert leases(server) == []


async def test_a_holder_that_ran_past_its_lease_cannot_commit(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    await Migrator(remote, []).initialize()
    # The statement takes about 1 s here (SQLite builds 2M rows): five lease lengths.
    remote.lease_seconds = 0.2
    slow = m(
        1,
        [
            "CREATE TABLE slow AS WITH RECURSIVE c(x) AS "
            "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c"
        ],
    )

    with pytest.raises(LeaseLostError):
        await Migrator(remote, [slow]).migrate()

    assert "slow" not in tables(server)
    assert recorded(server) == []


async def test_a_lease_held_by_another_process_times_out_with_migration_lock_error(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    await remote.execute_batch([(sql, None) for sql in CREATE])
    await remote.execute(
        f"INSERT INTO {LEASE} VALUES ('agentsdb_migrations', 'other:1:x', "
        "(julianday('now') - 2440587.5) * 86400.0 + 600)"
    )

    with pytest.raises(MigrationLockError):
        await Migrator(remote, SIMPLE, lock_timeout=0.3).migrate()

    assert recorded(server) == []
    assert leases(server) == [("agentsdb_migrations", "other:1:x")]


async def test_waiting_for_the_lease_lets_the_holders_transaction_commit(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    # On sqld a write that waits for the write lock makes the server roll back the transaction
    # holding it after 5 s: waiting for the lease must not write while the lease is held.
    await Migrator(remote, SIMPLE[:1]).migrate()
    await remote.execute(
        f"INSERT INTO {LEASE} VALUES ('agentsdb_migrations', 'other:1:x', "
        "(julianday('now') - 2440587.5) * 86400.0 + 600)"
    )
    async with agentsdb.connect(server.ws_url) as holder, holder.transaction() as tx:
        await tx.execute("CREATE TABLE written_by_the_holder (id INTEGER)")
        with pytest.raises(MigrationLockError):
            await Migrator(remote, SIMPLE[:2], lock_timeout=0.3).migrate()

    assert "written_by_the_holder" in tables(server)
    assert recorded(server) == ["001"]


async def test_an_expired_lease_of_a_dead_holder_is_taken_over(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    await remote.execute_batch([(sql, None) for sql in CREATE])
    await remote.execute(f"INSERT INTO {LEASE} VALUES ('agentsdb_migrations', 'dead:1:x', 0)")

    results = await Migrator(remote, SIMPLE, lock_timeout=0.3).migrate()

    assert [r.migration.id for r in results] == ["001", "002", "003"]
    assert leases(server) == []


# --- rollback, rehearse, validate ----------------------------------------------------------------


async def seed_agent_and_session(db: agentsdb.Database) -> None:
    """Agent a1 and its session s1, in the built-in schema."""
    await db.execute(
        "INSERT INTO agents (id, name, model, created_at, updated_at) "
        "VALUES ('a1', 'n', 'm', 't', 't')"
    )
    await db.execute(
        "INSERT INTO sessions (id, main_agent_id, created_at, updated_at) "
        "VALUES ('s1', 'a1', 't', 't')"
    )


async def test_builtin_migrations_roll_back_fully_with_keys_off(
    tmp_path: Path, transport: str
) -> None:
    with HranaServer(tmp_path / "keys_off.db", foreign_keys=False) as server:
        async with agentsdb.connect(url_of(server, transport)) as db:
            migrator = Migrator(db)
            await migrator.migrate()
            await seed_agent_and_session(db)

            await migrator.rollback_to("003")

            # 004's and 005's rebuilds kept the rows that refer to the rebuilt tables.
            assert await db.fetch_all("SELECT id FROM sessions") == [{"id": "s1"}]
            assert recorded(server) == ["001", "002", "003"]
            assert (await migrator.validate_migrations()).is_valid


async def test_rebuilds_run_with_foreign_keys_off_when_the_server_has_them_on(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    migrator = Migrator(remote)
    await migrator.migrate()
    await seed_agent_and_session(remote)
    await remote.execute(
        "INSERT INTO session_logs (session_id, role, type, content, created_at, updated_at) "
        "VALUES ('s1', 'user', 'message', '\"hi\"', 't', 't')"
    )

    # 005's and 004's downs rebuild sessions and agents: with keys on, their DROP TABLE would
    # have cascaded into the sessions and logs that refer to them.
    await migrator.rollback_to("003")
    assert await remote.fetch_all("SELECT id FROM sessions") == [{"id": "s1"}]
    assert await remote.fetch_all("SELECT session_id FROM session_logs") == [{"session_id": "s1"}]
    assert recorded(server) == ["001", "002", "003"]
    assert (await migrator.validate_migrations()).is_valid
    # The rebuilt tables still enforce their keys (the server's are on again).
    with pytest.raises(agentsdb.ForeignKeyViolationError):
        await remote.execute(
            "INSERT INTO sessions (id, main_agent_id, created_at, updated_at) "
            "VALUES ('s2', 'nobody', 't', 't')"
        )
    assert [r.migration.id for r in await migrator.migrate()][:2] == ["004", "005"]
    assert leases(server) == []
