"""The capabilities a SQLite file and a libSQL server answer alike: both run SQLite, so the same
SQL and the same insert shape serve both. ``SQLiteDatabase`` and ``LibsqlDatabase`` inherit
:class:`SQLiteCapabilities`; each declares at its end the capabilities that differ between them
(``interactive_transactions``, ``temp_tables_persist``)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from agentsdb.db.base import Params, Program, Row, Step
from agentsdb.db.inserts import consecutive_keys

#: A table's column names in declaration order (no rows when there is no such table).
TABLE_COLUMNS = "SELECT name FROM pragma_table_info(:table) ORDER BY cid"


class SQLiteCapabilities(abc.ABC):
    """``json_decoded``, ``insert_rows`` and ``table_columns`` of the SQLite-family backends
    (see ``Database`` in :mod:`agentsdb.db.base`)."""

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Every row of the query (the backend's own)."""

    @property
    def json_decoded(self) -> bool:
        """False: JSON columns are TEXT and come back as JSON text."""
        return False

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


__all__ = ["TABLE_COLUMNS", "SQLiteCapabilities"]
