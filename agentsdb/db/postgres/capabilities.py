"""What PostgreSQL answers to the Database capabilities; ``PostgresDatabase`` delegates its
capability block here."""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.base import InsertRows, Params
from agentsdb.db.inserts import multi_row_values

#: A table's column names in declaration order, in the connection's current schema.
TABLE_COLUMNS = """SELECT column_name AS name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = :table
ORDER BY ordinal_position"""

#: The most bind parameters asyncpg sends with one statement.
MAX_PARAMS = 32767


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Params], key: str) -> InsertRows:
    """Multi-row ``INSERT … VALUES … RETURNING`` statements: other connections insert at the
    same time, so keys need not be consecutive and come back from the statements themselves
    (see :func:`agentsdb.db.inserts.multi_row_values`)."""
    return multi_row_values(table, columns, rows, key, max_params=MAX_PARAMS)


__all__ = ["MAX_PARAMS", "TABLE_COLUMNS", "InsertRows", "insert_rows"]
