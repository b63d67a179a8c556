"""The Database protocol's statements, transactions, errors and closing, proved on every backend
through one fixture (its programs and Atomic units: ``test_contract_programs.py``; the Migrator:
``test_contract_migrator.py``).

Each test runs once per backend (``sqlite``, ``postgresql``, ``libsql-ws``, ``libsql-http``) on a
fresh, empty database. Where a backend differs by design, the ``by_design`` fixture states the
expected value per backend, so no test asks which backend it runs on: PostgreSQL has no "last
insert rowid" (``last_insert_id`` comes only from ``RETURNING``), names constraints its own way,
and counts ``execute_many`` rows by parameter set. libSQL over HTTP has no interactive
transactions: the transaction tests run on the other three (``test_contract_programs.py`` proves
every way to begin one over HTTP is refused with a message that says to use a ws URL).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from contract_support import INTERACTIVE, ddl, make_constrained, make_items

import agentsdb
from agentsdb.db.base import (
    Atomic,
    Database,
    Execute,
    ExecuteResult,
    FetchAll,
    Params,
    Program,
    Transaction,
)
from agentsdb.errors import (
    AgentsDBError,
    CheckViolationError,
    ConnectionClosedError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
    UnsupportedOperationError,
)


@dataclass(frozen=True)
class ByDesign:
    """What a backend does differently by design (see the module's docstring)."""

    dialect: str
    #: ``last_insert_id`` of two plain INSERTs into an empty table (the rowid, or none).
    plain_insert_ids: tuple[int | None, int | None]
    #: ``rows_affected`` of an ``execute_many`` UPDATE of three parameter sets, two matching.
    execute_many_update_count: int
    #: How a unique and a foreign-key violation name their constraint.
    unique_constraint: str
    foreign_key_constraint: str | None


_SQLITE_LIKE = ByDesign("sqlite", (1, 2), 2, "owners.email", None)
_BY_DESIGN = {
    "sqlite": _SQLITE_LIKE,
    "libsql-ws": _SQLITE_LIKE,
    "libsql-http": _SQLITE_LIKE,
    "postgresql": ByDesign("postgresql", (None, None), 3, "owners_email_key", "pets_owner_id_fkey"),
}


@pytest.fixture
def by_design(backend: str) -> ByDesign:
    """What the test's backend does differently by design."""
    return _BY_DESIGN[backend]


# --- statements ----------------------------------------------------------------------------------


async def test_execute_fetch_one_fetch_all_and_execute_many_round_trip_rows(
    any_db: Database, by_design: ByDesign
) -> None:
    await make_items(any_db)
    await any_db.execute(
        "INSERT INTO items (id, name, qty) VALUES (:id, :name, :qty)",
        {"id": 1, "name": "apple", "qty": 3},
    )
    many = await any_db.execute_many(
        "INSERT INTO items (id, name, qty) VALUES (:id, :name, :qty)",
        [{"id": 2, "name": "pear", "qty": 5}, {"id": 3, "name": "plum", "qty": 7}],
    )
    assert many.rows_affected == 2

    rows = await any_db.fetch_all("SELECT id, name, qty FROM items ORDER BY id")
    assert rows == [
        {"id": 1, "name": "apple", "qty": 3},
        {"id": 2, "name": "pear", "qty": 5},
        {"id": 3, "name": "plum", "qty": 7},
    ]
    assert await any_db.fetch_one("SELECT name FROM items WHERE id = :id", {"id": 2}) == {
        "name": "pear"
    }
    assert await any_db.fetch_one("SELECT name FROM items WHERE id = :id", {"id": 99}) is None
    assert await any_db.fetch_all("SELECT name FROM items WHERE qty > :q", {"q": 100}) == []
    assert any_db.dialect == by_design.dialect


async def test_rows_affected_counts_the_rows_a_write_changed(
    any_db: Database, by_design: ByDesign
) -> None:
    await make_items(any_db)
    await any_db.execute_many(
        "INSERT INTO items (id, name, qty) VALUES (:id, :name, :qty)",
        [{"id": i, "name": f"n{i}", "qty": i} for i in range(1, 6)],
    )
    updated = await any_db.execute("UPDATE items SET qty = qty + 1 WHERE qty >= :q", {"q": 3})
    assert updated.rows_affected == 3
    assert (await any_db.execute("UPDATE items SET qty = 0 WHERE id = 999")).rows_affected == 0
    assert (await any_db.execute("DELETE FROM items WHERE id <= 2")).rows_affected == 2
    # DDL and queries report no rows, like sqlite3 does.
    assert (await any_db.execute("CREATE TABLE other (x INTEGER)")).rows_affected == 0

    # An UPDATE run per parameter set: ids 3 and 4 exist, 999 does not. asyncpg's executemany
    # discards each status, so PostgreSQL reports the number of parameter sets run.
    many = await any_db.execute_many(
        "UPDATE items SET qty = :qty WHERE id = :id",
        [{"id": 3, "qty": 1}, {"id": 4, "qty": 1}, {"id": 999, "qty": 1}],
    )
    assert many.rows_affected == by_design.execute_many_update_count


async def test_last_insert_id_is_the_rowid_on_sqlite_and_comes_from_returning_on_postgresql(
    any_db: Database, by_design: ByDesign
) -> None:
    await make_items(any_db)
    first = await any_db.execute("INSERT INTO items (name, qty) VALUES ('a', 1)")
    second = await any_db.execute("INSERT INTO items (name, qty) VALUES ('b', 2)")
    assert (first.rows_affected, second.rows_affected) == (1, 1)
    assert (first.last_insert_id, second.last_insert_id) == by_design.plain_insert_ids

    # An UPDATE reports no insert id, even after an INSERT on the same connection.
    assert await any_db.execute("UPDATE items SET qty = 5 WHERE id = 1") == ExecuteResult(1, None)
    returned = await any_db.execute("INSERT INTO items (name, qty) VALUES ('c', 3) RETURNING id")
    assert returned == ExecuteResult(1, 3)


async def test_statements_with_returning_report_the_rows_they_changed(any_db: Database) -> None:
    await make_items(any_db)
    inserted = await any_db.execute(
        "INSERT INTO items (name, qty) VALUES ('a', 1), ('b', 2) RETURNING id"
    )
    assert inserted == ExecuteResult(2, 2)
    updated = await any_db.execute("UPDATE items SET qty = qty + 1 RETURNING id")
    assert updated.rows_affected == 2
    deleted = await any_db.execute("DELETE FROM items WHERE name = 'a' RETURNING id")
    assert deleted.rows_affected == 1
    assert await any_db.fetch_all("SELECT name, qty FROM items") == [{"name": "b", "qty": 3}]


async def test_a_named_parameter_used_twice_binds_the_same_value_both_times(
    any_db: Database,
) -> None:
    await any_db.execute("CREATE TABLE pairs (id INTEGER NOT NULL, a TEXT, b TEXT)")
    await any_db.execute(
        "INSERT INTO pairs (id, a, b) VALUES (:id, :v, :v)", {"id": 1, "v": "twice"}
    )
    await any_db.execute("INSERT INTO pairs (id, a, b) VALUES (2, 'x', 'y')")
    rows = await any_db.fetch_all(
        "SELECT id, a, b FROM pairs WHERE a = :v OR b = :v ORDER BY id", {"v": "twice"}
    )
    assert rows == [{"id": 1, "a": "twice", "b": "twice"}]
    # ':' inside a string literal is text, not a parameter.
    assert await any_db.fetch_one("SELECT ':v' AS literal", {}) == {"literal": ":v"}


VALUES: Sequence[tuple[str, int | None, float | None, str | None, bytes | None]] = [
    ("nulls", None, None, None, None),
    ("small", 0, 0.0, "", b""),
    ("large", 2**62, 1.5e300, "héllo 'quoted' \"double\" ; -- not a comment", b"\x00\xff\x01"),
    ("negative", -(2**63), -0.1, "line\nbreak\ttab", bytes(range(256))),
]


async def test_null_int_float_text_and_bytes_come_back_unchanged(any_db: Database) -> None:
    types = ddl(
        any_db,
        sqlite="i INTEGER, f REAL, t TEXT, b BLOB",
        postgresql="i BIGINT, f DOUBLE PRECISION, t TEXT, b BYTEA",
    )
    await any_db.execute(f"CREATE TABLE vals (k TEXT PRIMARY KEY, {types})")
    await any_db.execute_many(
        "INSERT INTO vals (k, i, f, t, b) VALUES (:k, :i, :f, :t, :b)",
        [dict(zip("kiftb", row, strict=True)) for row in VALUES],
    )
    rows = await any_db.fetch_all("SELECT k, i, f, t, b FROM vals")
    got = {row["k"]: row for row in rows}
    for k, i, f, t, b in VALUES:
        row = got[k]
        assert (row["i"], type(row["i"])) == (i, type(i))
        assert (row["f"], type(row["f"])) == (f, type(f))
        assert row["t"] == t
        assert (row["b"], type(row["b"])) == (b, type(b))
    # A float parameter compared in SQL keeps its precision.
    hit = await any_db.fetch_one("SELECT k FROM vals WHERE f = :f", {"f": -0.1})
    assert hit == {"k": "negative"}
    assert math.isclose(
        (await any_db.fetch_one("SELECT f FROM vals WHERE k = 'large'") or {})["f"], 1.5e300
    )


# --- transactions --------------------------------------------------------------------------------


@INTERACTIVE
async def test_a_transaction_commits_when_its_block_ends_and_rolls_back_when_it_raises(
    any_db: Database,
) -> None:
    await make_items(any_db)
    async with any_db.transaction() as tx:
        await tx.execute("INSERT INTO items (id, name, qty) VALUES (1, 'kept', 1)")
        # The transaction sees its own write before commit.
        assert await tx.fetch_one("SELECT name FROM items WHERE id = 1") == {"name": "kept"}
        await tx.execute_many(
            "INSERT INTO items (id, name, qty) VALUES (:id, 'kept', 1)", [{"id": 2}, {"id": 3}]
        )

    class Boom(Exception):
        pass

    async def write_then_raise() -> None:
        async with any_db.transaction() as tx:
            await tx.execute("INSERT INTO items (id, name, qty) VALUES (4, 'lost', 1)")
            await tx.execute("UPDATE items SET name = 'lost' WHERE id = 1")
            raise Boom

    with pytest.raises(Boom):
        await write_then_raise()
    assert await any_db.fetch_all("SELECT id, name FROM items ORDER BY id") == [
        {"id": 1, "name": "kept"},
        {"id": 2, "name": "kept"},
        {"id": 3, "name": "kept"},
    ]


@INTERACTIVE
async def test_nested_transactions_are_savepoints_undone_alone(any_db: Database) -> None:
    await make_constrained(any_db)

    async def failing_savepoint(tx: Transaction) -> None:
        async with tx.transaction() as inner:
            await inner.execute("INSERT INTO owners (id, email) VALUES (3, 'inner@x.org')")
            await inner.execute("INSERT INTO owners (id, email) VALUES (4, 'a@example.org')")

    async with any_db.transaction() as tx:
        await tx.execute("INSERT INTO owners (id, email) VALUES (2, 'outer@example.org')")
        # A failed statement inside the savepoint: only the savepoint is undone, and the outer
        # transaction carries on (PostgreSQL included).
        with pytest.raises(UniqueViolationError):
            await failing_savepoint(tx)
        async with tx.transaction() as inner:
            async with inner.transaction() as innermost:
                await innermost.execute("INSERT INTO owners (id, email) VALUES (5, 'deep@x.org')")
            await inner.execute("INSERT INTO owners (id, email) VALUES (6, 'mid@x.org')")
    rows = await any_db.fetch_all("SELECT id FROM owners ORDER BY id")
    assert [row["id"] for row in rows] == [1, 2, 5, 6]


@INTERACTIVE
async def test_db_execute_inside_the_same_tasks_transaction_is_refused(any_db: Database) -> None:
    await make_items(any_db)
    async with any_db.transaction() as tx:
        await tx.execute("INSERT INTO items (id, name, qty) VALUES (1, 'in tx', 1)")
        with pytest.raises(UnsupportedOperationError, match="through the transaction object"):
            await any_db.execute("INSERT INTO items (id, name, qty) VALUES (2, 'outside', 1)")
        with pytest.raises(UnsupportedOperationError):
            await any_db.fetch_all("SELECT id FROM items")
    assert await any_db.fetch_all("SELECT id FROM items") == [{"id": 1}]


# --- errors --------------------------------------------------------------------------------------


async def raised(pending: Any) -> AgentsDBError:
    with pytest.raises(AgentsDBError) as caught:
        await pending
    return caught.value


async def test_constraint_failures_raise_the_same_classes_on_every_backend(
    any_db: Database, by_design: ByDesign
) -> None:
    await make_constrained(any_db)
    insert_owner = "INSERT INTO owners (id, email) VALUES (:id, :email)"
    insert_pet = "INSERT INTO pets (id, owner_id, legs) VALUES (:id, :owner, :legs)"

    unique = await raised(any_db.execute(insert_owner, {"id": 2, "email": "a@example.org"}))
    assert type(unique) is UniqueViolationError
    # SQLite's message names table.column; PostgreSQL names the constraint.
    assert unique.constraint == by_design.unique_constraint
    assert unique.sql == insert_owner

    duplicate_key = await raised(any_db.execute(insert_owner, {"id": 1, "email": "b@x.org"}))
    assert type(duplicate_key) is UniqueViolationError

    foreign = await raised(any_db.execute(insert_pet, {"id": 1, "owner": 42, "legs": 4}))
    assert type(foreign) is ForeignKeyViolationError
    # SQLite does not say which foreign key failed; PostgreSQL names it.
    assert foreign.constraint == by_design.foreign_key_constraint

    check = await raised(any_db.execute(insert_pet, {"id": 1, "owner": 1, "legs": 9}))
    assert type(check) is CheckViolationError
    assert check.constraint == "legs_valid"

    not_null = await raised(any_db.execute(insert_owner, {"id": 3, "email": None}))
    assert type(not_null) is CheckViolationError
    assert not_null.constraint == "owners.email"

    bad_sql = await raised(any_db.execute("INSERT INTO no_such_table VALUES (1)"))
    assert type(bad_sql) is DatabaseError
    syntax = await raised(any_db.fetch_all("SELEC 1"))
    assert type(syntax) is DatabaseError

    for error in (unique, duplicate_key, foreign, check, not_null, bad_sql, syntax):
        assert isinstance(error, DatabaseError)
        assert error.__cause__ is not None
        assert not isinstance(error.__cause__, AgentsDBError)  # the driver's own exception
    for error in (unique, duplicate_key, foreign, check, not_null):
        assert isinstance(error, IntegrityError)
    # Nothing of the failed statements was kept; the database is still usable.
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]
    assert await any_db.fetch_all("SELECT id FROM pets") == []


