"""Sixteen appenders at once, each with a session of its own or all sharing one."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from typing import Any

import durability

from agentsdb.models import SessionLog
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import SessionLogRepository
from log_bench.common import (
    CONTENT,
    SQLiteSession,
    Workdir,
    agentsdb_level,
    best_of,
    check_levels,
    new_sessions,
    open_migrated,
    prepared,
    raw_connect,
    raw_params,
    row,
    sdk_item,
    sdk_level,
    sdk_session,
)


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
