"""The contract every backend satisfies.

SQL everywhere in agentsdb uses ``:name`` placeholders with a mapping of parameters; a backend
translates them to its driver's style. Rows come back as plain ``dict`` objects keyed by column.

Besides single statements and ``transaction()``, a backend runs *programs*: generators that yield
the operations below and receive each one's result. A program describes a unit of work (begin,
several statements, commit) with its control flow, so a backend whose driver runs on a worker
thread (SQLite) can execute the whole unit in one thread hop, while a network backend simply
awaits each operation in turn. A failed operation is thrown into the program as the library's
error, so a program's ``try``/``except`` works the same on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from agentsdb.db.migration_runner import MigrationRunner

Params: TypeAlias = Mapping[str, Any]
Row: TypeAlias = dict[str, Any]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class ExecuteResult:
    """What a write reported: rows it changed and, for an insert, the new row's integer key."""

    rows_affected: int
    last_insert_id: int | None = None


# --- program operations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Execute:
    """Run one statement; the program receives an :class:`ExecuteResult`."""

    sql: str
    params: Params | None = None


@dataclass(frozen=True, slots=True)
class ExecuteMany:
    """Run one statement once per parameter mapping; the program receives an ExecuteResult."""

    sql: str
    params: Sequence[Params]


@dataclass(frozen=True, slots=True)
class FetchAll:
    """Run a query; the program receives ``list[Row]``."""

    sql: str
    params: Params | None = None


@dataclass(frozen=True, slots=True)
class FetchOne:
    """Run a query; the program receives the first ``Row`` or ``None``."""

    sql: str
    params: Params | None = None


@dataclass(frozen=True, slots=True)
class CommitOrder:
    """Make the inserts of every transaction naming ``channel`` commit in the order they insert.

    Yield it inside a transaction (a step of an ``Atomic``, or after ``Begin``) *before* the
    inserts it orders; the program receives ``None``. Readers that page a table by an increasing
    key (``WHERE id > :after ORDER BY id``) then never skip a row whose lower key commits after a
    higher one, because no such row exists: a key is taken only once every transaction that took
    a lower one on the same channel has committed or rolled back.

    A backend with one writer at a time (SQLite, libSQL) commits in insert order already and does
    nothing. A server backend with concurrent writers takes a transaction-scoped lock named by
    the channel, released when the transaction has ended and its rows are visible (PostgreSQL: an
    advisory transaction lock). Writers on one channel are then serialized from this step to
    their commit, so keep what follows it short. Outside a transaction the step is refused with
    UnsupportedOperationError: there is no commit for it to order.
    """

    channel: str


Step: TypeAlias = Execute | ExecuteMany | FetchAll | FetchOne | CommitOrder


@dataclass(frozen=True, slots=True)
class Atomic:
    """Run ``steps`` in order as one atomic unit; the program receives one result per step.

    Outside a transaction the steps get a transaction of their own; inside one the program
    began, a savepoint. When a step fails, none of the steps' changes remain (an enclosing
    transaction stays open) and the step's error is thrown into the program. A unit of work
    whose statements do not depend on each other's results is best written this way: besides
    fewer round trips, it is the one shape a backend without interactive transactions (libSQL
    over HTTP) can run, as a single batch.
    """

    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Begin:
    """Begin a write transaction, waiting up to ``lock_timeout`` seconds for the write lock.

    ``None`` waits for the connection's own busy timeout only. ``lock_name`` names an exclusive
    lock held until the transaction ends, so that no two transactions naming it overlap (the
    migrator uses it). On SQLite every write transaction is already exclusive, so the name needs
    nothing more there; a server backend takes a matching lock (an advisory lock, a lease row).
    """

    lock_timeout: float | None = None
    lock_name: str | None = None


@dataclass(frozen=True, slots=True)
class Commit:
    """Commit the open transaction."""


@dataclass(frozen=True, slots=True)
class Rollback:
    """Roll back the open transaction."""


Operation: TypeAlias = (
    Execute | ExecuteMany | FetchAll | FetchOne | CommitOrder | Atomic | Begin | Commit | Rollback
)
Program: TypeAlias = Generator[Operation, Any, T]
#: Writes a batch of rows queued by separate callers as one program: one outcome per row, in
#: order (its result, or the error that row alone met). See :mod:`agentsdb.db.group_commit`.
BatchWriter: TypeAlias = Callable[[list[Params]], Program[Sequence[T | BaseException]]]


# --- the protocols -------------------------------------------------------------------------------


