"""The ``agentsdb`` command line: thin over :class:`agentsdb.Migrator`, the backfill jobs and
the event store's read models.

Expected failures print one line to stderr and exit 1; usage errors exit 2.

The arguments are parsed by :mod:`agentsdb.cli_parser`. Each command imports what it needs when
it runs (the migration commands from :mod:`agentsdb.cli_migrate`, backfill its jobs), and the
version is read only for ``--version``: a no-op ``agentsdb migrate`` costs little more than
starting Python (``benchmarks/bench_cli.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from agentsdb.cli_parser import DEFAULT_MIGRATIONS_FOLDER, build_parser
from agentsdb.errors import AgentsDBError

EXIT_OK = 0
EXIT_FAILURE = 1


async def _events(args: argparse.Namespace) -> int:
    from agentsdb.aggregate.projection import read_model_projector
    from agentsdb.db import connect

    async with connect(args.db, create=False) as db:
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


def scaffold_migration(
    description: str, directory: str | Path, set_name: str | None = None
) -> Path:
    """Write the next numbered migration module in ``directory`` and return its path.

    A folder holds one set, numbered on its own; with ``set_name`` the template shows how one
    of its migrations requires a migration of agentsdb's set.
    """
    from agentsdb.clock import utc_now
    from agentsdb.migrations import MODULE_NAME

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
        + (
            f"    # Set {set_name!r}: migrations of other sets this one needs first, e.g.\n"
            "    # ['agentsdb:002'] (it creates sessions) for a foreign key to sessions.\n"
            "    requires=[],\n"
            if set_name
            else ""
        )
        + ")\n",
        encoding="utf-8",
    )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "backfill" and args.dir is not None:
        parser.error("--dir names a folder of migrations; backfill reads none")
    if args.command in ("backfill", "new", "events") and getattr(args, "sets", None):
        parser.error(f"--set NAME=D names a folder of migrations; {args.command} reads none")
    try:
        if args.command == "migrate":
            from agentsdb.cli_noop import nothing_to_migrate

            # Before logging is set up: the no-op it proves logs nothing (see cli_noop).
            if nothing_to_migrate(args):
                return EXIT_OK
        import logging

        logging.basicConfig(
            level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if args.command == "new":
            folder = args.dir or DEFAULT_MIGRATIONS_FOLDER
            path = scaffold_migration(args.description, folder, args.set_name)
            print(f"Created {path}")
            return EXIT_OK
        if args.command == "events":
            import asyncio

            return asyncio.run(_events(args))
        if args.command == "backfill":
            import asyncio

            from agentsdb.jobs import get_job
            from agentsdb.jobs.command import backfill

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
        from agentsdb.cli_migrate import run_migration_command

        return run_migration_command(args)
    except AgentsDBError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["DEFAULT_MIGRATIONS_FOLDER", "EXIT_FAILURE", "EXIT_OK", "main", "scaffold_migration"]
