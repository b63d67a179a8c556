"""A Database that passes every call on to a real one: the base of the test wrappers that
record or refuse what reaches the database.

Every member of the ``Database`` protocol is spelled out here, once: a wrapper subclasses this
and overrides only what it watches, and ``tests/test_forwarding_database.py`` fails when the
protocol gains a member this class does not forward (a statement method that slipped past a
recording wrapper would make its test prove nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from agentsdb.db.base import (
    BatchWriter,
    Database,
    ExecuteResult,
    GroupCommitter,
    Params,
    Program,
    Row,
    Step,
    Transaction,
)
from agentsdb.db.migration_runner import MigrationRunner

T = TypeVar("T")


class ForwardingDatabase:
    """Passes every call on to ``inner``; each statement first goes through :meth:`on_statement`."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner

    def on_statement(self, sql: str, params: Params | Sequence[Params] | None) -> None:
        """Called with each statement sent through ``execute``, ``execute_many`` and the fetches,
        before it runs (raise to refuse it)."""

    # --- statements ----------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        self.on_statement(sql, params)
        return await self.inner.execute(sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        self.on_statement(sql, params)
        return await self.inner.execute_many(sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        self.on_statement(sql, params)
        return await self.inner.fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        self.on_statement(sql, params)
        return await self.inner.fetch_all(sql, params)

    async def fetch_values(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        self.on_statement(sql, params)
        return await self.inner.fetch_values(sql, params)

    # --- units of work -------------------------------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self.inner.transaction()

    async def run(self, program: Program[T]) -> T:
        return await self.inner.run(program)

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommitter[T]:
        return self.inner.group_commit(key, write)

    def migration_runner(self, lock_name: str, lock_timeout: float) -> MigrationRunner:
        return self.inner.migration_runner(lock_name, lock_timeout)

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        return await self.inner.check_integrity(quick=quick)

    async def close(self) -> None:
        await self.inner.close()

    # --- what the database is, and its capabilities (see Database in agentsdb.db.base) ---------

    @property
    def dialect(self) -> str:
        return self.inner.dialect

    @property
    def url(self) -> str:
        return self.inner.url

    @property
    def json_decoded(self) -> bool:
        return self.inner.json_decoded

    @property
    def interactive_transactions(self) -> bool:
        return self.inner.interactive_transactions

    @property
    def temp_tables_persist(self) -> bool:
        return self.inner.temp_tables_persist

    @property
    def reports_insert_id(self) -> bool:
        return self.inner.reports_insert_id

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[Step] = (),
    ) -> Program[list[int]]:
        return self.inner.insert_rows(table, columns, rows, key=key, before=before)

    async def table_columns(self, table: str) -> tuple[str, ...]:
        return await self.inner.table_columns(table)

    async def table_names(self) -> tuple[str, ...]:
        return await self.inner.table_names()

    async def table_indexes(self, table: str) -> tuple[str, ...]:
        return await self.inner.table_indexes(table)

    async def table_triggers(self, table: str) -> dict[str, str]:
        return await self.inner.table_triggers(table)
