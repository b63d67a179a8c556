"""Start-up of the ``agentsdb`` command line as a whole process, beside Python's own, in one run.

    python benchmarks/bench_cli.py [--runs 30] [--warmup 3]

Like hyperfine: each command runs ``--runs`` times as a subprocess (after ``--warmup`` runs),
the commands interleaved so that a change in the machine's load hits all of them alike, and the
wall time of each run is taken around ``subprocess.run`` (its CPU time, user + system, from
``getrusage``, is shown too: on a busy machine it varies less than the wall time). Prints the best
and the median of each command and their ratios to the baseline:

* baseline: ``python -c 'import sqlite3'`` (an interpreter that loads the SQLite module);
* for context: ``python -c`` that opens the database file read-only and runs, in one read
  transaction, the very queries the no-op ``migrate`` runs (whether the tracking table exists
  in its current shape, and its head row: the newest row, the row count, any dirty row), and
  ``python -c`` importing the standard
  library modules agentsdb's command line cannot do without (asyncio, which loads ssl, argparse,
  dataclasses, typing, logging, hashlib): the floor for any asyncio program of this kind;
* ``python -m agentsdb migrate --db FILE`` on a database with every migration applied (a no-op);
* the same with ``--dir D`` holding 50 and 1,000 application migrations (each its own database,
  every migration applied), whose target is relative to the open + one SELECT process: a cold
  start (load, connect, no-op migrate) within 3x of it;
* for context, the same cold start through the Python API in one process
  (``load_migrations(D)``, ``connect``, ``Migrator(db, ms).migrate()``), which imports every
  module of ``D`` (the command line's no-op does not: see ``agentsdb/folder_digest.py``).

The processes run with bytecode caching on, as an installed package does, even when
``PYTHONDONTWRITEBYTECODE`` is set: compiling agentsdb's modules from source on every start
would otherwise be most of what is measured.

Targets: the no-op migrate within 3x the baseline; with ``--dir`` at 50 and 1,000 migrations,
within 3x the open + same-queries process. Every command only reads, so SQLite's
``synchronous`` setting does not apply.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from agentsdb.cli_noop import DEFAULT_TABLE, proof_queries

TARGET_RATIO = 3.0
NOOP = "agentsdb migrate (no-op)"
SELECT = "python -c (open + same queries)"
FOLDER_SIZES = (50, 1000)
STDLIB_NEEDED = "import argparse, asyncio, dataclasses, hashlib, logging, sqlite3, typing"


def _time(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _folder_noop(size: int) -> str:
    return f"agentsdb migrate --dir ({size})"


def _api_start(size: int) -> str:
    return f"API cold start ({size}, context)"


def _write_folder(folder: Path, size: int) -> None:
    """``size`` application migrations, each creating a table and an index."""
    folder.mkdir()
    for number in range(1, size + 1):
        (folder / f"{number:04d}_create_t{number}.py").write_text(
            f'''"""Create table t{number}."""

from agentsdb.migration import Migration

migration = Migration(
    id="{number:04d}",
    description="create table t{number}",
    up=[
        "CREATE TABLE t{number} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)",
        "CREATE INDEX t{number}_name ON t{number} (name)",
    ],
    down=["DROP TABLE t{number}"],
)
''',
            encoding="utf-8",
        )


def _commands(python: str, database: Path, folders: dict[int, Path]) -> dict[str, list[str]]:
    uri = f"file:{quote(str(database))}?mode=ro"
    select = (
        "import sqlite3\n"
        f"conn = sqlite3.connect({uri!r}, uri=True, isolation_level=None)\n"
        "conn.execute('BEGIN')\n"
        + "".join(
            f"conn.execute({sql!r}, {params!r}).fetchall()\n"
            for sql, params in proof_queries(DEFAULT_TABLE)
        )
        + "conn.close()\n"
    )
    commands = {
        "python -c 'import sqlite3'": [python, "-c", "import sqlite3"],
        SELECT: [python, "-c", select],
        "python -c (stdlib it needs)": [python, "-c", STDLIB_NEEDED],
        NOOP: [python, "-m", "agentsdb", "migrate", f"--db={database}"],
    }
    for size, folder in folders.items():
        folder_db = folder.with_suffix(".db")
        commands[_folder_noop(size)] = [
            python, "-m", "agentsdb", "migrate", f"--db={folder_db}", f"--dir={folder}"
        ]  # fmt: skip
        api = (
            "import asyncio, agentsdb\n"
            "from agentsdb.migrations import load_migrations\n"
            "async def main():\n"
            f"    migrations = load_migrations({str(folder)!r})\n"
            f"    async with agentsdb.connect({str(folder_db)!r}) as db:\n"
            "        await agentsdb.Migrator(db, migrations).migrate()\n"
            "asyncio.run(main())\n"
        )
        commands[_api_start(size)] = [python, "-c", api]
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per command first")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        database = cwd / "agents.db"
        folders = {size: cwd / f"app{size}" for size in FOLDER_SIZES}
        for size, folder in folders.items():
            _write_folder(folder, size)
        commands = _commands(sys.executable, database, folders)
        # As an installed package runs: from cached bytecode (the warm-up runs write it), even
        # where the environment turns caching off.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(commands[NOOP], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
        for size in FOLDER_SIZES:  # apply every migration once: the timed runs are no-ops
            subprocess.run(
                commands[_folder_noop(size)],
                cwd=cwd,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for run in range(args.warmup + args.runs):
            for name, command in commands.items():
                elapsed, used = _time(command, cwd, env)
                if run >= args.warmup:
                    wall[name].append(elapsed)
                    cpu[name].append(used)

    baseline = next(iter(commands))
    base_best, base_median = min(wall[baseline]), statistics.median(wall[baseline])
    base_cpu = statistics.median(cpu[baseline])
    print(
        f"{args.runs} runs each (after {args.warmup} warm-up), Python {sys.version.split()[0]}; "
        "reads only (synchronous does not apply)"
    )
    print(
        f"{'command':<32} {'best ms':>8} {'median ms':>10} {'best x':>7} {'median x':>9} "
        f"{'cpu ms':>7} {'cpu x':>6}"
    )
    for name, samples in wall.items():
        best, median, used = min(samples), statistics.median(samples), statistics.median(cpu[name])
        print(
            f"{name:<32} {best * 1000:8.1f} {median * 1000:10.1f} "
            f"{best / base_best:7.2f} {median / base_median:9.2f} "
            f"{used * 1000:7.1f} {used / base_cpu:6.2f}"
        )
    _verdicts("no-op migrate", wall[NOOP], wall[baseline], "the baseline")
    for size in FOLDER_SIZES:
        _verdicts(
            f"no-op migrate --dir ({size})",
            wall[_folder_noop(size)],
            wall[SELECT],
            "open + same queries",
        )


def _verdicts(what: str, samples: list[float], base: list[float], base_name: str) -> None:
    for label, ratio in (
        ("best", min(samples) / min(base)),
        ("median", statistics.median(samples) / statistics.median(base)),
    ):
        verdict = "within" if ratio <= TARGET_RATIO else "OVER"
        print(f"{what}, {label}: {ratio:.2f}x {base_name}, {verdict} the {TARGET_RATIO:g}x")


if __name__ == "__main__":
    main()
