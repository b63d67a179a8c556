"""Appends one at a time and in bulk: agentsdb beside raw sqlite3 and SQLiteSession."""

from __future__ import annotations

import json
import time
from typing import Any

import durability

from agentsdb.models import SessionLog, format_ts, now
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import SessionLogRepository
from log_bench.common import (
    CONTENT,
    SQLiteSession,
    Workdir,
    agentsdb_level,
    best_in_turns,
    check_levels,
    models_for,
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
