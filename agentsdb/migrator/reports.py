"""Where a database stands against the registered migrations: pure functions over the tracking
rows (and the live schema's fingerprint), used by the Migrator's reports and runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agentsdb.errors import SchemaDriftError
from agentsdb.migration import Migration
from agentsdb.migrator import drift as drift_rules
from agentsdb.migrator.plan import AppliedRecord, find_problems
from agentsdb.migrator.results import MigrationSummary, ValidationResult

log = logging.getLogger("agentsdb.migrations")

#: The live schema: its fingerprint and (SQLite) its schema counter.
Live = tuple[str, int | None]


def summary(
    migrations: Sequence[Migration], optional: frozenset[str], applied: Sequence[AppliedRecord]
) -> MigrationSummary:
    """Current version (of the set registered first, and per set), counts, and the ids still
    pending; an optional set's migrations count only once applied."""
    by_id = {migration.id: migration for migration in migrations}
    done = {record.id for record in applied if record.success}
    current_by_set: dict[str, str | None] = {}
    for migration in migrations:
        current = current_by_set.get(migration.set_name)
        top = by_id.get(current) if current else None
        if migration.id in done and (top is None or migration.version > top.version):
            current_by_set[migration.set_name] = migration.id
        else:
            current_by_set.setdefault(migration.set_name, current)
    counted = [m for m in migrations if m.id in done or m.id not in optional]
    pending = [migration.id for migration in counted if migration.id not in done]
    first = migrations[0].set_name if migrations else None
    return MigrationSummary(
        current_version=current_by_set.get(first) if first else None,
        total_migrations=len(counted),
        applied_migrations=len([m for m in counted if m.id in done]),
        pending_migrations=len(pending),
        pending_migration_ids=pending,
        current_by_set=current_by_set,
    )


def validation(
    migrations: Sequence[Migration],
    optional: frozenset[str],
    applied: Sequence[AppliedRecord],
    dialect: str,
    live: Live | None,
) -> ValidationResult:
    """Every problem between the code, the tracking rows and the live schema (see
    ``Migrator.validate_migrations``)."""
    problems = find_problems(migrations, applied, dialect, check_downs=True, optional=optional)
    errors = [str(error) for error in problems.errors]
    warnings = list(problems.warnings)
    if live is not None:
        drift = drift_rules.assess(applied, *live)
        errors.extend([drift.error] if drift.error else [])
        warnings.extend([drift.warning] if drift.warning else [])
    return ValidationResult(is_valid=not errors, errors=errors, warnings=warnings)


def drift_before_run(
    applied: Sequence[AppliedRecord], live: Live, fail_on_drift: bool
) -> str | None:
    """The drift note a run that changes the schema must keep on the fingerprint it records
    (None: no drift); SchemaDriftError instead with ``fail_on_drift``."""
    drift = drift_rules.assess(applied, *live)
    if drift.warning:
        log.warning("%s", drift.warning)
    if drift.error is None:
        return drift.note
    if fail_on_drift:
        raise SchemaDriftError(drift.error)
    # Not an error by default: an index a DBA added must not stop an application's start-up.
    # The run keeps it reported (see agentsdb.migrator.drift) until it is accepted.
    log.warning("running over a schema changed outside migrations: %s", drift.error)
    return drift.note


__all__ = ["Live", "drift_before_run", "summary", "validation"]
