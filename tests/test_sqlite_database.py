"""The SQLite connection layer on real temp files: URLs, PRAGMAs, statements, transactions,
error translation, locking and programs."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agentsdb
from agentsdb import (
    AgentsDBError,
    CheckViolationError,
    ConfigurationError,
    ConnectionClosedError,
    Database,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
    UnsupportedBackendError,
    UnsupportedOperationError,
)
from agentsdb.db.base import (
    Begin,
    Commit,
    Execute,
    FetchAll,
    FetchOne,
    Program,
    Rollback,
    Transaction,
)
from agentsdb.db.url import obscure_password, parse_url

SCHEMA = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE child ("
    " id INTEGER PRIMARY KEY,"
    " parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,"
    " qty INTEGER NOT NULL CONSTRAINT qty_positive CHECK (qty > 0))",
]


async def create_schema(db: Database) -> None:
    for statement in SCHEMA:
        await db.execute(statement)


async def count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT count(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


def entries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def raw_count(path: Path, table: str) -> int:
    """Count rows through a separate plain sqlite3 connection (what another process sees)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def schema_db_path(db_path: Path) -> Path:
    conn = sqlite3.connect(db_path, isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.close()
    return db_path


@pytest.fixture
def write_lock_holder(schema_db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the database's write lock until the test ends."""
    conn = sqlite3.connect(schema_db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO parent (name) VALUES ('held')")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


# --- connecting and PRAGMAs ----------------------------------------------------------------------


async def pragma(db: Database, name: str) -> Any:
    row = await db.fetch_one(f"PRAGMA {name}")
    assert row is not None
    return next(iter(row.values()))


async def test_file_connection_sets_foreign_keys_wal_synchronous_and_busy_timeout(
    db: Database,
) -> None:
    assert await pragma(db, "foreign_keys") == 1
    assert await pragma(db, "journal_mode") == "wal"
    assert await pragma(db, "synchronous") == 1  # NORMAL
    assert await pragma(db, "busy_timeout") == 5000
    assert db.dialect == "sqlite"


async def test_busy_timeout_is_an_option_in_seconds(db_path: Path) -> None:
    async with agentsdb.connect(str(db_path), busy_timeout=0.25) as db:
        assert await pragma(db, "busy_timeout") == 250


@pytest.mark.parametrize("options", [{"busy_timeout": -1}, {"busy_timeout": "5"}, {"pool": 3}])
async def test_bad_connection_options_are_configuration_errors(
    db_path: Path, options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError):
        await agentsdb.connect(str(db_path), **options)
    assert entries(db_path.parent) == []


async def test_memory_database_has_foreign_keys_and_no_wal() -> None:
    async with agentsdb.connect(":memory:") as db:
        assert await pragma(db, "foreign_keys") == 1
        assert await pragma(db, "journal_mode") == "memory"


async def test_pragmas_survive_transactions_and_programs(db: Database) -> None:
    await create_schema(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('a')")
    await db.run(single_select())
    assert await pragma(db, "foreign_keys") == 1
    assert await pragma(db, "journal_mode") == "wal"


def single_select() -> Program[int]:
    row = yield FetchOne("SELECT 1 AS one")
    return int(row["one"])


async def test_connect_can_be_awaited_and_closed_explicitly(db_path: Path) -> None:
    db = await agentsdb.connect(str(db_path))
    try:
        assert await db.fetch_one("SELECT 2 AS two") == {"two": 2}
    finally:
        await db.close()
    await db.close()  # closing twice is harmless
    with pytest.raises(ConnectionClosedError):
        await db.fetch_one("SELECT 1")


async def test_async_with_closes_the_database_on_exit(db_path: Path) -> None:
    async with agentsdb.connect(str(db_path)) as db:
        await db.execute("CREATE TABLE t (x)")
    with pytest.raises(ConnectionClosedError):
        await db.execute("INSERT INTO t VALUES (1)")


async def test_every_operation_after_close_raises_connection_closed(db: Database) -> None:
    await db.close()
    with pytest.raises(ConnectionClosedError, match="closed"):
        await db.execute("SELECT 1")
    with pytest.raises(ConnectionClosedError):
        await db.fetch_all("SELECT 1")
    with pytest.raises(ConnectionClosedError):
        await db.execute_many("SELECT :x", [{"x": 1}])
    with pytest.raises(ConnectionClosedError):
        await db.run(single_select())
    with pytest.raises(ConnectionClosedError):
        async with db.transaction():
            pass


# --- URLs ----------------------------------------------------------------------------------------


async def database_file_of(db: Database) -> Path:
    rows = await db.fetch_all("PRAGMA database_list")
    return Path(next(row["file"] for row in rows if row["name"] == "main"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("agents.db", "agents.db"),
        ("sub/x.db", "sub/x.db"),
        ("sqlite:///rel.db", "rel.db"),
        ("sqlite:///sub/rel.db", "sub/rel.db"),
        ("file:uri.db", "uri.db"),
        ("file:uri2.db?mode=rwc", "uri2.db"),
    ],
)
async def test_relative_urls_open_files_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    async with agentsdb.connect(url) as db:
        await db.execute("CREATE TABLE t (x)")
        assert await database_file_of(db) == tmp_path / expected
        assert await pragma(db, "journal_mode") == "wal"
    assert (tmp_path / expected).is_file()


async def test_absolute_sqlite_url_has_four_slashes(tmp_path: Path) -> None:
    target = tmp_path / "abs.db"
    async with agentsdb.connect(f"sqlite:///{target}") as db:  # target starts with "/"
        await db.execute("CREATE TABLE t (x)")
        assert await database_file_of(db) == target
    assert f"sqlite:///{target}".startswith("sqlite:////")
    assert target.is_file()


@pytest.mark.parametrize(
    "url", [":memory:", "sqlite://", "sqlite:///:memory:", "file::memory:", "file:mem?mode=memory"]
)
async def test_memory_urls_open_private_memory_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    async with agentsdb.connect(url) as db:
        await db.execute("CREATE TABLE t (x)")
        await db.execute("INSERT INTO t VALUES (1)")
        assert await count(db, "t") == 1
        assert await pragma(db, "journal_mode") == "memory"
    assert entries(tmp_path) == []


async def test_without_url_agentsdb_url_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSDB_URL", f"sqlite:///{tmp_path / 'from_env.db'}")
    async with agentsdb.connect() as db:
        await db.execute("CREATE TABLE t (x)")
    assert (tmp_path / "from_env.db").is_file()
    assert not (tmp_path / "agents.db").exists()


async def test_without_url_or_environment_agents_db_in_the_working_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTSDB_URL", raising=False)
    async with agentsdb.connect() as db:
        await db.execute("CREATE TABLE t (x)")
        assert db.url == "agents.db"
    assert (tmp_path / "agents.db").is_file()


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("postgresql://app:s3cret@db.example:5432/agents", "agentsdb[postgres]"),
        ("postgres://app:s3cret@localhost/agents", "agentsdb[postgres]"),
        ("libsql://app:s3cret@agents.turso.io", "agentsdb[libsql]"),
        ("wss://app:s3cret@agents.turso.io", "agentsdb[libsql]"),
        ("https://app:s3cret@agents.turso.io", "agentsdb[libsql]"),
        ("ws://localhost:8080", "agentsdb[libsql]"),
    ],
)
async def test_backend_without_its_driver_raises_unsupported_backend_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, extra: str
) -> None:
    # As on an installation without the extra: importing the driver fails.
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.setitem(sys.modules, "libsql_client", None)
    with pytest.raises(UnsupportedBackendError) as caught:
        await agentsdb.connect(url)
    message = str(caught.value)
    assert extra in message
    assert "s3cret" not in message
    assert "s3cret" not in caught.value.url
    if "s3cret" in url:
        assert "***" in caught.value.url


async def test_unknown_scheme_is_unsupported_and_hides_the_password() -> None:
    with pytest.raises(UnsupportedBackendError, match="unknown scheme 'mysql'") as caught:
        await agentsdb.connect("mysql://root:hunter2@localhost/db")
    assert "hunter2" not in str(caught.value)
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, AgentsDBError)


