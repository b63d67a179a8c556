"""Reading a page of a session's logs at depth 0 and deep in a long session."""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from pathlib import Path

import agentsdb
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import SessionLogRepository
from log_bench.common import (
    SQLiteSession,
    Workdir,
    prepared,
    raw_connect,
    raw_params,
    row,
    sdk_item,
)


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
