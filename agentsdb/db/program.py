"""Run a program (see :mod:`agentsdb.db.base`): one driver, one dispatcher, for every backend.

A backend supplies its primitive :class:`Operations` on one connection (run a statement, begin,
commit, roll back, order commits) and a :class:`Performer` that says whether a transaction is
open and adds what the backend needs around each operation (error translation, a retry).
Everything else is here, once:

* :func:`expand_atomic` turns each ``Atomic`` into ``Begin``/steps/``Commit`` (or a savepoint
  inside a transaction) unless the performer runs it natively (a libSQL batch), and refuses a
  ``CommitOrder`` outside a transaction;
* :func:`dispatch` maps an operation onto the backend's :class:`Operations` method for it;
* :func:`run_program` drives the program: a failed operation is thrown into the program as the
  library's error, a transaction the program leaves open is rolled back, and ending normally
  with one open is itself an error (its writes would be lost without a word).

Network backends await :func:`run_program` on the event loop. SQLite runs a whole program on
its worker thread in one hop; its performer's methods call sqlite3 directly and never suspend,
so :func:`run_to_completion` drives the same coroutine there to its end without an event loop.
One driver thus serves both execution models, for about a microsecond per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import Any, Protocol, TypeVar

from agentsdb.db.base import (
    Atomic,
    Begin,
    Commit,
    CommitOrder,
    Execute,
    ExecuteMany,
    ExecuteResult,
    FetchAll,
    FetchOne,
    Operation,
    Params,
    Program,
    Rollback,
    Row,
    Step,
)
from agentsdb.errors import AgentsDBError, UnsupportedOperationError

T = TypeVar("T")

_ATOMIC_SAVEPOINT = "agentsdb_atomic"
_LEFT_OPEN = "a program ended with its transaction still open; it was rolled back"


class Operations(Protocol):
    """A backend's primitive operations on one connection; each raises the library's errors
    (chained to the driver's), which the driver throws into the program."""

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        """Run one statement."""
        ...

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping."""
        ...

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        """Every row of a query."""
        ...

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        """The first row of a query, or None."""
        ...

    async def order_commits(self, channel: str) -> None:
        """Make this transaction's inserts on ``channel`` commit in insert order."""
        ...

    async def begin(self, lock_timeout: float | None, lock_name: str | None) -> None:
        """Begin a write transaction (see :class:`~agentsdb.db.base.Begin`)."""
        ...

    async def commit(self) -> None:
        """Commit the open transaction."""
        ...

    async def rollback(self) -> None:
        """Roll back whatever transaction is open (nothing when none is)."""
        ...

    async def atomic(self, steps: tuple[Step, ...]) -> list[Any]:
        """Run an Atomic natively (only those the performer's ``native_atomic`` accepts)."""
        ...


class Performer(Protocol):
    """Runs a program's operations on one connection, for the duration of the program."""

    @property
    def in_transaction(self) -> bool:
        """True while a transaction begun by the program is open."""
        ...

    def native_atomic(self, atomic: Atomic) -> bool:
        """Whether this Atomic, met outside a transaction, reaches :meth:`perform` unexpanded."""
        ...

    async def perform(self, op: Operation) -> Any:
        """Run one operation: :func:`dispatch` onto the backend's :class:`Operations`, plus
        whatever the backend adds around it (error translation, a retry)."""
        ...

    async def abort(self) -> None:
        """Roll back after the program failed or ended with its transaction open."""
        ...


class ExpandedAtomics:
    """For a backend that runs no Atomic natively: every one reaches it expanded."""

    __slots__ = ()

    def native_atomic(self, atomic: Atomic) -> bool:
        """Never: :func:`expand_atomic` expands every Atomic for this performer."""
        return False

    async def atomic(self, steps: tuple[Step, ...]) -> list[Any]:
        """Not reached (see :meth:`native_atomic`); a TypeError says so if it ever is."""
        raise TypeError("an Atomic reached a performer that runs none natively")


async def dispatch(performer: Operations, op: Operation) -> Any:
    """Run ``op`` through the backend's method for it; what the program receives."""
    match op:
        case Execute(sql, params):
            return await performer.execute(sql, params)
        case FetchAll(sql, params):
            return await performer.fetch_all(sql, params)
        case FetchOne(sql, params):
            return await performer.fetch_one(sql, params)
        case ExecuteMany(sql, params_list):
            return await performer.execute_many(sql, params_list)
        case CommitOrder(channel):
            await performer.order_commits(channel)
            return None
        case Atomic(steps):
            return await performer.atomic(steps)
        case Begin(lock_timeout, lock_name):
            await performer.begin(lock_timeout, lock_name)
            return None
        case Commit():
            await performer.commit()
            return None
        case Rollback():
            await performer.rollback()
            return None
    raise TypeError(f"a program yielded {op!r}, which is not an agentsdb operation")


def sql_of(op: Operation) -> str | None:
    """The statement an operation runs, for error messages (None for Begin, Commit, ...)."""
    return getattr(op, "sql", None)


def expand_atomic(
    program: Program[T],
    in_transaction: Callable[[], bool],
    *,
    native: Callable[[Atomic], bool] | None = None,
) -> Program[T]:
    """The program with each :class:`~agentsdb.db.base.Atomic` replaced by plain operations.

    Outside a transaction an Atomic becomes ``Begin``, its steps and ``Commit``; inside one, a
    savepoint around its steps. A backend that runs some Atomics natively outside a transaction
    (a libSQL batch) passes ``native``, which says which; those reach its performer unchanged.
    A :class:`~agentsdb.db.base.CommitOrder` outside a transaction is refused here, the same way
    on every backend.
    """
    value: Any = None
    error: AgentsDBError | None = None
    try:
        while True:
            try:
                op = program.send(value) if error is None else program.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            error = None
            try:
                if isinstance(op, CommitOrder) and not in_transaction():
                    raise UnsupportedOperationError(
                        f"CommitOrder({op.channel!r:.60}) outside a transaction orders nothing; "
                        "yield it inside an Atomic or after Begin"
                    )
                if isinstance(op, Atomic) and (
                    native is None or in_transaction() or not native(op)
                ):
                    value = yield from _atomic(op.steps, nested=in_transaction())
                else:
                    value = yield op
            except AgentsDBError as failure:
                error, value = failure, None
    finally:
        program.close()


def _atomic(steps: tuple[Step, ...], *, nested: bool) -> Generator[Operation, Any, list[Any]]:
    yield Execute(f"SAVEPOINT {_ATOMIC_SAVEPOINT}") if nested else Begin()
    try:
        results = []
        for step in steps:
            results.append((yield step))
        if not nested:
            # Inside the try: a COMMIT that fails can leave the transaction open (SQLite's
            # busy, a deferred foreign key), and the program goes on outside one.
            yield Commit()
    except AgentsDBError as error:
        try:
            if nested:
                yield Execute(f"ROLLBACK TO {_ATOMIC_SAVEPOINT}")
                yield Execute(f"RELEASE {_ATOMIC_SAVEPOINT}")
            else:
                yield Rollback()
        except AgentsDBError as undo_error:
            error.add_note(f"agentsdb: undoing the atomic steps also failed: {undo_error}")
        raise
    if nested:
        yield Execute(f"RELEASE {_ATOMIC_SAVEPOINT}")
    return results


async def run_program(program: Program[T], performer: Performer) -> T:
    """Drive a program to completion, one operation at a time, on ``performer``."""
    program = expand_atomic(
        program, lambda: performer.in_transaction, native=performer.native_atomic
    )
    value: Any = None
    pending_error: AgentsDBError | None = None
    try:
        while True:
            try:
                if pending_error is None:
                    op = program.send(value)
                else:
                    error, pending_error = pending_error, None
                    op = program.throw(error)
            except StopIteration as stop:
                if performer.in_transaction:
                    raise AgentsDBError(_LEFT_OPEN) from None
                result: T = stop.value
                return result
            try:
                value = await performer.perform(op)
            except AgentsDBError as error:
                pending_error = error
                value = None
    finally:
        program.close()
        if performer.in_transaction:
            await performer.abort()


def run_to_completion(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (SQLite's program on its worker thread) to its end.

    A coroutine that tries to suspend (await a future) is a bug in its performer: it is closed
    and RuntimeError says so, rather than blocking the thread.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("a program's performer suspended where it must run straight through")


__all__ = [
    "ExpandedAtomics",
    "Operations",
    "Performer",
    "dispatch",
    "expand_atomic",
    "run_program",
    "run_to_completion",
    "sql_of",
]
