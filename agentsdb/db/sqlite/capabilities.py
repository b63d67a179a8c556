"""The capabilities a SQLite file and a libSQL server answer alike: both run SQLite, so the same
SQL and the same insert shape serve both. ``SQLiteDatabase`` and ``LibsqlDatabase`` inherit
:class:`SQLiteCapabilities`; each declares at its end the capabilities that differ between them
(``interactive_transactions``, ``temp_tables_persist``)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Protocol

from agentsdb.db.base import Params, Program, Row, Step
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


class _Queries(Protocol):
    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...


async def table_names(db: _Queries) -> tuple[str, ...]:
    """The schema's tables, sorted (shared by SQLite and a libSQL server)."""
    return tuple(sorted(str(row["name"]) for row in await db.fetch_all(TABLE_NAMES)))


async def table_indexes(db: _Queries, table: str) -> tuple[str, ...]:
    """The indexes ``CREATE INDEX`` made on ``table``, sorted."""
    rows = await db.fetch_all(TABLE_INDEXES, {"table": table})
    return tuple(sorted(str(row["name"]) for row in rows))


async def table_triggers(db: _Queries, table: str) -> dict[str, str]:
    """The triggers on ``table`` by name, each with its ``CREATE TRIGGER`` statement."""
    rows = await db.fetch_all(TABLE_TRIGGERS, {"table": table})
    return {str(row["name"]): str(row["sql"]) for row in sorted(rows, key=lambda r: r["name"])}


class SQLiteCapabilities(abc.ABC):
    """``json_decoded``, ``reports_insert_id``, ``insert_rows``, ``table_columns``,
    ``table_names``, ``table_indexes`` and ``table_triggers`` of the SQLite-family backends
    (see ``Database`` in :mod:`agentsdb.db.base`)."""

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Every row of the query (the backend's own)."""

    @property
    def json_decoded(self) -> bool:
        """False: JSON columns are TEXT and come back as JSON text."""
        return False

    @property
    def reports_insert_id(self) -> bool:
        """True: every statement result carries the connection's ``last_insert_rowid()``, the
        key of the row an INSERT just wrote."""
        return True

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[Step] = (),
    ) -> Program[list[int]]:
        """One ``executemany`` and ``last_insert_rowid()`` as one ``Atomic`` (on libSQL one
        batch or one transaction): one writer at a time, so the keys are consecutive (see
        :func:`agentsdb.db.inserts.consecutive_keys`)."""
        return consecutive_keys(table, columns, rows, key, before)

    async def table_columns(self, table: str) -> tuple[str, ...]:
        """The column names of ``table`` in declaration order (``pragma_table_info``)."""
        rows = await self.fetch_all(TABLE_COLUMNS, {"table": table})
        return tuple(str(row["name"]) for row in rows)

    async def table_names(self) -> tuple[str, ...]:
        """The schema's tables, sorted (see :func:`table_names`)."""
        return await table_names(self)

    async def table_indexes(self, table: str) -> tuple[str, ...]:
        """The indexes made on ``table``, sorted (see :func:`table_indexes`)."""
        return await table_indexes(self, table)

    async def table_triggers(self, table: str) -> dict[str, str]:
        """The triggers on ``table`` (see :func:`table_triggers`)."""
        return await table_triggers(self, table)


__all__ = [
    "TABLE_COLUMNS",
    "SQLiteCapabilities",
    "table_indexes",
    "table_names",
    "table_triggers",
]
