"""What a backend supplies to the Migrator: the primitives that differ per backend.

The Migrator (:mod:`agentsdb.migrator`) decides everything a migration run means: what to apply,
which tracking rows to write, which errors to raise with which messages. A backend decides only
*how* its units of work run: how the migration lock is held, how reads made under it and the
writes they decide commit as one transaction, how statements run outside a transaction, how
foreign keys are switched off around a table rebuild, and how a rehearsal is rolled back. Each
backend's ``Database.migration_runner(lock_name, lock_timeout)`` returns a
:class:`MigrationRunner` doing that.

The primitives are *fragments*: generators the Migrator composes into one program per run
(``yield from runner.transact(...)``) and hands to :meth:`MigrationRunner.run`. A backend that
runs programs on a worker thread (SQLite) runs a whole ``migrate()`` in one hop; a backend
without interactive transactions (libSQL over HTTP) drives the fragments itself, sending each
transaction as one atomic batch. Either way an error is thrown into the program at the
fragment that failed, so the Migrator's ``try``/``except`` works the same on every backend.

Every runner keeps these promises:

* a :meth:`~MigrationRunner.transact` is atomic: its reads are made under the migration lock,
  then the change's statements and the tracking writes its reads decided commit together, or
  nothing of them does;
* a lock not obtained within ``lock_timeout`` raises :class:`~agentsdb.errors.MigrationLockError`
  (a lock lost part-way, :class:`~agentsdb.errors.LeaseLostError`, a subclass);
* a change with ``foreign_keys_off`` that leaves foreign key violations raises
  :class:`~agentsdb.errors.ForeignKeyViolationError` and commits nothing;
* on cancellation the backend only ends what it holds (rolls back, releases its lock).

What differs per backend in the tracking table's SQL (its DDL, the query telling whether it
exists, the schema counter, the catalog query the schema fingerprint digests) is a
:class:`TrackingCatalog` the runner hands out (:meth:`MigrationRunner.tracking_catalog`); the
Migrator writes every other statement on the table once, in portable SQL.

This module holds the contract only (no I/O and no imports from the rest of ``db/``), so
:mod:`agentsdb.db.base` can name it in the ``Database`` protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

T = TypeVar("T")

#: One statement with its ``:named`` parameters.
Statement: TypeAlias = tuple[str, Mapping[str, Any] | None]
#: The tracking writes of a transaction, built from the milliseconds its change's statements
#: took (None when the backend commits the writes before it knows the time: see ``timing``).
Record: TypeAlias = Callable[[float | None], Sequence[Statement]]
#: A fragment (or a whole program of fragments) run by :meth:`MigrationRunner.run`.
MigrationProgram: TypeAlias = Generator[Any, Any, T]
#: A program of reads only (``FetchOne``/``FetchAll`` of :mod:`agentsdb.db.base`) deciding a
#: transaction's tracking writes: a :data:`Record`, or None to write nothing (and run nothing).
Decide: TypeAlias = Generator[Any, Any, "Record | None"]


#: The tracking table's newest column. A table created by an older version lacks it and is
#: upgraded in place by the first run that writes to it.
DOWN_CHECKSUM_COLUMN = "down_checksum"

#: The tracking table's columns, as the Migrator writes them. Besides them it has ``seq``, an
#: increasing key (apply order) the database assigns.
TRACKING_COLUMNS = (
    "id",
    "description",
    "checksum",
    "chain",
    "schema_cookie",
    "schema_fingerprint",
    "started_at",
    "applied_at",
    "execution_time_ms",
    "success",
    "applied_by",
    DOWN_CHECKSUM_COLUMN,
)


@dataclass(frozen=True, slots=True)
class TrackingCatalog:
    """The statements on the tracking table and the live schema that differ per backend.

    * ``create``: ``CREATE … IF NOT EXISTS`` of the table (:data:`TRACKING_COLUMNS` and ``seq``)
      and of its index ``<table>_dirty`` on the rows with ``success = 0``;
    * ``exists``: one row (``present``, ``current``: whether the table has
      :data:`DOWN_CHECKSUM_COLUMN`) when the table ``:table`` exists, none otherwise;
    * ``cookie``: an SQL expression reading the schema counter (``NULL`` where there is none);
    * ``schema_cookie``: a query of one row whose ``schema_version`` is that counter;
    * ``schema_rows``: the catalog rows describing the live schema, in a stable order, leaving
      out the tracking table, its index and the runner's own tables;
    * ``stamp_if_unchanged``: sets ``:schema_fingerprint`` on the newest row when it succeeded
      and its ``schema_cookie`` is ``:schema_cookie`` (and, where there is a counter, the live
      one still is).
    """

    create: tuple[str, ...]
    exists: str
    cookie: str
    schema_cookie: str
    schema_rows: str
    stamp_if_unchanged: str


@dataclass(frozen=True, slots=True)
class Change:
    """The schema statements of one transaction of a migration run (possibly none).

    ``foreign_keys_off``: a table rebuild; foreign keys are switched off around the transaction
    where the backend enforces them (actions such as ON DELETE CASCADE would otherwise fire on
    the ``DROP TABLE`` of the old table) and checked before it commits. ``label`` names the
    change in a :class:`~agentsdb.errors.ForeignKeyViolationError`.
    """

    statements: Sequence[str] = ()
    foreign_keys_off: bool = False
    label: str = "the change"


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """What a rehearsal ran, all of it rolled back.

    ``elapsed_ms`` has one entry per unit that ran through; ``error`` is the failure of the unit
    after them, if one failed. Otherwise ``stopped_for_keys`` says the rehearsal stopped at the
    unit after them because it needs foreign keys switched the other way from ``keys_off`` (the
    setting cannot change inside the rehearsal's one transaction); else every unit ran.
    """

    elapsed_ms: tuple[float, ...]
    error: Exception | None = None
    stopped_for_keys: bool = False
    keys_off: bool = False


class MigrationRunner(Protocol):
    """The per-backend half of the Migrator (see the module docstring)."""

    @property
    def own_tables(self) -> tuple[str, ...]:
        """Tables the runner keeps in the database for itself (a lease), which are not part of
        the schema the migrations describe."""
        ...

    def tracking_catalog(self, table: str) -> TrackingCatalog:
        """This backend's statements on the tracking table ``table`` (a plain identifier the
        Migrator has checked), see :class:`TrackingCatalog`."""
        ...

    async def run(self, program: MigrationProgram[T]) -> T:
        """Run a program composed of this runner's fragments; returns what it returns."""
        ...

    def create(self, statements: Sequence[str]) -> MigrationProgram[None]:
        """Run ``CREATE … IF NOT EXISTS`` statements under the migration lock."""
        ...

    def transact(
        self,
        change: Change,
        decide: Decide,
        *,
        timing: Callable[[float], Statement] | None = None,
    ) -> MigrationProgram[float | None]:
        """Under the migration lock, in one transaction: ``decide``'s reads, then (unless it
        returned None) the change's statements and the tracking writes it returned.

        Returns the milliseconds the statements took, or None when ``decide`` wrote nothing.
        A backend that must commit the tracking writes before it knows that time builds them
        with None and then runs ``timing(ms)``, so the time is recorded on every backend.
        An error raised by ``decide`` or by a statement rolls everything back and propagates.
        """
        ...

    def run_alone(self, statements: Sequence[str]) -> MigrationProgram[None]:
        """Run each statement in its own transaction (a migration that cannot run in one)."""
        ...

    def rehearse(self, units: Sequence[Change]) -> MigrationProgram[Rehearsal]:
        """Run the units' statements in order in one transaction that is always rolled back,
        with foreign keys switched as the first unit needs; see :class:`Rehearsal`."""
        ...


__all__ = [
    "DOWN_CHECKSUM_COLUMN",
    "TRACKING_COLUMNS",
    "Change",
    "Decide",
    "MigrationProgram",
    "MigrationRunner",
    "Record",
    "Rehearsal",
    "Statement",
    "TrackingCatalog",
]
