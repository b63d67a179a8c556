"""Full-text search latency at 100k memories: agentsdb beside the same query run raw.

    python benchmarks/bench_search.py                    # SQLite and PostgreSQL, 100k memories
    python benchmarks/bench_search.py --memories 10000   # a smaller run
    AGENTSDB_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:5432/postgres  # the server to use

Each backend gets a fresh database, migrated by agentsdb (migration 013 builds the index), with
``--agents`` agents sharing ``--memories`` memories of 16 words each. Two search terms: *rare*
(in about 0.5% of memories) and *common* (about 20%), each occurrence repeated 1-3 times so
scores differ. Every query is one agent's first page of 20 hits.

Beside ``MemoryRepository.search`` in the same run, on the same database:

* **raw**: the very SQL agentsdb runs (FTS5 ``MATCH`` with bm25 on SQLite, ``plainto_tsquery``
  with ts_rank_cd on PostgreSQL), through the bare driver (sqlite3, asyncpg);
* **LIKE**: the naive ``content LIKE '%term%'`` of the agent's memories, unranked, for contrast.

Figures are per query, p50 and p95 over ``--queries`` queries after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import agentsdb
from agentsdb.db.base import Database
from agentsdb.db.placeholders import TranslatedSQL, translate
from agentsdb.db.text_search import text_search_of
from agentsdb.models import Agent
from agentsdb.queries.search import memory_search
from agentsdb.repositories import AgentRepository, MemoryRepository

TERMS = {"rare": ("zephyr", 0.005), "common": ("lantern", 0.20)}
LIKE_SQL = (
    "SELECT id FROM memories WHERE agent_id = :agent_id AND content LIKE :pattern "
    "ORDER BY id LIMIT 20"
)
INSERT_SQL = (
    "INSERT INTO memories (id, name, content, agent_id, metadata, created_at, updated_at) "
    "VALUES (:id, :name, :content, :agent_id, :metadata, :created_at, :updated_at)"
)


def memory_rows(agent_ids: list[str], count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` memories spread over the agents, with the search terms at their frequencies."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        words = [f"w{rng.randrange(20_000):05d}" for _ in range(16)]
        for term, share in TERMS.values():
            if rng.random() < share:
                words[rng.randrange(16)] = " ".join([term] * rng.randint(1, 3))
        rows.append(
            {
                "id": f"mem{number:07d}",
                "name": f"note {number}",
                "content": " ".join(words),
                "agent_id": agent_ids[number % len(agent_ids)],
                "metadata": "{}",
                "created_at": "2026-12-02T12:00:00.000000Z",
                "updated_at": "2026-12-02T12:00:00.000000Z",
            }
        )
    return rows


async def seed(db: Database, agents: int, memories: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Create the agents through agentsdb; return their ids and the memory rows to insert."""
    repo = AgentRepository(db)
    ids = [(await repo.create(Agent(name=f"a{n}", model="m"))).id for n in range(agents)]
    return ids, memory_rows(ids, memories)


async def timed(call: Callable[[], Awaitable[object]], queries: int) -> list[float]:
    for _ in range(min(20, queries)):
        await call()
    times = []
    for _ in range(queries):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.3f} ms   p95 {p95:7.3f} ms"


def cycle(values: list[str]) -> Callable[[], str]:
    state = {"i": 0}

    def next_value() -> str:
        state["i"] = (state["i"] + 1) % len(values)
        return values[state["i"]]

    return next_value


def report(backend: str, label: str, cases: dict[str, list[float]], hits: int) -> None:
    print(f"  {backend} · term {label!r} (first page, {hits} hits on the last agent):")
    for name, times in cases.items():
        print(f"    {name:<28} {summary(times)}")


def first_page(query: str) -> dict[str, Any]:
    """The parameters of the search SQL for a first page of 20 (one more to see a next page)."""
    return {"query": query, "user_id": None, "after_score": 0.0, "after_id": None, "limit": 21}


# --- SQLite --------------------------------------------------------------------------------------


async def sqlite_cases(
    args: argparse.Namespace,
    repo: MemoryRepository,
    raw: sqlite3.Connection,
    sql: str,
    query: str,
    agent_ids: list[str],
    term: str,
) -> dict[str, list[float]]:
    next_agent = cycle(agent_ids)
    params = first_page(query)

    async def via_agentsdb() -> object:
        return await repo.search(next_agent(), term, limit=20)

    async def via_raw() -> object:
        return raw.execute(sql, {**params, "agent_id": next_agent()}).fetchall()

    async def via_like() -> object:
        return raw.execute(LIKE_SQL, {"agent_id": next_agent(), "pattern": f"%{term}%"}).fetchall()

    return {
        "agentsdb search": await timed(via_agentsdb, args.queries),
        "raw sqlite3, same FTS5 SQL": await timed(via_raw, args.queries),
        "raw sqlite3, LIKE '%term%'": await timed(via_like, args.queries),
    }


