"""The remote libSQL backend: the real libsql-client over real loopback sockets, on ws:// and
http:// URLs, against a real sqld (the session's, wiped; see tests/sqld_server.py).

A few tests run against the Hrana server in tests/hrana_server.py instead, for what sqld cannot
be made to do here: an auth token checked as a plain string (sqld wants signed JWTs), SQLite's
extended error codes (sqld sends only primary ones), and SQLITE_BUSY from a short busy timeout
(sqld makes the waiting writer wait and times the holder's transaction out instead)."""

from __future__ import annotations

import asyncio
import datetime
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import agentsdb
from agentsdb import (
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
    ExecuteMany,
    FetchAll,
    FetchOne,
    Program,
    Rollback,
    Transaction,
)
from agentsdb.db.libsql import LibsqlDatabase

libsql_client = pytest.importorskip(
    "libsql_client", reason="the libSQL tests need agentsdb[libsql]"
)
LibsqlError = libsql_client.LibsqlError

# The server needs aiohttp, which libsql-client depends on: import it only once that is known.
from hrana_server import HranaServer  # noqa: E402
from sqld_server import SqldServer, find_sqld  # noqa: E402

SCHEMA = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE child ("
    " id INTEGER PRIMARY KEY,"
    " parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,"
    " qty INTEGER NOT NULL CONSTRAINT qty_positive CHECK (qty > 0))",
]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "remote.db"


@pytest.fixture
def server(sqld: SqldServer) -> SqldServer:
    """The session's sqld, with an empty database."""
    return sqld


@pytest.fixture
def own_server(sqld_server: SqldServer) -> Iterator[SqldServer]:
    """A sqld of the test's own, for tests that stop it."""
    with SqldServer(find_sqld()) as running:
        yield running


def url_of(server: SqldServer | SqldServer, transport: str) -> str:
    return server.ws_url if transport == "ws" else server.http_url


async def open_libsql(url: str, **options: Any) -> LibsqlDatabase:
    db = await agentsdb.connect(url, **options)
    assert isinstance(db, LibsqlDatabase)
    return db


@pytest.fixture(params=["ws", "http"])
async def remote(
    request: pytest.FixtureRequest, server: SqldServer
) -> AsyncIterator[LibsqlDatabase]:
    """A LibsqlDatabase with the test schema, over each transport in turn."""
    db = await open_libsql(url_of(server, request.param))
    for statement in SCHEMA:
        await db.execute(statement)
    yield db
    await db.close()


@pytest.fixture
async def ws_db(server: SqldServer) -> AsyncIterator[LibsqlDatabase]:
    db = await open_libsql(server.ws_url)
    for statement in SCHEMA:
        await db.execute(statement)
    yield db
    await db.close()


@pytest.fixture
async def http_db(server: SqldServer) -> AsyncIterator[LibsqlDatabase]:
    db = await open_libsql(server.http_url)
    for statement in SCHEMA:
        await db.execute(statement)
    yield db
    await db.close()


def raw_names(server: SqldServer) -> list[str]:
    """The parent names as a separate connection to the server sees them (committed data only)."""
    return [str(row[0]) for row in server.query("SELECT name FROM parent ORDER BY id")]


# --- connecting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_connect_routes_ws_and_http_urls_to_the_libsql_backend(
    server: SqldServer, transport: str
) -> None:
    async with agentsdb.connect(url_of(server, transport)) as db:
        assert isinstance(db, LibsqlDatabase)
        assert isinstance(db, Database)
        assert db.dialect == "sqlite"
        assert db.url == url_of(server, transport)
        assert db.interactive_transactions is (transport == "ws")


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_server_not_listening_raises_database_error_from_the_connection_error(
    own_server: SqldServer, transport: str
) -> None:
    url = url_of(own_server, transport)
    own_server.stop()
    with pytest.raises(DatabaseError, match="cannot reach the libSQL server") as caught:
        await agentsdb.connect(url)
    assert isinstance(caught.value.__cause__, OSError)  # aiohttp's ClientConnectorError


