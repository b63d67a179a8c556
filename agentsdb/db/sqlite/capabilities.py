"""What SQLite answers to the Database capabilities (a libSQL server, which runs SQLite, shares
its SQL); ``SQLiteDatabase`` delegates its capability block here."""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.base import Params, Program, Step
from agentsdb.db.inserts import consecutive_keys

#: A table's column names in declaration order (no rows when there is no such table).
TABLE_COLUMNS = "SELECT name FROM pragma_table_info(:table) ORDER BY cid"


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, before: Sequence[Step]
) -> Program[list[int]]:
    """One ``executemany`` and ``last_insert_rowid()``: one writer at a time, so the keys are
    consecutive (see :func:`agentsdb.db.inserts.consecutive_keys`)."""
    return consecutive_keys(table, columns, rows, key, before)


__all__ = ["TABLE_COLUMNS", "Step", "insert_rows"]
