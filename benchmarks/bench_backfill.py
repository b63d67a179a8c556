"""Job 1 (bluesky-profiles) beside a pure-SQL ``INSERT ... SELECT`` doing the same mapping.

    python benchmarks/bench_backfill.py [--sizes 100000 1000000] [--batch-size 1000]
                                        [--repeat 3] [--synchronous normal]

For each size N, a legacy SQLite file with N profiles (a generated bio for every third handle,
two for every ninth, a negative count for every hundredth) is generated with raw sqlite3
``executemany``, twice: with the recommended index on ``agent_bios(handle)``, and with its
primary keys only (``noidx``; nothing in a legacy schema promises more). Each run happens in its
own subprocess on a freshly migrated target file:

* ``job``: ``run_job(BlueskyProfilesJob(), ...)`` through agentsdb (aiosqlite, keyset batches,
  one transaction per batch with its checkpoint; on SQLite each batch is loaded into a TEMP table
  and decided and written set-based, see docs/backfill.md);
* ``job-plain``: the same job forced onto its plain path (decisions in Python, ``ExecuteMany``
  writes), the path a target without persistent TEMP tables takes, and the set-based path's
  oracle in the tests;
* ``sql``: one sqlite3 transaction of three ``INSERT ... SELECT`` statements over the attached
  source (agents, newest bio else profile bio, counters without negatives): the floor for the
  same mapping, with no batching, checkpoint or report. On the indexed source the newest bio is
  a correlated lookup per profile; on ``noidx`` that lookup would scan ``agent_bios`` once per
  profile, so the floor there finds the newest bios in one window-function pass instead.

Both sides write the target at the same ``--synchronous`` level (default NORMAL, agentsdb's
default; the job through ``?synchronous=`` in its URLs, the floor through the PRAGMA), which
each child reads back and reports. Each side runs ``--repeat`` times, the two taking turns; the
best (lowest) time of each is shown.

Prints rows/s, seconds, each job run's time over the sql run's on the same source, and the peak
resident memory of each process (``ru_maxrss``). Targets: the job <= 2x sql on either source (the
set-based path is kept only while it meets this where the plain path does not); the job's peak
memory flat as N grows.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

LEVELS = {"off": 0, "normal": 1, "full": 2, "extra": 3}
SOURCE_DDL = [
    """CREATE TABLE bluesky_profiles (handle TEXT PRIMARY KEY, did TEXT NOT NULL UNIQUE,
        display_name TEXT, bio TEXT, followers_count INTEGER, follows_count INTEGER,
        posts_count INTEGER, created_at TEXT)""",
    """CREATE TABLE agent_bios (id INTEGER PRIMARY KEY, handle TEXT NOT NULL,
        generated_bio TEXT NOT NULL, created_at TEXT)""",
]

CHILD_JOB = """
import asyncio, json, resource, sys, time
import agentsdb
from agentsdb.jobs import BlueskyProfilesJob, run_job
from agentsdb.jobs.bluesky_profiles import ProfilesStep

class PlainPath(BlueskyProfilesJob):
    def steps(self, source, target):
        return [ProfilesStep()]

async def main(source, target, batch_size, level, path):
    job = PlainPath() if path == "plain" else BlueskyProfilesJob()
    source_url = f"sqlite:///{source}?synchronous={level}"
    target_url = f"sqlite:///{target}?synchronous={level}"
    async with agentsdb.connect(source_url) as source, agentsdb.connect(target_url) as target:
        started = time.perf_counter()
        report = await run_job(job, source, target, batch_size=batch_size,
                               progress=False)
        elapsed = time.perf_counter() - started
        seen = (await target.fetch_one("PRAGMA synchronous"))["synchronous"]
    agents = report.tables["agents"].created
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "agents": agents, "peak_kib": peak, "level": seen}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
"""

CHILD_SQL = """
import json, resource, sqlite3, sys, time
# The newest non-blank bio per profile. With the index on agent_bios(handle): a correlated
# lookup per profile. Without it that lookup scans agent_bios per profile (quadratic), so the
# floor there is one window-function pass over agent_bios, joined by handle.
NEWEST_BY_INDEX = '''SELECT p.did, NULLIF(trim(p.bio), '') AS bio,
        (SELECT b.generated_bio FROM legacy.agent_bios b
            WHERE b.handle = p.handle AND length(trim(b.generated_bio)) > 0
            ORDER BY (b.created_at IS NULL), b.created_at DESC, b.id DESC
            LIMIT 1) AS generated
    FROM legacy.bluesky_profiles p'''
NEWEST_BY_WINDOW = '''SELECT p.did, NULLIF(trim(p.bio), '') AS bio, n.generated_bio AS generated
    FROM legacy.bluesky_profiles p LEFT JOIN (
        SELECT handle, generated_bio FROM (
            SELECT handle, generated_bio, row_number() OVER (PARTITION BY handle
                ORDER BY (created_at IS NULL), created_at DESC, id DESC) AS newest
            FROM legacy.agent_bios WHERE length(trim(generated_bio)) > 0)
        WHERE newest = 1) n ON n.handle = p.handle'''
