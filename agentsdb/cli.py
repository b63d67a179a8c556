"""The ``agentsdb`` command line: thin over :class:`agentsdb.Migrator`, the backfill jobs and
the event store's read models.

Expected failures print one line to stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from agentsdb.aggregate.projection import read_model_projector
from agentsdb.clock import utc_now
from agentsdb.db import connect
from agentsdb.db.url import DEFAULT_URL, URL_ENVIRONMENT_VARIABLE
from agentsdb.errors import AgentsDBError, MigrationError
from agentsdb.jobs import JOBS, get_job
from agentsdb.jobs.command import backfill
from agentsdb.migration import Migration
from agentsdb.migrations import MODULE_NAME, load_migrations
from agentsdb.migrator import Migrator
from agentsdb.results import MigrationResult

EXIT_OK = 0
EXIT_FAILURE = 1


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=default,
        help=f"database URL or file (default: ${URL_ENVIRONMENT_VARIABLE}, then {DEFAULT_URL})",
    )
    parser.add_argument(
        "--dir",
        metavar="D",
        default=default,
        help="use the migration modules in folder D instead of the built-in migrations",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log each step"
    )


def _parser() -> argparse.ArgumentParser:
    # The options work before or after the command; after it, SUPPRESS keeps an absent option
    # from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="agentsdb", description="Migrate and inspect an agentsdb database."
    )
    _common_options(parser, None)
    parser.set_defaults(verbose=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", parents=[common], help="apply pending migrations")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show what would run; change nothing")
    mode.add_argument(
        "--rehearse", action="store_true", help="run pending migrations, then roll them back"
    )
    migrate.add_argument("--limit", type=_non_negative, metavar="N", help="apply at most N")
    migrate.add_argument("--target", metavar="ID", help="apply up to and including ID")
    migrate.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="apply pending migrations numbered below the newest applied one",
    )
    migrate.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="refuse to migrate a schema that was changed outside migrations",
    )

    rollback = commands.add_parser(
        "rollback", parents=[common], help="undo the newest migration (or down to --to ID)"
    )
    rollback.add_argument(
        "--to", metavar="ID", help="undo every migration after ID ('0' undoes all of them)"
    )

    commands.add_parser("status", parents=[common], help="list applied and pending migrations")
    commands.add_parser(
        "validate", parents=[common], help="check migrations and schema; exit 1 on errors"
    )

    new = commands.add_parser("new", help="scaffold the next numbered migration module")
    new.add_argument("description", help="what the migration does, e.g. 'add memories table'")
    new.add_argument(
        "--dir",
        metavar="D",
        default="migrations",
        help="folder to write it in (default: migrations)",
    )

    repair = commands.add_parser(
        "repair",
        parents=[common],
        help="resolve a dirty migration, a deleted tracking row, or an edited down",
    )
    repair.add_argument("migration_id", metavar="ID")
    action = repair.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--mark-applied",
        action="store_true",
        help="it did complete (or its row was deleted): record it as applied",
    )
    action.add_argument(
        "--remove", action="store_true", help="it did not complete: remove its record to rerun it"
    )
    action.add_argument(
        "--accept-down",
        action="store_true",
        help="its down was edited on purpose: record the current down as the one to run",
    )
    backfill = commands.add_parser(
        "backfill", parents=[common], help="move legacy data into the agentsdb schema"
    )
    backfill.add_argument("job", choices=sorted(JOBS), help="the job to run")
    backfill.add_argument(
        "--source", metavar="URL", help="database holding the legacy tables (default: --db)"
    )
    backfill_mode = backfill.add_mutually_exclusive_group()
    backfill_mode.add_argument(
        "--dry-run", action="store_true", help="read everything, write nothing, report"
    )
    backfill_mode.add_argument(
        "--validate", action="store_true", help="check parity, orphans and skips after a run"
    )
    backfill.add_argument(
        "--batch-size", type=_positive, default=1000, metavar="N", help="rows per transaction"
    )
    events = commands.add_parser("events", help="maintain the read models of the event store")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    for event_action, text in (
        ("rebuild", "empty a read model and project every event again, from position 0"),
        ("catch-up", "project the events a read model has not seen yet"),
    ):
        read_model = event_commands.add_parser(event_action, parents=[common], help=text)
        read_model.add_argument("name", metavar="NAME", help="the read model, e.g. 'agents'")
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a positive number")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _describe(result: MigrationResult) -> str:
    migration = result.migration
    return f"{migration.id} {migration.description} ({result.execution_time_ms:.1f} ms)"


def _print_results(results: Sequence[MigrationResult]) -> None:
    for result in results:
        if not result.success:
            continue
        if result.note and result.note.startswith("not rehearsed"):
            print(f"skipped {result.migration.id} {result.migration.description}: {result.note}")
        elif result.dry_run and result.note == "would apply":
            print(f"would apply {result.migration.id} {result.migration.description}")
        elif result.dry_run:
            print(f"rehearsed {_describe(result)}, rolled back")
        elif result.direction == "down":
            print(f"rolled back {_describe(result)}")
        else:
            print(f"applied {_describe(result)}")


async def _migrate(migrator: Migrator, args: argparse.Namespace) -> int:
    results = await migrator.migrate(
        dry_run=args.dry_run,
        rehearse=args.rehearse,
        limit=args.limit,
        target=args.target,
        allow_out_of_order=args.allow_out_of_order,
        fail_on_drift=args.fail_on_drift,
    )
    _print_results(results)
    summary = await migrator.get_migration_summary()
    version = summary.current_version or "none"
    if not results:
        print(f"Nothing to migrate; the database is at version {version}.")
    else:
        print(f"Database at version {version}; {summary.pending_migrations} pending.")
    return EXIT_OK


async def _rollback(migrator: Migrator, args: argparse.Namespace) -> int:
    if args.to is not None:
        results = await migrator.rollback_to(args.to)
    else:
        last = await migrator.rollback_last()
        results = [] if last is None else [last]
    if not results:
        print("Nothing to roll back.")
    _print_results(results)
    return EXIT_OK


async def _status(migrator: Migrator, args: argparse.Namespace) -> int:
    applied = {record.id: record for record in await migrator.get_applied()}
    rows = [("ID", "DESCRIPTION", "STATUS", "APPLIED AT", "TIME MS")]
    for migration in migrator.migrations:
        record = applied.pop(migration.id, None)
        if record is None:
            rows.append((migration.id, migration.description, "pending", "", ""))
            continue
        state = "applied" if record.success else "DIRTY"
        took = "" if record.execution_time_ms is None else f"{record.execution_time_ms:.1f}"
        rows.append((migration.id, migration.description, state, record.applied_at or "", took))
    for record in applied.values():
        rows.append(
            (record.id, record.description, "UNKNOWN (not in code)", record.applied_at or "", "")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    summary = await migrator.get_migration_summary()
    print(
        f"\nVersion {summary.current_version or 'none'}: {summary.applied_migrations} applied, "
        f"{summary.pending_migrations} pending."
    )
    return EXIT_OK


async def _validate(migrator: Migrator, args: argparse.Namespace) -> int:
    result = await migrator.validate_migrations()
    for warning in result.warnings:
        print(f"warning: {warning}")
    for error in result.errors:
        print(f"error: {error}")
    if result.is_valid:
        print("Migrations are valid.")
        return EXIT_OK
    print(f"{len(result.errors)} error(s).")
    return EXIT_FAILURE


async def _repair(migrator: Migrator, args: argparse.Namespace) -> int:
    if args.accept_down:
        await migrator.accept_down(args.migration_id)
        print(f"Repaired migration {args.migration_id}: its current down is recorded.")
        return EXIT_OK
    await migrator.repair(args.migration_id, mark_applied=args.mark_applied)
    outcome = "recorded as applied" if args.mark_applied else "record removed; migrate reruns it"
    print(f"Repaired migration {args.migration_id}: {outcome}.")
    return EXIT_OK


_COMMANDS = {
    "migrate": _migrate,
    "rollback": _rollback,
    "status": _status,
    "validate": _validate,
    "repair": _repair,
}


async def _run(args: argparse.Namespace) -> int:
    migrations: list[Migration] | None = None
    if args.dir is not None:
        migrations = load_migrations(args.dir)
    async with connect(args.db) as db:
        migrator = Migrator(db, migrations)
        return await _COMMANDS[args.command](migrator, args)


async def _events(args: argparse.Namespace) -> int:
    async with connect(args.db) as db:
        projector = read_model_projector(db, args.name)
        if args.events_command == "rebuild":
            projected = await projector.rebuild()
            verb = "Rebuilt"
        else:
            projected = await projector.catch_up()
            verb = "Caught up"
        position = await projector.position()
        print(f"{verb} read model {args.name}: {projected} events projected; position {position}.")
    return EXIT_OK


def scaffold_migration(description: str, directory: str | Path) -> Path:
    """Write the next numbered migration module in ``directory`` and return its path."""
    folder = Path(directory)
    slug = re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")
    if not slug:
        raise AgentsDBError(f"description {description!r} has no letters or digits to name a file")
    folder.mkdir(parents=True, exist_ok=True)
    numbers = [
        match.group(1) for path in folder.iterdir() if (match := MODULE_NAME.match(path.name))
    ]
    width = max([3, *(len(number) for number in numbers)])
    next_number = max([0, *(int(number) for number in numbers)]) + 1
    migration_id = str(next_number).zfill(width)
    path = folder / f"{migration_id}_{slug}.py"
    path.write_text(
        f'"""{description}"""\n\n'
        "from agentsdb.migration import Migration\n\n"
        "migration = Migration(\n"
        f"    id={migration_id!r},\n"
        f"    description={description!r},\n"
        f"    created_at={utc_now().date().isoformat()!r},\n"
        "    # One SQL statement per string; they run in order, in one transaction.\n"
        "    up=[],\n"
        "    # Statements that undo `up`, or None if it cannot be undone.\n"
        "    down=[],\n"
        ")\n",
        encoding="utf-8",
    )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "new":
            path = scaffold_migration(args.description, args.dir)
            print(f"Created {path}")
            return EXIT_OK
        if args.command == "events":
            return asyncio.run(_events(args))
        if args.command == "backfill":
            return asyncio.run(
                backfill(
                    get_job(args.job),
                    source_url=args.source,
                    target_url=args.db,
                    dry_run=args.dry_run,
                    validate=args.validate,
                    batch_size=args.batch_size,
                )
            )
        return asyncio.run(_run(args))
    except MigrationError as error:
        _print_results(error.results)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except AgentsDBError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
