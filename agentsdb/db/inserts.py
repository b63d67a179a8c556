"""The SQL of ``Database.insert_rows``, built from a table's and its columns' names.

Each backend picks one of the shapes below (see its ``capabilities`` module); they share the
name check and the one-row statement, so every backend refuses the same bad input alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agentsdb.db.base import ExecuteMany, FetchAll, FetchOne, InsertRows, Params, Step
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
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    return sql if returning is None else f"{sql} RETURNING {returning}"


def _key_of(key: str) -> Callable[[Sequence[Any]], list[int]]:
    def keys(results: Sequence[Any]) -> list[int]:
        return [int(row[key]) for row in results]

    return keys


def one_statement_per_row(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str
) -> InsertRows:
    """One ``INSERT … RETURNING key`` per row: the shape every backend can run in a batch."""
    check_names(table, columns, key)
    sql = insert_sql(table, columns, returning=key)
    return InsertRows(tuple(FetchOne(sql, row) for row in rows), _key_of(key))


def consecutive_keys(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str
) -> InsertRows:
    """One ``executemany`` and the last rowid, for a database with one writer at a time.

    The transaction holds the only write lock and the key is the rowid, so the rows get
    consecutive keys ending at the connection's last insert (a trigger's own inserts do not
    change ``last_insert_rowid()`` once it has run). One statement prepared once instead of one
    per row is what makes bulk inserts as fast as raw ``executemany``.
    """
    if len(rows) <= 1:
        return one_statement_per_row(table, columns, rows, key)
    check_names(table, columns, key)
    n = len(rows)

    def keys(results: Sequence[Any]) -> list[int]:
        last = int(results[-1]["last_key"])
        return list(range(last - n + 1, last + 1))

    steps: tuple[Step, ...] = (ExecuteMany(insert_sql(table, columns), rows), FetchOne(LAST_ROWID))
    return InsertRows(steps, keys)


def multi_row_values(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, *, max_params: int
) -> InsertRows:
    """``INSERT … VALUES (…), (…) RETURNING key`` statements, for a server with concurrent writers.

    Each parameter's type comes from its target column, so nothing here needs to know the
    column types. Rows go in chunks whose sizes are powers of two (at most ``max_params``
    parameters each), so a driver that prepares each distinct statement prepares few. Keys
    come back sorted: a statement inserts its rows in ``VALUES`` order, taking increasing keys.
    """
    if len(rows) <= 1:
        return one_statement_per_row(table, columns, rows, key)
    check_names(table, columns, key)
    largest = 1
    while largest * 2 * len(columns) <= max_params and largest < 1024:
        largest *= 2
    steps: list[Step] = []
    start = 0
    while start < len(rows):
        size = largest
        while size > len(rows) - start:
            size //= 2
        chunk = rows[start : start + size]
        tuples = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(size))
        try:
            params = {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in columns}
        except KeyError as error:
            raise ValidationError.refuse(
                "Database.insert_rows", "rows", error.args[0], "is a column a row lacks"
            ) from error
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {tuples} RETURNING {key}"
        steps.append(FetchAll(sql, params))
        start += size

    def keys(results: Sequence[Any]) -> list[int]:
        return [k for chunk in results for k in sorted(int(row[key]) for row in chunk)]

    return InsertRows(tuple(steps), keys)


__all__ = [
    "LAST_ROWID",
    "check_names",
    "consecutive_keys",
    "insert_sql",
    "multi_row_values",
    "one_statement_per_row",
]
