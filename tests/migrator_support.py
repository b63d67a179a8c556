"""Migrations and helpers shared by the Migrator's test suites (on every backend).

The catalog queries are picked by the SQL dialect, as a migration's statements are: each helper
answers the same question on every backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from agentsdb import Database, Migration, MigrationError, Migrator

TRACKING = "agentsdb_migrations"
#: The libSQL migration lease's tables (not part of the schema under test).
LEASE_TABLES = ("agentsdb_lease", "agentsdb_lease_guard")

_NAMES = {
    "sqlite": {
        "table": "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        "index": "SELECT name FROM sqlite_master WHERE type = 'index' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    },
    "postgresql": {
        "table": "SELECT table_name AS name FROM information_schema.tables "
        "WHERE table_schema = current_schema()",
        # Indexes backing a primary key or unique constraint are left out, as SQLite's
        # automatic indexes are.
        "index": "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    },
}
_SCHEMA = {
    "sqlite": "SELECT type, name, sql FROM sqlite_master "
    "WHERE name NOT IN ('agentsdb_lease', 'agentsdb_lease_guard') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
    "postgresql": "SELECT 'column' AS kind, table_name AS owner, column_name AS name, "
    "data_type AS definition FROM information_schema.columns "
    "WHERE table_schema = current_schema() "
    "UNION ALL SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
    "WHERE schemaname = current_schema() ORDER BY 1, 2, 3",
}
_COLUMNS = {
    "sqlite": "SELECT name FROM pragma_table_info(:table)",
    "postgresql": "SELECT column_name AS name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = :table",
}


def table_migration(migration_id: str, *, reversible: bool = True, **options: Any) -> Migration:
    """Creates table t<id> with an index, and logs itself in ``events``."""
    table = f"t{migration_id}"
    return Migration(
        id=migration_id,
        description=f"create {table}",
        up=[
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)",
            f"CREATE INDEX {table}_v ON {table} (v)",
            f"INSERT INTO events (migration) VALUES ('{migration_id}')",
        ],
        down=[f"DROP TABLE {table}", f"DELETE FROM events WHERE migration = '{migration_id}'"]
        if reversible
        else None,
        **options,
    )


EVENTS = Migration(
    id="001",
    description="events",
    up=["CREATE TABLE events (migration TEXT NOT NULL)"],
    down=["DROP TABLE events"],
)


def chain(*ids: str, **options: Any) -> list[Migration]:
    """EVENTS followed by a table migration per id."""
    return [EVENTS, *(table_migration(i, **options) for i in ids)]


async def names(db: Database, kind: str = "table") -> set[str]:
    """The tables (or indexes) of the database, the migration lease's left out."""
    rows = await db.fetch_all(_NAMES[db.dialect][kind])
    return {str(row["name"]) for row in rows} - set(LEASE_TABLES)


async def columns(db: Database, table: str) -> list[str]:
    return [str(row["name"]) for row in await db.fetch_all(_COLUMNS[db.dialect], {"table": table})]


async def schema(db: Database) -> list[tuple[Any, ...]]:
    """Every table, column and index definition: equal before and after means unchanged."""
    return [tuple(row.values()) for row in await db.fetch_all(_SCHEMA[db.dialect])]


async def tracking_rows(db: Database) -> list[dict[str, Any]]:
    if TRACKING not in await names(db):
        return []
    return await db.fetch_all(f"SELECT * FROM {TRACKING} ORDER BY seq")


async def applied_ids(db: Database) -> list[str]:
    return [row["id"] for row in await tracking_rows(db)]


async def event_counts(db: Database) -> dict[str, int]:
    rows = await db.fetch_all("SELECT migration, count(*) AS n FROM events GROUP BY migration")
    return {row["migration"]: int(row["n"]) for row in rows}


def result_ids(results: Iterable[Any]) -> list[str]:
    return [result.migration.id for result in results]


# --- a non-transactional migration that fails half-way -------------------------------------------

ITEMS = Migration(
    id="002",
    description="items",
    up=["CREATE TABLE items (name TEXT NOT NULL UNIQUE)"],
    down=["DROP TABLE items"],
)
SIDE_AND_ITEM = Migration(
    id="003",
    description="side table and an item",
    up=["CREATE TABLE side (x INTEGER)", "INSERT INTO items (name) VALUES ('dup')"],
    down=["DROP TABLE side", "DELETE FROM items WHERE name = 'dup'"],
    transactional=False,
)
DIRTY_SET = [EVENTS, ITEMS, SIDE_AND_ITEM, table_migration("004")]


async def make_dirty(db: Database) -> None:
    """Apply DIRTY_SET until its non-transactional 003 fails half-way and stays dirty."""
    await Migrator(db, DIRTY_SET).migrate(limit=2)
    await db.execute("INSERT INTO items (name) VALUES ('dup')")
    with pytest.raises(MigrationError, match="recorded as dirty") as caught:
        await Migrator(db, DIRTY_SET).migrate()
    assert result_ids(caught.value.results) == ["003"]


# --- table rebuilds (the SQLite dialect's way) ----------------------------------------------------

FAMILY = Migration(
    id="001",
    description="parent and child",
    up=[
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE child ("
        " id INTEGER PRIMARY KEY,"
        " parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE INDEX child_parent_id ON child (parent_id)",
    ],
    down=["DROP TABLE child", "DROP TABLE parent"],
)


def rebuild_parent(keep: str = "1 = 1") -> Migration:
    """The 12-step rebuild of ``parent`` adding a column; ``keep`` filters the copied rows."""
    return Migration(
        id="002",
        description="add parent.rank",
        up=[
            "CREATE TABLE parent_new ("
            " id INTEGER PRIMARY KEY, name TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0)",
            f"INSERT INTO parent_new (id, name) SELECT id, name FROM parent WHERE {keep}",
            "DROP TABLE parent",
            "ALTER TABLE parent_new RENAME TO parent",
        ],
        foreign_keys=False,
    )


async def seed_family(db: Database) -> None:
    await Migrator(db, [FAMILY]).migrate()
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b')")
    await db.execute("INSERT INTO child (parent_id) VALUES (1), (2), (2)")


async def foreign_keys_on(db: Database) -> bool:
    row = await db.fetch_one("PRAGMA foreign_keys")
    assert row is not None
    return bool(row["foreign_keys"])


# --- the SQLite backend's own connection ------------------------------------------------------


async def traced(db: Database, action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``action`` and return its value with every SQL statement the connection executed."""
    statements: list[str] = []
    connection = db._connection  # type: ignore[attr-defined]  # the SQLite backend's aiosqlite connection
    await connection.set_trace_callback(statements.append)
    try:
        value = await action()
    finally:
        await connection.set_trace_callback(None)
    return value, statements


TOUCHES_TRACKING = re.compile(
    rf"\b(?:FROM|INTO|UPDATE|TABLE|EXISTS)\s+(?:IF\s+NOT\s+EXISTS\s+)?{TRACKING}\b", re.IGNORECASE
)
