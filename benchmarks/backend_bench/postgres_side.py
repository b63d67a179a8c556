"""PostgreSQL: a fresh database per case on one server, and raw asyncpg doing each case."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from agentsdb import Migration
from agentsdb.db.placeholders import translate
from agentsdb.migrator.tracking import head_sql
from agentsdb.models import format_ts, now
from agentsdb.queries import SessionLogQueries
from backend_bench.common import (
    LOG_COLUMNS,
    TRACKING_DDL,
    TRACKING_TABLE,
    Backend,
    best_rate,
    raw_log_row,
)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, server_url: str, asyncpg: Any) -> None:
        self.server_url = server_url
        self.asyncpg = asyncpg

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        name = f"agentsdb_bench_{uuid.uuid4().hex[:12]}"
        admin = await self.asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        try:
            yield urlunsplit(urlsplit(self.server_url)._replace(path=f"/{name}"))
        finally:
            admin = await self.asyncpg.connect(self.server_url)
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            finally:
                await admin.close()

    async def raw_fresh_apply(self, url: str, migrations: list[Migration]) -> float:
        conn = await self.asyncpg.connect(url)
        try:
            await conn.execute(TRACKING_DDL)
            started = time.perf_counter()
            for migration in migrations:
                async with conn.transaction():
                    for statement in migration.up_statements("postgresql"):
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO tracking VALUES ($1, $2, $3, $4)",
                        migration.id,
                        migration.description,
                        "x",
                        format_ts(now()),
                    )
            return len(migrations) / (time.perf_counter() - started)
        finally:
            await conn.close()

    async def raw_noop(self, url: str, repeat: int) -> float:
        conn = await self.asyncpg.connect(url)
        head = head_sql(TRACKING_TABLE)
        try:
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                await conn.fetch(head)
                samples.append(time.perf_counter() - started)
            return 1 / statistics.median(samples)
        finally:
            await conn.close()

    async def settings(self, url: str) -> str:
        conn = await self.asyncpg.connect(url)
        try:
            commit = await conn.fetchval("SHOW synchronous_commit")
            fsync = await conn.fetchval("SHOW fsync")
        finally:
            await conn.close()
        return f"synchronous_commit={commit}, fsync={fsync} on every side (one server)"

    async def raw_append(self, url: str, session_id: str, n: int, repeat: int) -> dict[str, float]:
        conn = await self.asyncpg.connect(url)
        sql = translate(SessionLogQueries.insert_many).sql

        async def executemany() -> float:
            started = time.perf_counter()
            rows = [raw_log_row(session_id) for _ in range(n)]
            async with conn.transaction():
                await conn.executemany(sql, rows)
            return n / (time.perf_counter() - started)

        async def copy() -> float:
            started = time.perf_counter()
            rows = [raw_log_row(session_id) for _ in range(n)]
            async with conn.transaction():
                await conn.copy_records_to_table("session_logs", records=rows, columns=LOG_COLUMNS)
            return n / (time.perf_counter() - started)

        try:
            return {
                "executemany": await best_rate(repeat, executemany),
                "COPY": await best_rate(repeat, copy),
            }
        finally:
            await conn.close()

    @asynccontextmanager
    async def raw_reads(
        self, url: str, ids: list[int]
    ) -> AsyncIterator[Callable[[], Awaitable[float]]]:
        conn = await self.asyncpg.connect(url)
        # The JSON columns come back decoded, as agentsdb hands them out.
        for typename in ("json", "jsonb"):
            await conn.set_type_codec(
                typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
        sql = translate(SessionLogQueries.get_by_id).sql

        async def once() -> float:
            started = time.perf_counter()
            for log_id in ids:
                row = await conn.fetchrow(sql, log_id)
                assert dict(row.items())
            return len(ids) / (time.perf_counter() - started)

        try:
            yield once
        finally:
            await conn.close()


async def postgres_backend(url: str) -> PostgresBackend | str:
    """The PostgreSQL backend, or why it is not available."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        return f"no PostgreSQL server at {url}: {error}"
    version = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(f"postgresql {version}, asyncpg {asyncpg.__version__}")
    return PostgresBackend(url, asyncpg)
