"""The migration commands of ``agentsdb``: migrate, rollback, status, validate, repair,
accept-drift.

Only ``migrate`` (without ``--dry-run``) may create a database; the others open it with
``create=False`` and fail with one line naming the missing file. A rollback that would delete
rows (counted by :mod:`agentsdb.rollback_preview`) asks first on a terminal and needs ``--yes``
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
        version = migrator.migrations[-1].id if migrator.migrations else None
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
    from agentsdb.rollback_preview import preview_rollback  # its patterns cost a few ms to build

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
    for migration in migrator.migrations:
        record = applied.pop(migration.id, None)
        if record is None:
            entries.append({"id": migration.id, "description": migration.description})
            entries[-1].update(status="pending", applied_at=None, execution_time_ms=None)
            continue
        entries.append(
            {
                "id": migration.id,
                "description": migration.description,
                "status": _STATE[record.success],
                "applied_at": record.applied_at,
                "execution_time_ms": record.execution_time_ms,
            }
        )
    for record in applied.values():
        entries.append(
            {
                "id": record.id,
                "description": record.description,
                "status": "unknown",
                "applied_at": record.applied_at,
                "execution_time_ms": None,
            }
        )
    done = [entry for entry in entries if entry["status"] == "applied"]
    known = {migration.id: migration for migration in migrator.migrations}
    versions = [known[str(e["id"])] for e in done if e["id"] in known]
    version = max(versions, key=lambda m: m.version).id if versions else None
    pending = sum(1 for entry in entries if entry["status"] == "pending")
    out.set(version=version, applied=len(done), pending=pending, migrations=entries)
    _status_table(entries, out)
    out.line(f"\nVersion {version or 'none'}: {len(done)} applied, {pending} pending.")
    return EXIT_OK


_STATUS_SHOWN = {"dirty": "DIRTY", "unknown": "UNKNOWN (not in code)"}


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


async def _session(args: argparse.Namespace, out: Report) -> int:
    migrations = registered_migrations(args.dir)
    # Only a real migrate creates the database; a typo elsewhere must not leave an empty file.
    create = args.command == "migrate" and not args.dry_run
    async with connect(args.db, create=create) as db:
        out.set(database=db.url)
        migrator = Migrator(db, migrations)
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