async def test_a_failed_execute_many_keeps_none_of_its_rows(any_db: Database) -> None:
    await make_constrained(any_db)
    with pytest.raises(UniqueViolationError):
        await any_db.execute_many(
            "INSERT INTO owners (id, email) VALUES (:id, :email)",
            [{"id": 10, "email": "new@x.org"}, {"id": 11, "email": "a@example.org"}],
        )
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]


# --- closing -------------------------------------------------------------------------------------


async def test_using_a_closed_database_raises_connection_closed(backend_url: str) -> None:
    db = await agentsdb.connect(backend_url)
    await db.execute("CREATE TABLE t (x INTEGER)")
    await db.close()
    await db.close()  # closing twice is harmless
    with pytest.raises(ConnectionClosedError):
        await db.execute("INSERT INTO t (x) VALUES (1)")
    with pytest.raises(ConnectionClosedError):
        await db.fetch_all("SELECT x FROM t")
    with pytest.raises(ConnectionClosedError):
        await db.execute_many("INSERT INTO t (x) VALUES (:x)", [{"x": 1}])

    def program() -> Program[list[Any]]:
        rows = yield FetchAll("SELECT x FROM t")
        return list(rows)

    with pytest.raises(ConnectionClosedError):
        await db.run(program())


def insert_each(params: list[Params]) -> Program[Sequence[int | BaseException]]:
    """A group-commit writer: one transaction for the batch, each row's x back as its outcome."""
    yield Atomic(tuple(Execute("INSERT INTO t (x) VALUES (:x)", one) for one in params))
    return [int(one["x"]) for one in params]


async def test_close_writes_the_rows_queued_for_group_commit_and_then_refuses_more(
    backend_url: str,
) -> None:
    db = await agentsdb.connect(backend_url)
    await db.execute("CREATE TABLE t (x INTEGER)")
    committer = db.group_commit("test.rows", insert_each)
    assert db.group_commit("test.rows", insert_each) is committer  # one per key, owned by db
    queued = [asyncio.ensure_future(committer.submit({"x": x})) for x in range(20)]
    await asyncio.sleep(0)  # every row queued; the first batch may have started
    await db.close()
    assert [await one for one in queued] == list(range(20))
    with pytest.raises(ConnectionClosedError):
        await committer.submit({"x": 99})
    with pytest.raises(ConnectionClosedError):
        db.group_commit("test.other", insert_each)
    async with agentsdb.connect(backend_url) as again:
        row = await again.fetch_one("SELECT count(*) AS n, sum(x) AS total FROM t")
    assert row == {"n": 20, "total": sum(range(20))}
