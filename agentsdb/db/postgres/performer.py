"""A program on one pooled PostgreSQL connection (see :mod:`agentsdb.db.program`)."""

from __future__ import annotations

import logging
from typing import Any

from agentsdb.db.base import Atomic, Begin, FetchAll, FetchOne, Operation
from agentsdb.db.postgres.pool import ConnectionPool, Lease
from agentsdb.db.postgres.session import Session, is_read, may_run_again
from agentsdb.db.program import dispatch
from agentsdb.errors import AgentsDBError, ConnectionLostError

log = logging.getLogger("agentsdb.db.postgres")


class PostgresPerformer:
    """Runs a program's operations on one connection (a :class:`Session`).

    When the program's first operation fails because the server had ended the pooled
    connection, and running it again cannot do anything twice (a BEGIN, a read-only query, or a
    statement asyncpg never sent), the program moves to a fresh connection and the operation
    runs there. Later operations are never run again.
    """

    __slots__ = ("_lease", "_performed", "_pool", "_session")

    def __init__(self, pool: ConnectionPool, lease: Lease) -> None:
        self._pool = pool
        self._lease: Lease | None = lease
        self._session = Session(lease)
        self._performed = False

    @property
    def lease(self) -> Lease | None:
        """The connection the program holds now, for the caller to release (None if none)."""
        return self._lease

    @property
    def in_transaction(self) -> bool:
        return self._lease is not None and self._session.in_transaction

    def native_atomic(self, atomic: Atomic) -> bool:
        return False

    async def perform(self, op: Operation) -> Any:
        first, self._performed = not self._performed, True
        lease = self._lease
        try:
            return await dispatch(self._session, op)
        except ConnectionLostError as error:
            repeatable = isinstance(op, Begin) or (
                isinstance(op, FetchOne | FetchAll) and is_read(op.sql)
            )
            if not (
                first and lease is not None and may_run_again(error, read=repeatable, lease=lease)
            ):
                raise
            log.info("running a program on a new connection after: %s", error)
        self._lease = None
        await self._pool.release(lease)
        self._lease = await self._pool.acquire(fresh=True)
        self._session = Session(self._lease)
        return await dispatch(self._session, op)

    async def abort(self) -> None:
        lease = self._lease
        if lease is None:
            return
        try:
            await self._session.rollback()
        except AgentsDBError as error:
            # The session dropped the connection: the server rolls back what was left.
            log.warning("rolling back an unfinished program failed: %s", error)


__all__ = ["PostgresPerformer"]
