"""Migration planning: pure functions over the registered migrations and the recorded ones.

Nothing here touches a database, so ordering, validation and selection are tested without one.
The recorded history and its digest are in :mod:`agentsdb.migrator.history` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from agentsdb.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    DirtyMigrationError,
    DownChecksumMismatchError,
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationOrderError,
    MigrationValidationError,
    UnknownMigrationError,
)
from agentsdb.migration import KNOWN_CHECKSUM_ALGORITHMS, Migration
from agentsdb.migrator.history import (
    AppliedRecord,
    all_applied,
    chain_next,
    chain_of,
    chain_without,
    find_missing,
)
from agentsdb.migrator.plan_sets import closure, find_reference, owned_by, parse_reference
from agentsdb.migrator.plan_sets import order_migrations as order_migrations  # re-exported


def register(
    registered: Sequence[Migration], incoming: Iterable[Migration]
) -> tuple[Migration, ...]:
    """``registered`` plus ``incoming``, in order: all of them, or MigrationDefinitionError when
    one is not a Migration, fails its lint, or duplicates a number."""
    added = list(incoming)
    for migration in added:
        if not isinstance(migration, Migration):
            raise MigrationDefinitionError(
                str(getattr(migration, "id", "?")),
                f"expected a Migration, got {type(migration).__name__}",
            )
        problems = migration.lint()
        if problems:
            raise MigrationDefinitionError(migration.id, "; ".join(problems))
    return order_migrations([*registered, *added])


@dataclass
class Problems:
    """What validation found: errors block ``migrate()``, warnings do not."""

    errors: list[MigrationValidationError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_problems(
    migrations: Sequence[Migration],
    applied: Sequence[AppliedRecord],
    dialect: str,
    *,
    validate_checksums: bool = True,
    allow_out_of_order: bool = False,
    check_downs: bool = False,
    optional: Collection[str] = frozenset(),
) -> Problems:
    """Compare the recorded migrations with the code. Errors come most serious first.

    ``check_downs`` also compares the recorded ``down`` checksums (validation does; ``migrate()``
    does not, since it runs no down). ``optional`` ids (sets applied only on request) are never
    late. Rows of sets these migrations do not include are another migrator's: not checked.
    """
    problems = Problems()
    known = {migration.id: migration for migration in migrations}
    missing = find_missing(migrations, applied, dialect)
    if missing is not None:
        problems.errors.append(missing)
    for record in applied:
        if not record.success:
            problems.errors.append(
                DirtyMigrationError(
                    record.id, record.started_at, record.applied_by, record.dirty_direction
                )
            )
    unknown = [
        record.id
        for record in applied
        if record.id not in known and owned_by(migrations, record.id)
    ]
    if unknown:
        problems.errors.append(UnknownMigrationError(unknown))
    if validate_checksums:
        for record in applied:
            migration = known.get(record.id)
            if migration is None or not record.success:
                continue
            algorithm = record.checksum.partition(":")[0]
            if algorithm not in KNOWN_CHECKSUM_ALGORITHMS:
                problems.errors.append(
                    ChecksumMismatchError(
                        record.id,
                        record.checksum,
                        f"(checksum algorithm {algorithm!r} is unknown to this version)",
                    )
                )
                continue
            actual = migration.checksum(dialect)
            if actual != record.checksum:
                problems.errors.append(ChecksumMismatchError(record.id, record.checksum, actual))
    if check_downs:
        for record in applied:
            migration = known.get(record.id)
            if migration is not None and record.success:
                error, warning = check_down(record, migration, dialect)
                problems.errors.extend([error] if error else [])
                problems.warnings.extend([warning] if warning else [])
    applied_ids = {record.id for record in applied}
    if missing is not None:
        applied_ids |= set(missing.migration_ids)
    late, newest = _late(migrations, applied_ids, optional)
    if late:
        if allow_out_of_order:
            problems.warnings.append(
                f"pending migrations {', '.join(late)} sort before the newest applied "
                f"migration of their set ({', '.join(newest)}); they will be applied out of order"
            )
        else:
            problems.errors.append(MigrationOrderError(late, ", ".join(newest)))
    for migration in migrations:
        problems.warnings.extend(f"migration {migration.id}: {p}" for p in migration.lint())
    return problems


def _late(
    migrations: Sequence[Migration], applied_ids: set[str], optional: Collection[str]
) -> tuple[list[str], list[str]]:
    """Pending migrations numbered below the newest applied one of their own set (each set is
    numbered on its own), and those newest ones."""
    newest: dict[str, Migration] = {}
    for migration in migrations:
        if migration.id in applied_ids:
            top = newest.get(migration.set_name)
            if top is None or migration.version > top.version:
                newest[migration.set_name] = migration
    late = [
        m.id
        for m in migrations
        if m.id not in applied_ids
        and m.id not in optional
        and m.set_name in newest
        and m.version < newest[m.set_name].version
    ]
    late_sets = {m.set_name for m in migrations if m.id in late}
    return late, sorted(newest[name].id for name in late_sets)


def check_down(
    record: AppliedRecord, migration: Migration, dialect: str
) -> tuple[DownChecksumMismatchError | None, str | None]:
    """(error, warning) comparing the recorded down checksum with the code's down.

    A row without one (applied before down checksums were recorded, by a version that did not
    record them, or while the migration had no down) cannot be checked: a warning, not an error.
    """
    actual = migration.down_checksum(dialect)
    if record.down_checksum is None:
        if actual is None:
            return None, None
        return None, (
            f"migration {record.id}: no down checksum was recorded when it was applied, so an "
            f"edit of its down cannot be detected; `agentsdb repair {record.id} --accept-down` "
            "records the current one"
        )
    if actual is None:
        return None, None  # irreversible now: a rollback refuses it anyway
    if actual != record.down_checksum:
        return DownChecksumMismatchError(record.id, record.down_checksum, actual), None
    return None, None


def parse_version(migration_id: str) -> int:
    """The number of a migration id given by a caller ("005" -> 5, "myapp:005" -> 5)."""
    return parse_reference(migration_id)[1]


def find_migration(migrations: Sequence[Migration], migration_id: str) -> Migration:
    """The registered migration a caller names ("005", "myapp:005"), or a ConfigurationError."""
    parse_reference(migration_id)
    found = find_reference(migrations, migration_id)
    if found is None:
        raise ConfigurationError(f"no migration with id {migration_id!r} is registered")
    return found


def select_pending(
    migrations: Sequence[Migration],
    applied_ids: Iterable[str],
    *,
    limit: int | None = None,
    target: str | None = None,
    optional: Collection[str] = frozenset(),
) -> list[Migration]:
    """The migrations to apply, in order: not yet applied, up to ``target`` (it and what it
    needs), at most ``limit``. ``optional`` ones (sets applied only on request) are left out."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigurationError(f"limit must be a non-negative integer, got {limit!r}")
    done = set(applied_ids)
    pending = [m for m in migrations if m.id not in done and m.id not in optional]
    if target is not None:
        needed = closure(migrations, find_migration(migrations, target))
        pending = [m for m in migrations if m.id not in done and m.id in needed]
    if limit is not None:
        pending = pending[:limit]
    return pending