async def test_server_gone_mid_session_raises_database_error_and_not_a_raw_aiohttp_error(
    own_server: SqldServer,
) -> None:
    db = await open_libsql(own_server.ws_url)
    try:
        await db.execute("CREATE TABLE t (x)")
        own_server.stop()
        with pytest.raises(DatabaseError) as caught:
            await db.fetch_all("SELECT x FROM t")
        assert caught.value.__cause__ is not None
    finally:
        await db.close()


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_auth_token_option_is_sent_and_a_wrong_one_is_rejected(
    database_file: Path, transport: str
) -> None:
    with HranaServer(database_file, auth_token="t0ken") as server:
        url = url_of(server, transport)
        async with agentsdb.connect(url, auth_token="t0ken") as db:
            assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}
        with pytest.raises(DatabaseError) as caught:
            await agentsdb.connect(url, auth_token="wrong")
        assert isinstance(caught.value.__cause__, LibsqlError)


async def test_auth_token_in_the_url_is_hidden_from_url_and_messages(server: SqldServer) -> None:
    async with agentsdb.connect(f"{server.ws_url}?authToken=s3cret") as db:
        assert "s3cret" not in db.url
        assert "authToken=***" in db.url
        assert "s3cret" not in repr(db)


async def test_unknown_options_are_configuration_errors(server: SqldServer) -> None:
    with pytest.raises(ConfigurationError, match="busy_timeout"):
        await agentsdb.connect(server.ws_url, busy_timeout=3)
    with pytest.raises(ConfigurationError, match="auth_token must be a string"):
        await agentsdb.connect(server.ws_url, auth_token=123)


async def test_bad_url_query_is_a_configuration_error(server: SqldServer) -> None:
    with pytest.raises(ConfigurationError, match="nope"):
        await agentsdb.connect(f"{server.ws_url}?nope=1")


async def test_missing_libsql_client_raises_unsupported_backend_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "libsql_client", None)
    with pytest.raises(
        UnsupportedBackendError, match=r"pip install 'agentsdb\[libsql\]'"
    ) as caught:
        await agentsdb.connect("libsql://app:s3cret@127.0.0.1:9")
    assert "s3cret" not in str(caught.value)


async def test_libsql_url_uses_the_websocket_and_supports_transactions(server: SqldServer) -> None:
    # libsql:// means wss:// by default; ?tls=0 (with an explicit port) means ws://.
    async with agentsdb.connect(f"libsql://127.0.0.1:{server.port}?tls=0") as db:
        assert isinstance(db, LibsqlDatabase)
        assert db.interactive_transactions
        await db.execute("CREATE TABLE t (x)")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
        assert await db.fetch_all("SELECT x FROM t") == [{"x": 1}]


# --- statements -----------------------------------------------------------------------------------


async def test_execute_reports_rows_affected_and_last_insert_id(remote: LibsqlDatabase) -> None:
    first = await remote.execute("INSERT INTO parent (name) VALUES (:name)", {"name": "a"})
    second = await remote.execute("INSERT INTO parent (name) VALUES (:name)", {"name": "b"})
    assert (first.rows_affected, first.last_insert_id) == (1, 1)
    assert (second.rows_affected, second.last_insert_id) == (1, 2)
    updated = await remote.execute("UPDATE parent SET name = name || '!'")
    assert updated.rows_affected == 2


async def test_fetch_returns_dict_rows_and_every_value_type_round_trips(
    remote: LibsqlDatabase,
) -> None:
    await remote.execute("CREATE TABLE kinds (i INTEGER, f REAL, t TEXT, b BLOB, n)")
    values = {"i": 2**62, "f": 1.5, "t": "héllo ';--", "b": b"\x00\xffbin", "n": None}
    await remote.execute("INSERT INTO kinds VALUES (:i, :f, :t, :b, :n)", values)
    assert await remote.fetch_all("SELECT * FROM kinds") == [values]
    assert await remote.fetch_one("SELECT * FROM kinds WHERE i = :i", {"i": 2**62}) == values
    assert await remote.fetch_one("SELECT * FROM kinds WHERE i = 0") is None


