"""One task at a time on a connection, and a clear error instead of a task waiting for itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agentsdb.errors import UnsupportedOperationError

_REENTRY = (
    "this task already has a transaction open on this database; run the statement through the "
    "transaction object: async with db.transaction() as tx: await tx.execute(...)"
)


class TaskLock:
    """An asyncio lock that knows which task holds it.

    A task that holds a database's connection (an open ``db.transaction()``) and calls the
    database again would wait for itself forever; ``hold()`` raises UnsupportedOperationError
    for it instead.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._users = 0

    @property
    def idle(self) -> bool:
        """True when no task holds the lock or waits for it."""
        return self._users == 0

    def held_by_current_task(self) -> bool:
        """True when the running task holds the lock."""
        task = asyncio.current_task()
        return task is not None and self._owner is task

    @asynccontextmanager
    async def hold(self, reentry_message: str = _REENTRY) -> AsyncIterator[None]:
        """Wait for the lock; raise UnsupportedOperationError if this task already holds it."""
        if self.held_by_current_task():
            raise UnsupportedOperationError(reentry_message)
        self._users += 1
        try:
            async with self._lock:
                self._owner = asyncio.current_task()
                try:
                    yield
                finally:
                    self._owner = None
        finally:
            self._users -= 1
