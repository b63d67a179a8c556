"""A whole program on the worker thread, in one hop (see :mod:`agentsdb.db.program`).

:func:`run_program_sync` runs on aiosqlite's worker thread with its ``sqlite3.Connection``. The
performer's methods call sqlite3 directly and never suspend, so the shared driver
(:func:`~agentsdb.db.program.run_program`) is driven to its end right there by
:func:`~agentsdb.db.program.run_to_completion`, with the same semantics as on the other
backends and no hop per operation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

from agentsdb.db import program
from agentsdb.db.base import ExecuteResult, Operation, Params, Program, Row
from agentsdb.db.program import ExpandedAtomics, dispatch, sql_of
from agentsdb.db.sqlite import statements
from agentsdb.db.sqlite.errors import translate

T = TypeVar("T")


class SQLitePerformer(ExpandedAtomics):
    """Operations on the worker thread's connection; sqlite3 errors become agentsdb errors."""

    __slots__ = ("_conn", "_lock_wait", "_path")

    def __init__(self, conn: sqlite3.Connection, path: str | None) -> None:
        self._conn = conn
        self._path = path
        self._lock_wait = statements.LockWait(conn)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def perform(self, op: Operation) -> Any:
        try:
            return dispatch(self, op)
        except (sqlite3.Error, UnicodeEncodeError) as error:
            # Naming the database file when the error is about the file.
            raise translate(error, sql_of(op), path=self._path) from error

    def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        return statements.execute(self._conn, sql, params)

    def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        return statements.execute_many(self._conn, sql, params)

    def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        return statements.fetch(self._conn, sql, params, None)

    def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        rows = statements.fetch(self._conn, sql, params, 1)
        return rows[0] if rows else None

    def order_commits(self, channel: str) -> None:
        # One writer at a time (BEGIN IMMEDIATE holds the write lock from the first statement
        # to COMMIT), so rows already commit in the order they were inserted.
        return None

    def begin(self, lock_timeout: float | None, lock_name: str | None) -> None:
        # Every write transaction is exclusive on SQLite: a lock name needs nothing more.
        self._lock_wait.begin(lock_timeout)

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        # A failed COMMIT can leave the transaction open or closed depending on the error;
        # rolling back "whatever is open" is what a program means.
        statements.execute_in_transaction(self._conn, "ROLLBACK")

    def abort(self) -> None:
        statements.execute_in_transaction(self._conn, "ROLLBACK")

    def restore(self) -> None:
        """Undo what a program may have left on the connection besides a transaction."""
        self._lock_wait.restore()
        # Foreign keys are on for every connection; a program that switched them off for a
        # table rebuild and then failed in an unexpected way must not leave them off. Read
        # first: setting the pragma expires every prepared statement in the connection's cache.
        if not self._conn.execute("PRAGMA foreign_keys").fetchone()[0]:
            self._conn.execute("PRAGMA foreign_keys = ON")


def run_program_sync(conn: sqlite3.Connection, work: Program[T], *, path: str | None = None) -> T:
    """Drive a program to completion on this thread (the worker's), with the shared driver.

    A failed operation is thrown into the program as an agentsdb error chained to the sqlite3
    error (naming the database file ``path`` when the error is about the file). A transaction
    the program leaves open is rolled back; ending normally with one open is itself an error.
    """
    performer = SQLitePerformer(conn, path)
    try:
        return program.run_program_sync(work, performer)
    finally:
        performer.restore()


__all__ = ["SQLitePerformer", "run_program_sync"]
