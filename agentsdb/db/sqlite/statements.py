"""Statements on the worker thread's ``sqlite3.Connection``: what one hop runs.

Each function takes the connection first and runs synchronously, on aiosqlite's worker thread
(see :mod:`agentsdb.db.sqlite.worker`); the caller translates sqlite3's errors.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from agentsdb.db.base import ExecuteResult, Params, Row
from agentsdb.db.sqlite.loop_reads import note_statement, note_statement_done

_NO_PARAMS: dict[str, Any] = {}

# String literals, quoted identifiers and comments, blanked out before looking for keywords.
_NOT_KEYWORDS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?(?:\*/|$)""", re.DOTALL)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)\b")
_WORDS_AND_PARENS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[()]")
_STATEMENT_VERBS = frozenset({"INSERT", "REPLACE", "SELECT", "UPDATE", "DELETE", "VALUES"})
_INSERTS = frozenset({"INSERT", "REPLACE"})
WRITES = frozenset({"INSERT", "REPLACE", "UPDATE", "DELETE"})


@lru_cache(maxsize=1024)
def verb(sql: str) -> str:
    """The statement's main verb (``INSERT``, ``UPDATE``, ...), looking past a ``WITH`` clause."""
    leading = _FIRST_WORD.match(sql)
    if leading is not None and leading.group(1).upper() != "WITH":
        return leading.group(1).upper()
    depth = 0
    first = True
    for match in _WORDS_AND_PARENS.finditer(_NOT_KEYWORDS.sub(" ", sql)):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            word = token.upper()
            if (first and word != "WITH") or word in _STATEMENT_VERBS:
                return word
            first = False
    return ""


def execute(conn: sqlite3.Connection, sql: str, params: Params | None) -> ExecuteResult:
    """Run one statement; rows it changed and, for an insert, the new rowid."""
    note_statement(conn, sql)
    cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
    note_statement_done(conn, sql)
    try:
        main_verb = verb(sql)
        if cursor.description is not None:
            # A statement that returns rows (RETURNING) finishes only once they are read; until
            # then sqlite3 reports no changes and no inserted rowid.
            returned = len(cursor.fetchall())
            rows = returned if main_verb in WRITES else 0
        else:
            rows = cursor.rowcount
        if rows < 0:
            # Python 3.11's sqlite3 reports -1 for a write that starts with WITH.
            rows = conn.execute("SELECT changes()").fetchone()[0] if main_verb in WRITES else 0
        # sqlite3 reports the connection's last inserted rowid after *every* statement, so an
        # UPDATE would otherwise carry the id of some earlier INSERT.
        inserted = rows > 0 and main_verb in _INSERTS
        return ExecuteResult(rows, cursor.lastrowid if inserted else None)
    finally:
        cursor.close()


def execute_in_transaction(conn: sqlite3.Connection, sql: str) -> None:
    """Run ``sql`` (a ROLLBACK) only when a transaction is still open for it to end."""
    if conn.in_transaction:
        conn.execute(sql)


def execute_many(conn: sqlite3.Connection, sql: str, params: Sequence[Params]) -> ExecuteResult:
    """Run one statement per parameter mapping (sqlite3's ``executemany``)."""
    cursor = conn.executemany(sql, params)
    try:
        return ExecuteResult(max(cursor.rowcount, 0), cursor.lastrowid or None)
    finally:
        cursor.close()


def fetch(
    conn: sqlite3.Connection, sql: str, params: Params | None, limit: int | None
) -> list[Row]:
    """The query's rows as dicts, at most ``limit`` of them (None: all)."""
    cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
    try:
        if cursor.description is None:
            return []
        columns = [column[0] for column in cursor.description]
        raw = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        return [dict(zip(columns, values, strict=True)) for values in raw]
    finally:
        cursor.close()


def fetch_values(
    conn: sqlite3.Connection, sql: str, params: Params | None
) -> list[tuple[Any, ...]]:
    """Every row of the query as sqlite3 returns it: a tuple of its values."""
    cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
    try:
        return cursor.fetchall() if cursor.description is not None else []
    finally:
        cursor.close()


class LockWait:
    """Makes ``BEGIN IMMEDIATE`` wait up to a Begin's ``lock_timeout`` for the write lock.

    SQLite's busy timeout is what BEGIN waits, so it is raised to ``lock_timeout`` for as long as
    a program needs it and restored when the program ends: one PRAGMA per program rather than
    three per transaction.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._original_ms: int | None = None
        self._current_ms: int | None = None

    def begin(self, lock_timeout: float | None) -> None:
        """BEGIN IMMEDIATE, waiting up to ``lock_timeout`` (else the busy timeout)."""
        if lock_timeout is not None:
            self._set(int(lock_timeout * 1000))
        elif self._original_ms is not None:
            self._set(self._original_ms)
        self._conn.execute("BEGIN IMMEDIATE")

    def _set(self, wanted_ms: int) -> None:
        if self._original_ms is None:
            self._original_ms = int(self._conn.execute("PRAGMA busy_timeout").fetchone()[0])
            self._current_ms = self._original_ms
        if wanted_ms != self._current_ms:
            self._conn.execute(f"PRAGMA busy_timeout = {wanted_ms}")
            self._current_ms = wanted_ms

    def restore(self) -> None:
        """Put the connection's own busy timeout back."""
        if self._original_ms is not None and self._current_ms != self._original_ms:
            self._conn.execute(f"PRAGMA busy_timeout = {self._original_ms}")
            self._current_ms = self._original_ms


def begin(conn: sqlite3.Connection, lock_timeout: float | None) -> None:
    """BEGIN IMMEDIATE, waiting up to ``lock_timeout`` (else the busy timeout) for the lock."""
    wait = LockWait(conn)
    try:
        wait.begin(lock_timeout)
    finally:
        wait.restore()


__all__ = [
    "WRITES",
    "LockWait",
    "begin",
    "execute",
    "execute_in_transaction",
    "execute_many",
    "fetch",
    "verb",
]