conn = sqlite3.connect(sys.argv[2], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
LEVELS = {"off": 0, "normal": 1, "full": 2, "extra": 3}
conn.execute("PRAGMA synchronous = %d" % LEVELS[sys.argv[4]])
conn.execute("PRAGMA foreign_keys = ON")
conn.execute("ATTACH DATABASE ? AS legacy", (sys.argv[1],))
level = conn.execute("PRAGMA synchronous").fetchone()[0]
now = "2026-11-22T00:00:00.000000Z"
started = time.perf_counter()
conn.execute("BEGIN IMMEDIATE")
agents = conn.execute(
    '''INSERT INTO agents (id, name, model, handle, display_name, persona_source, created_at,
        updated_at)
    SELECT did, COALESCE(NULLIF(trim(display_name), ''), lower(handle)), 'unspecified',
        lower(handle), display_name, 'sync_bluesky',
        COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), :now), :now
    FROM legacy.bluesky_profiles WHERE true
    ON CONFLICT (id) DO NOTHING''', {"now": now}).rowcount
conn.execute(
    '''INSERT INTO agent_persona_bios (agent_id, persona_bio, persona_bio_source, created_at,
        updated_at)
    SELECT did, COALESCE(generated, bio), CASE WHEN generated IS NULL THEN 'user_provided'
        ELSE 'ai_generated' END, :now, :now
    FROM (%s)
    WHERE COALESCE(generated, bio) IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM agent_persona_bios x WHERE x.agent_id = did)'''
    % (NEWEST_BY_INDEX if sys.argv[3] == "indexed" else NEWEST_BY_WINDOW),
    {"now": now})
conn.execute(
    '''INSERT INTO user_agent_profile_metadata (agent_id, followers_count, follows_count,
        posts_count, created_at, updated_at)
    SELECT did, COALESCE(followers_count, 0), COALESCE(follows_count, 0),
        COALESCE(posts_count, 0), :now, :now
    FROM legacy.bluesky_profiles
    WHERE COALESCE(followers_count, 0) >= 0 AND COALESCE(follows_count, 0) >= 0
        AND COALESCE(posts_count, 0) >= 0
    ON CONFLICT (agent_id) DO UPDATE SET followers_count = excluded.followers_count,
        follows_count = excluded.follows_count, posts_count = excluded.posts_count,
        updated_at = excluded.updated_at''', {"now": now})
conn.execute("COMMIT")
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "agents": agents, "peak_kib": peak, "level": level}))
"""


def profiles(n: int) -> Iterator[tuple[object, ...]]:
    for i in range(n):
        negative = -1 if i % 100 == 0 else i % 1000
        yield (
            f"user{i:07d}.bsky.social",
            f"did:plc:{i:024d}",
            f"User {i}" if i % 2 else None,
            f"the profile bio of user {i}" if i % 4 else None,
            i % 5000,
            negative,
            None if i % 7 == 0 else i % 300,
            "2024-03-01T12:00:00",
        )


def bios(n: int) -> Iterator[tuple[object, ...]]:
    key = 0
    for i in range(0, n, 3):
        for version in range(2 if i % 9 == 0 else 1):
            key += 1
            yield (
                key,
                f"user{i:07d}.bsky.social",
                f"generated bio {version} of user {i}",
                f"2024-0{1 + version}-01T00:00:00",
            )


def make_source(path: Path, n: int, *, indexed: bool = True) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for ddl in SOURCE_DDL:
            conn.execute(ddl)
        conn.executemany(
            "INSERT INTO bluesky_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", profiles(n)
        )
        conn.executemany("INSERT INTO agent_bios VALUES (?, ?, ?, ?)", bios(n))
        if indexed:
            conn.execute("CREATE INDEX agent_bios_handle ON agent_bios (handle)")
        conn.commit()


def make_target(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "agentsdb", "migrate", "--db", str(path)],
        check=True,
        capture_output=True,
    )


def measure(child: str, source: Path, target: Path, *extra: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", child, str(source), str(target), *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (best is shown)")
    parser.add_argument(
        "--synchronous", choices=("off", "normal", "full", "extra"), default="normal"
    )
    args = parser.parse_args()
    level = args.synchronous
    print(
        f"target written at synchronous={level.upper()} by both sides (read back by each run); "
        f"best of {args.repeat}"
    )
    print(
        f"{'N':>9}  {'run':<15} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9}  "
        f"ratio (job/sql on the same source; target <= 2.0)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as folder:
        for n in args.sizes:
            for suffix, indexed in (("", True), ("/noidx", False)):
                source = Path(folder) / f"legacy-{n}-{'indexed' if indexed else 'noidx'}.db"
                make_source(source, n, indexed=indexed)
                runs: dict[str, list[dict[str, float]]] = {"sql": [], "job": [], "job-plain": []}
                for attempt in range(args.repeat):
                    for name, child, extra in (
                        ("sql", CHILD_SQL, ("indexed" if indexed else "noidx", level)),
                        ("job", CHILD_JOB, (str(args.batch_size), level, "set-based")),
                        ("job-plain", CHILD_JOB, (str(args.batch_size), level, "plain")),
                    ):
                        kind = "indexed" if indexed else "noidx"
                        target = Path(folder) / f"target-{n}-{kind}-{name}-{attempt}.db"
                        make_target(target)
                        run = measure(child, source, target, *extra)
                        assert int(run["agents"]) == n, run
                        assert run["level"] == LEVELS[level], run
                        runs[name].append(run)
                        for leftover in Path(folder).glob(f"{target.name}*"):
                            leftover.unlink()
                results = {
                    name: min(seen, key=lambda r: r["seconds"]) for name, seen in runs.items()
                }
                for name in ("sql", "job", "job-plain"):
                    r = results[name]
                    ratio = (
                        f"{r['seconds'] / results['sql']['seconds']:.2f}" if name != "sql" else ""
                    )
                    print(
                        f"{n:>9,}  {name + suffix:<15} {r['seconds']:>8.2f} "
                        f"{n / r['seconds']:>9,.0f} {r['peak_kib'] / 1024:>9.1f}  {ratio}",
                        flush=True,
                    )
            for path in Path(folder).glob(f"*-{n}*"):
                path.unlink()


if __name__ == "__main__":
    main()
