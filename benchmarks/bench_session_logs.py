"""Session log appends and page reads: agentsdb beside raw sqlite3 and the OpenAI Agents SDK.

    pip install -e ".[bench]"
    python benchmarks/bench_session_logs.py            # the full run (1M-row depth case included)
    python benchmarks/bench_session_logs.py --quick    # a smaller run, for a smoke test

Every case runs on a fresh temp file. agentsdb and raw sqlite3 use the same migrated schema and
the same connection settings (WAL, foreign keys on); raw sqlite3 does the same work by hand
(JSON encoding included). SQLiteSession runs with its own schema, in WAL mode. Every write case
runs once per ``--synchronous`` level (default: FULL, then NORMAL) with every side at that level:
at FULL SQLiteSession runs as shipped, at NORMAL its connections are switched to NORMAL. Each
level is read back from SQLite and printed. Inputs (models, dicts, items) are built inside every
side's timer, as an application builds them per call. Each figure is the best of ``--repeat``
runs, the sides taking turns run by run. What the figures mean is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import durability

import agentsdb
from agentsdb.db.base import Database
from agentsdb.models import Agent, Session, SessionLog, format_ts, now
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import AgentRepository, SessionLogRepository, SessionRepository

try:
    from agents.memory import SQLiteSession
except ImportError:  # the bench extra is not installed
    SQLiteSession = None


def sdk_session(session_id: str, path: Path, level: str) -> Any:
    """A SQLiteSession whose connections run at ``level``: as shipped at FULL (its default),
    else with each connection switched to ``level`` where the SDK configures it."""
    if level == "FULL":
        return SQLiteSession(session_id, path)

    class Matched(SQLiteSession):
        @staticmethod
        def _configure_connection(conn: sqlite3.Connection) -> None:
            SQLiteSession._configure_connection(conn)
            durability.set_level(conn, level)

    return Matched(session_id, path)


async def sdk_level(sdk: Any) -> str:
    """The level SQLiteSession's connections really run at (read on one of its threads)."""

    def read() -> str:
        return durability.level_of(sdk._get_connection())

    return await asyncio.to_thread(read)


CONTENT = {"text": "The user asked for the weather in Lisbon; calling the forecast tool."}
METADATA = {"tokens": 17}


# --- set-up --------------------------------------------------------------------------------------


class Workdir:
    """Fresh database files in one temp folder, removed at the end."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="agentsdb-bench-"))
        self._count = 0

    def path(self, name: str) -> Path:
        self._count += 1
        return self.root / f"{self._count:02d}-{name}.db"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


async def open_migrated(path: Path, level: str = "NORMAL") -> Database:
    db = await agentsdb.connect(str(path), synchronous=level)
    try:
        await agentsdb.Migrator(db).migrate()
    except BaseException:
        await db.close()  # an open connection's worker thread would keep the process alive
        raise
    return db


async def new_sessions(db: Database, count: int) -> list[str]:
    agent = await AgentRepository(db).create(Agent(name="bench", model="m"))
    sessions = SessionRepository(db)
    return [(await sessions.create(Session(main_agent_id=agent.id))).id for _ in range(count)]


async def prepared(path: Path, sessions: int) -> list[str]:
    """Migrate a new file and create sessions in it for a raw sqlite3 run; their ids."""
    db = await open_migrated(path)
    try:
        return await new_sessions(db, sessions)
    finally:
        await db.close()


def raw_connect(path: Path, level: str = "NORMAL") -> sqlite3.Connection:
    """A plain sqlite3 connection with the settings agentsdb uses, at ``level``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    durability.set_level(conn, level)
    return conn


async def agentsdb_level(db: Database) -> str:
    row = await db.fetch_one("PRAGMA synchronous")
    assert row is not None
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[int(row["synchronous"])]


def check_levels(level: str, **seen: str) -> None:
    """Stop when a side does not run at ``level``: its figure would compare unlike things."""
    wrong = {side: found for side, found in seen.items() if found != level}
    assert not wrong, f"expected synchronous={level} on every side, found {wrong}"


def models_for(session_id: str, count: int) -> list[SessionLog]:
    return [
        SessionLog(session_id=session_id, role="agent", type="action", content=CONTENT)
        for _ in range(count)
    ]


