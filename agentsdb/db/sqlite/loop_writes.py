"""Short units of work on the event loop's own thread, on the worker's connection while it idles.

A hop to aiosqlite's worker thread costs about 0.1 ms, more than a short write unit (an event
append, a row upsert) costs SQLite itself. In WAL mode at ``synchronous=NORMAL`` or ``OFF`` a
COMMIT appends to the WAL file without waiting for the disk, so such a unit ends in tens of
microseconds. So when no task uses the connection (no call on the worker, no open transaction,
nobody waiting), :meth:`LoopWriter.run` runs a program's :class:`~agentsdb.db.base.Atomic` units
right here, each whole (``BEGIN IMMEDIATE``, its steps, ``COMMIT``), on the same connection the
worker uses: the same tables, TEMP objects and settings, so the same results and errors.

The loop is never held for long, and never waits:

* at the first operation that is not an ``Atomic`` (a ``Begin``, a lone statement), the rest of
  the program goes to the worker thread, which continues it from that operation;
* a unit runs at most :data:`~agentsdb.db.sqlite.loop_reads.VM_STEP_BUDGET` virtual-machine steps:
  a progress handler interrupts a longer one, which is rolled back and handed to the worker;
* the connection's busy timeout is 0 here, so when another connection (another process) holds
  the write lock the unit is handed to the worker, which waits for the lock as always;
* the loop never checkpoints the WAL (which syncs the files to disk): automatic checkpoints are
  off while the loop writes; every :data:`LOOP_COMMITS_PER_CHECKPOINT` commits here a checkpoint
  runs in the background (:mod:`agentsdb.db.sqlite.checkpoints`), and when the WAL grows long
  all the same (or background checkpoints cannot run, then after
  :data:`LOOP_COMMITS_PER_HANDOVER` commits here) the next unit runs on the worker, whose COMMIT
  checkpoints as SQLite does when the WAL is long enough.

A step that fails is rolled back and its error thrown into the program, as on the worker. The
connection switches between the two sets of settings lazily: :meth:`LoopWriter.to_loop_settings`
before the first unit here, :meth:`LoopWriter.to_worker_settings` at the start of the next call
on the worker, restoring whatever the connection had.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agentsdb.db.base import Atomic, Commit, Operation, Program, Rollback, Step
from agentsdb.db.program import Finished
from agentsdb.db.sqlite.checkpoints import BackgroundCheckpoints
from agentsdb.db.sqlite.errors import is_busy
from agentsdb.db.sqlite.loop_reads import VM_STEP_BUDGET, WorkerConnection
from agentsdb.db.sqlite.performer import SQLitePerformer
from agentsdb.errors import AgentsDBError

T = TypeVar("T")

#: Commits on the loop's thread between two background checkpoints.
LOOP_COMMITS_PER_CHECKPOINT = 250
#: Without background checkpoints: commits on the loop's thread before the next unit runs on the
#: worker, whose COMMIT then checkpoints the WAL if it has reached the connection's
#: ``wal_autocheckpoint`` pages.
LOOP_COMMITS_PER_HANDOVER = 100
# SQLite calls the progress handler every _CHECK_EVERY virtual-machine steps.
_CHECK_EVERY = 1_000
_CHECKS = VM_STEP_BUDGET // _CHECK_EVERY


@dataclass(frozen=True, slots=True)
class Handover(Generic[T]):
    """The rest of a program, for the worker thread: it starts with the operation the loop's
    thread did not run."""

    program: Program[T]


class _HandOver:
    """A unit the loop's thread gave up on (rolled back): the worker runs it."""


_HAND_OVER = _HandOver()


