"""Job 3 (sessions-to-agents) beside the same agents saved directly through AgentStore.

    python benchmarks/bench_sessions_to_agents.py [--sizes 10000 40000] [--per-group 5]
                                                  [--repeat 3] [--synchronous normal]

For each size N, a legacy SQLite file with N sessions (random hex ids, so primary-key order is
not import order; no index but the key; groups of ``--per-group`` sessions, the first of each
active, the others completed or terminated) is generated with raw sqlite3. Each run happens in
its own subprocess on a freshly migrated target file:

* ``sort``: the job's import-order read alone (primary-key pages, external merge sort);
* ``job``: ``run_job(SessionsToAgentsJob(), ...)``: sort, per-group decisions, one append per
  group chunk with its read models, snapshot and checkpoint;
* ``rerun``: the same job again on the filled target (everything unchanged, nothing written);
* ``direct``: the floor for writing through the aggregate: one ``SELECT ... ORDER BY`` of the
  whole table (SQLite sorts it in memory), ``AgentAggregate`` commands and one
  ``AgentStore.save`` per group, with no sort of its own, checkpoint, report or rerun safety.

Every side opens its databases with the same ``?synchronous=`` level (default NORMAL, agentsdb's
default), which each run reads back from its target and reports; the aggregates are built inside
both timers. Each run is repeated ``--repeat`` times, the runs taking turns (sort, job, rerun,
direct); the best (lowest) time of each is shown.

Prints rows/s, seconds, job/direct and the peak resident memory of each process
(``ru_maxrss``). Expected: ``sort`` rows/s roughly flat as N grows (O(N log N)); job close to
direct; the job's peak memory flat as N grows.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

LEVELS = {"off": 0, "normal": 1, "full": 2, "extra": 3}
DDL = """CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT, session_type TEXT,
    status TEXT NOT NULL DEFAULT 'active', conversation_id TEXT, started_at TEXT, ended_at TEXT,
    summary TEXT, end_reason TEXT, message_count INTEGER NOT NULL DEFAULT 0, created_at TEXT,
    updated_at TEXT)"""

PRELUDE = """
import asyncio, json, resource, sys, time
import agentsdb
from agentsdb.jobs import SessionsToAgentsJob, run_job

def done(started, **extra):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_kib": peak, **extra}))

def url(path):
    return f"sqlite:///{path}?synchronous={sys.argv[4]}"

async def level_of(db):
    return (await db.fetch_one("PRAGMA synchronous"))["synchronous"]
"""

CHILD_SORT = (
    PRELUDE
    + """
async def main(source_url, target_url, batch_size):
    async with agentsdb.connect(url(source_url)) as source:
        started = time.perf_counter()
        n = 0
        async for _ in SessionsToAgentsJob().records(source, page_size=batch_size):
            n += 1
        done(started, rows=n, level=await level_of(source))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""
)

CHILD_JOB = (
    PRELUDE
    + """
async def main(source_url, target_url, batch_size):
    async with agentsdb.connect(url(source_url)) as source, agentsdb.connect(
        url(target_url)
    ) as target:
        started = time.perf_counter()
        report = await run_job(SessionsToAgentsJob(), source, target, batch_size=batch_size,
                               progress=False)
        done(started, agents=report.tables["agents"].created, level=await level_of(target))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""
)

CHILD_DIRECT = (
    PRELUDE
    + """
from agentsdb.aggregate import AgentAggregate, AgentType
from agentsdb.aggregate.store import AgentStore
from agentsdb.jobs.legacy_sessions import parse_moment

async def main(source_url, target_url, batch_size):
    async with agentsdb.connect(url(source_url)) as source, agentsdb.connect(
        url(target_url)
    ) as target:
        started = time.perf_counter()
        store = AgentStore(target)
        rows = await source.fetch_all(
            "SELECT * FROM sessions"
            " ORDER BY user_id, session_type, status = 'active', started_at, id")
        agent, group, agents = None, None, 0
        for row in rows:
            if (row["user_id"], row["session_type"]) != group:
                if agent is not None:
                    await store.save(agent)
                group = (row["user_id"], row["session_type"])
                agent = AgentAggregate.create(owner_user_id=row["user_id"],
                    agent_type=AgentType(row["session_type"]), name=row["session_type"],
                    now=parse_moment(row["started_at"]))
                agents += 1
            agent.start_session(row["conversation_id"], now=parse_moment(row["started_at"]))
            if row["status"] == "completed":
                agent.complete_session(row["summary"], now=parse_moment(row["ended_at"]))
            elif row["status"] == "terminated":
                agent.terminate_session("terminated", now=parse_moment(row["ended_at"]))
        if agent is not None:
            await store.save(agent)
        done(started, agents=agents, level=await level_of(target))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""
)


def make_source(path: Path, n: int, per_group: int) -> None:
    rng = random.Random(n)
    rows = []
    for i in range(n):
        group, place = divmod(i, per_group)
        status = "active" if place == 0 else rng.choice(("completed", "completed", "terminated"))
        day = 1 + rng.randrange(28)
        rows.append(
            (
                f"{rng.getrandbits(64):016x}",
                f"user{group // 2:08d}",
                ("tutor", "coach")[group % 2],
                status,
                f"conv-{i}",
                f"2024-01-{day:02d}T{rng.randrange(24):02d}:00:00",
                f"2024-01-{day:02d}T23:59:00",
                "summary",
            )
        )
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(DDL)
        conn.executemany(
            "INSERT INTO sessions (id, user_id, session_type, status, conversation_id,"
            " started_at, ended_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()


def migrated(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "agentsdb", "migrate", "--db", str(path)],
        check=True,
        capture_output=True,
    )


def child(code: str, source: Path, target: Path, batch_size: int, level: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(source), str(target), str(batch_size), level],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--per-group", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (best is shown)")
    parser.add_argument(
        "--synchronous", choices=("off", "normal", "full", "extra"), default="normal"
    )
    args = parser.parse_args()
    level = args.synchronous
    print(
        f"every run at synchronous={level.upper()} (read back by each run); best of {args.repeat}"
    )
    print(f"{'N':>8}  {'run':<7}{'rows/s':>10}{'seconds':>9}{'peak MiB':>10}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "legacy.db"
            make_source(source, n, args.per_group)
            runs: dict[str, list[dict[str, float]]] = {}
            for attempt in range(args.repeat):
                for name, code, target in (
                    ("sort", CHILD_SORT, "sort.db"),
                    ("job", CHILD_JOB, f"job{attempt}.db"),
                    ("rerun", CHILD_JOB, f"job{attempt}.db"),
                    ("direct", CHILD_DIRECT, f"direct{attempt}.db"),
                ):
                    path = Path(folder) / target
                    if not path.exists():
                        migrated(path)
                    run = child(code, source, path, args.batch_size, level)
                    assert run["level"] == LEVELS[level], run
                    runs.setdefault(name, []).append(run)
            results = {name: min(seen, key=lambda r: r["seconds"]) for name, seen in runs.items()}
            for name, result in results.items():
                print(
                    f"{n:>8}  {name:<7}{n / result['seconds']:>10,.0f}"
                    f"{result['seconds']:>9.2f}{result['peak_kib'] / 1024:>10.1f}"
                )
            ratio = results["job"]["seconds"] / results["direct"]["seconds"]
            print(f"{n:>8}  job/direct = {ratio:.2f}")


if __name__ == "__main__":
    main()
