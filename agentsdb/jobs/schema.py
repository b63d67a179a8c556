"""Checks that a database has the tables and columns a job reads or writes."""

from __future__ import annotations

from dataclasses import dataclass

from agentsdb.db.base import Database


@dataclass(frozen=True)
class SourceTable:
    """A source table a job reads, the columns it needs, and whether it may be absent."""

    name: str
    columns: tuple[str, ...]
    optional: bool = False


async def table_columns(db: Database, table: str) -> set[str]:
    """The column names of ``table`` (empty when there is no such table)."""
    return set(await db.table_columns(table))


async def find_missing(
    db: Database, tables: tuple[SourceTable, ...]
) -> tuple[str, str | None] | None:
    """The first missing (table, None) or (table, column) among required tables, else None."""
    for table in tables:
        present = await table_columns(db, table.name)
        if not present:
            if table.optional:
                continue
            return table.name, None
        for column in table.columns:
            if column not in present:
                return table.name, column
    return None


__all__ = ["SourceTable", "find_missing", "table_columns"]