async def test_sqlite_url_with_two_slashes_is_rejected_with_the_right_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsupportedBackendError, match="three slashes"):
        await agentsdb.connect("sqlite://agents.db")
    assert entries(tmp_path) == []


def test_parse_url_maps_schemes_to_backends() -> None:
    assert parse_url("agents.db").backend == "sqlite"
    assert parse_url("sqlite:////var/x.db").database == "/var/x.db"
    assert parse_url("sqlite:///x.db").database == "x.db"
    assert parse_url("SQLITE:///x.db").database == "x.db"
    assert parse_url("file:x.db?mode=ro").uri
    assert not parse_url("file:x.db").in_memory
    assert parse_url("file::memory:?cache=shared").in_memory
    assert parse_url("POSTGRESQL://h/db").backend == "postgresql"
    assert parse_url("libsql://h").backend == "libsql"


def test_obscure_password_replaces_only_the_password() -> None:
    shown = obscure_password("postgresql://app:p%40ss@db.example:5433/agents?sslmode=require")
    assert shown == "postgresql://app:***@db.example:5433/agents?sslmode=require"
    assert obscure_password("postgresql://app@h/db") == "postgresql://app@h/db"
    assert obscure_password("agents.db") == "agents.db"


# --- statements ----------------------------------------------------------------------------------


