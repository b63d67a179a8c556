"""The Migrator on a remote libSQL server, over ws:// (interactive transactions, a lease per
transaction) and http:// (one atomic batch per migration under a lease for the run), against a
real sqld (the session's, wiped; see tests/sqld_server.py) through the real libsql-client.

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


async def test_a_failing_statement_leaves_nothing_of_its_migration(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    broken = m(
        2,
        [
            "CREATE TABLE made_first (id INTEGER PRIMARY KEY)",
            "CREATE TABLE made_second (id INTEGER PRIMARY KEY)",
            "INSERT INTO no_such_table VALUES (1)",
        ],
    )

    with pytest.raises(MigrationError) as caught:
        await Migrator(remote, [SIMPLE[0], broken]).migrate()

    assert caught.value.failed is not None
    assert caught.value.failed.migration.id == "002"
    assert "no_such_table" in str(caught.value)
    assert recorded(server) == ["001"]
    assert "one" in tables(server)
    assert not {"made_first", "made_second"} & tables(server)
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


async def test_rollback_last_and_rollback_to_undo_migrations(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    migrator = Migrator(remote, SIMPLE)
    await migrator.migrate()

    last = await migrator.rollback_last()
    assert last is not None
    assert (last.migration.id, last.direction) == ("003", "down")
    assert recorded(server) == ["001", "002"]
    assert "three" not in tables(server)

    undone = await migrator.rollback_to("0")
    assert [r.migration.id for r in undone] == ["002", "001"]
    assert recorded(server) == []
    assert not {"one", "two"} & tables(server)
    assert leases(server) == []
    assert (await migrator.validate_migrations()).is_valid


async def test_rollback_keeps_the_schema_fingerprint_valid(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    migrator = Migrator(remote, SIMPLE)
    await migrator.migrate()
    await migrator.rollback_to("001")

    validation = await migrator.validate_migrations()
    assert validation.is_valid, validation.errors
    assert (await migrator.get_applied())[-1].schema_fingerprint is not None


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


async def test_a_rebuild_leaving_dangling_keys_is_rolled_back_whole(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    parent = m(1, ["CREATE TABLE parent (id INTEGER PRIMARY KEY)"], ["DROP TABLE parent"])
    child = m(
        2,
        ["CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))"],
        ["DROP TABLE child"],
    )
    # Rebuilds parent without the row its child refers to: foreign_key_check must refuse it.
    lossy = m(
        3,
        [
            "CREATE TABLE parent_new (id INTEGER PRIMARY KEY)",
            "INSERT INTO parent_new SELECT id FROM parent WHERE id > 1",
            "DROP TABLE parent",
            "ALTER TABLE parent_new RENAME TO parent",
        ],
        foreign_keys=False,
    )
    migrator = Migrator(remote, [parent, child])
    await migrator.migrate()
    await remote.execute("INSERT INTO parent (id) VALUES (1)")
    await remote.execute("INSERT INTO child (id, parent_id) VALUES (10, 1)")

    with pytest.raises(MigrationError, match="foreign key"):
        await Migrator(remote, [parent, child, lossy]).migrate()
    assert recorded(server) == ["001", "002"]
    assert await remote.fetch_all("SELECT id FROM parent") == [{"id": 1}]
    assert "parent_new" not in tables(server)
    assert leases(server) == []


async def test_rehearse_changes_nothing(server: SqldServer, remote: LibsqlDatabase) -> None:
    results = await Migrator(remote, SIMPLE).migrate(rehearse=True)

    assert [r.migration.id for r in results] == ["001", "002", "003"]
    assert all(r.dry_run and r.success for r in results)
    assert not {"one", "two", "three"} & tables(server)
    assert recorded(server) == []


async def test_a_failing_rehearsal_names_the_failing_migration(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    broken = m(2, ["CREATE TABLE two (id INTEGER PRIMARY KEY)", "DROP TABLE missing"])

    with pytest.raises(MigrationError) as caught:
        await Migrator(remote, [SIMPLE[0], broken, SIMPLE[2]]).migrate(rehearse=True)

    assert caught.value.failed is not None
    assert caught.value.failed.migration.id == "002"
    assert "missing" in str(caught.value)
    assert not {"one", "two", "three"} & tables(server)


async def test_dry_run_and_summary_read_without_changing(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    migrator = Migrator(remote, SIMPLE)
    await migrator.migrate(limit=1)

    planned = await migrator.migrate(dry_run=True)
    summary = await migrator.get_migration_summary()

    assert [r.migration.id for r in planned] == ["002", "003"]
    assert summary.current_version == "001"
    assert summary.pending_migration_ids == ["002", "003"]
    assert recorded(server) == ["001"]


async def test_validate_reports_a_schema_changed_outside_migrations(
    server: SqldServer, remote: LibsqlDatabase
) -> None:
    migrator = Migrator(remote, SIMPLE)
    await migrator.migrate()
    assert (await migrator.validate_migrations()).is_valid

    await remote.execute("CREATE TABLE added_by_hand (id INTEGER)")

    validation = await migrator.validate_migrations()
    assert not validation.is_valid
    assert any("changed outside migrations" in error for error in validation.errors)


# --- non-transactional migrations and repair, on both transports ---------------------------------


async def test_a_non_transactional_migration_runs_and_rolls_back(
    server: SqldServer, transport: str
) -> None:
    outside = m(
        2, ["CREATE TABLE outside (id INTEGER)"], ["DROP TABLE outside"], transactional=False
    )
    async with agentsdb.connect(url_of(server, transport)) as db:
        results = await Migrator(db, [SIMPLE[0], outside]).migrate()
        assert [r.migration.id for r in results] == ["001", "002"]
        assert "outside" in tables(server)
        row = query(
            server, "SELECT success, chain IS NOT NULL FROM agentsdb_migrations WHERE id = '002'"
        )
        assert row == [(1, 1)]
        assert await Migrator(db, [SIMPLE[0], outside]).migrate() == []

        undone = await Migrator(db, [SIMPLE[0], outside]).rollback_last()
        assert undone.success
        assert "outside" not in tables(server)
        assert recorded(server) == ["001"]
    assert leases(server) == []


async def test_a_failed_non_transactional_migration_stays_dirty_until_repaired(
    server: SqldServer, transport: str
) -> None:
    failing = m(2, ["CREATE TABLE half (id INTEGER)", "DROP TABLE missing"], transactional=False)
    fixed = m(2, ["CREATE TABLE IF NOT EXISTS half (id INTEGER)"], transactional=False)
    async with agentsdb.connect(url_of(server, transport)) as db:
        with pytest.raises(MigrationError, match="dirty") as failed:
            await Migrator(db, [SIMPLE[0], failing]).migrate()
        assert [r.success for r in failed.value.results] == [True, False]
        # The statement before the failure stays: it ran on its own.
        assert "half" in tables(server)
        assert query(server, "SELECT success FROM agentsdb_migrations WHERE id = '002'") == [(0,)]
        with pytest.raises(agentsdb.DirtyMigrationError, match="repair 002"):
            await Migrator(db, [SIMPLE[0], fixed]).migrate()

        await Migrator(db, [SIMPLE[0], fixed]).repair("002", mark_applied=False)
        assert recorded(server) == ["001"]
        results = await Migrator(db, [SIMPLE[0], fixed]).migrate()
        assert [r.migration.id for r in results] == ["002"]
    assert recorded(server) == ["001", "002"]
    assert leases(server) == []


async def test_repair_marks_a_dirty_migration_applied_with_the_codes_checksum(
    server: SqldServer, transport: str
) -> None:
    failing = m(2, ["CREATE TABLE half (id INTEGER)", "DROP TABLE missing"], transactional=False)
    async with agentsdb.connect(url_of(server, transport)) as db:
        with pytest.raises(MigrationError, match="dirty"):
            await Migrator(db, [SIMPLE[0], failing]).migrate()
        migrator = Migrator(db, [SIMPLE[0], failing])
        with pytest.raises(agentsdb.RepairError, match="recorded as applied"):
            await migrator.repair("001", mark_applied=True)
        with pytest.raises(agentsdb.RepairError, match="no record"):
            await migrator.repair("009", mark_applied=False)
        await migrator.repair("002", mark_applied=True)
        # Applied and consistent: nothing pending, validation passes, the digest chains on.
        assert await Migrator(db, [SIMPLE[0], failing]).migrate() == []
        assert (await Migrator(db, [SIMPLE[0], failing]).validate_migrations()).is_valid
        extended = [SIMPLE[0], failing, SIMPLE[2]]
        assert [r.migration.id for r in await Migrator(db, extended).migrate()] == ["003"]
    assert query(server, "SELECT success FROM agentsdb_migrations WHERE id = '002'") == [(1,)]
    assert leases(server) == []


async def test_repair_on_a_database_never_migrated_says_so(
    server: SqldServer, transport: str
) -> None:
    async with agentsdb.connect(url_of(server, transport)) as db:
        with pytest.raises(agentsdb.RepairError, match="no migration tracking table"):
            await Migrator(db, SIMPLE).repair("001", mark_applied=False)
    assert leases(server) == []
