"""Setting up a new connection: the pragmas every connection gets, and a clean failed open."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import aiosqlite

from agentsdb.db.sqlite.errors import is_busy
from agentsdb.db.sqlite.worker import worker_thread
from agentsdb.db.url import Synchronous

_WAL_RETRY_SECONDS = 0.01
_WORKER_STOP_SECONDS = 5.0


def _use_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch the file to WAL (a no-op once it is WAL, which it stays for every connection).

    Switching needs an exclusive lock and SQLite may answer "database is locked" at once, without
    waiting on the busy handler, while other processes open the same new file: retry until the
    busy timeout has passed.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_WAL_RETRY_SECONDS)


def configure(
    conn: sqlite3.Connection, busy_timeout: float, in_memory: bool, synchronous: Synchronous
) -> None:
    """On the worker thread: busy timeout, foreign keys on, WAL for files, the durability level
    (``synchronous``, one of the levels agentsdb.db.url accepts)."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not in_memory:
        _use_wal(conn, busy_timeout)
    conn.execute(f"PRAGMA synchronous = {synchronous}")  # one of SYNCHRONOUS_LEVELS


async def worker_stopped(connection: aiosqlite.Connection) -> None:
    """Wait until aiosqlite's worker thread has ended after a failed open.

    aiosqlite queues a stop for its thread when connecting fails, without waiting for it; the
    thread then reports to the event loop, and if the loop has closed meanwhile (a command-line
    run that prints the error and exits) it dies with "RuntimeError: Event loop is closed".
    Waiting here, with the loop running, lets it finish cleanly.
    """
    await asyncio.to_thread(worker_thread(connection).join, _WORKER_STOP_SECONDS)


__all__ = ["configure", "worker_stopped"]