def raw_params(session_id: str) -> dict[str, Any]:
    """What raw sqlite3 binds for one row: the same JSON and timestamps agentsdb stores."""
    stamp = format_ts(now())
    return {
        "session_id": session_id,
        "parent_id": None,
        "role": "agent",
        "type": "action",
        "content": json.dumps(CONTENT),
        "metadata": "{}",
        "created_at": stamp,
        "updated_at": stamp,
    }


def sdk_item() -> dict[str, Any]:
    return {"role": "assistant", "content": CONTENT["text"]}


async def best_of(repeat: int, run: Callable[[], Awaitable[float]]) -> float:
    """The best (highest) rate of ``repeat`` runs."""
    return max([await run() for _ in range(repeat)])


async def best_in_turns(
    repeat: int, runs: dict[str, Callable[[], Awaitable[float]]]
) -> dict[str, float]:
    """The best rate of each side over ``repeat`` rounds, the sides taking turns in each round,
    so that the machine's slow and fast moments fall on every side alike."""
    seen: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            seen[name].append(await run())
    return {name: max(rates) for name, rates in seen.items()}


def row(label: str, rate: float, unit: str = "rows/s", note: str = "") -> None:
    print(f"  {label:<52} {rate:>12,.0f} {unit}{'  ' + note if note else ''}")


# --- one at a time -------------------------------------------------------------------------------


async def one_at_a_time(work: Workdir, n: int, repeat: int, level: str) -> dict[str, float]:
    print(
        f"\nAppend one at a time: {n:,} appends, each committed before the next "
        f"({durability.on_every_side(level)})"
    )
    db = await open_migrated(work.path("single"), level)
    path = work.path("single-raw")
    [raw_session] = await prepared(path, 1)
    conn = raw_connect(path, level)
    sdk = sdk_session("bench", work.path("single-sdk"), level) if SQLiteSession else None
    try:
        [session_id] = await new_sessions(db, 1)
        repo = SessionLogRepository(db)
        seen = {"agentsdb": await agentsdb_level(db), "raw": durability.level_of(conn)}
        if sdk is not None:
            seen["sdk"] = await sdk_level(sdk)
        check_levels(level, **seen)

        async def ours() -> float:
            started = time.perf_counter()
            for _ in range(n):
                await repo.append(
                    SessionLog(session_id=session_id, role="agent", type="action", content=CONTENT)
                )
            return n / (time.perf_counter() - started)

        async def raw() -> float:
            started = time.perf_counter()
            for _ in range(n):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(SessionLogQueries.insert, raw_params(raw_session)).fetchone()
                conn.execute("COMMIT")
            return n / (time.perf_counter() - started)

        async def theirs() -> float:
            started = time.perf_counter()
            for _ in range(n):
                await sdk.add_items([sdk_item()])
            return n / (time.perf_counter() - started)

        runs = {"agentsdb": ours, "raw": raw}
        if sdk is not None:
            runs["sdk"] = theirs
        rates = await best_in_turns(repeat, runs)
    finally:
        await db.close()
        conn.close()
        if sdk is not None:
            sdk.close()

    row("agentsdb SessionLogRepository.append(SessionLog(...))", rates["agentsdb"])
    row("raw sqlite3 (BEGIN IMMEDIATE, INSERT, COMMIT; no event loop)", rates["raw"])
    if "sdk" in rates:
        row("OpenAI Agents SDK SQLiteSession.add_items([item])", rates["sdk"])
    return rates


# --- append_many ---------------------------------------------------------------------------------


