"""What a libSQL server answers to the Database capabilities; ``LibsqlDatabase`` delegates its
capability block here. A libSQL server runs SQLite, so it shares SQLite's SQL."""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.base import Params, Program, Step
from agentsdb.db.inserts import consecutive_keys
from agentsdb.db.sqlite.capabilities import (
    TABLE_COLUMNS,
    table_indexes,
    table_names,
    table_triggers,
)


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Params], key: str, before: Sequence[Step]
) -> Program[list[int]]:
    """One ``executemany`` and ``last_insert_rowid()`` as one ``Atomic`` (one batch):
    the server runs one writer at a time, so the keys are consecutive (see
    :func:`agentsdb.db.inserts.consecutive_keys`)."""
    return consecutive_keys(table, columns, rows, key, before)


__all__ = [
    "TABLE_COLUMNS",
    "insert_rows",
    "table_indexes",
    "table_names",
    "table_triggers",
]