@runtime_checkable
class Executor(Protocol):
    """Runs statements: a database outside any transaction, or an open transaction."""

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement and report what it changed."""
        ...

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement once per parameter mapping, as one unit."""
        ...

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Run a query and return its first row, or ``None``."""
        ...

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a query and return every row."""
        ...


@runtime_checkable
class Transaction(Executor, Protocol):
    """An open transaction. ``transaction()`` on it opens a nested one (a savepoint)."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a nested transaction (a savepoint) inside this one."""
        ...


class GroupCommitter(Protocol[T_co]):
    """Queues single rows from concurrent callers and commits them in shared transactions."""

    async def submit(self, params: Params) -> T_co:
        """Queue one row; return its outcome once its batch has committed (or raise its error)."""
        ...


@runtime_checkable
class Database(Executor, Protocol):
    """A connection to one database, whatever the backend."""

    @property
    def dialect(self) -> str:
        """The SQL dialect: ``"sqlite"`` or ``"postgresql"``."""
        ...

    @property
    def url(self) -> str:
        """The URL this database was opened with, password obscured."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a write transaction; it commits when the block ends and rolls back on error."""
        ...

    async def fetch_values(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return every row as a tuple of its values, in the select list's order.

        The rows ``fetch_all`` returns, without a name per value: for a reader of many rows
        that knows its select list (building a dict per row costs as much as reading it).
        Columns of the same name are all kept.
        """
        ...

    async def run(self, program: Program[T]) -> T:
        """Run a program of operations as one unit, with exclusive use of the connection."""
        ...

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """Check the stored pages and indexes; return the problems found (empty when sound).

        ``quick`` trades thoroughness for speed where the backend offers both. A backend
        without such a check raises UnsupportedOperationError saying what to use instead.
        """
        ...

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommitter[T]:
        """This database's group committer for ``key`` (made with ``write`` the first time).

        The database owns it: ``close()`` writes the rows already queued, then refuses more.
        """
        ...

    async def close(self) -> None:
        """Close the connection (after writing rows queued for group commit). Closing twice is
        harmless."""
        ...

    def migration_runner(self, lock_name: str, lock_timeout: float) -> MigrationRunner:
        """The Migrator's per-backend primitives (see :mod:`agentsdb.db.migration_runner`),
        holding the migration lock named ``lock_name`` for up to ``lock_timeout`` seconds."""
        ...

    # --- capabilities: what differs per backend, asked for instead of the backend's name -------

    @property
    def json_decoded(self) -> bool:
        """True when JSON columns come back decoded (dict, list, …); False when as JSON text.

        A JSON parameter is JSON text on every backend (a ``str`` holding a JSON document).
        """
        ...

    @property
    def interactive_transactions(self) -> bool:
        """True when a transaction stays open across calls (``transaction()``, a program's
        ``Begin``); False when the only unit of several statements is an ``Atomic`` batch."""
        ...

    @property
    def temp_tables_persist(self) -> bool:
        """True when a ``CREATE TEMP TABLE`` of one call, with its rows, is still there for the
        next call on this Database (one connection for the Database's life)."""
        ...

    @property
    def reports_insert_id(self) -> bool:
        """True when an ``Execute`` of a one-row ``INSERT`` without ``RETURNING``, into a table
        whose integer primary key the database assigns, reports that key as the result's
        ``last_insert_id``; False when only ``RETURNING`` hands it back."""
        ...

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[Step] = (),
    ) -> Program[list[int]]:
        """A program that inserts ``rows`` (each a mapping of every name in ``columns``) into
        ``table`` and returns the integer ``key`` the database gave each, in row order.

        The rows go in one ``Atomic`` (a transaction of its own, or a savepoint inside one),
        after the steps ``before`` (a ``CommitOrder``, say); how many statements that takes is
        the backend's choice. Run it with ``run()`` or ``yield from`` it inside a program.
        ``key`` must be an integer primary key the database assigns (AUTOINCREMENT, identity).
        ValidationError when a name is not a plain SQL identifier.
        """
        ...

    async def table_columns(self, table: str) -> tuple[str, ...]:
        """The column names of ``table`` in declaration order; empty when there is no such table."""
        ...

    async def table_names(self) -> tuple[str, ...]:
        """The tables of the database's own schema, sorted (not the backend's internal ones)."""
        ...

    async def table_indexes(self, table: str) -> tuple[str, ...]:
        """The names of the indexes ``CREATE INDEX`` made on ``table``, sorted (not those that
        back a PRIMARY KEY or UNIQUE constraint); empty when there is no such table."""
        ...

    async def table_triggers(self, table: str) -> dict[str, str]:
        """The triggers on ``table``: each name with its definition as the database states it;
        empty when there is no such table."""
        ...