async def test_parameters_are_adapted_like_sqlite3_adapts_them(remote: LibsqlDatabase) -> None:
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    row = await remote.fetch_one(
        "SELECT :flag AS flag, :moment AS moment, :day AS day, :raw AS raw",
        {"flag": True, "moment": moment, "day": moment.date(), "raw": bytearray(b"ab")},
    )
    assert row == {
        "flag": 1,
        "moment": "2024-05-06 07:08:09.123456",
        "day": "2024-05-06",
        "raw": b"ab",
    }


async def test_unsupported_parameter_values_raise_database_error(remote: LibsqlDatabase) -> None:
    with pytest.raises(DatabaseError, match="type object"):
        await remote.execute("SELECT :x", {"x": object()})
    with pytest.raises(DatabaseError, match="64-bit"):
        await remote.execute("SELECT :x", {"x": 2**64})
    with pytest.raises(DatabaseError, match="finite"):
        await remote.execute("SELECT :x", {"x": float("nan")})


async def test_parameters_the_statement_does_not_use_are_not_sent(
    remote: LibsqlDatabase,
) -> None:
    # The server rejects unused named arguments (ARGS_INVALID, as sqld does); the backend sends
    # only the names a statement uses, so one mapping serves several statements, as elsewhere.
    assert await remote.fetch_one("SELECT :a AS a", {"a": 1, "unused": 2}) == {"a": 1}
    assert await remote.fetch_one("SELECT ':unused' AS a", {"unused": 2}) == {"a": ":unused"}


async def test_the_server_rejects_unused_named_arguments_like_sqld(server: SqldServer) -> None:
    client = libsql_client.create_client(server.http_url)
    try:
        with pytest.raises(LibsqlError, match="ARGS_INVALID"):
            await client.execute("SELECT :a AS a", {"a": 1, "unused": 2})
    finally:
        await client.close()


async def test_execute_many_inserts_every_row_and_sums_rows_affected(
    remote: LibsqlDatabase,
) -> None:
    result = await remote.execute_many(
        "INSERT INTO parent (name) VALUES (:name)", [{"name": n} for n in "abc"]
    )
    assert result.rows_affected == 3
    assert result.last_insert_id == 3
    assert await remote.execute_many("INSERT INTO parent (name) VALUES (:name)", []) == (
        agentsdb.ExecuteResult(0)
    )


async def test_execute_many_is_all_or_nothing(remote: LibsqlDatabase, server: SqldServer) -> None:
    with pytest.raises(UniqueViolationError):
        await remote.execute_many(
            "INSERT INTO parent (name) VALUES (:name)", [{"name": "a"}, {"name": "a"}]
        )
    assert raw_names(server) == []


async def test_execute_batch_runs_statements_and_returns_one_result_each(
    remote: LibsqlDatabase, server: SqldServer
) -> None:
    results = await remote.execute_batch(
        [
            ("INSERT INTO parent (name) VALUES (:name)", {"name": "a"}),
            ("INSERT INTO parent (name) VALUES ('b')", None),
            ("UPDATE parent SET name = upper(name)", None),
        ]
    )
    assert [r.rows_affected for r in results] == [1, 1, 2]
    assert results[1].last_insert_id == 2
    assert raw_names(server) == ["A", "B"]
    assert await remote.execute_batch([]) == []


async def test_execute_batch_leaves_nothing_behind_when_a_statement_fails(
    remote: LibsqlDatabase, server: SqldServer
) -> None:
    with pytest.raises(CheckViolationError) as caught:
        await remote.execute_batch(
            [
                ("CREATE TABLE made_in_batch (x)", None),
                ("INSERT INTO parent (name) VALUES ('kept?')", None),
                ("INSERT INTO child (parent_id, qty) VALUES (1, 0)", None),
            ]
        )
    assert isinstance(caught.value.__cause__, LibsqlError)
    assert raw_names(server) == []
    tables = await remote.fetch_all("SELECT name FROM sqlite_master WHERE name = 'made_in_batch'")
    assert tables == []


REBUILD_PARENT = [
    (
        "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT)",
        None,
    ),
    ("INSERT INTO parent_new (id, name) SELECT id, name FROM parent", None),
    ("DROP TABLE parent", None),
    ("ALTER TABLE parent_new RENAME TO parent", None),
]


async def seed_family(db: LibsqlDatabase) -> None:
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
    await db.execute("INSERT INTO child (parent_id, qty) VALUES (1, 2), (1, 3)")


