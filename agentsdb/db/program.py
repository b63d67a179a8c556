"""Drive a program (see :mod:`agentsdb.db.base`) on a backend whose driver is async.

The SQLite backend drives programs on its worker thread (``run_program_sync``); network backends
use :func:`run_program_async` with a :class:`Performer` that executes one operation at a time on
one connection. Both first pass the program through :func:`expand_atomic`, so a backend's runner
only meets ``Atomic`` when it runs one natively.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from agentsdb.db.base import (
    Atomic,
    Begin,
    Commit,
    CommitOrder,
    Execute,
    Operation,
    Program,
    Rollback,
    Step,
)
from agentsdb.errors import AgentsDBError, UnsupportedOperationError

T = TypeVar("T")

_ATOMIC_SAVEPOINT = "agentsdb_atomic"


class Performer(Protocol):
    """Executes operations on one connection for the duration of a program."""

    @property
    def in_transaction(self) -> bool:
        """True while a transaction begun by the program is open."""
        ...

    async def perform(self, op: Operation) -> Any:
        """Run one operation; failures raise agentsdb errors chained to the driver's."""
        ...

    async def abort(self) -> None:
        """Roll back the open transaction, if any."""
        ...


def expand_atomic(
    program: Program[T],
    in_transaction: Callable[[], bool],
    *,
    native: Callable[[Atomic], bool] | None = None,
) -> Program[T]:
    """The program with each :class:`~agentsdb.db.base.Atomic` replaced by plain operations.

    Outside a transaction an Atomic becomes ``Begin``, its steps and ``Commit``; inside one, a
    savepoint around its steps. A backend that runs some Atomics natively outside a transaction
    (a libSQL batch) passes ``native``, which says which; those reach its runner unchanged.
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
                    # Checked here, once for every backend: a backend that orders commits
                    # without help would otherwise accept what another refuses.
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


async def run_program_async(
    program: Program[T],
    performer: Performer,
    *,
    native_atomic: Callable[[Atomic], bool] | None = None,
) -> T:
    """Drive a program to completion, one awaited operation at a time.

    Same contract as the SQLite runner: a failed operation is thrown into the program; a
    transaction left open is rolled back, and ending normally with one open is an error.
    ``native_atomic``: which Atomics outside a transaction the performer runs itself.
    """
    program = expand_atomic(program, lambda: performer.in_transaction, native=native_atomic)
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
                    raise AgentsDBError(
                        "a program ended with its transaction still open; it was rolled back"
                    ) from None
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
