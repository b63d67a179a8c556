"""The three things this backend needs from aiosqlite that it has no public API for.

aiosqlite runs every call on a worker thread, but offers no public way to run a function of
ours there with the ``sqlite3.Connection`` (only its own execute/fetch methods, one hop each),
nor a handle on the thread. This backend runs a whole unit of work in one hop, so it reaches
into ``Connection._execute``, ``Connection._conn`` and ``Connection._thread``, here and nowhere
else. tests/test_sqlite_private_api.py compares each with aiosqlite's public methods, so an
aiosqlite release that changes them fails there first.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import aiosqlite

T = TypeVar("T")


def run_on_worker(connection: aiosqlite.Connection, fn: Callable[[], T]) -> Awaitable[T]:
    """Run ``fn()`` on the connection's worker thread, queued behind its other calls.

    Raises ValueError (aiosqlite's) when the connection is closed.
    """
    queue = cast(Callable[[Callable[[], T]], Awaitable[T]], connection._execute)
    return queue(fn)


def sqlite_connection(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The ``sqlite3.Connection`` the worker thread uses; touch it only on that thread."""
    return connection._conn


def worker_thread(connection: aiosqlite.Connection) -> threading.Thread:
    """The connection's worker thread (aiosqlite before 0.22: the connection itself)."""
    thread = getattr(connection, "_thread", connection)
    if not isinstance(thread, threading.Thread):
        raise TypeError(f"aiosqlite's connection has no worker thread agentsdb knows: {thread!r}")
    return thread


__all__ = ["run_on_worker", "sqlite_connection", "worker_thread"]