def _undone_by(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], target: str
) -> list[Migration]:
    """The applied migrations a rollback to ``target`` undoes, in apply order: a bare id ("005",
    "0") counts over the bare-id migrations (agentsdb's own, "0" over every set), ``SET:NNN``
    over that set's."""
    set_name, version = parse_reference(target)
    known = {migration.id: migration for migration in migrations}
    if version != 0:
        anchor = find_reference(migrations, target)
        if anchor is None or not any(record.id == anchor.id for record in applied):
            raise ConfigurationError(
                f"cannot roll back to {target!r}: it is not an applied migration "
                "(use '0' to roll back every migration, 'SET:0' every one of a set)"
            )
    elif set_name is not None and not any(m.set_name == set_name for m in migrations):
        raise ConfigurationError(
            f"cannot roll back to {target!r}: no set {set_name!r} is registered"
        )
    undone = []
    for record in applied:
        migration = known.get(record.id)
        if migration is None or migration.version <= version:
            continue
        # A bare id counts over the bare-id migrations; "0" undoes every set's.
        in_scope = (
            (version == 0 or ":" not in migration.id)
            if set_name is None
            else migration.set_name == set_name
        )
        if in_scope:
            undone.append(migration)
    return undone


def select_rollbacks(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], target: str
) -> list[Migration]:
    """The applied migrations ``target`` undoes, newest first, all checked reversible.

    ``target`` is an applied migration id ("005", "myapp:002"), a zero id ("0": roll back all)
    or ``SET:0`` (roll back all of a set). A migration that an applied migration which stays
    requires is not undone: the rollback is refused, naming the dependant to roll back first.
    """
    known = {migration.id: migration for migration in migrations}
    unknown = [r.id for r in applied if r.id not in known and owned_by(migrations, r.id)]
    if unknown:
        raise UnknownMigrationError(unknown)
    newer = list(reversed(_undone_by(migrations, applied, target)))
    undone = {m.id for m in newer}
    for record in applied:
        stays = known.get(record.id)
        if stays is None or stays.id in undone:
            continue
        for required in stays.requires:
            needed = find_reference(migrations, required)
            if needed is not None and needed.id in undone:
                raise ConfigurationError(
                    f"cannot roll back to {target!r}: applied migration {stays.id} requires "
                    f"{needed.qualified_id}; roll back {stays.set_name} first "
                    f"(rollback --to {stays.set_name}:0, or to one of its migrations applied "
                    f"before {stays.id})"
                )
    # Rollbacks undo the newest applied row first, so what is undone must be the tail of the
    # apply order; after an out-of-order apply, or another set applied since, it may not be.
    tail = [record.id for record in reversed(applied)][: len(newer)]
    if tail != [m.id for m in newer]:
        kept = next(i for i in tail if i not in undone)
        raise ConfigurationError(
            f"cannot roll back to {target!r}: migration {kept} was applied after migrations "
            f"this rollback undoes, and rollbacks undo the newest applied first; roll back "
            f"{kept} first, or roll back to a migration applied before it"
        )
    for migration in newer:
        if not migration.reversible:
            raise IrreversibleMigrationError(migration.id)
    return newer


__all__ = [
    "AppliedRecord",
    "Problems",
    "all_applied",
    "chain_next",
    "chain_of",
    "chain_without",
    "check_down",
    "find_migration",
    "find_missing",
    "find_problems",
    "order_migrations",
    "parse_version",
    "register",
    "select_pending",
    "select_rollbacks",
]