async def bench_sqlite(args: argparse.Namespace, folder: Path) -> None:
    path = folder / "search.db"
    async with agentsdb.connect(str(path)) as db:
        await agentsdb.Migrator(db).migrate()
        agent_ids, rows = await seed(db, args.agents, args.memories)
        start = time.perf_counter()
        await db.execute_many(INSERT_SQL, rows)
        print(
            f"  sqlite: {len(rows)} memories inserted and indexed in "
            f"{time.perf_counter() - start:.1f} s"
        )
        repo = MemoryRepository(db)
        search = text_search_of(db)
        sql = memory_search(search.memory_hits)
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        for label, (term, _) in TERMS.items():
            cases = await sqlite_cases(
                args, repo, raw, sql, search.query_text([term]), agent_ids, term
            )
            hits = len((await repo.search(agent_ids[-1], term, limit=20)).items)
            report("sqlite", label, cases, hits)
        raw.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


async def postgres_cases(
    args: argparse.Namespace,
    repo: MemoryRepository,
    raw: Any,
    translated: TranslatedSQL,
    query: str,
    agent_ids: list[str],
    term: str,
) -> dict[str, list[float]]:
    next_agent = cycle(agent_ids)
    params = first_page(query)
    like = translate(LIKE_SQL)

    async def via_agentsdb() -> object:
        return await repo.search(next_agent(), term, limit=20)

    async def via_raw() -> object:
        values = translated.bind({**params, "agent_id": next_agent()})
        return await raw.fetch(translated.sql, *values)

    async def via_like() -> object:
        values = like.bind({"agent_id": next_agent(), "pattern": f"%{term}%"})
        return await raw.fetch(like.sql, *values)

    return {
        "agentsdb search": await timed(via_agentsdb, args.queries),
        "raw asyncpg, same tsquery SQL": await timed(via_raw, args.queries),
        "raw asyncpg, LIKE '%term%'": await timed(via_like, args.queries),
    }


async def bench_postgres(args: argparse.Namespace) -> None:
    try:
        import asyncpg
    except ImportError:
        print("  postgresql: skipped (asyncpg is not installed)")
        return
    server = os.environ.get(
        "AGENTSDB_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"agentsdb_bench_search_{os.getpid()}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        async with agentsdb.connect(url) as db:
            await agentsdb.Migrator(db).migrate()
            agent_ids, rows = await seed(db, args.agents, args.memories)
            start = time.perf_counter()
            for chunk in range(0, len(rows), 10_000):
                await db.execute_many(INSERT_SQL, rows[chunk : chunk + 10_000])
            await db.execute("ANALYZE memories")
            print(
                f"  postgresql: {len(rows)} memories inserted and indexed in "
                f"{time.perf_counter() - start:.1f} s"
            )
            repo = MemoryRepository(db)
            search = text_search_of(db)
            translated = translate(memory_search(search.memory_hits))
            raw = await asyncpg.connect(url)
            for label, (term, _) in TERMS.items():
                query = search.query_text([term])
                cases = await postgres_cases(args, repo, raw, translated, query, agent_ids, term)
                hits = len((await repo.search(agent_ids[-1], term, limit=20)).items)
                report("postgresql", label, cases, hits)
            await raw.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"settings: {args.memories} memories, {args.agents} agents "
        f"({args.memories // args.agents} each), 16 words per memory, {args.queries} queries "
        f"per case after a warm-up, limit 20; terms: "
        + ", ".join(f"{label} {term!r} in ~{share:.1%}" for label, (term, share) in TERMS.items())
    )
    print(
        f"sqlite {sqlite3.sqlite_version} (FTS5, bm25), WAL; reads only, so synchronous "
        "does not apply; agentsdb returns Memory models, the raw driver bare rows; "
        "postgresql: tsvector 'simple' + GIN, ts_rank_cd"
    )
    folder = Path(tempfile.mkdtemp(prefix="agentsdb-bench-search-"))
    try:
        await bench_sqlite(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not args.skip_postgres:
        await bench_postgres(args)


if __name__ == "__main__":
    asyncio.run(main())
