"""A named lock on a remote libSQL server: a lease row with an owner token and an expiry.

A libSQL server offers no advisory locks and its connections do not outlive a request, so the
migration lock is a row in ``agentsdb_lease``. It is taken with one atomic statement (an insert
that, on conflict, takes the row over only when it has expired) and released by deleting it; a
holder that dies simply lets it expire. Expiry is judged by the server's clock, so clients with
skewed clocks agree.

Work done under a lease checks it inside its own transaction or batch with :meth:`Lease.guard`:
an insert into ``agentsdb_lease_guard`` that inserts nothing while the lease is this owner's and
unexpired, and otherwise writes a row that fails the table's CHECK constraint. SQLite has no
``RAISE()`` outside triggers, so a failing constraint is how a statement refuses. Being a write,
the guard also takes the database's write lock, and a takeover of the lease is a write too, so
once a transaction's first guard has passed nobody can take the lease before it ends; the guard
before ``COMMIT`` adds that a holder that stalled past its expiry does not commit at all.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agentsdb.db.base import Params, Row
from agentsdb.errors import (
    AgentsDBError,
    CheckViolationError,
    DatabaseBusyError,
    LeaseLostError,
)

LEASE_TABLE = "agentsdb_lease"
GUARD_TABLE = "agentsdb_lease_guard"
#: The tables this module creates; schema fingerprints leave them out.
TABLES = (LEASE_TABLE, GUARD_TABLE)

#: Constraint names of the guard table: each is a way a guarded batch refuses to commit.
LEASE_LOST = "agentsdb_lease_lost"
FOREIGN_KEY_VIOLATIONS = "agentsdb_foreign_key_violations"
REHEARSAL_DONE = "agentsdb_rehearsal_rolled_back"

#: Default lease length in seconds: how long a transaction may run, and a dead holder block.
DEFAULT_LEASE_SECONDS = 120.0

# The server's time in seconds since the epoch, with sub-second precision.
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"

CREATE: tuple[str, ...] = (
    f"CREATE TABLE IF NOT EXISTS {LEASE_TABLE} ("
    " name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {GUARD_TABLE} ("
    f" lease_lost INTEGER CONSTRAINT {LEASE_LOST} CHECK (lease_lost IS NULL),"
    " foreign_key_violations INTEGER"
    f" CONSTRAINT {FOREIGN_KEY_VIOLATIONS} CHECK (foreign_key_violations IS NULL),"
    f" rehearsal INTEGER CONSTRAINT {REHEARSAL_DONE} CHECK (rehearsal IS NULL))",
)

_ACQUIRE = (
    f"INSERT INTO {LEASE_TABLE} (name, owner, expires_at) "
    f"VALUES (:name, :owner, {_NOW} + :seconds) "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
    f"WHERE {LEASE_TABLE}.expires_at <= {_NOW} RETURNING owner"
)
_TAKEN = f"SELECT 1 FROM {LEASE_TABLE} WHERE name = :name AND expires_at > {_NOW}"
_HOLDER = f"SELECT owner, expires_at - {_NOW} AS remaining FROM {LEASE_TABLE} WHERE name = :name"
_RENEW = (
    f"UPDATE {LEASE_TABLE} SET expires_at = {_NOW} + :seconds "
    f"WHERE name = :name AND owner = :owner AND expires_at > {_NOW}"
)
_GUARD = (
    f"INSERT INTO {GUARD_TABLE} (lease_lost) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM "
    f"{LEASE_TABLE} WHERE name = :name AND owner = :owner AND expires_at > {_NOW})"
)
_RELEASE = f"DELETE FROM {LEASE_TABLE} WHERE name = :name AND owner = :owner"

#: Fails its batch when the database has foreign key violations. (sqld parses statements with
#: its own parser before SQLite sees them, and refuses a HAVING without GROUP BY.)
FOREIGN_KEY_GUARD = (
    f"INSERT INTO {GUARD_TABLE} (foreign_key_violations) "
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM pragma_foreign_key_check)"
)
#: Always fails: the last step of a batch that must roll back (a rehearsal).
REHEARSAL_END = f"INSERT INTO {GUARD_TABLE} (rehearsal) VALUES (1)"

Statement = tuple[str, Params | None]
Fetch = Callable[[str, Params | None], Awaitable[list[Row]]]


def new_owner() -> str:
    """A token naming one holder: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease: its name, the owner token, and the length each renewal grants."""

    name: str
    owner: str
    seconds: float

    def renew(self) -> Statement:
        """Extend the lease by ``seconds`` if it is still this owner's and unexpired."""
        return _RENEW, {"name": self.name, "owner": self.owner, "seconds": self.seconds}

    def guard(self) -> Statement:
        """A statement that fails unless the lease is this owner's and unexpired."""
        return _GUARD, {"name": self.name, "owner": self.owner}

    def release(self) -> Statement:
        """Delete the lease row if it is still this owner's."""
        return _RELEASE, {"name": self.name, "owner": self.owner}


def failed_constraint(error: BaseException, constraint: str) -> bool:
    """True when ``error`` is the guard table's ``constraint`` failing."""
    return isinstance(error, CheckViolationError) and constraint in str(error)


def lost(error: BaseException, lease: Lease) -> LeaseLostError | None:
    """The lock error to raise (``from error``) when ``error`` is a guard of ``lease`` finding
    it lost, else None. Every guard's failure goes through here, so a lost lease surfaces as
    :class:`~agentsdb.errors.LeaseLostError` wherever it is noticed."""
    if failed_constraint(error, LEASE_LOST):
        return LeaseLostError(lease.name, lease.seconds)
    return None


async def acquire(
    fetch: Fetch, name: str, *, seconds: float, wait: float, owner: str | None = None
) -> Lease:
    """Take the lease ``name``, polling until ``wait`` seconds have passed.

    ``fetch`` runs one autocommitted statement and returns its rows. Raises DatabaseBusyError
    naming the holder when the lease stays taken. The tables must exist (see :data:`CREATE`).
    """
    lease = Lease(name, owner or new_owner(), seconds)
    params = {"name": name, "owner": lease.owner, "seconds": seconds}
    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            # Read before writing: the taking statement is a write, and on sqld a write that
            # waits for the write lock makes the server roll back the transaction holding it
            # once that has held it for 5 s: a migrator polling for the lease would end the
            # holder's long migration. A read waits for nobody.
            if not await fetch(_TAKEN, {"name": name}) and await fetch(_ACQUIRE, params):
                return lease
        except DatabaseBusyError:
            pass  # another transaction holds the write lock; the lease may be free after it
        if time.monotonic() >= deadline:
            holder = await _holder(fetch, name)
            raise DatabaseBusyError(
                f"the lease {name!r} is held by {holder} and was not released within {wait:g} s"
            )
        await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
        pause = min(pause * 2, 0.5)


async def _holder(fetch: Fetch, name: str) -> str:
    try:
        rows = await fetch(_HOLDER, {"name": name})
    except AgentsDBError:
        return "another process"
    if not rows:
        return "another process"
    return f"{rows[0]['owner']} (for {float(rows[0]['remaining']):.1f} s more)"


__all__ = [
    "CREATE",
    "DEFAULT_LEASE_SECONDS",
    "FOREIGN_KEY_GUARD",
    "FOREIGN_KEY_VIOLATIONS",
    "LEASE_LOST",
    "REHEARSAL_DONE",
    "REHEARSAL_END",
    "TABLES",
    "Lease",
    "acquire",
    "failed_constraint",
    "lost",
    "new_owner",
]
