"""The cases each backend runs: migrations, then the session-log repository."""

from __future__ import annotations

import agentsdb
from agentsdb import Migration
from agentsdb.errors import AgentsDBError
from agentsdb.repositories import SessionLogRepository
from backend_bench.common import (
    Backend,
    could_not_run,
    cpu_line,
    in_turns,
    informational,
    log_ids,
    models_for,
    new_session,
    ours_append_many,
    ours_fresh_apply,
    ours_noop,
    ours_reads,
    ours_row_reads,
    result,
)


async def migration_cases(backend: Backend, migrations: list[Migration], repeat: int) -> None:
    n = len(migrations)
    case = f"fresh apply of {n} migrations"
    async with backend.fresh() as url:
        print(f"{backend.name:<12} settings: {await backend.settings(url)}")
    try:
        ours = 0.0
        for _ in range(repeat):
            async with backend.fresh() as url:
                ours = max(ours, await ours_fresh_apply(url, migrations))
        if backend.has_baseline:
            raw = 0.0
            for _ in range(repeat):
                async with backend.fresh() as url:
                    raw = max(raw, await backend.raw_fresh_apply(url, migrations))
            result(backend.name, case, ours, "migrations/s", {"raw": raw})
        else:
            informational(backend.name, case, ours, "migrations/s")
    except AgentsDBError as error:
        could_not_run(backend.name, case, error)

    case = f"no-op migrate() with {n} applied"
    calls = max(repeat * 50, 100)
    try:
        async with backend.fresh() as url:
            await ours_fresh_apply(url, migrations)
            ours = await ours_noop(url, migrations, calls)
            if backend.has_baseline:
                raw = await backend.raw_noop(url, calls)
        if backend.has_baseline:
            result(backend.name, case, ours, "calls/s", {"raw": raw})
        else:
            informational(backend.name, case, ours, "calls/s")
    except AgentsDBError as error:
        could_not_run(backend.name, case, error)


async def repository_cases(backend: Backend, logs: int, reads: int, repeat: int) -> None:
    append_case = f"append_many of {logs:,} session logs"
    read_case = f"{reads:,} point reads by primary key"
    row_case = f"{reads:,} of them as rows (db.fetch_one, no model)"
    async with backend.fresh() as url:
        try:
            async with agentsdb.connect(url) as db:
                session_id = await new_session(db)
        except AgentsDBError as error:
            could_not_run(backend.name, append_case, error)
            could_not_run(backend.name, read_case, error)
            return
        try:
            async with agentsdb.connect(url) as db:
                ours = await ours_append_many(db, session_id, logs, repeat)
            if backend.has_baseline:
                raw = await backend.raw_append(url, session_id, logs, repeat)
                result(backend.name, append_case, ours, "rows/s", raw)
            else:
                informational(backend.name, append_case, ours, "rows/s")
        except AgentsDBError as error:
            could_not_run(backend.name, append_case, error)
        try:
            async with agentsdb.connect(url) as db:
                if not await db.fetch_one("SELECT id FROM session_logs LIMIT 1"):
                    await SessionLogRepository(db).append_many(models_for(session_id, logs))
                ids = await log_ids(db, reads)
                sides = [ours_reads(db, ids), ours_row_reads(db, ids)]
                labels = ["repository", "db.fetch_one"]
                if backend.has_baseline:
                    async with backend.raw_reads(url, ids) as raw_once:
                        turns = await in_turns(repeat, [*sides, raw_once])
                    ours, ours_rows, raw = turns.rates
                    labels.append("raw")
                else:
                    turns = await in_turns(repeat, sides)
                    ours, ours_rows = turns.rates
            if backend.has_baseline:
                result(backend.name, read_case, ours, "reads/s", {"raw": raw})
                result(backend.name, row_case, ours_rows, "reads/s", {"raw": raw})
                cpu_line(backend.name, labels, turns, len(ids))
            else:
                informational(backend.name, read_case, ours, "reads/s")
                informational(backend.name, row_case, ours_rows, "reads/s")
        except AgentsDBError as error:
            could_not_run(backend.name, read_case, error)
