"""The ``agentsdb`` command line's arguments: every command, its options and their checks.

:func:`build_parser` builds the parser :func:`agentsdb.cli.main` reads ``argv`` with; the
argument types here refuse a malformed value with a usage error (exit 2) naming it.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from agentsdb.db.url import DEFAULT_URL, URL_ENVIRONMENT_VARIABLE, parse_url
from agentsdb.errors import ConfigurationError

DEFAULT_MIGRATIONS_FOLDER = "migrations"


def _common_options(parser: argparse.ArgumentParser, default: object, *, folder: bool) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        type=_database_url,
        default=default,
        help=f"database URL or file (default: ${URL_ENVIRONMENT_VARIABLE}, then {DEFAULT_URL})",
    )
    if folder:
        # Before the command it also tells `new` where to write.
        where = "" if default is argparse.SUPPRESS else " (and, for new, where to write)"
        parser.add_argument(
            "--dir",
            metavar="D",
            default=default,
            help=f"use the migration modules in folder D instead of the built-in ones{where}",
        )
        parser.add_argument(
            "--set",
            dest="sets",
            metavar="NAME=D",
            action="append",
            type=_migration_set,
            default=default,
            help="also manage the application migration set NAME from folder D (repeatable); "
            "'--set agentsdb-cutover' applies the opt-in cutover set",
        )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log each step"
    )


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (keys: see the README)"
    )


@cache
def _terminal_width() -> int:
    """The width help is wrapped to, found as ``shutil.get_terminal_size`` finds it."""
    try:
        columns = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size().columns
    except (OSError, ValueError):
        columns = 80
    return max(columns - 2, 40)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter without its ``import shutil`` (which loads the bz2 and lzma modules)
    and its terminal query on every argument added: the width is found once."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_width())


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser using :class:`_HelpFormatter` (its subcommands' parsers too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import agentsdb

        print(f"agentsdb {agentsdb.__version__}")
        parser.exit()


class _JobNames:
    """The backfill jobs' names for argparse ``choices``, loaded only when checked or shown."""

    def _names(self) -> list[str]:
        from agentsdb.jobs import JOBS

        return sorted(JOBS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def build_parser() -> argparse.ArgumentParser:
    # The options work before or after the command; after it, SUPPRESS keeps an absent option
    # from overwriting one given before it.
    common = _Parser(add_help=False)
    _common_options(common, argparse.SUPPRESS, folder=True)
    # backfill reads no migrations, so it takes no --dir.
    without_folder = _Parser(add_help=False)
    _common_options(without_folder, argparse.SUPPRESS, folder=False)

    parser = _Parser(prog="agentsdb", description="Migrate and inspect an agentsdb database.")
    parser.add_argument("--version", action=_Version)
    _common_options(parser, None, folder=True)
    parser.set_defaults(verbose=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser(
        "migrate",
        parents=[common],
        help="apply pending migrations",
        description="Apply the pending migrations in order, each in its own transaction. "
        "Creates the database when it does not exist (the only command that does).",
    )
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show what would run; change nothing")
    mode.add_argument(
        "--rehearse", action="store_true", help="run pending migrations, then roll them back"
    )
    migrate.add_argument("--limit", type=_non_negative, metavar="N", help="apply at most N")
    migrate.add_argument(
        "--target", type=_migration_id, metavar="ID", help="apply up to and including ID"
    )
    migrate.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="apply pending migrations numbered below the newest applied one",
    )
    migrate.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="refuse (exit 1) when the schema was changed outside migrations and the change "
        "was not accepted (see accept-drift), even with nothing pending",
    )
    _json_option(migrate)

    rollback = commands.add_parser(
        "rollback",
        parents=[common],
        help="undo the newest migration (or down to --to ID)",
        description="Undo the newest applied migration, or every one after --to ID. A rollback "
        "that would delete rows asks first on a terminal and needs --yes anywhere else; "
        "--dry-run shows the plan and the rows each step would delete.",
    )
    rollback.add_argument(
        "--to",
        type=_migration_id,
        metavar="ID",
        help="undo every migration after ID ('0' undoes all of them)",
    )
    rollback_mode = rollback.add_mutually_exclusive_group()
    rollback_mode.add_argument(
        "--dry-run",
        action="store_true",
        help="show the plan and the rows each step would delete; change nothing",
    )
    rollback_mode.add_argument(
        "-y", "--yes", action="store_true", help="roll back even when it deletes rows"
    )
    _json_option(rollback)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="list applied and pending migrations",
        description="List every migration with its state (applied, pending, DIRTY, UNKNOWN), "
        "when it was applied and how long it took.",
    )
    _json_option(status)
    validate = commands.add_parser(
        "validate",
        parents=[common],
        help="check migrations and schema; exit 1 on errors",
        description="Check the migrations against the tracking table (edited, unknown, dirty, "
        "out of order) and the live schema against the one recorded (drift); with "
        "--integrity, check the database file's pages too. Exit 1 on errors.",
    )
    validate.add_argument(
        "--integrity",
        nargs="?",
        const="full",
        choices=("full", "quick"),
        help="also check the stored pages (SQLite/libSQL: PRAGMA integrity_check, or "
        "quick_check with 'quick'); not supported on PostgreSQL",
    )
    _json_option(validate)

    new = commands.add_parser(
        "new",
        help="scaffold the next numbered migration module",
        description="Write the next numbered migration module (NNN_description.py) in a folder.",
    )
    new.add_argument("description", help="what the migration does, e.g. 'add memories table'")
    new.add_argument(
        "--dir",
        metavar="D",
        default=argparse.SUPPRESS,
        help=f"folder to write it in (default: {DEFAULT_MIGRATIONS_FOLDER})",
    )
    new.add_argument(
        "--set",
        metavar="NAME",
        dest="set_name",
        type=_set_name,
        default=None,
        help="the application set the folder holds: the file is numbered within that set, "
        "and its template shows how to require another set's migration",
    )

    repair = commands.add_parser(
        "repair",
        parents=[common],
        help="resolve a dirty migration, a deleted tracking row, or an edited down",
        description="Resolve a migration recorded as dirty (it failed or was killed part-way "
        "outside a transaction) once you have inspected the schema by hand, record again a "
        "tracking row deleted from the middle of the history, or accept an edited down.",
    )
    repair.add_argument(
        "migration_id",
        type=_migration_id,
        metavar="ID",
        help="the migration's id, as `agentsdb status` shows it (e.g. 004)",
    )
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
    commands.add_parser(
        "accept-drift",
        parents=[common],
        help="accept a schema changed outside migrations as the new baseline",
        description="Record the live schema as the one migrations left, after you have "
        "inspected a drift `agentsdb validate` reports (a schema changed outside migrations "
        "stays reported, even after later migrations or rollbacks, until this runs).",
    )
    backfill = commands.add_parser(
        "backfill",
        parents=[without_folder],
        help="move legacy data into the agentsdb schema",
        description="Copy legacy tables into a migrated agentsdb database in resumable batches "
        "(see docs/backfill.md). Neither database is created: both must exist.",
    )
    backfill.add_argument(
        "job", choices=_JobNames(), metavar="JOB", help="the job to run: %(choices)s"
    )
    backfill.add_argument(
        "--source",
        metavar="URL",
        type=_database_url,
        help="database holding the legacy tables (default: --db)",
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
    events = commands.add_parser(
        "events",
        help="maintain the read models of the event store",
        description="Rebuild a read model of the event store from position 0, or bring it up "
        "to date with the events it has not seen yet (see docs/agent-store.md).",
    )
    event_commands = events.add_subparsers(dest="events_command", required=True)
    for event_action, text in (
        ("rebuild", "empty a read model and project every event again, from position 0"),
        ("catch-up", "project the events a read model has not seen yet"),
    ):
        read_model = event_commands.add_parser(
            event_action,
            parents=[without_folder],
            help=text,
            description=text[0].upper() + text[1:] + ". The database must exist.",
        )
        read_model.add_argument("name", metavar="NAME", help="the read model, e.g. 'agents'")
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a positive number")
    return value


_SET_ID = re.compile(r"(?:[a-z][a-z0-9_-]*:)?[0-9]+")


def _migration_id(text: str) -> str:
    if not _SET_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a migration id (digits, e.g. 004, or SET:digits, e.g. myapp:002)"
        )
    return text


_SET_OPTION = re.compile(r"([a-z][a-z0-9_-]{0,62})(?:=(.+))?", re.DOTALL)


def _migration_set(text: str) -> tuple[str, str | None]:
    match = _SET_OPTION.fullmatch(text)
    if match is None or (match.group(2) is None and match.group(1) != "agentsdb-cutover"):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not NAME=FOLDER (a set name is lower-case letters, digits, "
            "'_' and '-'), nor agentsdb-cutover"
        )
    return match.group(1), match.group(2)


def _set_name(text: str) -> str:
    match = _SET_OPTION.fullmatch(text)
    if match is None or match.group(2) is not None:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a set name (lower-case letters, digits, '_' and '-')"
        )
    return text


def _database_url(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the database URL is empty; give a file path or a URL")
    try:
        parse_url(text)
    except ConfigurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


__all__ = ["DEFAULT_MIGRATIONS_FOLDER", "build_parser"]
