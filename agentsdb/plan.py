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
    DownChecksumMismatchError,
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationOrderError,
    MigrationValidationError,
    MissingMigrationRecordError,
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
    down_checksum: str | None = None

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
            down_checksum=_text_or_none(row.get("down_checksum")),
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


def _term(migration_id: str, checksum: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{migration_id}\n{checksum}".encode()).digest(), "big")


def chain_next(previous: str | None, migration_id: str, checksum: str) -> str:
    """The head digest after one more migration: previous + H(id ‖ checksum), mod 2**256.

    A sum rather than a hash chain, so the digest names the *set* of applied migrations and
    their checksums whatever order they were applied in: a database migrated out of order still
    gets the one-query start. Removing a migration's row (a rollback) leaves the previous row's
    digest, which is again the digest of what remains. Only the ``up`` checksum is a term: a
    ``down`` does not change what is applied (and the digests recorded before down checksums
    existed stay valid); downs are checked where they run, by the rollbacks.
    """
    total = (int(previous, 16) if previous else 0) + _term(migration_id, checksum)
    return f"{total % _DIGEST_MODULUS:064x}"


def chain_without(chain: str, migration_id: str, checksum: str) -> str:
    """``chain`` with one migration's term taken out (the inverse of :func:`chain_next`)."""
    total = int(chain, 16) - _term(migration_id, checksum)
    return f"{total % _DIGEST_MODULUS:064x}"


def find_missing(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], dialect: str
) -> MissingMigrationRecordError | None:
    """The first gap in the recorded history: a row whose digest is not the previous row's plus
    its own term counts rows that are no longer there (deleted from the middle). The missing
    ids are the run of unrecorded registered migrations, in order, whose terms make up the
    difference (with the code's checksums). Rows without a digest (dirty ones) end what can be
    checked.
    """
    recorded = {record.id for record in applied}
    candidates = [m for m in migrations if m.id not in recorded]
    previous: AppliedRecord | None = None
    for record in applied:
        if not record.success or record.chain is None:
            return None
        expected = chain_next(previous.chain if previous else None, record.id, record.checksum)
        if expected != record.chain:
            gap = (int(record.chain, 16) - int(expected, 16)) % _DIGEST_MODULUS
            missing = _terms_making(gap, candidates, dialect)
            # A break no deleted migration explains is a row edited by hand (its checksum is
            # then reported as a mismatch when it differs from the code's): keep looking.
            if missing:
                return MissingMigrationRecordError(
                    missing, previous.id if previous else None, record.id
                )
        previous = record
    return None


def _terms_making(gap: int, candidates: Sequence[Migration], dialect: str) -> list[str]:
    """The consecutive run of ``candidates`` whose digest terms sum to ``gap`` (or none)."""
    terms = [_term(m.id, m.checksum(dialect)) for m in candidates]
    for start in range(len(terms)):
        total = 0
        for end in range(start, len(terms)):
            total = (total + terms[end]) % _DIGEST_MODULUS
            if total == gap:
                return [m.id for m in candidates[start : end + 1]]
    return []


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


def all_applied(head: Mapping[str, object] | None, code_head: str | None, count: int) -> bool:
    """Whether the tracking table's ``head`` row (:attr:`TrackingSQL.head`; None: no rows)
    proves that the ``count`` registered migrations, whose digest is ``code_head``, are all
    applied unchanged: the O(1) start."""
    if head is None:
        return count == 0
    return (
        bool(head["success"])
        and not head["dirty"]
        and head["chain"] == code_head
        and int(str(head["recorded"])) == count
    )


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
    check_downs: bool = False,
) -> Problems:
    """Compare the recorded migrations with the code. Errors come most serious first.

    ``check_downs`` also compares the recorded ``down`` checksums (validation does; ``migrate()``
    does not, since it runs no down).
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
