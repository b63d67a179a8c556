"""What SQLite answers to the Database capabilities (a libSQL server, which runs SQLite, shares
its SQL); ``SQLiteDatabase`` delegates its capability block here."""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.base import Executor, Params, Program, Step
from agentsdb.db.inserts import consecutive_keys

#: A table's column names in declaration order (no rows when there is no such table).
TABLE_COLUMNS = "SELECT name FROM pragma_table_info(:table) ORDER BY cid"

#: The schema's tables, without SQLite's own (``sqlite_sequence``, ``sqlite_stat1``, …).
TABLE_NAMES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
)

#: The indexes ``CREATE INDEX`` made on a table (origin ``c``; ``u`` and ``pk`` back constraints).
TABLE_INDEXES = "SELECT name FROM pragma_index_list(:table) WHERE origin = 'c'"

#: The triggers on a table, with the statement that created each.
TABLE_TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"


async def table_names(db: Executor) -> tuple[str, ...]:
    """The schema's tables, sorted (shared by SQLite and a libSQL server)."""
    return tuple(sorted(str(row["name"]) for row in await db.fetch_all(TABLE_NAMES)))


async def table_indexes(db: Executor, table: str) -> tuple[str, ...]:
    """The indexes ``CREATE INDEX`` made on ``table``, sorted."""
    rows = await db.fetch_all(TABLE_INDEXES, {"table": table})
    return tuple(sorted(str(row["name"]) for row in rows))


async def table_triggers(db: Executor, table: str) -> dict[str, str]:
    """The triggers on ``table`` by name, each with its ``CREATE TRIGGER`` statement."""
    rows = await db.fetch_all(TABLE_TRIGGERS, {"table": table})
    return {str(row["name"]): str(row["sql"]) for row in sorted(rows, key=lambda r: r["name"])}


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, before: Sequence[Step]
) -> Program[list[int]]:
    """One ``executemany`` and ``last_insert_rowid()``: one writer at a time, so the keys are
    consecutive (see :func:`agentsdb.db.inserts.consecutive_keys`)."""
    return consecutive_keys(table, columns, rows, key, before)


__all__ = [
    "TABLE_COLUMNS",
    "Step",
    "insert_rows",
    "table_indexes",
    "table_names",
    "table_triggers",
]
