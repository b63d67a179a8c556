"""The programs behind ``Database.insert_rows``, built from a table's and its columns' names.

Each backend picks one shape (see its ``capabilities`` module); they share the name check and
the one-row statement, so every backend refuses the same bad input alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agentsdb.db.base import Atomic, ExecuteMany, FetchOne, Params, Program, Step
from agentsdb.errors import ValidationError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: The SQLite statement that reports the key of the connection's last insert.
LAST_ROWID = "SELECT last_insert_rowid() AS last_key"


def check_names(table: str, columns: Sequence[str], key: str) -> None:
    """ValidationError unless every name is a plain SQL identifier (they are written into SQL)."""
    for field, name in (("table", table), ("key", key), *(("columns", c) for c in columns)):
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValidationError.refuse(
                "Database.insert_rows", field, name, "must be a plain SQL identifier"
            )
    if not columns:
        raise ValidationError.refuse("Database.insert_rows", "columns", columns, "is empty")


def insert_sql(table: str, columns: Sequence[str], *, returning: str | None = None) -> str:
    """``INSERT INTO table (columns) VALUES (:column, …)``, optionally ``RETURNING`` a column."""
    names = ", ".join(columns)
    values = ", ".join(":" + c for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({values})"
    return sql if returning is None else f"{sql} RETURNING {returning}"


def one_unit(
    before: Sequence[Step], steps: Sequence[Step], keys: Callable[[Sequence[Any]], list[int]]
) -> Program[list[int]]:
    """``before`` and ``steps`` as one Atomic; ``keys`` of the results of ``steps``."""
    results = yield Atomic((*before, *steps))
    return keys(results[len(before) :])


def one_statement_per_row(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, before: Sequence[Step]
) -> Program[list[int]]:
    """One ``INSERT … RETURNING key`` per row: the shape every backend runs (and the one for a
    single row everywhere)."""
    check_names(table, columns, key)
    sql = insert_sql(table, columns, returning=key)

    def keys(results: Sequence[Any]) -> list[int]:
        return [int(row[key]) for row in results]

    return one_unit(before, [FetchOne(sql, row) for row in rows], keys)


def consecutive_keys(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, before: Sequence[Step]
) -> Program[list[int]]:
    """One ``executemany`` and the last rowid, for a database with one writer at a time.

    The unit holds the only write lock and the key is the rowid, so the rows get consecutive
    keys ending at the connection's last insert (a trigger's own inserts do not change
    ``last_insert_rowid()`` once it has run). One statement prepared once instead of one per row
    is what makes bulk inserts as fast as raw ``executemany``.
    """
    if len(rows) <= 1:
        return one_statement_per_row(table, columns, rows, key, before)
    check_names(table, columns, key)
    n = len(rows)

    def keys(results: Sequence[Any]) -> list[int]:
        last = int(results[-1]["last_key"])
        return list(range(last - n + 1, last + 1))

    return one_unit(
        before, [ExecuteMany(insert_sql(table, columns), rows), FetchOne(LAST_ROWID)], keys
    )


__all__ = [
    "LAST_ROWID",
    "check_names",
    "consecutive_keys",
    "insert_sql",
    "one_statement_per_row",
    "one_unit",
]
