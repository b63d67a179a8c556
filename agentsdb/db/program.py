"""Drive a program (see :mod:`agentsdb.db.base`) on a backend whose driver is async.

The SQLite backend drives programs on its worker thread (``run_program_sync``); network backends
use :func:`run_program_async` with a :class:`Performer` that executes one operation at a time on
one connection.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from agentsdb.db.base import Operation, Program
from agentsdb.errors import AgentsDBError

T = TypeVar("T")


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


async def run_program_async(program: Program[T], performer: Performer) -> T:
    """Drive a program to completion, one awaited operation at a time.

    Same contract as the SQLite runner: a failed operation is thrown into the program; a
    transaction left open is rolled back, and ending normally with one open is an error.
    """
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