async def test_a_rebuild_with_foreign_keys_on_cascades_into_the_children(
    remote: LibsqlDatabase,
) -> None:
    # Why the keys-off batch exists: the server's connections have foreign keys on, so the
    # DROP TABLE of a plain batch deletes the parent's rows first, and their children with them.
    await seed_family(remote)
    await remote.execute_batch(REBUILD_PARENT)
    assert await remote.fetch_all("SELECT id FROM child") == []


async def test_a_keys_off_batch_rebuilds_a_parent_table_and_keeps_its_children(
    remote: LibsqlDatabase,
) -> None:
    await seed_family(remote)
    # Inside the batch keys are off: a row with no parent goes in, and would fail with them on.
    orphan = ("INSERT INTO child (parent_id, qty) VALUES (99, 1)", None)
    undo = ("DELETE FROM child WHERE parent_id = 99", None)
    results = await remote.execute_batch([*REBUILD_PARENT, orphan, undo], foreign_keys_off=True)
    assert [r.rows_affected for r in results[-2:]] == [1, 1]
    assert await remote.fetch_all("SELECT qty FROM child ORDER BY qty") == [{"qty": 2}, {"qty": 3}]
    assert await remote.fetch_all("SELECT id, note FROM parent") == [{"id": 1, "note": None}]
    # The rebuilt table is a parent again: with keys on (the server's), the cascade fires.
    await remote.execute("DELETE FROM parent WHERE id = 1")
    assert await remote.fetch_all("SELECT id FROM child") == []


async def test_a_failing_keys_off_batch_keeps_nothing_and_raises_the_mapped_error(
    remote: LibsqlDatabase,
) -> None:
    await seed_family(remote)
    with pytest.raises(CheckViolationError) as caught:
        await remote.execute_batch(
            [*REBUILD_PARENT, ("INSERT INTO child (parent_id, qty) VALUES (1, 0)", None)],
            foreign_keys_off=True,
        )
    assert isinstance(caught.value.__cause__, LibsqlError)
    assert await remote.fetch_all("SELECT qty FROM child ORDER BY qty") == [{"qty": 2}, {"qty": 3}]
    columns = await remote.fetch_all("SELECT name FROM pragma_table_info('parent')")
    assert [c["name"] for c in columns] == ["id", "name"]


async def test_program_without_begin_runs_on_both_transports(remote: LibsqlDatabase) -> None:
    def program() -> Program[list[str]]:
        yield Execute("INSERT INTO parent (name) VALUES (:name)", {"name": "a"})
        yield ExecuteMany("INSERT INTO parent (name) VALUES (:name)", [{"name": "b"}])
        one = yield FetchOne("SELECT name FROM parent WHERE name = 'b'")
        rows = yield FetchAll("SELECT name FROM parent ORDER BY id")
        return [one["name"], *(row["name"] for row in rows)]

    assert await remote.run(program()) == ["b", "a", "b"]


async def test_closed_database_raises_connection_closed(remote: LibsqlDatabase) -> None:
    await remote.close()
    await remote.close()  # closing twice is harmless
    with pytest.raises(ConnectionClosedError):
        await remote.execute("SELECT 1")
    with pytest.raises(ConnectionClosedError):
        await remote.execute_batch([("SELECT 1", None)])


# --- errors ---------------------------------------------------------------------------------------


async def test_unique_violation_is_translated_with_code_constraint_and_cause(
    remote: LibsqlDatabase,
) -> None:
    await remote.execute("INSERT INTO parent (name) VALUES ('a')")
    with pytest.raises(UniqueViolationError) as caught:
        await remote.execute("INSERT INTO parent (name) VALUES ('a')")
    error = caught.value
    assert error.constraint == "parent.name"
    assert error.sql == "INSERT INTO parent (name) VALUES ('a')"
    assert "SQLITE_CONSTRAINT_UNIQUE" in str(error)
    assert isinstance(error.__cause__, LibsqlError)
    # The driver's own code is the server's: sqld sends only the primary one.
    assert error.__cause__.code.startswith("SQLITE_CONSTRAINT")


