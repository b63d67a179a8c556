"""Migration planning: pure functions over the registered migrations and the recorded ones.

Nothing here touches a database, so ordering, validation and selection are tested without one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agentsdb.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    DirtyMigrationError,
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationOrderError,
    MigrationValidationError,
    UnknownMigrationError,
)
from agentsdb.migration import KNOWN_CHECKSUM_ALGORITHMS, Migration

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class AppliedRecord:
    """One row of the tracking table."""

    id: str
    description: str
    checksum: str
    success: bool
    started_at: str | None = None
    applied_at: str | None = None
    applied_by: str | None = None
    execution_time_ms: float | None = None
    chain: str | None = None
    schema_cookie: int | None = None
    schema_fingerprint: str | None = None

    @property
    def dirty_direction(self) -> str:
        """Which way a dirty row was going: a rollback keeps the chain its apply recorded."""
        return "down" if self.chain else "up"

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> AppliedRecord:
        """Build a record from a tracking-table row."""
        time_ms = row.get("execution_time_ms")
        cookie = row.get("schema_cookie")
        return cls(
            id=str(row["id"]),
            description=str(row["description"]),
            checksum=str(row["checksum"]),
            success=bool(row["success"]),
            started_at=_text_or_none(row.get("started_at")),
            applied_at=_text_or_none(row.get("applied_at")),
            applied_by=_text_or_none(row.get("applied_by")),
            execution_time_ms=float(time_ms) if isinstance(time_ms, int | float) else None,
            chain=_text_or_none(row.get("chain")),
            schema_cookie=int(cookie) if isinstance(cookie, int) else None,
            schema_fingerprint=_text_or_none(row.get("schema_fingerprint")),
        )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def order_migrations(migrations: Iterable[Migration]) -> tuple[Migration, ...]:
    """Sort by number; two migrations with the same number (even padded differently) conflict."""
    by_version: dict[int, Migration] = {}
    for migration in migrations:
        other = by_version.get(migration.version)
        if other is not None:
            raise MigrationDefinitionError(
                migration.id,
                f"duplicate id: {other.id} ({other.description!r}) is already registered",
            )
        by_version[migration.version] = migration
    return tuple(by_version[version] for version in sorted(by_version))


_DIGEST_MODULUS = 1 << 256


def chain_next(previous: str | None, migration_id: str, checksum: str) -> str:
    """The head digest after one more migration: previous + H(id ‖ checksum), mod 2**256.

    A sum rather than a hash chain, so the digest names the *set* of applied migrations and
    their checksums whatever order they were applied in: a database migrated out of order still
    gets the one-query start. Removing a migration's row (a rollback) leaves the previous row's
    digest, which is again the digest of what remains.
    """
    term = hashlib.sha256(f"{migration_id}\n{checksum}".encode()).digest()
    total = (int(previous, 16) if previous else 0) + int.from_bytes(term, "big")
    return f"{total % _DIGEST_MODULUS:064x}"


def chain_of(migrations: Sequence[Migration], dialect: str) -> str | None:
    """The head digest the database holds once every migration is applied."""
    head: str | None = None
    for migration in migrations:
        head = chain_next(head, migration.id, migration.checksum(dialect))
    return head


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
) -> Problems:
    """Compare the recorded migrations with the code. Errors come most serious first."""
    problems = Problems()
    known = {migration.id: migration for migration in migrations}
    for record in applied:
        if not record.success:
            problems.errors.append(
                DirtyMigrationError(
                    record.id, record.started_at, record.applied_by, record.dirty_direction
                )
            )
    unknown = [record.id for record in applied if record.id not in known]
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
    applied_ids = {record.id for record in applied}
    known_applied = [known[i] for i in applied_ids if i in known]
    if known_applied:
        newest = max(known_applied, key=lambda m: m.version)
        late = [m.id for m in migrations if m.id not in applied_ids and m.version < newest.version]
        if late:
            if allow_out_of_order:
                problems.warnings.append(
                    f"pending migrations {', '.join(late)} sort before the newest applied "
                    f"migration {newest.id}; they will be applied out of order"
                )
            else:
                problems.errors.append(MigrationOrderError(late, newest.id))
    for migration in migrations:
        problems.warnings.extend(f"migration {migration.id}: {p}" for p in migration.lint())
    return problems


def parse_version(migration_id: str) -> int:
    """The number of a migration id given by a caller ("005" -> 5); digits only."""
    if not isinstance(migration_id, str) or not _DIGITS.fullmatch(migration_id):
        raise ConfigurationError(f"{migration_id!r} is not a migration id (digits only)")
    return int(migration_id)


def find_migration(migrations: Sequence[Migration], migration_id: str) -> Migration:
    """The registered migration with this id (by number), or a ConfigurationError."""
    version = parse_version(migration_id)
    for migration in migrations:
        if migration.version == version:
            return migration
    raise ConfigurationError(f"no migration with id {migration_id!r} is registered")


def select_pending(
    migrations: Sequence[Migration],
    applied_ids: Iterable[str],
    *,
    limit: int | None = None,
    target: str | None = None,
) -> list[Migration]:
    """The migrations to apply, in order: not yet applied, up to ``target``, at most ``limit``."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigurationError(f"limit must be a non-negative integer, got {limit!r}")
    done = set(applied_ids)
    pending = [migration for migration in migrations if migration.id not in done]
    if target is not None:
        ceiling = find_migration(migrations, target).version
        pending = [migration for migration in pending if migration.version <= ceiling]
    if limit is not None:
        pending = pending[:limit]
    return pending


def select_rollbacks(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], target: str
) -> list[Migration]:
    """The applied migrations newer than ``target``, newest first, all checked reversible.

    ``target`` must be an applied migration id, or a zero id ("0", "000") for "roll back all".
    """
    target_version = parse_version(target)
    known = {migration.id: migration for migration in migrations}
    if target_version != 0 and not any(
        record.id in known and known[record.id].version == target_version for record in applied
    ):
        raise ConfigurationError(
            f"cannot roll back to {target!r}: it is not an applied migration "
            "(use '0' to roll back every migration)"
        )
    unknown = [record.id for record in applied if record.id not in known]
    if unknown:
        raise UnknownMigrationError(unknown)
    newer = [known[record.id] for record in reversed(applied)]
    newer = [migration for migration in newer if migration.version > target_version]
    # Rollbacks undo the newest applied row first, so what is undone must be the tail of the
    # apply order; after an out-of-order apply it may not be.
    tail = [known[record.id] for record in reversed(applied)][: len(newer)]
    if tail != newer:
        kept = next(m for m in tail if m.version <= target_version)
        raise ConfigurationError(
            f"cannot roll back to {target!r}: migration {kept.id} was applied (out of order) "
            f"after migrations numbered above {target!r}, and rollbacks undo the newest applied "
            f"first; roll back to a migration applied before {kept.id}"
        )
    for migration in newer:
        if not migration.reversible:
            raise IrreversibleMigrationError(migration.id)
    return newer
