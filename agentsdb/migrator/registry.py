"""Registering migrations (and sets of them) with a Migrator: all or nothing, checked at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agentsdb.errors import ConfigurationError
from agentsdb.migration import Migration
from agentsdb.migration_set import MigrationSet
from agentsdb.migrator.plan import chain_of, register

_UNSET: Any = object()


class Registry:
    """The registered migrations of one dialect, and the head digests they lead to."""

    def __init__(self, dialect: str) -> None:
        self._dialect = dialect
        self._migrations: tuple[Migration, ...] = ()
        self._optional: frozenset[str] = frozenset()
        self._code_head: str | None = _UNSET
        self._full_head: str | None = _UNSET

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """The migrations ``migrate()`` applies, in order (every registered one but those of
        optional sets)."""
        return tuple(m for m in self._migrations if m.id not in self._optional)

    @property
    def registered_migrations(self) -> tuple[Migration, ...]:
        """Every registered migration, optional sets' included, in order."""
        return self._migrations

    @property
    def optional_ids(self) -> frozenset[str]:
        """Ids of the registered migrations of optional sets: validated when applied, never
        applied by ``migrate()`` unless named as its ``target``."""
        return self._optional

    def add_set(self, migration_set: MigrationSet) -> None:
        """Register a set of migrations (see :class:`~agentsdb.migration_set.MigrationSet`)."""
        self.add_sets([migration_set])

    def add_sets(self, sets: Iterable[MigrationSet]) -> None:
        """Register several sets at once (their ``requires`` may name each other)."""
        incoming = list(sets)
        names = [m.set_name for m in self._migrations]
        for migration_set in incoming:
            if not isinstance(migration_set, MigrationSet):
                raise ConfigurationError(
                    f"expected a MigrationSet, got {type(migration_set).__name__}"
                )
            if migration_set.name in names:
                raise ConfigurationError(f"set {migration_set.name!r} is registered twice")
            names.append(migration_set.name)
        self.add_migrations([m for s in incoming for m in s.migrations])
        for migration_set in incoming:
            if migration_set.optional:
                self._optional |= {m.id for m in migration_set.migrations}
        self._code_head = self._full_head = _UNSET

    def add_migration(self, migration: Migration) -> None:
        """Register one migration; a duplicate id or a lint failure is rejected at once."""
        self.add_migrations([migration])

    def add_migrations(self, migrations: Iterable[Migration]) -> None:
        """Register several migrations: all of them, or none when any is rejected."""
        self._migrations = register(self._migrations, migrations)
        self._code_head = self._full_head = _UNSET

    def _head_of_code(self) -> str | None:
        """The head digest with every migration applied that ``migrate()`` applies."""
        if self._code_head is _UNSET:
            required = [m for m in self._migrations if m.id not in self._optional]
            self._code_head = chain_of(required, self._dialect)
        return self._code_head

    def _fully_applied(self, chain: object, recorded: int) -> bool:
        """Whether a head digest and row count are those of a fully migrated database: every
        required migration applied, or (when some sets are optional) every registered one. The
        second digest is computed only when the first does not match."""
        required = len(self._migrations) - len(self._optional)
        if chain == self._head_of_code() and recorded == required:
            return True
        if not self._optional or recorded != len(self._migrations):
            return False
        if self._full_head is _UNSET:
            self._full_head = chain_of(self._migrations, self._dialect)
        return bool(chain == self._full_head)

    def _by_id(self) -> dict[str, Migration]:
        return {migration.id: migration for migration in self._migrations}


__all__ = ["Registry"]