async def assert_constraints_map_to_their_classes(db: LibsqlDatabase, code_prefix: str) -> None:
    for statement in SCHEMA:
        await db.execute(statement)
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
    cases: list[tuple[str, type[IntegrityError], str | None]] = [
        ("INSERT INTO parent (id, name) VALUES (2, 'a')", UniqueViolationError, "parent.name"),
        ("INSERT INTO parent (id, name) VALUES (1, 'b')", UniqueViolationError, "parent.id"),
        ("INSERT INTO child (parent_id, qty) VALUES (99, 1)", ForeignKeyViolationError, None),
        ("INSERT INTO child (parent_id, qty) VALUES (1, 0)", CheckViolationError, "qty_positive"),
        ("INSERT INTO parent (name) VALUES (NULL)", CheckViolationError, "parent.name"),
    ]
    for sql, expected, constraint in cases:
        with pytest.raises(expected) as caught:
            await db.execute(sql)
        assert isinstance(caught.value.__cause__, LibsqlError), sql
        assert caught.value.__cause__.code.startswith(code_prefix), sql
        assert caught.value.constraint == constraint, sql


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_constraint_failures_map_to_their_classes_from_sqlds_primary_codes(
    server: SqldServer, transport: str
) -> None:
    # sqld sends SQLITE_CONSTRAINT alone: the class and the constraint come from the message.
    async with agentsdb.connect(url_of(server, transport)) as db:
        assert isinstance(db, LibsqlDatabase)
        await assert_constraints_map_to_their_classes(db, "SQLITE_CONSTRAINT")


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_constraint_failures_map_to_their_classes_from_extended_codes(
    database_file: Path, transport: str
) -> None:
    with HranaServer(database_file, error_codes="extended") as server:
        async with agentsdb.connect(url_of(server, transport)) as db:
            assert isinstance(db, LibsqlDatabase)
            await assert_constraints_map_to_their_classes(db, "SQLITE_CONSTRAINT_")


async def test_bad_sql_is_a_database_error_carrying_the_statement(remote: LibsqlDatabase) -> None:
    with pytest.raises(DatabaseError, match="no such table") as caught:
        await remote.fetch_all("SELECT * FROM missing")
    assert caught.value.sql == "SELECT * FROM missing"
    assert not isinstance(caught.value, IntegrityError)
    assert isinstance(caught.value.__cause__, LibsqlError)


async def test_write_waiting_past_the_server_busy_timeout_is_database_busy(
    database_file: Path,
) -> None:
    with HranaServer(database_file, busy_timeout=0.1) as server:
        holder = await open_libsql(server.ws_url)
        other = await open_libsql(server.ws_url)
        try:
            await holder.execute("CREATE TABLE t (x)")
            async with holder.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                with pytest.raises(DatabaseBusyError) as caught:
                    await other.execute("INSERT INTO t VALUES (2)")
                cause = caught.value.__cause__
                assert isinstance(cause, LibsqlError)
                assert cause.code.startswith("SQLITE_BUSY")
        finally:
            await holder.close()
            await other.close()


