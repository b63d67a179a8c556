"""What PostgreSQL answers to the Database capabilities; ``PostgresDatabase`` delegates its
capability block here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentsdb.db.base import Executor, FetchAll, Params, Program, Step
from agentsdb.db.inserts import check_names, one_statement_per_row, one_unit
from agentsdb.errors import AgentsDBError

#: A table's column names in declaration order, in the connection's current schema.
TABLE_COLUMNS = """SELECT column_name AS name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = :table
ORDER BY ordinal_position"""

#: The tables of the connection's current schema.
TABLE_NAMES = """SELECT table_name AS name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"""

#: The indexes ``CREATE INDEX`` made on a table (found as an unqualified name would be): every
#: index on it but those that back a constraint (PRIMARY KEY, UNIQUE, EXCLUDE).
TABLE_INDEXES = """SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = to_regclass(:table)
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"""

#: The triggers on a table (found as an unqualified name would be), with their definitions.
TABLE_TRIGGERS = """SELECT tgname AS name, pg_get_triggerdef(oid) AS sql FROM pg_trigger
WHERE tgrelid = to_regclass(:table) AND NOT tgisinternal"""


async def table_names(db: Executor) -> tuple[str, ...]:
    """The current schema's tables, sorted."""
    return tuple(sorted(str(row["name"]) for row in await db.fetch_all(TABLE_NAMES)))


async def table_indexes(db: Executor, table: str) -> tuple[str, ...]:
    """The indexes ``CREATE INDEX`` made on ``table``, sorted."""
    rows = await db.fetch_all(TABLE_INDEXES, {"table": table})
    return tuple(sorted(str(row["name"]) for row in rows))


async def table_triggers(db: Executor, table: str) -> dict[str, str]:
    """The triggers on ``table`` by name, each with its definition (``pg_get_triggerdef``)."""
    rows = await db.fetch_all(TABLE_TRIGGERS, {"table": table})
    return {str(row["name"]): str(row["sql"]) for row in sorted(rows, key=lambda r: r["name"])}


#: The declared type of each column of a table (found as an unqualified name would be).
_COLUMN_TYPES = """SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = to_regclass(:table) AND a.attnum > 0 AND NOT a.attisdropped"""


class ColumnTypes:
    """The declared column types of the tables ``insert_rows`` wrote to, for one Database.

    Read from the catalog at a table's first multi-row insert; forgotten when an insert using
    them fails, so a column whose type a migration changed is read again by the next insert.
    """

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {}

    def get(self, table: str) -> dict[str, str] | None:
        """The types of ``table``'s columns by name, when known."""
        return self._known.get(table)

    def remember(self, table: str, types: dict[str, str]) -> None:
        """Keep ``types`` for ``table``."""
        self._known[table] = types

    def forget(self, table: str) -> None:
        """Read ``table``'s types again next time."""
        self._known.pop(table, None)


#: Column types whose values arrive as JSON text: sent as ``text[]`` and cast one by one.
_JSON_TYPES = frozenset({"json", "jsonb"})


def _unnest_sql(table: str, columns: Sequence[str], types: dict[str, str], key: str) -> str:
    def array(c: str) -> str:
        return f"CAST(:{c} AS {'text' if types[c] in _JSON_TYPES else types[c]}[])"

    def value(c: str) -> str:
        return f"CAST({c} AS {types[c]})" if types[c] in _JSON_TYPES else c

    names = ", ".join(columns)
    return f"""INSERT INTO {table} ({names})
SELECT {", ".join(value(c) for c in columns)}
FROM unnest({", ".join(array(c) for c in columns)}) WITH ORDINALITY
    AS given ({names}, agentsdb_n)
ORDER BY agentsdb_n
RETURNING {key}"""


def insert_rows(
    memo: ColumnTypes,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Params],
    key: str,
    before: Sequence[Step],
) -> Program[list[int]]:
    """One ``INSERT … SELECT … FROM unnest(arrays) … RETURNING key`` for every row at once.

    Each parameter is an array holding one column's value for every row, cast to an array of
    the column's declared type (read from the catalog first; JSON text goes as ``text[]`` and
    each value is cast to the JSON column's type, so it is stored as a document; ``memo`` keeps
    them for the next insert). Rows insert in array order, so their keys increase in that order
    while other connections insert at the same time; they come back sorted. A table or column
    the catalog does not know falls back to one statement per row, which fails as it would
    on every backend.
    """
    if len(rows) <= 1:
        return (yield from one_statement_per_row(table, columns, rows, key, before))
    check_names(table, columns, key)
    types = memo.get(table)
    if types is None:
        found = yield FetchAll(_COLUMN_TYPES, {"table": table})
        types = {str(row["name"]): str(row["type"]) for row in found}
    if not all(c in types for c in columns):
        return (yield from one_statement_per_row(table, columns, rows, key, before))
    memo.remember(table, types)
    arrays = {c: [row[c] for row in rows] for c in columns}

    def keys(results: Sequence[Any]) -> list[int]:
        return sorted(int(row[key]) for row in results[0])

    sql = _unnest_sql(table, columns, types, key)
    try:
        return (yield from one_unit(before, [FetchAll(sql, arrays)], keys))
    except AgentsDBError:
        memo.forget(table)
        raise


__all__ = [
    "TABLE_COLUMNS",
    "ColumnTypes",
    "Step",
    "insert_rows",
    "table_indexes",
    "table_names",
    "table_triggers",
]