def raw_rows(session_id: str, n: int) -> list[dict[str, Any]]:
    rows = []
    for content in (dict(CONTENT) for _ in range(n)):
        stamp = format_ts(now())  # each row its own creation time, as agentsdb stores
        rows.append(
            {
                "session_id": session_id,
                "parent_id": None,
                "role": "agent",
                "type": "action",
                "content": json.dumps(content),
                "metadata": "{}",
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return rows


async def bulk(work: Workdir, n: int, repeat: int, level: str) -> dict[str, float]:
    print(f"\nappend_many of {n:,} rows in one transaction ({durability.on_every_side(level)})")
    db = await open_migrated(work.path("bulk"), level)
    path = work.path("bulk-raw")
    [raw_session] = await prepared(path, 1)
    conn = raw_connect(path, level)
    sdk = sdk_session("bench", work.path("bulk-sdk"), level) if SQLiteSession else None
    try:
        [session_id] = await new_sessions(db, 1)
        repo = SessionLogRepository(db)
        seen = {"agentsdb": await agentsdb_level(db), "raw": durability.level_of(conn)}
        if sdk is not None:
            seen["sdk"] = await sdk_level(sdk)
        check_levels(level, **seen)

        async def ours() -> float:
            started = time.perf_counter()
            await repo.append_many(models_for(session_id, n))
            return n / (time.perf_counter() - started)

        async def raw() -> float:
            started = time.perf_counter()
            rows = raw_rows(raw_session, n)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(SessionLogQueries.insert_many, rows)
            conn.execute("COMMIT")
            return n / (time.perf_counter() - started)

        async def theirs() -> float:
            started = time.perf_counter()
            await sdk.add_items([sdk_item() for _ in range(n)])
            return n / (time.perf_counter() - started)

        runs = {"agentsdb": ours, "raw": raw}
        if sdk is not None:
            runs["sdk"] = theirs
        rates = await best_in_turns(repeat, runs)
        started = time.perf_counter()
        models_for(session_id, n)
        build_us = (time.perf_counter() - started) / n * 1e6
    finally:
        await db.close()
        conn.close()
        if sdk is not None:
            sdk.close()
    row("agentsdb append_many (SessionLog models built inside)", rates["agentsdb"])
    row("raw sqlite3 json.dumps + executemany in one transaction", rates["raw"])
    print(f"  (of which building the {n:,} SessionLog models: {build_us:.1f} µs each)")
    if "sdk" in rates:
        row("OpenAI Agents SDK SQLiteSession.add_items(all items)", rates["sdk"])
    return rates


# --- 16 concurrent appenders ---------------------------------------------------------------------


async def concurrent(
    work: Workdir, writers: int, per_writer: int, repeat: int, level: str
) -> dict[str, float]:
    total = writers * per_writer
    print(
        f"\n{writers} concurrent appenders, {per_writer:,} appends each ({total:,} rows); "
        f"every append waits for its commit ({durability.on_every_side(level)})"
    )
    rates: dict[str, float] = {}
    for shared in (False, True):
        db = await open_migrated(work.path("concurrent"), level)
        try:
            check_levels(level, agentsdb=await agentsdb_level(db))
            session_ids = await new_sessions(db, 1 if shared else writers)
            if shared:
                session_ids *= writers
            repo = SessionLogRepository(db)

            async def ours(
                sessions: list[str] = session_ids, repo: SessionLogRepository = repo
            ) -> float:
                async def writer(session_id: str) -> None:
                    for _ in range(per_writer):
                        await repo.append(
                            SessionLog(
                                session_id=session_id, role="agent", type="action", content=CONTENT
                            )
                        )

                started = time.perf_counter()
                await asyncio.gather(*(writer(s) for s in sessions))
                return total / (time.perf_counter() - started)

            rate = await best_of(repeat, ours)
        finally:
            await db.close()
        key = "agentsdb_shared" if shared else "agentsdb"
        rates[key] = rate
        where = "one shared session" if shared else "one session each"
        row(f"agentsdb append, group commit ({where})", rate)

    path = work.path("concurrent-raw")
    raw_sessions = await prepared(path, writers)

    def raw_threads() -> float:
        conns = [raw_connect(path, level) for _ in range(writers)]
        check_levels(level, raw=durability.level_of(conns[0]))

        def writer(conn: sqlite3.Connection, session_id: str) -> None:
            for _ in range(per_writer):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(SessionLogQueries.insert, raw_params(session_id)).fetchone()
                conn.execute("COMMIT")

        threads = [
            threading.Thread(target=writer, args=(conn, s))
            for conn, s in zip(conns, raw_sessions, strict=True)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        for conn in conns:
            conn.close()
        return total / elapsed

    def raw_batched() -> float:
        conn = raw_connect(path, level)
        started = time.perf_counter()
        for _ in range(per_writer):
            batch = [raw_params(s) for s in raw_sessions]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(SessionLogQueries.insert_many, batch)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
        return total / elapsed

    rates["raw"] = max(raw_threads() for _ in range(repeat))
    rates["raw_batched"] = max(raw_batched() for _ in range(repeat))
    row(f"raw sqlite3, {writers} threads, one transaction per row", rates["raw"])
    row(f"raw sqlite3, one thread, {writers} rows per transaction", rates["raw_batched"])
    print("  (the last line is the ceiling of group commit with batches of this size)")
    if SQLiteSession is not None:
        sdk_path = work.path("concurrent-sdk")
        sdks = [sdk_session(f"bench-{i}", sdk_path, level) for i in range(writers)]
        check_levels(level, sdk=await sdk_level(sdks[0]))

        async def theirs() -> float:
            async def writer(sdk: Any) -> None:
                for _ in range(per_writer):
                    await sdk.add_items([sdk_item()])

            started = time.perf_counter()
            await asyncio.gather(*(writer(sdk) for sdk in sdks))
            return total / (time.perf_counter() - started)

        rates["sdk"] = await best_of(repeat, theirs)
        for sdk in sdks:
            sdk.close()
        row(
            f"OpenAI Agents SDK SQLiteSession.add_items ({writers}x{per_writer:,} calls)",
            rates["sdk"],
        )
    return rates


# --- page reads at depth -------------------------------------------------------------------------


def fill_raw(path: Path, session_id: str, rows: int) -> list[int]:
    """Append ``rows`` log rows with raw executemany; returns the ids at depth 0 and ``rows``."""
    conn = raw_connect(path)
    chunk = 50_000
    params = raw_params(session_id)
    conn.execute("BEGIN IMMEDIATE")
    for start in range(0, rows, chunk):
        conn.executemany(SessionLogQueries.insert_many, [params] * min(chunk, rows - start))
    conn.execute("COMMIT")
    first, last = conn.execute(
        "SELECT MIN(id), MAX(id) FROM session_logs WHERE session_id = ?", (session_id,)
    ).fetchone()
    conn.close()
    return [first - 1, last - 100]


def fill_sdk(path: Path, rows: int) -> None:
    sdk = SQLiteSession("deep", path)
    sdk.close()
    conn = sqlite3.connect(path, isolation_level=None)
    payload = json.dumps(sdk_item())
    conn.execute("BEGIN")
    chunk = 50_000
    for start in range(0, rows, chunk):
        conn.executemany(
            "INSERT INTO agent_messages (session_id, message_data) VALUES ('deep', ?)",
            [(payload,)] * min(chunk, rows - start),
        )
    conn.execute("COMMIT")
    conn.close()


async def pages(work: Workdir, depth: int, reads: int) -> dict[str, float]:
    print(
        f"\nRead a 100-row page at depth 0 and at depth {depth:,} (median of {reads:,} reads; "
        "reads only, so synchronous does not apply)"
    )
    path = work.path("deep")
    [session_id] = await prepared(path, 1)
    started = time.perf_counter()
    shallow_after, deep_after = fill_raw(path, session_id, depth + 100)
    built = time.perf_counter() - started
    print(f"  (built {depth + 100:,} rows with raw executemany in {built:.1f} s)")

    db = await agentsdb.connect(str(path))
    repo = SessionLogRepository(db)
    results: dict[str, float] = {}
    try:
        for label, after in (("depth 0", shallow_after), (f"depth {depth:,}", deep_after)):
            page = await repo.page(session_id, after=after, limit=100)
            assert len(page) == 100
            assert page[0].id == after + 1
            timings = []
            for _ in range(reads):
                started = time.perf_counter()
                await repo.page(session_id, after=after, limit=100)
                timings.append(time.perf_counter() - started)
            results[f"agentsdb {label}"] = statistics.median(timings) * 1e6
    finally:
        await db.close()

    conn = raw_connect(path)
    for label, after in (("depth 0", shallow_after), (f"depth {depth:,}", deep_after)):
        params = {"session_id": session_id, "after": after, "limit": 100}
        timings = []
        for _ in range(reads):
            started = time.perf_counter()
            conn.execute(SessionLogQueries.get_by_session_id_with_pagination, params).fetchall()
            timings.append(time.perf_counter() - started)
        results[f"raw {label}"] = statistics.median(timings) * 1e6
    conn.close()

    for key in ("agentsdb depth 0", f"agentsdb depth {depth:,}"):
        row(f"agentsdb SessionLogRepository.page, {key.split(' ', 1)[1]}", results[key], "µs")
    for key in ("raw depth 0", f"raw depth {depth:,}"):
        row(f"raw sqlite3 fetchall (no decoding), {key.split(' ', 1)[1]}", results[key], "µs")

    if SQLiteSession is not None:
        sdk_path = work.path("deep-sdk")
        fill_sdk(sdk_path, depth + 100)
        sdk = SQLiteSession("deep", sdk_path)
        timings = []
        for _ in range(reads):
            started = time.perf_counter()
            items = await sdk.get_items(limit=100)
            timings.append(time.perf_counter() - started)
        assert len(items) == 100
        sdk.close()
        results["sdk"] = statistics.median(timings) * 1e6
        row(
            f"OpenAI Agents SDK SQLiteSession.get_items(100) of {depth + 100:,}",
            results["sdk"],
            "µs",
            "(it can only read the newest items)",
        )
    results["shallow"] = results["agentsdb depth 0"]
    results["deep"] = results[f"agentsdb depth {depth:,}"]
    return results


# --- main ----------------------------------------------------------------------------------------


def verdict(name: str, value: float, target: str, met: bool) -> None:
    print(f"  {'MET ' if met else 'MISS'}  {name:<46} {value:>8.2f}   target {target}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    parser.add_argument("--depth", type=int, default=None, help="rows before the deep page")
    parser.add_argument("--no-pages", action="store_true", help="skip the page-depth case")
    durability.add_argument(parser)
    args = parser.parse_args()
    quick = args.quick
    depth = args.depth or (20_000 if quick else 1_000_000)
    print(
        f"agentsdb {agentsdb.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; SQLiteSession "
        f"{'available' if SQLiteSession is not None else 'not installed (pip install .[bench])'}; "
        f"best of {args.repeat}"
    )
    work = Workdir()
    results: dict[str, tuple[dict[str, float], dict[str, float], dict[str, float]]] = {}
    read: dict[str, float] | None = None
    try:
        for level in args.synchronous:
            # A commit at FULL waits for the disk (about 2.5 ms here): fewer appends keep the
            # run short without changing the rate.
            scale = 5 if level in ("FULL", "EXTRA") else 1
            single = await one_at_a_time(
                work, (500 if quick else 2_000) // scale, args.repeat, level
            )
            many = await bulk(work, 10_000, args.repeat, level)
            together = await concurrent(
                work,
                16,
                (100 if quick else 1_000) // (scale * 4 if scale > 1 else 1),
                args.repeat,
                level,
            )
            results[level] = (single, many, together)
        if not args.no_pages:
            read = await pages(work, depth, 200 if quick else 1_000)
    finally:
        work.remove()

    print("\nTargets")
    for level, (single, many, together) in results.items():
        print(f"  at {durability.on_every_side(level)}:")
        verdict(
            "append_many / raw executemany",
            many["agentsdb"] / many["raw"],
            ">= 0.80",
            many["agentsdb"] >= 0.8 * many["raw"],
        )
        if "sdk" in single:
            ratio = single["agentsdb"] / single["sdk"]
            verdict("one-at-a-time / SQLiteSession", ratio, ">= 3.0", ratio >= 3)
        verdict(
            "16 appenders, rows/s (one session each)",
            together["agentsdb"],
            ">= 50,000",
            together["agentsdb"] >= 50_000,
        )
        verdict(
            "16 appenders, rows/s (one shared session)",
            together["agentsdb_shared"],
            ">= 50,000",
            together["agentsdb_shared"] >= 50_000,
        )
    if read is not None:
        ratio = read["deep"] / read["shallow"]
        verdict(f"page at depth {depth:,} / page at depth 0", ratio, "<= 1.5", ratio <= 1.5)


if __name__ == "__main__":
    asyncio.run(main())
