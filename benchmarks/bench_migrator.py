"""Migrator speed beside raw sqlite3 doing the same work, measured in one run.

    python benchmarks/bench_migrator.py [--migrations 1000] [--repeat 200]

Prints, for each case, agentsdb's time, the baseline's time and their ratio:

* no-op ``migrate()`` with 50 and with 1,000 applied migrations; baseline: one SELECT of the
  tracking table on an already open sqlite3 connection (what any tool must do at the least);
* a fresh apply of 1,000 migrations; baseline: raw sqlite3 executing the same statements, one
  ``BEGIN IMMEDIATE`` ... ``COMMIT`` per migration, inserting a tracking row in each.

Targets: no-op <= 2x its baseline, fresh apply <= 1.5x.

When yoyo-migrations is installed (``pip install -e ".[bench]"``) the same cases are measured with
it too, as the peer tool (yoyo checksums nothing and keeps a lock table).
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

import agentsdb
from agentsdb import Migration, Migrator


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


def raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def raw_apply(path: Path, migrations: list[Migration]) -> float:
    conn = raw_connect(path)
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
    conn.close()
    return elapsed


async def agentsdb_apply(path: Path, migrations: list[Migration]) -> float:
    async with agentsdb.connect(str(path)) as db:
        migrator = Migrator(db, migrations)
        await migrator.initialize()
        started = time.perf_counter()
        results = await migrator.migrate()
        elapsed = time.perf_counter() - started
        assert len(results) == len(migrations)
        return elapsed


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


def yoyo_apply(path: Path, scripts: Path) -> float | None:
    try:
        from yoyo import get_backend, read_migrations
    except ImportError:
        return None
    backend = get_backend(f"sqlite:///{path}")
    started = time.perf_counter()
    migrations = read_migrations(str(scripts))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(migrations))
    return time.perf_counter() - started


def yoyo_noop(path: Path, scripts: Path, repeat: int) -> float | None:
    """A yoyo start-up with nothing to do: read the scripts, ask what to apply, under its lock."""
    try:
        from yoyo import get_backend, read_migrations
    except ImportError:
        return None
    backend = get_backend(f"sqlite:///{path}")
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


def fresh_file(folder: Path, name: str) -> Path:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def line(case: str, ours: float, baseline: float, target: float) -> None:
    ratio = ours / baseline
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"{case:<34} agentsdb {ours * 1e3:9.3f} ms   raw sqlite3 {baseline * 1e3:9.3f} ms   "
        f"ratio {ratio:5.2f}x  (target <= {target}x: {verdict})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    print(f"sqlite {sqlite3.sqlite_version}, agentsdb {agentsdb.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        many = make_migrations(args.migrations)

        raw_times, our_times = [], []
        for attempt in range(3):
            raw_times.append(raw_apply(fresh_file(folder, f"raw{attempt}.db"), many))
            our_times.append(await agentsdb_apply(fresh_file(folder, f"ours{attempt}.db"), many))
        line(
            f"fresh apply of {len(many)} migrations",
            min(our_times),
            min(raw_times),
            1.5,
        )
        scripts = yoyo_folder(folder, many)
        yoyo_time = yoyo_apply(fresh_file(folder, "yoyo.db"), scripts)
        if yoyo_time is None:
            print("(yoyo-migrations not installed: pip install -e '.[bench]' to compare)")
        else:
            print(f"{'':<34} yoyo-migrations {yoyo_time * 1e3:9.3f} ms (same migrations)")

        for count in (50, args.migrations):
            subset = many[:count]
            path = fresh_file(folder, f"noop{count}.db")
            await agentsdb_apply(path, subset)
            raw = sqlite3.connect(path)
            baseline = per_call(
                lambda conn=raw: conn.execute("SELECT * FROM agentsdb_migrations").fetchall(),
                args.repeat,
            )
            raw.close()
            ours, first = await agentsdb_noop(path, subset, args.repeat)
            line(f"no-op migrate(), {count} applied", ours, baseline, 2.0)
            print(f"{'':<34} (first call of a new Migrator: {first * 1e3:.3f} ms)")
            yoyo_db = fresh_file(folder, f"yoyo_noop{count}.db")
            sub_scripts = folder / f"subset{count}"
            sub_scripts.mkdir()
            for script in sorted(scripts.iterdir()):
                if int(script.name.split("_", 1)[0]) <= count:
                    (sub_scripts / script.name).write_bytes(script.read_bytes())
            if yoyo_apply(yoyo_db, sub_scripts) is not None:
                yoyo_time = yoyo_noop(yoyo_db, sub_scripts, max(10, args.repeat // 10))
                assert yoyo_time is not None
                print(f"{'':<34} yoyo-migrations no-op start: {yoyo_time * 1e3:.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
