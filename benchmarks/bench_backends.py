"""The same work on each backend, beside the raw driver doing it by hand, in one run.

    python benchmarks/bench_backends.py [--migrations 200] [--logs 10000] [--reads 2000]
                                        [--repeat 5] [--postgres-url URL] [--no-libsql]
                                        [--no-sqlite]

Cases, on SQLite (a temp file) and PostgreSQL (a fresh database on the server at
``--postgres-url``, default ``$AGENTSDB_TEST_POSTGRES_URL`` or the local test server):

* fresh apply of N synthetic migrations; baseline: the raw driver running the same statements,
  one transaction per migration with a tracking-row insert in it;
* no-op ``migrate()`` with those N applied; baseline: the very query agentsdb's no-op runs (the
  newest tracking row, the row count, whether any row is dirty) through the raw driver on an
  open connection, on the same database;
* ``SessionLogRepository.append_many`` of 10,000 logs; baseline: raw sqlite3 ``executemany`` in
  one transaction, raw asyncpg ``executemany`` and COPY (``copy_records_to_table``), each
  encoding the JSON and timestamps as agentsdb stores them;
* point reads by primary key through ``SessionLogRepository.get``; baseline: the raw driver's
  ``fetchone`` / ``fetchrow`` of the same statement, one at a time, rows as dicts (raw asyncpg
  with ``json.loads`` as its JSON codec, so both sides hand out decoded documents). The same
  reads through ``db.fetch_one`` (rows as dicts, no model) show what the backend itself costs.
  The three take turns, one pass each per round, and the CPU time this process spends per
  read is printed beside them (the median pass): on a shared machine it moves far less than
  the wall-clock rates.

Models and driver rows are built inside every side's timer. SQLite runs once per
``--synchronous`` level (default FULL, then NORMAL), agentsdb (through ``?synchronous=`` in its
URL) and raw sqlite3 at the same level, read back and printed; PostgreSQL runs both sides on
one server, whose ``synchronous_commit`` and ``fsync`` are printed.

Each figure is the best of ``--repeat`` runs, as a rate (higher is better); the ratio is
agentsdb's rate over the baseline's, against the target of >= 70% of the raw driver. The raw
sqlite3 baseline runs without an event loop, so it also shows what the async layer costs. A
case a backend cannot run yet prints one line saying why. libSQL runs against the Hrana test
server in tests/ (in this process, over a real socket), for information only: no raw baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import durability
from backend_bench.cases import migration_cases, repository_cases
from backend_bench.common import (
    DEFAULT_POSTGRES_URL,
    TARGET,
    TESTS_FOLDER,
    Backend,
    make_migrations,
)
from backend_bench.libsql_side import LibsqlBackend
from backend_bench.postgres_side import postgres_backend
from backend_bench.sqlite_side import SQLiteBackend

import agentsdb


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=200)
    parser.add_argument("--logs", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AGENTSDB_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
    )
    parser.add_argument("--no-libsql", action="store_true", help="leave the libSQL runs out")
    parser.add_argument("--no-sqlite", action="store_true", help="leave the SQLite runs out")
    durability.add_argument(parser)
    args = parser.parse_args()

    print(f"agentsdb {agentsdb.__version__}, python {sys.version.split()[0]}")
    print(f"sqlite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="agentsdb-bench-") as tmp:
        folder = Path(tmp)
        backends: list[Backend] = []
        if not args.no_sqlite:
            backends.extend(SQLiteBackend(folder, level) for level in args.synchronous)
        postgres = await postgres_backend(args.postgres_url)
        if isinstance(postgres, str):
            print(f"{'postgresql':<12} every case{'':<34} could not run: {postgres}")
        else:
            backends.append(postgres)
        if not args.no_libsql:
            sys.path.insert(0, str(TESTS_FOLDER))
            backends.append(LibsqlBackend(folder))
        migrations = make_migrations(args.migrations)
        print(
            f"\nrates, best of {args.repeat} runs (no-op migrate: median); ratio = agentsdb / "
            f"baseline, target >= {TARGET:.0%}\n"
        )
        for backend in backends:
            await migration_cases(backend, migrations, args.repeat)
            await repository_cases(backend, args.logs, args.reads, args.repeat)
            print()


if __name__ == "__main__":
    asyncio.run(main())
