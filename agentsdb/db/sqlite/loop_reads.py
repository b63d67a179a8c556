"""Short reads on the event loop's own thread, on a second, read-only SQLite connection.

A hop to aiosqlite's worker thread costs 0.05-0.2 ms, ten times a point read by primary key.
So ``fetch_one`` and ``fetch_all`` outside a transaction first try the query here, on a
connection of this thread's own that may only read (``query_only``) and never waits for a lock
(busy timeout 0). In WAL mode a reader sees every transaction committed before it starts and
never blocks a writer, so the result is the one the worker would return.

The loop is never held for long: a progress handler interrupts a query after
:data:`VM_STEP_BUDGET` SQLite virtual-machine steps (a fraction of a millisecond), and the query
then runs on the worker thread as before. The next :data:`LONG_QUERY_SKIPS` calls of the same SQL
text go to the worker without that first attempt, whose work would most likely be thrown away
again (a catch-up's pages, a long stream's loads); then the loop tries it again. Every query
this connection cannot answer the same way runs on the worker too: one that fails here for any
reason (a TEMP or attached table it cannot see, a lock), one that names connection-local state
(``temp``, ``changes()``, ``last_insert_rowid()``, ``pragma_*`` functions), and every query once
the worker's connection holds state of its own that a query could see (a TEMP object, a
per-connection PRAGMA): :func:`note_statement` records that on the worker's connection.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from functools import lru_cache
from typing import Any

from agentsdb.db.base import Params, Row
from agentsdb.db.url import Synchronous

log = logging.getLogger("agentsdb.db.sqlite")

#: Virtual-machine steps a query may take on the loop's thread before it is interrupted and
#: handed to the worker thread instead. A point read takes under a hundred.
VM_STEP_BUDGET = 20_000
# SQLite calls the progress handler every _CHECK_EVERY steps, counted over all executions of a
# cached statement, so the handler counts its calls per query: the budget is met after between
# _CHECKS - 1 and _CHECKS calls.
_CHECK_EVERY = 1_000
_CHECKS = VM_STEP_BUDGET // _CHECK_EVERY
#: Calls of a query's SQL text that go straight to the worker after it ran past the budget.
LONG_QUERY_SKIPS = 8
# How many such SQL texts are remembered (the oldest is forgotten first).
_LONG_QUERIES_KEPT = 64

_NO_PARAMS: dict[str, Any] = {}

# Words that make a query's result depend on the connection it runs on.
_CONNECTION_LOCAL = re.compile(
    r"\b(?:temp|temporary|sqlite_temp_\w+|changes|total_changes|last_insert_rowid|pragma_\w+)\b",
    re.IGNORECASE,
)
_LEADING_VERB = re.compile(r"\s*(?:WITH\b|SELECT\b|VALUES\b)", re.IGNORECASE)
_CREATES_TEMP = re.compile(r"\s*CREATE\s+(?:TEMP|TEMPORARY)\b", re.IGNORECASE)
_ATTACH = re.compile(r"\s*ATTACH\b", re.IGNORECASE)
_PRAGMA_SET = re.compile(r"\s*PRAGMA\s+(?:main\.)?(\w+)\s*(?:=|\()", re.IGNORECASE)
# Pragmas whose setting changes no query's result, or is the database file's own (so every
# connection sees it): setting these leaves the loop's connection answering the same.
_HARMLESS_PRAGMAS = frozenset(
    {
        "analysis_limit",
        "application_id",
        "busy_timeout",
        "cache_size",
        "cache_spill",
        "defer_foreign_keys",
        "foreign_key_check",
        "foreign_key_list",
        "foreign_keys",
        "incremental_vacuum",
        "index_info",
        "index_list",
        "index_xinfo",
        "integrity_check",
        "journal_mode",
        "journal_size_limit",
        "legacy_alter_table",
        "mmap_size",
        "optimize",
        "quick_check",
        "synchronous",
        "table_info",
        "table_xinfo",
        "user_version",
        "wal_autocheckpoint",
        "wal_checkpoint",
    }
)


class WorkerConnection(sqlite3.Connection):
    """The worker thread's connection; remembers whether it holds connection-local state."""

    #: True while the connection holds a TEMP object or an attached database, or once a
    #: statement set a pragma that another connection would not share: meanwhile every read
    #: runs on this connection.
    has_local_state = False
    #: True once a per-connection pragma was set: whether it was set back cannot be known, so
    #: ``has_local_state`` then stays true.
    has_local_settings = False


def note_statement(conn: sqlite3.Connection, sql: str) -> None:
    """Before ``sql`` runs: record on the worker's connection that it gives the connection
    state of its own, if it does."""
    if isinstance(conn, WorkerConnection) and not conn.has_local_state:
        kind = _local_kind(sql)
        if kind is not None:
            conn.has_local_state = True
            conn.has_local_settings = kind == "pragma"
            log.debug("reads stay on the worker thread: %.80r holds connection-local state", sql)