class LoopWriter:
    """Runs programs' Atomic units on the loop's thread with the worker's connection.

    The caller guarantees that no task is using the connection (so the worker thread is idle)
    for as long as :meth:`run` runs, which makes no await.
    """

    def __init__(
        self,
        conn: WorkerConnection,
        path: str | None,
        checkpoints: BackgroundCheckpoints | None = None,
    ) -> None:
        self._conn = conn
        self._performer = SQLitePerformer(conn, path)
        self._checkpoints = checkpoints
        self._on_loop_settings = False
        self._worker_settings: tuple[int, int] | None = None
        self._commits = 0
        self._checks = 0
        self._interrupted = False
        #: Units committed on the loop's thread since the database opened (for tests and
        #: benchmarks that must know which thread ran a write).
        self.loop_commits = 0

    def ready(self) -> bool:
        """Whether the next unit may run here: no transaction open, no connection-local state
        (a TEMP object, an attached database, a per-connection pragma), and not due to let the
        worker checkpoint."""
        conn = self._conn
        return not conn.in_transaction and not conn.has_local_state and not self._due_on_worker()

    def _background(self) -> tuple[BackgroundCheckpoints, int] | None:
        """The background checkpoints and the connection's ``wal_autocheckpoint`` pages, when
        they checkpoint the loop's writes; None when the worker's commits must."""
        checkpoints = self._checkpoints
        settings = self._worker_settings
        if checkpoints is None or settings is None or settings[1] <= 0:
            return None
        return (checkpoints, settings[1]) if checkpoints.available else None

    def _due_on_worker(self) -> bool:
        """Whether the next unit is due on the worker, so that its COMMIT checkpoints: the
        background checkpoints found the WAL long or, without them, enough loop commits."""
        background = self._background()
        if background is None:
            return self._commits >= LOOP_COMMITS_PER_HANDOVER
        checkpoints, checkpoint_pages = background
        return checkpoints.wal_is_long(checkpoint_pages)

    def run(self, program: Program[T]) -> Finished[T] | Handover[T]:
        """Run the program's Atomic units here, up to its end or to the first operation that
        must run on the worker thread."""
        value: Any = None
        error: AgentsDBError | None = None
        try:
            while True:
                try:
                    op = program.send(value) if error is None else program.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return Finished(result)
                if not isinstance(op, Atomic) or not self.ready():
                    if self._checkpoints is not None:
                        # Whatever the reason, the worker's COMMIT checkpoints a long WAL.
                        self._checkpoints.handed_to_worker()
                    return Handover(_continued(program, op))
                outcome = self._atomic(op.steps)
                if isinstance(outcome, _HandOver):
                    return Handover(_continued(program, op))
                if isinstance(outcome, AgentsDBError):
                    value, error = None, outcome
                else:
                    value, error = outcome, None
        except BaseException:
            program.close()
            raise

    def _atomic(self, steps: Sequence[Step]) -> list[Any] | AgentsDBError | _HandOver:
        """One unit, whole: its results, the error to throw into the program, or hand-over."""
        conn = self._conn
        if not self._on_loop_settings and not self.to_loop_settings():
            return _HAND_OVER
        # The step budget counts from here (the progress handler is set with the loop's settings).
        self._checks = 0
        self._interrupted = False
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            # Locked by another connection (or failing for another reason): the worker
            # waits for the lock, or reports the error, as it always has.
            return _HAND_OVER
        try:
            results = [self._performer.perform(step) for step in steps]
            self._performer.perform(Commit())
        except AgentsDBError as error:
            self._roll_back()
            return _HAND_OVER if self._interrupted or _busy(error) else error
        except BaseException:
            self._roll_back()
            raise
        self._commits += 1
        self.loop_commits += 1
        if self._commits >= LOOP_COMMITS_PER_CHECKPOINT:
            background = self._background()
            if background is not None and background[0].request():
                self._commits = 0
        return results

    def _roll_back(self) -> None:
        # Only when still open: an interrupted write may have rolled it back already.
        self._performer.perform(Rollback())

    def _over_budget(self) -> bool:
        self._checks += 1
        if self._checks >= _CHECKS:
            self._interrupted = True
            return True
        return False

    def to_loop_settings(self) -> bool:
        """On the loop's thread, before its first unit: no busy wait, no automatic checkpoint
        (the connection's own values are kept for :meth:`to_worker_settings`), and the step
        budget's progress handler. False when the connection could not be switched: the worker
        then runs the unit (and restores what was changed)."""
        conn = self._conn
        try:
            busy_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
            checkpoint_pages = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        except sqlite3.Error:
            return False
        self._worker_settings = (busy_ms, checkpoint_pages)
        self._on_loop_settings = True
        conn.set_progress_handler(self._over_budget, _CHECK_EVERY)
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error:
            return False
        return True

    def to_worker_settings(self) -> None:
        """On the worker thread, before each call: no step budget, and the connection's own busy
        timeout and automatic checkpoints back, if the loop's thread changed them."""
        if not self._on_loop_settings or self._worker_settings is None:
            return
        busy_ms, checkpoint_pages = self._worker_settings
        conn = self._conn
        conn.set_progress_handler(None, _CHECK_EVERY)
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {checkpoint_pages}")
        self._on_loop_settings = False
        self._commits = 0


def _busy(error: AgentsDBError) -> bool:
    cause = error.__cause__
    return isinstance(cause, sqlite3.OperationalError) and is_busy(cause)


def _continued(program: Program[T], first: Operation) -> Program[T]:
    """``program``, suspended at ``first``, as a program that starts by yielding ``first``."""
    op = first
    try:
        while True:
            try:
                value = yield op
            except AgentsDBError as error:
                try:
                    op = program.throw(error)
                except StopIteration as stop:
                    thrown_result: T = stop.value
                    return thrown_result
            else:
                try:
                    op = program.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
    finally:
        program.close()


__all__ = ["LOOP_COMMITS_PER_CHECKPOINT", "LOOP_COMMITS_PER_HANDOVER", "Handover", "LoopWriter"]
