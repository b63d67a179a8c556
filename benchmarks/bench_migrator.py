"""Migrator speed beside raw sqlite3 doing the same work, measured in one run.

    python benchmarks/bench_migrator.py [--migrations 1000] [--repeat 300]
        [--synchronous full,normal]

Prints, for each case, agentsdb's time, the baseline's time and their ratio:

* a fresh apply of 1,000 migrations, once per ``--synchronous`` level (default FULL, then NORMAL)
  with every side at that level (read back from SQLite and printed); baseline: raw sqlite3
  executing the same statements, one ``BEGIN IMMEDIATE`` ... ``COMMIT`` per migration, inserting
  a tracking row in each. Best of 3, the sides taking turns.
* no-op ``migrate()`` with 50 and with 1,000 applied migrations (reads only: the level does not
  apply); baseline: the very query agentsdb's no-op runs (the newest tracking row, the row count
  and whether any row is dirty) on an already open sqlite3 connection. Median of ``--repeat``.

Targets: no-op <= 2x its baseline, fresh apply <= 1.5x.

When yoyo-migrations is installed (``pip install -e ".[bench]"``) the same cases are measured with
it too, as the peer tool (yoyo checksums nothing and keeps a lock table). yoyo is given the same
migration objects ready-made (its scripts are read before its timer starts, as agentsdb's
``Migration`` objects are built before its own) and its connection is put in WAL mode at the
level of the row; it is also measured as shipped (rollback journal, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import durability

import agentsdb
from agentsdb import Migration, Migrator
from agentsdb.migrator.tracking import head_sql

TRACKING_TABLE = "agentsdb_migrations"


def make_migrations(count: int) -> list[Migration]:
    return [
        Migration(
            id=f"{number:05d}",
            description=f"create table t{number}",
            up=[
                f"CREATE TABLE t{number} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "created_at TEXT NOT NULL)",
                f"CREATE INDEX t{number}_name ON t{number} (name)",
            ],
            down=[f"DROP TABLE t{number}"],
        )
        for number in range(1, count + 1)
    ]


def raw_connect(path: Path, level: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    durability.set_level(conn, level)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def raw_apply(path: Path, migrations: list[Migration], level: str) -> tuple[float, str]:
    conn = raw_connect(path, level)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS tracking (id TEXT PRIMARY KEY, description TEXT, "
        "checksum TEXT, applied_at TEXT)"
    )
    started = time.perf_counter()
    for migration in migrations:
        conn.execute("BEGIN IMMEDIATE")
        for statement in migration.up_statements("sqlite"):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO tracking VALUES (?, ?, ?, datetime('now'))",
            (migration.id, migration.description, "x"),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    seen = durability.level_of(conn)
    conn.close()
    return elapsed, seen


async def agentsdb_apply(path: Path, migrations: list[Migration], level: str) -> tuple[float, str]:
    async with agentsdb.connect(str(path), synchronous=level) as db:
        migrator = Migrator(db, migrations)
        await migrator.initialize()
        started = time.perf_counter()
        results = await migrator.migrate()
        elapsed = time.perf_counter() - started
        assert len(results) == len(migrations)
        row = await db.fetch_one("PRAGMA synchronous")
        assert row is not None
        return elapsed, {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[int(row["synchronous"])]


def yoyo_folder(folder: Path, migrations: list[Migration]) -> Path:
    target = folder / f"yoyo{len(migrations)}"
    target.mkdir()
    for migration in migrations:
        stem = f"{migration.id}_{migration.description.replace(' ', '_')}"
        up = ";\n".join(migration.up_statements("sqlite")) + ";\n"
        (target / f"{stem}.sql").write_text(up, encoding="utf-8")
        down = ";\n".join(migration.down_statements("sqlite") or ()) + ";\n"
        (target / f"{stem}.rollback.sql").write_text(down, encoding="utf-8")
    return target


def yoyo_backend(path: Path, level: str | None) -> Any:
    """yoyo's backend on ``path``: as shipped when ``level`` is None, else its one connection
    in WAL mode at ``level``."""
    from yoyo import get_backend

    backend = get_backend(f"sqlite:///{path}")
    if level is not None:
        backend.connection.execute("PRAGMA journal_mode = WAL")
        durability.set_level(backend.connection, level)
    return backend


def yoyo_apply(path: Path, scripts: Path, level: str | None) -> tuple[float, str, str] | None:
    """(seconds, journal mode, synchronous level) of applying ``scripts`` with yoyo."""
    try:
        from yoyo import read_migrations
    except ImportError:
        return None
    backend = yoyo_backend(path, level)
    migrations = read_migrations(str(scripts))
    started = time.perf_counter()
    with backend.lock():
        backend.apply_migrations(backend.to_apply(migrations))
    elapsed = time.perf_counter() - started
    mode = backend.connection.execute("PRAGMA journal_mode").fetchone()[0]
    return elapsed, mode, durability.level_of(backend.connection)


def yoyo_noop(path: Path, scripts: Path, repeat: int) -> float | None:
    """A yoyo start-up with nothing to do: ask what to apply, under its lock."""
    try:
        from yoyo import read_migrations
    except ImportError:
        return None
    backend = yoyo_backend(path, None)
    migrations = read_migrations(str(scripts))

    def noop() -> None:
        with backend.lock():
            assert not backend.to_apply(migrations)

    return per_call(noop, repeat)


def per_call(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def agentsdb_noop(
    path: Path, migrations: list[Migration], repeat: int
) -> tuple[float, float]:
    """(median of repeated no-op migrate() on one Migrator, first call of a new Migrator)."""
    async with agentsdb.connect(str(path)) as db:
        migrator = Migrator(db, migrations)
        started = time.perf_counter()
        assert await Migrator(db, migrations).migrate() == []
        first = time.perf_counter() - started
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert await migrator.migrate() == []
            samples.append(time.perf_counter() - started)
        return statistics.median(samples), first


async def aiosqlite_per_call(path: Path, sql: str, repeat: int) -> float:
    """Median time of ``sql`` through aiosqlite: one hop to its worker thread, as agentsdb."""
    import aiosqlite

    async with aiosqlite.connect(path) as conn:
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            async with conn.execute(sql) as cursor:
                await cursor.fetchall()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def fresh_file(folder: Path, name: str) -> Path:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def line(case: str, ours: float, baseline: float, target: float, settings: str) -> None:
    ratio = ours / baseline
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"{case:<34} agentsdb {ours * 1e3:9.3f} ms   raw sqlite3 {baseline * 1e3:9.3f} ms   "
        f"ratio {ratio:5.2f}x  (target <= {target}x: {verdict})  [{settings}]"
    )


async def fresh_apply(
    folder: Path, many: list[Migration], scripts: Path | None, level: str
) -> None:
    """Apply ``many`` with raw sqlite3, agentsdb and yoyo at ``level``, three times in turns."""
    raw_times, our_times, yoyo_times = [], [], []
    for attempt in range(3):
        elapsed, seen = raw_apply(fresh_file(folder, f"raw{level}{attempt}.db"), many, level)
        assert seen == level, seen
        raw_times.append(elapsed)
        elapsed, seen = await agentsdb_apply(
            fresh_file(folder, f"ours{level}{attempt}.db"), many, level
        )
        assert seen == level, seen
        our_times.append(elapsed)
        if scripts is not None:
            result = yoyo_apply(fresh_file(folder, f"yoyo{level}{attempt}.db"), scripts, level)
            assert result is not None
            assert result[1:] == ("wal", level), result
            yoyo_times.append(result[0])
    settings = f"WAL, {durability.on_every_side(level)}; best of 3"
    line(f"fresh apply of {len(many)} migrations", min(our_times), min(raw_times), 1.5, settings)
    if yoyo_times:
        print(
            f"{'':<34} yoyo-migrations {min(yoyo_times) * 1e3:9.3f} ms "
            "(same migrations, same settings)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=300)
    durability.add_argument(parser)
    args = parser.parse_args()

    print(f"sqlite {sqlite3.sqlite_version}, agentsdb {agentsdb.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        many = make_migrations(args.migrations)
        try:
            import yoyo  # noqa: F401
        except ImportError:
            scripts = None
            print("(yoyo-migrations not installed: pip install -e '.[bench]' to compare)")
        else:
            scripts = yoyo_folder(folder, many)

        for level in args.synchronous:
            await fresh_apply(folder, many, scripts, level)
        if scripts is not None:
            shipped = [
                yoyo_apply(fresh_file(folder, f"yoyo-shipped{attempt}.db"), scripts, None)
                for attempt in range(3)
            ]
            best = min(result[0] for result in shipped if result is not None)
            _, mode, level = next(result for result in shipped if result is not None)
            print(
                f"{'':<34} yoyo-migrations as shipped: {best * 1e3:9.3f} ms "
                f"(journal_mode={mode}, synchronous={level}; best of 3)"
            )

        head = head_sql(TRACKING_TABLE)
        for count in (50, args.migrations):
            subset = many[:count]
            path = fresh_file(folder, f"noop{count}.db")
            await agentsdb_apply(path, subset, "NORMAL")
            raw = sqlite3.connect(path)
            baseline = per_call(lambda conn=raw: conn.execute(head).fetchall(), args.repeat)
            whole_table = per_call(
                lambda conn=raw: conn.execute(f"SELECT * FROM {TRACKING_TABLE}").fetchall(),
                args.repeat,
            )
            raw.close()
            hop = await aiosqlite_per_call(path, head, args.repeat)
            ours, first = await agentsdb_noop(path, subset, args.repeat)
            line(
                f"no-op migrate(), {count} applied",
                ours,
                baseline,
                2.0,
                f"baseline: the same head query; reads only; median of {args.repeat}",
            )
            print(
                f"{'':<34} (the same query through aiosqlite, one worker-thread hop: "
                f"{hop * 1e3:.3f} ms; agentsdb / that: {ours / hop:.2f}x)"
            )
            print(f"{'':<34} (first call of a new Migrator: {first * 1e3:.3f} ms)")
            print(
                f"{'':<34} (for context, a SELECT * of the tracking table: "
                f"{whole_table * 1e3:.3f} ms)"
            )
            if scripts is not None:
                yoyo_db = fresh_file(folder, f"yoyo_noop{count}.db")
                sub_scripts = folder / f"subset{count}"
                sub_scripts.mkdir()
                for script in sorted(scripts.iterdir()):
                    if int(script.name.split("_", 1)[0]) <= count:
                        (sub_scripts / script.name).write_bytes(script.read_bytes())
                yoyo_apply(yoyo_db, sub_scripts, "NORMAL")
                yoyo_time = yoyo_noop(yoyo_db, sub_scripts, max(10, args.repeat // 10))
                assert yoyo_time is not None
                print(
                    f"{'':<34} yoyo-migrations no-op start: {yoyo_time * 1e3:.3f} ms "
                    f"(median of {max(10, args.repeat // 10)})"
                )


if __name__ == "__main__":
    asyncio.run(main())