async def test_execute_reports_rows_affected_and_last_insert_id(db: Database) -> None:
    await create_schema(db)
    first = await db.execute("INSERT INTO parent (name) VALUES (:name)", {"name": "a"})
    second = await db.execute("INSERT INTO parent (name) VALUES (:name)", {"name": "b"})
    assert (first.rows_affected, first.last_insert_id) == (1, 1)
    assert (second.rows_affected, second.last_insert_id) == (1, 2)
    updated = await db.execute("UPDATE parent SET name = name || '!'")
    assert updated.rows_affected == 2
    nothing = await db.execute("DELETE FROM parent WHERE id = :id", {"id": 99})
    assert nothing.rows_affected == 0
    created = await db.execute("CREATE TABLE other (x)")
    assert created.rows_affected == 0


async def test_last_insert_id_only_for_inserts_and_with_clause_writes_count_rows(
    db: Database,
) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (name) VALUES ('a')")
    update = await db.execute("UPDATE parent SET name = 'b' WHERE id = 1")
    delete = await db.execute("DELETE FROM parent WHERE id = 1")
    select = await db.execute("SELECT 1")
    assert update.last_insert_id is None
    assert delete.last_insert_id is None
    assert select.last_insert_id is None
    replaced = await db.execute("REPLACE INTO parent (id, name) VALUES (7, 'c')")
    assert replaced.last_insert_id == 7
    with_cte = await db.execute(
        "WITH names(n) AS (SELECT 'd' UNION ALL SELECT 'e') "
        "INSERT INTO parent (name) SELECT n FROM names"
    )
    assert (with_cte.rows_affected, with_cte.last_insert_id) == (2, 9)
    ignored = await db.execute("INSERT OR IGNORE INTO parent (id, name) VALUES (7, 'c')")
    assert (ignored.rows_affected, ignored.last_insert_id) == (0, None)
    with_update = await db.execute(
        "WITH doomed(id) AS (SELECT id FROM parent WHERE name IN ('d', 'e')) "
        "UPDATE parent SET name = name || ' (x)' WHERE id IN (SELECT id FROM doomed)"
    )
    assert (with_update.rows_affected, with_update.last_insert_id) == (2, None)
    with_select = await db.execute("WITH one(x) AS (SELECT 1) SELECT x FROM one")
    assert (with_select.rows_affected, with_select.last_insert_id) == (0, None)


