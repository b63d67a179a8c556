"""The PostgreSQL backend's connection pool, and the typed face of the asyncpg connection.

asyncpg has a pool of its own, but every release through it schedules a task
(``asyncio.shield``) and sends a reset query (advisory unlock, ``CLOSE ALL``, ``UNLISTEN``,
``RESET ALL``). Measured here on a loopback server, a point read through ``asyncpg.Pool`` ran at
30% of the speed of the same read on a plain connection (50% with the reset switched off). This
pool does only what agentsdb needs:

* an idle connection is handed out without awaiting anything, newest first (warm caches);
* connections are opened on demand up to ``max_size``; further callers wait in line;
* a returned connection goes straight back unless it is marked: ``needs_reset`` (its
  statements may have changed session state: asyncpg's full ``reset()`` runs first) or
  ``broken`` (its state is unknown after a cancellation, a timeout or a lost connection: it is
  closed and a fresh one is opened when needed);
* ``acquire(fresh=True)`` skips the idle connections and opens a new one (closing an idle one
  first when the pool is full): for running a statement again after its connection was lost,
  since the other idle connections may have been ended by the same server restart;
* ``close()`` closes idle connections at once and each connection in use when it comes back,
  and returns once all are closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from agentsdb.errors import ConnectionClosedError

log = logging.getLogger("agentsdb.db.postgres")

_CLOSE_TIMEOUT = 5.0


class DriverRecord(Protocol):
    """An ``asyncpg.Record``: one row, by column name."""

    def items(self) -> Iterable[tuple[str, Any]]:
        """(column, value) pairs in column order."""
        ...

    def values(self) -> Iterable[Any]:
        """The values in column order."""
        ...


class DriverConnection(Protocol):
    """The part of ``asyncpg.Connection`` agentsdb uses (asyncpg ships no type information)."""

    async def execute(self, query: str, *args: Any) -> str:
        """Run a statement; returns the command status, such as ``"UPDATE 3"``."""
        ...

    async def executemany(self, command: str, args: Iterable[Sequence[Any]]) -> None:
        """Run a statement once per argument sequence, pipelined."""
        ...

    async def fetch(self, query: str, *args: Any) -> list[DriverRecord]:
        """Run a query and return every row."""
        ...

    async def fetchrow(self, query: str, *args: Any) -> DriverRecord | None:
        """Run a query and return its first row."""
        ...

    async def fetchmany(self, query: str, args: Iterable[Sequence[Any]]) -> list[DriverRecord]:
        """Run a statement once per argument sequence and return all rows it produced."""
        ...

    async def set_type_codec(
        self,
        typename: str,
        *,
        encoder: Callable[[Any], str],
        decoder: Callable[[str], Any],
        schema: str,
    ) -> None:
        """Convert values of a type with the given functions."""
        ...

    async def reset(self) -> None:
        """Roll back, release advisory locks, close cursors, unlisten, RESET ALL."""
        ...

    async def close(self) -> None:
        """Close gracefully."""
        ...

    def terminate(self) -> None:
        """Close the socket at once."""
        ...

    def is_closed(self) -> bool:
        """True once the connection is closed."""
        ...

    def is_in_transaction(self) -> bool:
        """True inside a transaction block (including a failed one)."""
        ...


Connector = Callable[[], Awaitable[DriverConnection]]


class Lease:
    """A connection handed out by the pool, with what the pool must know when it comes back."""

    __slots__ = ("broken", "connection", "needs_reset", "reused")

    def __init__(self, connection: DriverConnection, *, reused: bool = False) -> None:
        self.connection = connection
        #: The connection waited idle in the pool before this lease (the server may have ended
        #: it meanwhile); False for one opened for this lease.
        self.reused = reused
        #: Session state may have changed (SET, advisory lock...): reset before reuse.
        self.needs_reset = False
        #: The connection's state is unknown: close it instead of reusing it.
        self.broken = False


class ConnectionPool:
    """Between ``min_size`` (opened at start) and ``max_size`` connections to one server."""

    def __init__(self, connect: Connector, *, min_size: int, max_size: int, url: str) -> None:
        self._connect = connect
        self._min_size = min_size
        self._max_size = max_size
        self._url = url
        self._idle: list[DriverConnection] = []
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._size = 0  # open connections plus those being opened
        self._in_use = 0
        self._closed = False
        self._drained = asyncio.Event()

    @property
    def size(self) -> int:
        """Connections open (or opening) now, idle or in use."""
        return self._size

    @property
    def idle(self) -> int:
        """Connections waiting in the pool."""
        return len(self._idle)

    @property
    def max_size(self) -> int:
        """The most connections this pool opens at once."""
        return self._max_size

    async def open(self) -> None:
        """Open ``min_size`` connections (at least one, so a bad URL fails here)."""
        wanted = max(self._min_size, 1)
        self._size += wanted
        results = await asyncio.gather(
            *(self._connect() for _ in range(wanted)), return_exceptions=True
        )
        opened = [r for r in results if not isinstance(r, BaseException)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            self._size -= wanted
            for connection in opened:
                connection.terminate()
            raise failures[0]
        self._idle.extend(opened)

    async def acquire(self, *, fresh: bool = False) -> Lease:
        """A connection for the caller's exclusive use; give it back with :meth:`release`.

        ``fresh``: a newly opened connection rather than an idle one (see the module doc).
        """
        woken = False
        while True:
            if self._closed:
                raise ConnectionClosedError(f"the database {self._url!r} is closed")
            if fresh and self._idle and self._size >= self._max_size:
                # Make room: the oldest idle connection is the likeliest to have been ended.
                self._size -= 1
                self._idle.pop(0).terminate()
            while self._idle and not fresh:
                connection = self._idle.pop()
                if connection.is_closed():  # dropped by the server while idle
                    self._size -= 1
                    continue
                self._in_use += 1
                return Lease(connection, reused=True)
            if self._size < self._max_size:
                return await self._open_one()
            # A caller woken for a connection that someone else took first keeps its place at
            # the head of the line.
            await self._wait_for_turn(first=woken)
            woken = True

    async def _open_one(self) -> Lease:
        self._size += 1
        self._in_use += 1
        try:
            connection = await self._connect()
        except BaseException:
            self._size -= 1
            self._in_use -= 1
            self._after_return()
            raise
        if self._closed:
            self._size -= 1
            self._in_use -= 1
            connection.terminate()
            self._after_return()
            raise ConnectionClosedError(f"the database {self._url!r} is closed")
        return Lease(connection)

    async def _wait_for_turn(self, *, first: bool) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if first:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            # Woken and cancelled at the same time: pass the turn on, or it is lost.
            if waiter.done() and not waiter.cancelled():
                self._wake_one()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _after_return(self) -> None:
        self._wake_one()
        if self._closed and self._in_use == 0:
            self._drained.set()

    async def release(self, lease: Lease) -> None:
        """Take a connection back: reuse it, reset it first, or close it (see the module doc)."""
        connection = lease.connection
        try:
            if self._closed:
                await self._close_connection(connection)
            elif lease.broken or connection.is_closed() or connection.is_in_transaction():
                # agentsdb always ends its transactions; one still open means the ROLLBACK
                # failed, so the connection is not trusted either.
                self._size -= 1
                connection.terminate()
            elif lease.needs_reset:
                try:
                    await connection.reset()
                except BaseException:
                    self._size -= 1
                    connection.terminate()
                    raise
                self._idle.append(connection)
            else:
                self._idle.append(connection)
        except Exception as error:
            log.warning("a PostgreSQL connection could not be reset and was closed: %s", error)
        finally:
            self._in_use -= 1
            self._after_return()

    async def _close_connection(self, connection: DriverConnection) -> None:
        self._size -= 1
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await connection.close()
        except BaseException:
            connection.terminate()
            raise

    async def close(self) -> None:
        """Close every connection; waits for those in use to come back. Safe to call twice."""
        if not self._closed:
            self._closed = True
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)  # they see the pool closed and raise
            idle, self._idle = self._idle, []
            for connection in idle:
                try:
                    await self._close_connection(connection)
                except Exception as error:
                    log.warning("closing a PostgreSQL connection failed: %s", error)
            if self._in_use == 0:
                self._drained.set()
        await self._drained.wait()


__all__ = ["ConnectionPool", "Connector", "DriverConnection", "DriverRecord", "Lease"]
