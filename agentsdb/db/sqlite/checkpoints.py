"""WAL checkpoints in the background, for the writes the event loop's thread commits.

Writes committed on the loop's thread (:mod:`agentsdb.db.sqlite.loop_writes`) never checkpoint
there: a checkpoint syncs the WAL and then the database file to disk, milliseconds the loop must
not wait. And a checkpoint on the commit path, as SQLite runs one after any commit that finds
the WAL at ``wal_autocheckpoint`` pages, makes that one write wait for both syncs (about 5 ms
against 0.05 ms for the write itself).

So every :data:`~agentsdb.db.sqlite.loop_writes.LOOP_COMMITS_PER_CHECKPOINT` commits there, a
``PASSIVE`` checkpoint runs on a connection of its own, on a checkpoint thread, while writes go
on. Its outcome is read when the next one is due, or when the loop's writer asks whether the
WAL is long, not from a callback: a task whose writes all finish on the loop's thread may never
yield to the event loop. A checkpoint that finds no newer commit at its end lets the next
write start the WAL again from its beginning, so with any pause between writes no writer ever
waits for the disk. Writes that never pause outrun it: each checkpoint finds newer frames at
its end and the WAL keeps growing. Once a checkpoint reports :data:`LONG_WAL_FACTOR` times the
connection's ``wal_autocheckpoint`` pages in the WAL, the next unit runs on the worker thread,
whose COMMIT checkpoints (as SQLite does) while nobody else writes, and the WAL starts again.
So a sustained burst grows the WAL to about that many pages (16 MB with SQLite's defaults)
before one write waits for a checkpoint.

A background checkpoint that fails is logged as a warning and not tried again: checkpoints then
happen on the worker's commits, every ``LOOP_COMMITS_PER_HANDOVER`` loop commits, where a
lasting problem (a full disk, a broken file) surfaces as the error of a write.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

from agentsdb.db.url import Synchronous

log = logging.getLogger("agentsdb.db.sqlite")

#: Writers on the loop's thread wait for a checkpoint once the WAL holds this many times the
#: connection's ``wal_autocheckpoint`` pages.
LONG_WAL_FACTOR = 4

# One thread serves every database's checkpoints (each runs one at a time); it starts with
# the first checkpoint, and idles between them.
_CHECKPOINT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentsdb-checkpoint")


def _checkpoint(conn: sqlite3.Connection) -> tuple[int, int]:
    """On an executor thread: a PASSIVE checkpoint; the WAL's frames, and how many of them are
    now in the database file."""
    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[1]), int(row[2])


class BackgroundCheckpoints:
    """Checkpoints of one database file, one at a time, on a connection of their own.

    Open it on the event loop's thread, when the database opens (a relative path then means
    what it meant to the worker). Every method runs on that thread; only the checkpoints run on
    the checkpoint thread.
    """

    def __init__(self, database: str, *, uri: bool, path: str, synchronous: Synchronous) -> None:
        self._path = path
        self._running: Future[tuple[int, int]] | None = None
        #: Frames in the WAL when the last checkpoint ended (0 before the first, and again
        #: once a writer was handed to the worker for its checkpoint).
        self.wal_frames = 0
        #: Checkpoints finished, for tests and benchmarks.
        self.finished = 0
        self._conn = self._open(database, uri, synchronous)

    @property
    def available(self) -> bool:
        """False once the connection could not be opened or a checkpoint failed."""
        return self._conn is not None

    @property
    def running(self) -> bool:
        """Whether a checkpoint is running now."""
        self._collect()
        return self._running is not None

    def request(self) -> bool:
        """Start a checkpoint unless one is running. False when checkpoints cannot run here,
        so the worker's commits must checkpoint."""
        self._collect()
        conn = self._conn
        if conn is None:
            return False
        if self._running is None:
            self._running = _CHECKPOINT_THREAD.submit(_checkpoint, conn)
        return True

    def wal_is_long(self, checkpoint_pages: int) -> bool:
        """Whether the last checkpoint left the WAL long enough that a writer should wait."""
        self._collect()
        return self.wal_frames >= LONG_WAL_FACTOR * checkpoint_pages

    def handed_to_worker(self) -> None:
        """A writer went to the worker thread, whose COMMIT checkpoints the long WAL."""
        self.wal_frames = 0

    def _collect(self) -> None:
        """Take in the outcome of the checkpoint that ran, once it has ended."""
        running = self._running
        if running is None or not running.done():
            return
        self._running = None
        error = running.exception()
        if error is not None:
            log.warning(
                "background WAL checkpoint of %s failed, so commits checkpoint on the worker "
                "thread from now on: %s",
                self._path,
                error,
            )
            self._close_connection()
            return
        frames, _checkpointed = running.result()
        self.wal_frames = frames
        self.finished += 1

    async def close(self) -> None:
        """Wait for a running checkpoint, then close the connection."""
        running = self._running
        if running is not None:
            await asyncio.wait([asyncio.wrap_future(running)])
            self._collect()
        self._close_connection()

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _open(
        self, database: str, uri: bool, synchronous: Synchronous
    ) -> sqlite3.Connection | None:
        conn: sqlite3.Connection | None = None
        try:
            # Used from an executor thread, one checkpoint at a time.
            conn = sqlite3.connect(
                database, uri=uri, timeout=0, isolation_level=None, check_same_thread=False
            )
            # A checkpoint syncs the files as its own connection's level says: the database's.
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        except sqlite3.Error as error:
            if conn is not None:
                conn.close()
            log.warning(
                "cannot open a checkpoint connection to %s, so commits checkpoint on the worker "
                "thread: %s",
                self._path,
                error,
            )
            return None
        return conn


__all__ = ["LONG_WAL_FACTOR", "BackgroundCheckpoints"]
