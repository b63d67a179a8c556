"""Session log appends and page reads: agentsdb beside raw sqlite3 and the OpenAI Agents SDK.

    pip install -e ".[bench]"
    python benchmarks/bench_session_logs.py            # the full run (1M-row depth case included)
    python benchmarks/bench_session_logs.py --quick    # a smaller run, for a smoke test

Every case runs on a fresh temp file. agentsdb and raw sqlite3 use the same migrated schema and
the same connection settings (WAL, synchronous=NORMAL, foreign keys on); raw sqlite3 does the
same work by hand (JSON encoding included). SQLiteSession runs as shipped (its own schema and
settings). Inputs (models, dicts, items) are built before timing; each figure is the best of
``--repeat`` runs. What the figures mean is printed with them.
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

import agentsdb
from agentsdb.db.base import Database
from agentsdb.models import Agent, Session, SessionLog, format_ts, now
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import AgentRepository, SessionLogRepository, SessionRepository

try:
    from agents.memory import SQLiteSession
except ImportError:  # the bench extra is not installed
    SQLiteSession = None


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


async def open_migrated(path: Path) -> Database:
    db = await agentsdb.connect(str(path))
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


def raw_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the settings agentsdb uses."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


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


def row(label: str, rate: float, unit: str = "rows/s", note: str = "") -> None:
    print(f"  {label:<52} {rate:>12,.0f} {unit}{'  ' + note if note else ''}")


# --- one at a time -------------------------------------------------------------------------------


async def one_at_a_time(work: Workdir, n: int, repeat: int) -> dict[str, float]:
    print(f"\nAppend one at a time: {n:,} appends, each committed before the next")
    db = await open_migrated(work.path("single"))
    try:
        [session_id] = await new_sessions(db, 1)
        repo = SessionLogRepository(db)

        async def ours() -> float:
            logs = models_for(session_id, n)
            started = time.perf_counter()
            for log in logs:
                await repo.append(log)
            return n / (time.perf_counter() - started)

        agentsdb_rate = await best_of(repeat, ours)
    finally:
        await db.close()

    path = work.path("single-raw")
    [raw_session] = await prepared(path, 1)
    conn = raw_connect(path)

    async def raw() -> float:
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(SessionLogQueries.insert, raw_params(raw_session)).fetchone()
            conn.execute("COMMIT")
        return n / (time.perf_counter() - started)

    raw_rate = await best_of(repeat, raw)
    conn.close()

    row("agentsdb SessionLogRepository.append", agentsdb_rate)
    row("raw sqlite3 (BEGIN IMMEDIATE, INSERT, COMMIT; no event loop)", raw_rate)
    rates = {"agentsdb": agentsdb_rate, "raw": raw_rate}
    if SQLiteSession is not None:
        sdk = SQLiteSession("bench", work.path("single-sdk"))
        sdk_n = max(n // 4, 50)

        async def theirs() -> float:
            items = [sdk_item() for _ in range(sdk_n)]
            started = time.perf_counter()
            for item in items:
                await sdk.add_items([item])
            return sdk_n / (time.perf_counter() - started)

        rates["sdk"] = await best_of(repeat, theirs)
        sdk.close()
        row(f"OpenAI Agents SDK SQLiteSession.add_items ({sdk_n:,} calls)", rates["sdk"])
    return rates


# --- append_many ---------------------------------------------------------------------------------


async def bulk(work: Workdir, n: int, repeat: int) -> dict[str, float]:
    print(f"\nappend_many of {n:,} rows in one transaction")
    db = await open_migrated(work.path("bulk"))
    try:
        [session_id] = await new_sessions(db, 1)
        repo = SessionLogRepository(db)

        async def ours() -> float:
            logs = models_for(session_id, n)
            started = time.perf_counter()
            await repo.append_many(logs)
            return n / (time.perf_counter() - started)

        agentsdb_rate = await best_of(repeat, ours)
        started = time.perf_counter()
        models_for(session_id, n)
        build_us = (time.perf_counter() - started) / n * 1e6
    finally:
        await db.close()

    path = work.path("bulk-raw")
    [raw_session] = await prepared(path, 1)
    conn = raw_connect(path)

    async def raw() -> float:
        contents = [dict(CONTENT) for _ in range(n)]
        started = time.perf_counter()
        rows = []
        for content in contents:
            stamp = format_ts(now())  # each row its own creation time, as agentsdb stores
            rows.append(
                {
                    "session_id": raw_session,
                    "parent_id": None,
                    "role": "agent",
                    "type": "action",
                    "content": json.dumps(content),
                    "metadata": "{}",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(SessionLogQueries.insert_many, rows)
        conn.execute("COMMIT")
        return n / (time.perf_counter() - started)

    raw_rate = await best_of(repeat, raw)
    conn.close()
    row("agentsdb SessionLogRepository.append_many", agentsdb_rate)
    row("raw sqlite3 json.dumps + executemany in one transaction", raw_rate)
    print(f"  (building the {n:,} SessionLog models beforehand: {build_us:.1f} µs each)")
    rates = {"agentsdb": agentsdb_rate, "raw": raw_rate}
    if SQLiteSession is not None:
        sdk = SQLiteSession("bench", work.path("bulk-sdk"))

        async def theirs() -> float:
            items = [sdk_item() for _ in range(n)]
            started = time.perf_counter()
            await sdk.add_items(items)
            return n / (time.perf_counter() - started)

        rates["sdk"] = await best_of(repeat, theirs)
        sdk.close()
        row("OpenAI Agents SDK SQLiteSession.add_items(all items)", rates["sdk"])
    return rates


# --- 16 concurrent appenders ---------------------------------------------------------------------


async def concurrent(work: Workdir, writers: int, per_writer: int, repeat: int) -> dict[str, float]:
    total = writers * per_writer
    print(
        f"\n{writers} concurrent appenders, {per_writer:,} appends each ({total:,} rows); "
        "every append waits for its commit"
    )
    rates: dict[str, float] = {}
    for shared in (False, True):
        db = await open_migrated(work.path("concurrent"))
        try:
            session_ids = await new_sessions(db, 1 if shared else writers)
            if shared:
                session_ids *= writers
            repo = SessionLogRepository(db)

            async def ours(
                sessions: list[str] = session_ids, repo: SessionLogRepository = repo
            ) -> float:
                inputs = [models_for(s, per_writer) for s in sessions]

                async def writer(logs: list[SessionLog]) -> None:
                    for log in logs:
                        await repo.append(log)

                started = time.perf_counter()
                await asyncio.gather(*(writer(logs) for logs in inputs))
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
        conns = [raw_connect(path) for _ in range(writers)]

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
        conn = raw_connect(path)
        batches = [[raw_params(s) for s in raw_sessions] for _ in range(per_writer)]
        started = time.perf_counter()
        for batch in batches:
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
        sdk_per = max(per_writer // 8, 10)
        sdk_path = work.path("concurrent-sdk")
        sdks = [SQLiteSession(f"bench-{i}", sdk_path) for i in range(writers)]

        async def theirs() -> float:
            async def writer(sdk: Any) -> None:
                for _ in range(sdk_per):
                    await sdk.add_items([sdk_item()])

            started = time.perf_counter()
            await asyncio.gather(*(writer(sdk) for sdk in sdks))
            return writers * sdk_per / (time.perf_counter() - started)

        rates["sdk"] = await best_of(repeat, theirs)
        for sdk in sdks:
            sdk.close()
        row(
            f"OpenAI Agents SDK SQLiteSession.add_items ({writers}x{sdk_per} calls)",
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
    print(f"\nRead a 100-row page at depth 0 and at depth {depth:,} (median of {reads:,} reads)")
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
    args = parser.parse_args()
    quick = args.quick
    depth = args.depth or (20_000 if quick else 1_000_000)
    print(
        f"agentsdb {agentsdb.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; SQLiteSession "
        f"{'available' if SQLiteSession is not None else 'not installed (pip install .[bench])'}"
    )
    work = Workdir()
    try:
        single = await one_at_a_time(work, 500 if quick else 2_000, args.repeat)
        many = await bulk(work, 10_000, args.repeat)
        together = await concurrent(work, 16, 100 if quick else 1_000, args.repeat)
        read = await pages(work, depth, 200 if quick else 1_000)
    finally:
        work.remove()

    print("\nTargets")
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
    ratio = read["deep"] / read["shallow"]
    verdict(f"page at depth {depth:,} / page at depth 0", ratio, "<= 1.5", ratio <= 1.5)


if __name__ == "__main__":
    asyncio.run(main())
