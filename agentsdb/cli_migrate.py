"""The migration commands of ``agentsdb``: migrate, rollback, status, validate, repair,
accept-drift.

Only ``migrate`` (without ``--dry-run``) may create a database; the others open it with
``create=False`` and fail with one line naming the missing file. A rollback that would delete
rows (counted by :mod:`agentsdb.migrator.rollback_preview`) asks first on a terminal and needs
``--yes``
anywhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from agentsdb.cli_noop import registered_migrations
from agentsdb.cli_report import Report, preview_json, preview_lines
from agentsdb.db import connect
from agentsdb.db.base import Database
from agentsdb.errors import AgentsDBError, MigrationError
from agentsdb.migration import Migration
from agentsdb.migration_set import MigrationSet
from agentsdb.migrator import Migrator

EXIT_OK = 0
EXIT_FAILURE = 1

Command = Callable[[Migrator, Database, argparse.Namespace, Report], Awaitable[int]]


async def _migrate(migrator: Migrator, db: Database, args: argparse.Namespace, out: Report) -> int:
    results = await migrator.migrate(
        dry_run=args.dry_run,
        rehearse=args.rehearse,
        limit=args.limit,
        target=args.target,
        allow_out_of_order=args.allow_out_of_order,
        fail_on_drift=args.fail_on_drift,
    )
    out.set(dry_run=args.dry_run, rehearse=args.rehearse)
    out.results(results)
    if not results and args.limit is None and args.target is None:
        # Nothing was pending, so every registered migration is applied: the newest is the
        # version, without reading the tracking table again.
        version = _newest_of_first_set(migrator.migrations)
        pending = 0
    else:
        summary = await migrator.get_migration_summary()
        version, pending = summary.current_version, summary.pending_migrations
    out.set(version=version, pending=pending)
    if not results:
        out.line(f"Nothing to migrate; the database is at version {version or 'none'}.")
    else:
        out.line(f"Database at version {version or 'none'}; {pending} pending.")
    return EXIT_OK


def _newest_of_first_set(migrations: tuple[Migration, ...]) -> str | None:
    """The version a fully migrated database is at: the newest of the set registered first."""
    first = [m for m in migrations if m.set_name == migrations[0].set_name] if migrations else []
    return max(first, key=lambda m: m.version).id if first else None


def _asked_and_confirmed(out: Report) -> bool:
    """Ask on a terminal (never when stdin is not one, nor for --json); only a yes counts."""
    if out.as_json or not sys.stdin.isatty():
        return False
    try:
        answer = input("Roll back and delete? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


async def _rollback(migrator: Migrator, db: Database, args: argparse.Namespace, out: Report) -> int:
    plan = await migrator.plan_rollback(args.to)
    out.set(dry_run=args.dry_run, plan=[], rows_at_risk=0, results=[])
    if not plan:
        out.line("Nothing to roll back.")
        return EXIT_OK
    from agentsdb.migrator.rollback_preview import (
        preview_rollback,  # its patterns cost a few ms to build
    )

    preview = await preview_rollback(db, plan)
    out.set(plan=preview_json(preview), rows_at_risk=preview.rows_at_risk)
    if args.dry_run or (preview.needs_confirmation and not args.yes):
        for text in preview_lines(preview):
            out.line(text)
    if args.dry_run:
        out.line("Dry run: nothing was rolled back.")
        return EXIT_OK
    if preview.needs_confirmation and not args.yes and not _asked_and_confirmed(out):
        out.fail(
            "rolling back would delete the rows counted above; nothing was rolled back. "
            "Pass --yes to confirm (see them first with --dry-run)"
        )
        return EXIT_FAILURE
    if args.to is not None:
        results = await migrator.rollback_to(args.to)
    else:
        last = await migrator.rollback_last()
        results = [] if last is None else [last]
    out.results(results)
    return EXIT_OK


_STATE = {True: "applied", False: "dirty"}


async def _status(migrator: Migrator, db: Database, args: argparse.Namespace, out: Report) -> int:
    applied = {record.id: record for record in await migrator.get_applied()}
    entries: list[dict[str, object]] = []
    for migration in migrator.registered_migrations:
        record = applied.pop(migration.id, None)
        if record is None and migration.id in migrator.optional_ids:
            continue  # an optional set counts only once applied
        entry: dict[str, object] = {
            "id": migration.id,
            "set": migration.set_name,
            "description": migration.description,
            "status": "pending",
            "applied_at": None,
            "execution_time_ms": None,
        }
        if record is not None:
            entry.update(
                status=_STATE[record.success],
                applied_at=record.applied_at,
                execution_time_ms=record.execution_time_ms,
            )
        entries.append(entry)
    for record in applied.values():
        # A row of a set not registered here belongs to another migrator's sets (give
        # --set NAME=D to manage it); a bare id the code does not define is unknown.
        other_set = record.id.rpartition(":")[0]
        entries.append(
            {
                "id": record.id,
                "set": other_set or None,
                "description": record.description,
                "status": "unregistered" if other_set else "unknown",
                "applied_at": record.applied_at,
                "execution_time_ms": None,
            }
        )
    done = [entry for entry in entries if entry["status"] == "applied"]
    versions = _versions(migrator, {str(entry["id"]) for entry in done})
    version = next(iter(versions.values()), None) if len(versions) <= 1 else None
    pending = sum(1 for entry in entries if entry["status"] == "pending")
    out.set(version=version, versions=versions, applied=len(done), pending=pending)
    out.set(migrations=entries)
    _status_table(entries, out)
    if len(versions) > 1:
        shown = ", ".join(newest or f"{name}: none" for name, newest in versions.items())
        out.line(f"\nVersions {shown}: {len(done)} applied, {pending} pending.")
    else:
        out.line(f"\nVersion {version or 'none'}: {len(done)} applied, {pending} pending.")
    return EXIT_OK


def _versions(migrator: Migrator, done: set[str]) -> dict[str, str | None]:
    """Per registered set with a migration listed: the id of its newest applied migration."""
    versions: dict[str, str | None] = {}
    for migration in migrator.registered_migrations:
        if migration.id in migrator.optional_ids and migration.id not in done:
            continue
        newest = versions.setdefault(migration.set_name, None)
        if migration.id in done and (
            newest is None or migration.version > int(newest.rpartition(":")[2])
        ):
            versions[migration.set_name] = migration.id
    return versions


_STATUS_SHOWN = {
    "dirty": "DIRTY",
    "unknown": "UNKNOWN (not in code)",
    "unregistered": "set not registered (--set NAME=D)",
}


def _status_table(entries: list[dict[str, object]], out: Report) -> None:
    rows = [("ID", "DESCRIPTION", "STATUS", "APPLIED AT", "TIME MS")]
    for entry in entries:
        took = entry["execution_time_ms"]
        state = str(entry["status"])
        rows.append(
            (
                str(entry["id"]),
                str(entry["description"]),
                _STATUS_SHOWN.get(state, state),
                str(entry["applied_at"] or ""),
                "" if not isinstance(took, int | float) else f"{took:.1f}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.line("  ".join(cells).rstrip())


async def _validate(migrator: Migrator, db: Database, args: argparse.Namespace, out: Report) -> int:
    result = await migrator.validate_migrations()
    errors, warnings = list(result.errors), list(result.warnings)
    out.set(valid=result.is_valid, errors=errors, warnings=warnings, integrity=None)
    if args.integrity is not None:
        problems = await db.check_integrity(quick=args.integrity == "quick")
        out.set(integrity={"mode": args.integrity, "problems": problems})
        errors.extend(f"integrity: {problem}" for problem in problems)
    for warning in warnings:
        out.line(f"warning: {warning}")
    for error in errors:
        out.line(f"error: {error}")
    if not errors:
        checked = " and the file is sound" if args.integrity is not None else ""
        out.line(f"Migrations are valid{checked}.")
        return EXIT_OK
    out.set(ok=False)
    out.line(f"{len(errors)} error(s).")
    return EXIT_FAILURE


async def _repair(migrator: Migrator, db: Database, args: argparse.Namespace, out: Report) -> int:
    if args.accept_down:
        await migrator.accept_down(args.migration_id)
        out.line(f"Repaired migration {args.migration_id}: its current down is recorded.")
        return EXIT_OK
    await migrator.repair(args.migration_id, mark_applied=args.mark_applied)
    outcome = "recorded as applied" if args.mark_applied else "record removed; migrate reruns it"
    out.line(f"Repaired migration {args.migration_id}: {outcome}.")
    return EXIT_OK


async def _accept_drift(
    migrator: Migrator, db: Database, args: argparse.Namespace, out: Report
) -> int:
    accepted = await migrator.accept_drift()
    out.set(accepted=accepted)
    if accepted is None:
        out.line("No drift to accept: the live schema is the one recorded.")
    else:
        out.line(f"Accepted the live schema as the baseline. It was: {accepted}")
    return EXIT_OK


_COMMANDS: dict[str, Command] = {
    "migrate": _migrate,
    "rollback": _rollback,
    "status": _status,
    "validate": _validate,
    "repair": _repair,
    "accept-drift": _accept_drift,
}


def _sets(args: argparse.Namespace) -> list[MigrationSet] | None:
    """The sets ``--dir`` and ``--set`` name; None for the default (agentsdb's own, plus the
    cutover set as optional)."""
    given: list[tuple[str, str | None]] = getattr(args, "sets", None) or []
    if args.dir is None and not given:
        return None
    from agentsdb.migration import BUILTIN_SET
    from agentsdb.migrations import builtin_set, cutover_set, load_migrations

    base = (
        builtin_set()
        if args.dir is None
        else MigrationSet(BUILTIN_SET, registered_migrations(args.dir))
    )
    names = [name for name, _ in given]
    sets = [base]
    if "agentsdb-cutover" not in names and args.dir is None:
        sets.append(cutover_set().with_optional(True))
    for name, folder in given:
        sets.append(
            cutover_set() if folder is None else MigrationSet(name, load_migrations(folder))
        )
    return sets


async def _session(args: argparse.Namespace, out: Report) -> int:
    sets = _sets(args)
    # Only a real migrate creates the database; a typo elsewhere must not leave an empty file.
    create = args.command == "migrate" and not args.dry_run
    async with connect(args.db, create=create) as db:
        out.set(database=db.url)
        migrator = Migrator(db, sets=sets)
        return await _COMMANDS[args.command](migrator, db, args, out)


def run_migration_command(args: argparse.Namespace) -> int:
    """Run one of the migration commands; returns the exit code."""
    out = Report(args.command, as_json=getattr(args, "json", False))
    try:
        code = asyncio.run(_session(args, out))
    except MigrationError as error:
        out.results(error.results)
        out.fail(str(error))
        code = EXIT_FAILURE
    except AgentsDBError as error:
        out.fail(str(error))
        code = EXIT_FAILURE
    out.finish()
    return code


__all__ = ["run_migration_command"]