async def test_a_transaction_the_server_timed_out_raises_database_busy_and_keeps_nothing(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    # sqld lets a waiting writer take the lock from a transaction that held it for 5 s: the
    # holder's next request learns that its transaction was rolled back.
    other = await open_libsql(server.ws_url)
    try:

        async def hold_the_lock_while_another_waits() -> None:
            async with ws_db.transaction() as tx:
                await tx.execute("INSERT INTO parent (name) VALUES ('holder')")
                await other.execute("INSERT INTO parent (name) VALUES ('waiter')")
                await tx.execute("INSERT INTO parent (name) VALUES ('holder again')")

        with pytest.raises(DatabaseBusyError, match="rolled this transaction back") as caught:
            await hold_the_lock_while_another_waits()
        assert isinstance(caught.value.__cause__, LibsqlError)
        assert caught.value.__cause__.code == "TRANSACTION_TIMEOUT"
        assert not getattr(caught.value, "__notes__", [])
    finally:
        await other.close()
    assert raw_names(server) == ["waiter"]
    # The connection goes on working.
    await ws_db.execute("INSERT INTO parent (name) VALUES ('later')")
    assert raw_names(server) == ["waiter", "later"]


async def test_an_error_in_a_transaction_the_server_timed_out_is_the_one_raised(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    other = await open_libsql(server.ws_url)
    try:

        async def fail_after_the_server_took_the_lock() -> None:
            async with ws_db.transaction() as tx:
                await tx.execute("INSERT INTO parent (name) VALUES ('holder')")
                await other.execute("INSERT INTO parent (name) VALUES ('waiter')")
                raise KeyError("the block's own error")

        with pytest.raises(KeyError, match="the block's own error") as caught:
            await fail_after_the_server_took_the_lock()
        # Its ROLLBACK met a transaction the server had already rolled back: not a failure.
        assert not getattr(caught.value, "__notes__", [])
    finally:
        await other.close()
    assert raw_names(server) == ["waiter"]


async def test_a_request_over_a_size_limit_fails_whole_and_keeps_nothing(
    database_file: Path,
) -> None:
    # sqld took an 80 MB request; a server or proxy with a limit (the test server's is
    # aiohttp's 1 MiB) refuses the whole batch, and the error carries its reason.
    with HranaServer(database_file) as server:
        async with agentsdb.connect(server.http_url) as db:
            await db.execute("CREATE TABLE big (v TEXT)")
            rows = [{"v": "x" * 1000} for _ in range(2000)]
            with pytest.raises(DatabaseError, match="413"):
                await db.execute_many("INSERT INTO big (v) VALUES (:v)", rows)
            assert await db.fetch_one("SELECT count(*) AS n FROM big") == {"n": 0}


# --- transactions over the WebSocket --------------------------------------------------------------


async def test_transaction_commits_on_success_and_is_invisible_until_then(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    async with ws_db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES (:name)", {"name": "a"})
        assert await tx.fetch_all("SELECT name FROM parent") == [{"name": "a"}]
        assert raw_names(server) == []
    assert raw_names(server) == ["a"]


async def test_transaction_rolls_back_when_its_block_raises(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    async def insert_then_fail() -> None:
        async with ws_db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('a')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail()
    assert raw_names(server) == []
    assert await ws_db.fetch_all("SELECT name FROM parent") == []


async def test_transaction_rolls_back_on_a_translated_statement_error(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    async def insert_parent_then_orphan() -> None:
        async with ws_db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('a')")
            await tx.execute("INSERT INTO child (parent_id, qty) VALUES (42, 1)")

    with pytest.raises(ForeignKeyViolationError):
        await insert_parent_then_orphan()
    assert raw_names(server) == []


async def test_nested_transaction_is_a_savepoint_undone_alone(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:

    async def failing_savepoint(tx: Transaction) -> None:
        async with tx.transaction() as inner:
            await inner.execute("INSERT INTO parent (name) VALUES ('inner')")
            await inner.execute("INSERT INTO parent (name) VALUES ('outer')")

    async with ws_db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('outer')")
        with pytest.raises(UniqueViolationError):
            await failing_savepoint(tx)
        async with tx.transaction() as kept:
            await kept.execute("INSERT INTO parent (name) VALUES ('kept')")
    assert raw_names(server) == ["outer", "kept"]


async def test_execute_many_in_a_transaction_undoes_only_its_own_rows_on_failure(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    async with ws_db.transaction() as tx:
        await tx.execute("INSERT INTO parent (name) VALUES ('before')")
        many = await tx.execute_many(
            "INSERT INTO parent (name) VALUES (:name)", [{"name": f"n{i}"} for i in range(50)]
        )
        assert many.rows_affected == 50
        with pytest.raises(UniqueViolationError):
            await tx.execute_many(
                "INSERT INTO parent (name) VALUES (:name)",
                [{"name": "x1"}, {"name": "before"}, {"name": "x2"}],
            )
    names = raw_names(server)
    assert names == ["before", *(f"n{i}" for i in range(50))]


async def test_transaction_object_cannot_be_used_after_its_block(ws_db: LibsqlDatabase) -> None:
    async with ws_db.transaction() as tx:
        pass
    with pytest.raises(UnsupportedOperationError, match="already ended"):
        await tx.execute("SELECT 1")


async def test_database_methods_inside_own_transaction_raise_instead_of_deadlocking(
    ws_db: LibsqlDatabase,
) -> None:
    async with ws_db.transaction():
        with pytest.raises(UnsupportedOperationError, match="through the transaction object"):
            await ws_db.execute("INSERT INTO parent (name) VALUES ('a')")
        with pytest.raises(UnsupportedOperationError):
            await ws_db.execute_batch([("SELECT 1", None)])


async def test_transactions_of_concurrent_tasks_are_serialized_so_none_fails(
    ws_db: LibsqlDatabase,
) -> None:
    await ws_db.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
    await ws_db.execute("INSERT INTO counter VALUES (0)")

    async def increment() -> None:
        # Read then write: with interleaved deferred transactions one would fail at once.
        async with ws_db.transaction() as tx:
            row = await tx.fetch_one("SELECT n FROM counter")
            assert row is not None
            await asyncio.sleep(0.01)
            await tx.execute("UPDATE counter SET n = :n", {"n": row["n"] + 1})

    await asyncio.gather(*(increment() for _ in range(5)))
    assert await ws_db.fetch_one("SELECT n FROM counter") == {"n": 5}


async def test_another_connection_waits_for_the_open_transaction_then_writes(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    other = await open_libsql(server.ws_url)
    try:
        async with ws_db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('first')")
            waiting = asyncio.ensure_future(
                other.execute("INSERT INTO parent (name) VALUES ('second')")
            )
            await asyncio.sleep(0.2)
            assert not waiting.done()
        await waiting
    finally:
        await other.close()
    assert raw_names(server) == ["first", "second"]


async def test_cancelled_task_rolls_its_transaction_back(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    entered = asyncio.Event()

    async def stuck() -> None:
        async with ws_db.transaction() as tx:
            await tx.execute("INSERT INTO parent (name) VALUES ('a')")
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert raw_names(server) == []
    await ws_db.execute("INSERT INTO parent (name) VALUES ('b')")
    assert raw_names(server) == ["b"]


async def test_program_with_begin_and_commit_runs_as_one_transaction_over_ws(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    def program() -> Program[int]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")
        yield ExecuteMany(
            "INSERT INTO parent (name) VALUES (:name)", [{"name": "b"}, {"name": "c"}]
        )
        rows = yield FetchAll("SELECT name FROM parent")
        yield Commit()
        return len(rows)

    assert await ws_db.run(program()) == 3
    assert raw_names(server) == ["a", "b", "c"]


async def test_failed_operation_is_thrown_into_the_program_which_can_roll_back(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    def program() -> Program[str]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")
        try:
            yield Execute("INSERT INTO parent (name) VALUES ('a')")
        except UniqueViolationError as error:
            yield Rollback()
            return f"rolled back: {error.constraint}"
        yield Commit()
        return "committed"

    assert await ws_db.run(program()) == "rolled back: parent.name"
    assert raw_names(server) == []


async def test_program_that_raises_has_its_transaction_rolled_back(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    def program() -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")
        raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        await ws_db.run(program())
    assert raw_names(server) == []
    await ws_db.execute("INSERT INTO parent (name) VALUES ('after')")
    assert raw_names(server) == ["after"]


async def test_program_ending_with_its_transaction_open_is_an_error_and_rolled_back(
    ws_db: LibsqlDatabase, server: SqldServer
) -> None:
    def program() -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")

    with pytest.raises(agentsdb.AgentsDBError, match="still open"):
        await ws_db.run(program())
    assert raw_names(server) == []


# --- HTTP: no interactive transactions ------------------------------------------------------------


async def test_transaction_over_http_raises_unsupported_operation_naming_a_ws_url(
    http_db: LibsqlDatabase,
) -> None:
    with pytest.raises(UnsupportedOperationError, match=r"ws://, wss:// or libsql://"):
        http_db.transaction()


async def test_program_that_begins_over_http_gets_unsupported_operation_and_runs_nothing(
    http_db: LibsqlDatabase, server: SqldServer
) -> None:
    def program() -> Program[None]:
        yield Begin()
        yield Execute("INSERT INTO parent (name) VALUES ('a')")
        yield Commit()

    with pytest.raises(UnsupportedOperationError, match="execute_batch"):
        await http_db.run(program())
    assert raw_names(server) == []