async def test_fetch_all_and_fetch_one_return_mapping_rows(db: Database) -> None:
    await create_schema(db)
    for name in ("a", "b", "c"):
        await db.execute("INSERT INTO parent (name) VALUES (:name)", {"name": name})
    rows = await db.fetch_all(
        "SELECT id, name FROM parent WHERE name > :after ORDER BY id", {"after": "a"}
    )
    assert rows == [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    assert await db.fetch_one("SELECT name FROM parent ORDER BY id DESC") == {"name": "c"}
    assert await db.fetch_one("SELECT name FROM parent WHERE id = :id", {"id": 42}) is None
    assert await db.fetch_all("SELECT name FROM parent WHERE id = 42") == []


async def test_execute_many_inserts_every_row_in_one_transaction(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)
    result = await db.execute_many(
        "INSERT INTO parent (name) VALUES (:name)", [{"name": f"n{i}"} for i in range(500)]
    )
    assert result.rows_affected == 500
    assert raw_count(db_path, "parent") == 500


async def test_execute_many_is_all_or_nothing(db: Database, db_path: Path) -> None:
    await create_schema(db)
    with pytest.raises(UniqueViolationError):
        await db.execute_many(
            "INSERT INTO parent (name) VALUES (:name)",
            [{"name": "x"}, {"name": "y"}, {"name": "x"}],
        )
    assert raw_count(db_path, "parent") == 0
    assert await count(db, "parent") == 0


# --- transactions --------------------------------------------------------------------------------


async def test_transaction_commits_on_success_and_is_invisible_until_then(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('a')")
        assert await tx.fetch_one("SELECT name FROM parent") == {"name": "a"}
        assert raw_count(db_path, "parent") == 0  # another connection reads the old snapshot
    assert raw_count(db_path, "parent") == 1


async def test_transaction_rolls_back_when_its_block_raises(db: Database, db_path: Path) -> None:
    await create_schema(db)

    class Boom(Exception):
        pass

    async def write_then_fail() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('a')")
            await tx.execute("CREATE TABLE made_in_tx (x)")
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()
    assert await count(db, "parent") == 0
    assert raw_count(db_path, "parent") == 0
    assert await db.fetch_one("SELECT name FROM sqlite_master WHERE name = 'made_in_tx'") is None


async def test_failed_savepoint_is_undone_alone_and_outer_work_is_kept(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)

    async def duplicate_in_savepoint(tx: Transaction) -> None:
        async with tx.transaction() as inner:
            await inner.execute("INSERT INTO parent (name) VALUES ('inner')")
            await inner.execute("INSERT INTO parent (name) VALUES ('outer')")

    async def fail_in_savepoint(tx: Transaction) -> None:
        async with tx.transaction() as deeper:
            await deeper.execute("INSERT INTO parent (name) VALUES ('deeper')")
            raise ValueError("deeper")

    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('outer')")
        with pytest.raises(UniqueViolationError):
            await duplicate_in_savepoint(tx)
        async with tx.transaction() as kept:
            await kept.execute("INSERT INTO parent (name) VALUES ('kept')")
            with pytest.raises(ValueError, match="deeper"):
                await fail_in_savepoint(kept)
        await tx.execute("INSERT INTO parent (name) VALUES ('after')")
    conn = sqlite3.connect(db_path)
    names = [row[0] for row in conn.execute("SELECT name FROM parent ORDER BY id")]
    conn.close()
    assert names == ["outer", "kept", "after"]


async def test_transaction_object_cannot_be_used_after_its_block(db: Database) -> None:
    await create_schema(db)
    async with db.transaction() as tx:
        pass
    with pytest.raises(UnsupportedOperationError, match="already ended"):
        await tx.execute("INSERT INTO parent (name) VALUES ('late')")


async def test_database_methods_inside_own_transaction_raise_instead_of_deadlocking(
    db: Database,
) -> None:
    await create_schema(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('a')")
        # asyncio.timeout, not wait_for: the call must stay in this task to be recognised.
        async with asyncio.timeout(5):
            with pytest.raises(UnsupportedOperationError, match="through the transaction object"):
                await db.execute("INSERT INTO parent (name) VALUES ('b')")
            with pytest.raises(UnsupportedOperationError):
                await db.fetch_one("SELECT 1")
            with pytest.raises(UnsupportedOperationError):
                await db.execute_many("INSERT INTO parent (name) VALUES (:n)", [{"n": "c"}])
            with pytest.raises(UnsupportedOperationError):
                await db.run(single_select())
            with pytest.raises(UnsupportedOperationError):
                async with db.transaction():
                    pass
        await tx.execute("INSERT INTO parent (name) VALUES ('d')")
    rows = await db.fetch_all("SELECT name FROM parent ORDER BY id")
    assert [row["name"] for row in rows] == ["a", "d"]


async def test_close_inside_own_transaction_raises_instead_of_deadlocking(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('kept')")
        async with asyncio.timeout(5):
            with pytest.raises(UnsupportedOperationError, match="close"):
                await db.close()
    assert raw_count(db_path, "parent") == 1
    await db.close()
    with pytest.raises(ConnectionClosedError):
        await db.fetch_one("SELECT 1")


async def test_other_tasks_wait_for_the_open_transaction(db: Database) -> None:
    await create_schema(db)
    order: list[str] = []

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('first')")
            order.append("tx-open")
            await asyncio.sleep(0.2)
            order.append("tx-commit")

    async def other() -> None:
        await asyncio.sleep(0.05)
        await db.execute("INSERT INTO parent (name) VALUES ('second')")
        order.append("other")

    await asyncio.wait_for(asyncio.gather(writer(), other()), 10)
    assert order == ["tx-open", "tx-commit", "other"]
    rows = await db.fetch_all("SELECT name FROM parent ORDER BY id")
    assert [row["name"] for row in rows] == ["first", "second"]


async def test_failed_commit_rolls_back_and_leaves_the_connection_usable(
    db: Database, db_path: Path
) -> None:
    await db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    await db.execute(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, "
        "p_id INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(ForeignKeyViolationError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO c (p_id) VALUES (42)")  # checked at COMMIT
    assert await count(db, "c") == 0
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO p (id) VALUES (1)")
        await tx.execute("INSERT INTO c (p_id) VALUES (1)")
    assert raw_count(db_path, "c") == 1


# --- error translation ---------------------------------------------------------------------------


async def test_unique_violation_is_translated_with_constraint_and_cause(db: Database) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (name) VALUES ('a')")
    sql = "INSERT INTO parent (name) VALUES ('a')"
    with pytest.raises(UniqueViolationError) as caught:
        await db.execute(sql)
    error = caught.value
    assert error.constraint == "parent.name"
    assert error.sql == sql
    assert isinstance(error, IntegrityError)
    assert isinstance(error, DatabaseError)
    assert isinstance(error.__cause__, sqlite3.IntegrityError)
    assert "UNIQUE constraint failed" in str(error)


async def test_primary_key_violation_is_a_unique_violation(db: Database) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
    with pytest.raises(UniqueViolationError) as caught:
        await db.execute("INSERT INTO parent (id, name) VALUES (1, 'b')")
    assert caught.value.constraint == "parent.id"


async def test_foreign_key_violation_is_translated(db: Database) -> None:
    await create_schema(db)
    with pytest.raises(ForeignKeyViolationError) as caught:
        await db.execute("INSERT INTO child (parent_id, qty) VALUES (99, 1)")
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert await count(db, "child") == 0


async def test_foreign_key_cascade_fires(db: Database) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
    await db.execute("INSERT INTO child (parent_id, qty) VALUES (1, 1)")
    await db.execute("DELETE FROM parent WHERE id = 1")
    assert await count(db, "child") == 0


async def test_check_and_not_null_violations_are_check_violations(db: Database) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
    with pytest.raises(CheckViolationError) as check:
        await db.execute("INSERT INTO child (parent_id, qty) VALUES (1, 0)")
    assert check.value.constraint == "qty_positive"
    assert isinstance(check.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(CheckViolationError) as not_null:
        await db.execute("INSERT INTO parent (name) VALUES (NULL)")
    assert not_null.value.constraint == "parent.name"


async def test_errors_inside_transactions_and_programs_are_translated_too(db: Database) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (name) VALUES ('a')")
    with pytest.raises(UniqueViolationError) as in_tx:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('a')")
    assert isinstance(in_tx.value.__cause__, sqlite3.IntegrityError)

    def program() -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")
        yield Commit()

    with pytest.raises(UniqueViolationError) as in_program:
        await db.run(program())
    assert isinstance(in_program.value.__cause__, sqlite3.IntegrityError)
    assert in_program.value.constraint == "parent.name"


async def test_bad_sql_is_a_database_error_carrying_the_statement(db: Database) -> None:
    with pytest.raises(DatabaseError) as caught:
        await db.execute("SELEC nothing")
    assert type(caught.value) is DatabaseError
    assert caught.value.sql == "SELEC nothing"
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert "SELEC nothing" in str(caught.value)


# --- locking -------------------------------------------------------------------------------------


async def test_write_blocked_past_busy_timeout_raises_database_busy(
    schema_db_path: Path, write_lock_holder: sqlite3.Connection
) -> None:
    async with agentsdb.connect(str(schema_db_path), busy_timeout=0.2) as db:
        started = time.monotonic()
        with pytest.raises(DatabaseBusyError, match="busy_timeout") as caught:
            await db.execute("INSERT INTO parent (name) VALUES ('mine')")
        waited = time.monotonic() - started
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert 0.15 <= waited < 3
        with pytest.raises(DatabaseBusyError):
            async with db.transaction():
                pass
        # Readers are not blocked by the writer (WAL), and see only committed data.
        assert await count(db, "parent") == 0
    write_lock_holder.execute("COMMIT")
    assert raw_count(schema_db_path, "parent") == 1


async def test_write_lock_held_by_another_process_raises_database_busy(
    schema_db_path: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "locked"
    script = (
        "import sqlite3, sys, time, pathlib\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA journal_mode = WAL')\n"
        "conn.execute('BEGIN IMMEDIATE')\n"
        "pathlib.Path(sys.argv[2]).touch()\n"
        "time.sleep(30)\n"
    )
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(schema_db_path), str(marker)
    )

    async def insert(db: Database) -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('mine')")

    try:
        async with asyncio.timeout(15):
            while not await asyncio.to_thread(marker.exists):
                assert holder.returncode is None, "the lock-holding process died"
                await asyncio.sleep(0.02)
        async with agentsdb.connect(str(schema_db_path), busy_timeout=0.3) as db:
            with pytest.raises(DatabaseBusyError):
                await insert(db)
            holder.kill()
            await holder.wait()
            await insert(db)
        assert raw_count(schema_db_path, "parent") == 1
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


def begin_with_lock_timeout(lock_timeout: float) -> Program[int]:
    yield Begin(lock_timeout)
    yield Execute("INSERT INTO parent (name) VALUES ('waited')")
    row = yield FetchOne("SELECT count(*) AS n FROM parent")
    yield Commit()
    return int(row["n"])


async def test_begin_with_lock_timeout_waits_past_the_busy_timeout(
    schema_db_path: Path, write_lock_holder: sqlite3.Connection
) -> None:
    async with agentsdb.connect(str(schema_db_path), busy_timeout=0.05) as db:
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, write_lock_holder.execute, "COMMIT")
        started = time.monotonic()
        assert await db.run(begin_with_lock_timeout(10.0)) == 2
        assert time.monotonic() - started >= 0.4


async def test_begin_gives_up_when_the_lock_timeout_passes(
    schema_db_path: Path, write_lock_holder: sqlite3.Connection
) -> None:
    async with agentsdb.connect(str(schema_db_path), busy_timeout=0.05) as db:
        started = time.monotonic()
        with pytest.raises(DatabaseBusyError):
            await db.run(begin_with_lock_timeout(0.4))
        assert 0.35 <= time.monotonic() - started < 5


# --- programs ------------------------------------------------------------------------------------


async def test_program_receives_each_operation_result_and_returns_its_value(db: Database) -> None:
    await create_schema(db)

    def program() -> Program[tuple[int | None, list[dict[str, Any]]]]:
        yield Begin()
        result = yield Execute("INSERT INTO parent (name) VALUES (:n)", {"n": "a"})
        yield Execute("INSERT INTO parent (name) VALUES (:n)", {"n": "b"})
        rows = yield FetchAll("SELECT name FROM parent ORDER BY id")
        yield Commit()
        return result.last_insert_id, rows

    assert await db.run(program()) == (1, [{"name": "a"}, {"name": "b"}])


async def test_failed_operation_is_thrown_into_the_program_which_may_handle_it(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)
    await db.execute("INSERT INTO parent (name) VALUES ('taken')")

    seen: list[BaseException] = []

    def program() -> Program[str]:
        yield Begin()
        try:
            yield Execute("INSERT INTO parent (name) VALUES ('taken')")
        except UniqueViolationError as error:
            seen.append(error)
            yield Rollback()
            yield Begin()
            yield Execute("INSERT INTO parent (name) VALUES ('fallback')")
            yield Commit()
            return "handled"
        yield Commit()
        return "not raised"

    assert await db.run(program()) == "handled"
    assert raw_count(db_path, "parent") == 2
    (error,) = seen
    assert isinstance(error.__cause__, sqlite3.IntegrityError)


async def test_program_that_raises_has_its_transaction_rolled_back(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)

    def program() -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('lost')")
        raise RuntimeError("program failed")

    with pytest.raises(RuntimeError, match="program failed"):
        await db.run(program())
    assert raw_count(db_path, "parent") == 0
    async with db.transaction() as tx:  # the connection is not left inside a transaction
        await tx.execute("INSERT INTO parent (name) VALUES ('next')")
    assert raw_count(db_path, "parent") == 1


async def test_program_ending_with_open_transaction_is_an_error_and_rolled_back(
    db: Database, db_path: Path
) -> None:
    await create_schema(db)

    def program() -> Program[str]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('forgotten')")
        return "done"

    with pytest.raises(AgentsDBError, match="transaction still open"):
        await db.run(program())
    assert raw_count(db_path, "parent") == 0
    assert await count(db, "parent") == 0


async def test_foreign_keys_are_back_on_after_a_program_switched_them_off(db: Database) -> None:
    await create_schema(db)

    def switch_off(fail: bool) -> Program[int]:
        yield Execute("PRAGMA foreign_keys = OFF")
        row = yield FetchOne("PRAGMA foreign_keys")
        if fail:
            raise RuntimeError("failed with foreign keys off")
        return int(row["foreign_keys"])

    assert await db.run(switch_off(fail=False)) == 0
    assert await pragma(db, "foreign_keys") == 1
    with pytest.raises(RuntimeError):
        await db.run(switch_off(fail=True))
    assert await pragma(db, "foreign_keys") == 1
    with pytest.raises(ForeignKeyViolationError):
        await db.execute("INSERT INTO child (parent_id, qty) VALUES (5, 1)")


async def test_program_yielding_something_else_is_a_type_error(db: Database) -> None:
    def program() -> Program[None]:
        yield "SELECT 1"  # type: ignore[misc]

    with pytest.raises(TypeError, match="not an agentsdb operation"):
        await db.run(program())
