"""Group commit: concurrent single-row inserts share one transaction and one commit.

Each ``submit`` queues its row and waits. A drain task (started by the first row queued while
none runs) takes everything queued, up to ``max_batch`` rows, writes it as one program (one
transaction, and on SQLite one hop to the worker thread), and gives each waiter its own outcome;
rows queued meanwhile form the next batch. A lone caller pays for one task switch; sixteen
concurrent callers pay for one commit instead of sixteen.

One bad row fails alone, whatever the batch writer does: a writer may isolate bad rows itself
(the session log repository does, in the same program); when the batch still fails, the
committer writes each of its rows again as a batch of its own, so only the bad row's caller gets
an error and the others commit. Only a failure that is not about any row (the database is busy
or closed) fails every waiter of the batch, and then none of its rows is stored.

The writer's contract: its program fails only before its transaction commits (a failed batch
stored nothing), so writing the rows again cannot store one twice.

A caller cancelled before its batch is taken is dropped from it; once taken, its row is written
with the batch even though nobody waits for it any more.

Each Database owns its committers (:class:`GroupCommits`, one per key, through
``db.group_commit(key, write)``) and closes them first when it closes: rows already queued are
written, and a row submitted afterwards raises ConnectionClosedError.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, Protocol, TypeVar, cast

from agentsdb.db.base import BatchWriter, Params, Program
from agentsdb.errors import ConnectionClosedError, DatabaseBusyError

T = TypeVar("T")


class ProgramRunner(Protocol):
    """What a committer writes through: a Database's ``run``."""

    async def run(self, program: Program[T]) -> T:
        """Run a program as one unit."""
        ...


class GroupCommit(Generic[T]):
    """Coalesces concurrent writes of single rows into shared transactions."""

    def __init__(self, db: ProgramRunner, write: BatchWriter[T], *, max_batch: int = 1024) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch!r}")
        self._db = db
        self._write = write
        self._max_batch = max_batch
        self._queue: deque[tuple[Params, asyncio.Future[T]]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._closed = False

    async def submit(self, params: Params) -> T:
        """Queue one row and wait until its batch has committed; its result or its error."""
        if self._closed:
            raise ConnectionClosedError("the database is closed; the row was not written")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((params, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def close(self) -> None:
        """Refuse new rows and wait until the rows already queued are written."""
        self._closed = True
        drainer = self._drainer
        if drainer is not None:
            # Waited for, not awaited: cancelling close() must not cancel the batch's write.
            await asyncio.wait({drainer})

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                if batch:
                    await self._write_batch(batch)
        finally:
            self._drainer = None
            # Only reached with rows left when this task itself was cancelled.
            while self._queue:
                _, future = self._queue.popleft()
                future.cancel()

    def _take(self) -> list[tuple[Params, asyncio.Future[T]]]:
        batch: list[tuple[Params, asyncio.Future[T]]] = []
        while self._queue and len(batch) < self._max_batch:
            item = self._queue.popleft()
            if not item[1].cancelled():
                batch.append(item)
        return batch

    async def _write_batch(self, batch: list[tuple[Params, asyncio.Future[T]]]) -> None:
        try:
            outcomes = await self._db.run(self._write([params for params, _ in batch]))
        except (DatabaseBusyError, ConnectionClosedError) as error:
            # Not about any row: every caller of the batch raises it.
            self._fail(batch, error)
            return
        except Exception as error:
            if len(batch) == 1:
                self._fail(batch, error)
                return
            # Possibly one row's fault: each row again on its own, so only that caller fails.
            rest = deque(batch)
            try:
                while rest:
                    await self._write_batch([rest.popleft()])
            finally:
                for _, future in rest:  # only when cancelled part-way
                    future.cancel()
            return
        except BaseException:
            # Cancelled (or interrupted) mid-write: whether the batch committed is unknown.
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    @staticmethod
    def _fail(batch: list[tuple[Params, asyncio.Future[T]]], error: Exception) -> None:
        # Not swallowed: each waiter raises it.
        for _, future in batch:
            if not future.done():
                future.set_exception(error)


class GroupCommits:
    """A Database's group committers, one per key; closed with the Database."""

    def __init__(self, db: ProgramRunner) -> None:
        self._db = db
        self._committers: dict[str, GroupCommit[Any]] = {}
        self._closed = False

    def get(self, key: str, write: BatchWriter[T]) -> GroupCommit[T]:
        """The committer for ``key``, made with ``write`` the first time the key is asked for.

        A key names one kind of row: later calls with the same key get the same committer,
        whatever writer they pass.
        """
        if self._closed:
            raise ConnectionClosedError("the database is closed; nothing can be queued on it")
        committer = self._committers.get(key)
        if committer is None:
            committer = GroupCommit(self._db, write)
            self._committers[key] = committer
        return cast(GroupCommit[T], committer)

    async def close(self) -> None:
        """Close every committer: queued rows are written, new ones refused."""
        self._closed = True
        for committer in list(self._committers.values()):
            await committer.close()


__all__ = ["GroupCommit", "GroupCommits", "ProgramRunner"]