def note_statement_done(conn: sqlite3.Connection, sql: str) -> None:
    """After ``sql`` ran: once no TEMP object and no attached database is left (and no
    transaction could bring one back), reads may run on the loop's connection again."""
    if (
        isinstance(conn, WorkerConnection)
        and conn.has_local_state
        and not conn.has_local_settings
        and not conn.in_transaction
        and _MAY_RELEASE.match(sql)
    ):
        conn.has_local_state = _holds_local_objects(conn)
        if not conn.has_local_state:
            log.debug("reads may run on the loop again: no connection-local state is left")


def _holds_local_objects(conn: sqlite3.Connection) -> bool:
    row = conn.execute(_LOCAL_OBJECTS).fetchone()
    return bool(row[0])


_MAY_RELEASE = re.compile(r"\s*(?:DROP|DETACH|COMMIT|END|ROLLBACK)\b", re.IGNORECASE)
_LOCAL_OBJECTS = """SELECT (SELECT count(*) FROM temp.sqlite_master)
    + (SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp'))"""


@lru_cache(maxsize=1024)
def _local_kind(sql: str) -> str | None:
    """``"object"`` when ``sql`` makes a TEMP object or attaches a database, ``"pragma"`` when
    it sets a pragma another connection would not share, else None."""
    if _CREATES_TEMP.match(sql) or _ATTACH.match(sql):
        return "object"
    pragma = _PRAGMA_SET.match(sql)
    if pragma is not None and pragma.group(1).lower() not in _HARMLESS_PRAGMAS:
        return "pragma"
    return None


@lru_cache(maxsize=1024)
def loop_readable(sql: str) -> bool:
    """Whether ``sql`` may be tried on the loop's connection: a query naming nothing local."""
    return bool(_LEADING_VERB.match(sql)) and _CONNECTION_LOCAL.search(sql) is None


class LoopReader:
    """The read-only connection of the event loop's thread.

    Open it on that thread, when the database opens (a relative path then means what it meant
    to the worker). When it cannot be opened, every read runs on the worker.
    """

    def __init__(
        self,
        database: str,
        *,
        uri: bool,
        worker: WorkerConnection,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        self._checks = 0
        self._worker = worker
        self._conn = self._open(database, uri, synchronous)
        # SQL texts that ran past the budget: the calls left to send straight to the worker.
        self._long_queries: dict[str, int] = {}

    def _over_budget(self) -> bool:
        self._checks += 1
        return self._checks >= _CHECKS

    def fetch(self, sql: str, params: Params | None, limit: int | None) -> list[Row] | None:
        """The query's rows, or None: then run it on the worker thread instead."""
        read = self.fetch_values(sql, params, limit)
        if read is None:
            return None
        columns, raw = read
        return [dict(zip(columns, values, strict=True)) for values in raw]

    def fetch_values(
        self, sql: str, params: Params | None, limit: int | None
    ) -> tuple[list[str], list[tuple[Any, ...]]] | None:
        """The query's column names and rows (tuples), or None: then run it on the worker
        thread instead."""
        conn = self._conn
        if conn is None or (
            isinstance(self._worker, WorkerConnection) and self._worker.has_local_state
        ):
            return None
        if sql in self._long_queries:
            self._skip_long_query(sql)
            return None
        self._checks = 0
        try:
            cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
            try:
                if cursor.description is None:
                    return None
                raw = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
                columns = [column[0] for column in cursor.description]
            finally:
                cursor.close()
        except (sqlite3.Error, UnicodeEncodeError):
            # Interrupted, locked, a table only the worker's connection has, or a parameter that
            # is not valid text: the worker runs it again and gives the true result or error.
            if self._checks >= _CHECKS:
                self._remember_long_query(sql)
            return None
        return columns, raw

    def _remember_long_query(self, sql: str) -> None:
        long_queries = self._long_queries
        if len(long_queries) >= _LONG_QUERIES_KEPT:
            del long_queries[next(iter(long_queries))]
        long_queries[sql] = LONG_QUERY_SKIPS

    def _skip_long_query(self, sql: str) -> None:
        left = self._long_queries[sql] - 1
        if left > 0:
            self._long_queries[sql] = left
        else:
            del self._long_queries[sql]

    def _open(
        self, database: str, uri: bool, synchronous: Synchronous
    ) -> sqlite3.Connection | None:
        try:
            conn = sqlite3.connect(
                database, uri=uri, timeout=0, isolation_level=None, check_same_thread=True
            )
        except sqlite3.Error as error:
            log.debug("reads stay on the worker thread: cannot open a read connection: %s", error)
            return None
        try:
            conn.execute("PRAGMA query_only = ON")
            # It never writes, but the same level as the worker's if it ever checkpoints.
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.set_progress_handler(self._over_budget, _CHECK_EVERY)
        except sqlite3.Error as error:
            conn.close()
            log.debug("reads stay on the worker thread: cannot set up a read connection: %s", error)
            return None
        return conn

    def close(self) -> None:
        """Close the read connection, if it was opened."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


__all__ = [
    "LONG_QUERY_SKIPS",
    "VM_STEP_BUDGET",
    "LoopReader",
    "WorkerConnection",
    "loop_readable",
    "note_statement",
    "note_statement_done",
]
