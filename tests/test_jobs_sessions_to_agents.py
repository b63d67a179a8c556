"""Job ``sessions-to-agents``: legacy sessions grouped into event-sourced agents."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import decoded_json, kill_after_committed_batches, migrated
from sessions_support import SESSIONS_DDL, legacy, make_sessions_source

import agentsdb
from agentsdb.aggregate import AgentAggregate, AgentType, SessionStatus, derived_agent_id
from agentsdb.aggregate.store import AgentStore
from agentsdb.db.base import Database, Execute
from agentsdb.errors import CheckViolationError
from agentsdb.jobs import (
    MissingSourceError,
    SessionsToAgentsJob,
    TargetNotMigratedError,
    run_job,
    validate_job,
)
from agentsdb.jobs.checkpoint import save_checkpoint
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.session_ids import agent_id_for, event_id_for, session_id_for
from agentsdb.migrations import builtin_migrations

ROWS = [
    # u1 / tutor: three ended sessions out of order, two "active" ones (the newer wins).
    legacy("s03", "u1", "tutor", "completed", "2024-01-03T10:00:00", "2024-01-03T11:00:00"),
    legacy(
        "s01",
        "u1",
        "tutor",
        "completed",
        "2024-01-01T10:00:00",
        "2024-01-01T10:30:00",
        summary="fractions",
    ),
    legacy("s02", "u1", "Tutor ", "failed", "2024-01-02T10:00:00", "2024-01-02T10:05:00"),
    legacy("s04", "u1", "tutor", "active", "2024-01-04T10:00:00"),
    legacy("s05", "u1", "tutor", "active", "2024-01-05T10:00:00", conversation_id="c-newest"),
    # u1 / coach: another agent for the same user.
    legacy(
        "s06",
        "u1",
        "coach",
        "terminated",
        "2024-02-01T08:00:00+02:00",
        None,
        end_reason="user left",
    ),
    # u2: an unknown type, then a known one with an unknown status only.
    legacy("s07", "u2", "astrologer", "completed", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
    legacy("s08", "u2", "astrologer", "active", "2024-01-02T10:00:00"),
    legacy("s09", "u2", "planner", "paused", "2024-01-01T10:00:00"),
    # No user; an unreadable start.
    legacy("s10", None, "coach", "completed", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
    legacy("s11", "u3", "wellness", "completed", "yesterday", None),
    legacy(
        "s12",
        "u3",
        "wellness",
        "completed",
        "2024-03-01 09:00:00",
        "2024-03-01 09:30:00",
        no_conversation=True,
    ),
]


@pytest.fixture
def source_path(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    make_sessions_source(path, ROWS)
    return path


@pytest.fixture
async def source(source_path: Path) -> AsyncIterator[Database]:
    async with agentsdb.connect(str(source_path)) as db:
        yield db


async def run(source: Database, target: Database, **options: Any) -> agentsdb.jobs.JobReport:
    run_size = options.pop("run_size", 50_000)
    return await run_job(
        SessionsToAgentsJob(run_size=run_size), source, target, progress=False, **options
    )


async def snapshot_of(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the job writes, in a stable order, without the times of the writes (event data
    decoded, so that two backends' snapshots compare)."""
    queries = {
        "events": "SELECT stream_id, version, event_id, type, data FROM events"
        " ORDER BY stream_id, version",
        "summaries": "SELECT agent_id, owner_user_id, agent_type, status, name,"
        " active_session_id, total_sessions, successful_completions, created_at, version"
        " FROM agent_summaries ORDER BY agent_id",
        "history": "SELECT agent_id, session_id, seq, conversation_id, status, started_at,"
        " ended_at, summary, end_reason FROM agent_session_history ORDER BY agent_id, seq",
        "users": "SELECT user_id, agent_id, role FROM agent_users ORDER BY user_id, agent_id",
    }
    result: dict[str, list[tuple[Any, ...]]] = {}
    for name, sql in queries.items():
        rows = await db.fetch_all(sql)
        result[name] = [
            tuple(
                decoded_json(db, value) if key == "data" else str(value)
                for key, value in row.items()
            )
            for row in rows
        ]
    return result


async def count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


# --- on every backend -----------------------------------------------------------------------------


async def test_each_user_and_session_type_becomes_one_agent_with_history_and_newest_active(
    source: Database, migrated_any_db: Database
) -> None:
    legacy_rows = await source.fetch_all("SELECT * FROM sessions ORDER BY id")
    report = await run(source, migrated_any_db, batch_size=2)

    assert await source.fetch_all("SELECT * FROM sessions ORDER BY id") == legacy_rows
    store = AgentStore(migrated_any_db)
    tutor = await store.load(agent_id_for("u1", "tutor"))
    assert tutor.state.owner_user_id == "u1"
    assert tutor.state.agent_type is AgentType.TUTOR
    history = tutor.state.session_history
    assert [s.session_id for s in history] == [
        session_id_for(tutor.id, legacy_id) for legacy_id in ("s01", "s02", "s03")
    ]
    assert [s.status for s in history] == [
        SessionStatus.COMPLETED,
        SessionStatus.TERMINATED,
        SessionStatus.COMPLETED,
    ]
    assert history[0].summary == "fractions"
    assert history[1].termination_reason == "failed"
    active = tutor.state.active_session
    assert active is not None
    assert active.session_id == session_id_for(tutor.id, "s05")
    assert active.conversation_id == "c-newest"

    coach = await store.load(agent_id_for("u1", "coach"))
    [ended] = coach.state.session_history
    assert ended.termination_reason == "user left"
    assert ended.started_at.isoformat() == "2024-02-01T06:00:00+00:00"
    wellness = await store.load(agent_id_for("u3", "wellness"))
    assert [s.conversation_id for s in wellness.state.session_history] == ["s12"]

    assert report.tables["agents"].created == 3
    assert report.tables["session_history"].created == 5
    assert report.tables["active_sessions"].created == 1
    assert report.rows_read == len(ROWS)
    valid = await validate_job(SessionsToAgentsJob(), source, migrated_any_db)
    assert valid.ok, valid.format()


async def test_dry_run_writes_nothing_and_reports_exactly_what_the_real_run_does(
    source: Database, migrated_any_db: Database
) -> None:
    dry = await run(source, migrated_any_db, dry_run=True, batch_size=2, run_size=3)

    assert await count(migrated_any_db, "events") == 0
    assert await count(migrated_any_db, "agentsdb_job_runs") == 0
    real = await run(source, migrated_any_db, batch_size=2, run_size=3)
    assert dry.counts() == real.counts()
    assert dry.dry_run
    assert not real.dry_run


async def test_a_rerun_creates_nothing_and_counts_everything_unchanged(
    source: Database, migrated_any_db: Database
) -> None:
    first = await run(source, migrated_any_db, batch_size=3)
    before = await snapshot_of(migrated_any_db)

    again = await run(source, migrated_any_db, batch_size=3)
    dry_again = await run(source, migrated_any_db, batch_size=3, dry_run=True)

    assert await snapshot_of(migrated_any_db) == before
    for table in ("agents", "session_history", "active_sessions"):
        assert again.tables[table].created == 0
        assert again.tables[table].unchanged == first.tables[table].created
        assert again.tables[table].skipped == first.tables[table].skipped
    assert dry_again.counts() == again.counts()


async def test_a_rerun_ends_an_imported_active_session_that_has_ended_since(
    source: Database, migrated_any_db: Database
) -> None:
    await run(source, migrated_any_db)
    await source.execute(
        "UPDATE sessions SET status = 'completed', ended_at = '2024-01-05T12:00:00',"
        " summary = 'wrapped up' WHERE id = 's05'"
    )

    dry = await run(source, migrated_any_db, dry_run=True)
    again = await run(source, migrated_any_db)

    assert dry.counts() == again.counts()
    assert again.tables["session_history"].updated == 1
    assert again.tables["session_history"].unchanged == 5
    # The older active row no longer meets an active session: it takes the place.
    assert again.tables["active_sessions"].created == 1
    tutor = await AgentStore(migrated_any_db).load(agent_id_for("u1", "tutor"))
    assert tutor.state.session_history[-1].summary == "wrapped up"
    assert tutor.state.session_history[-1].session_id == session_id_for(tutor.id, "s05")
    active = tutor.state.active_session
    assert active is not None
    assert active.session_id == session_id_for(tutor.id, "s04")
    stored = await migrated_any_db.fetch_all(
        "SELECT event_id FROM events WHERE stream_id = :s ORDER BY version",
        {"s": f"agent-{tutor.id}"},
    )
    assert stored[-2]["event_id"] == event_id_for(tutor.id, "s05", 1)
    checked = await validate_job(SessionsToAgentsJob(), source, migrated_any_db)
    assert checked.ok, checked.format()


async def test_agent_store_save_commits_further_steps_in_the_append_unit_or_nothing(
    migrated_any_db: Database,
) -> None:
    store = AgentStore(migrated_any_db)
    agent = AgentAggregate.create(owner_user_id="u1", agent_type="coach", name="coach")
    refused = Execute("INSERT INTO agentsdb_job_runs (job) VALUES (NULL)")
    checkpoint = save_checkpoint("j", {"step": "s", "key": [1]}, JobReport(job="j"), "now")

    with pytest.raises(CheckViolationError):  # agentsdb_job_runs.job is NOT NULL
        await store.save(agent, with_steps=[refused])
    assert await count(migrated_any_db, "events") == 0
    assert await count(migrated_any_db, "agent_summaries") == 0
    await store.save(agent, with_steps=[checkpoint])

    assert await count(migrated_any_db, "events") == 1
    assert await count(migrated_any_db, "agentsdb_job_runs") == 1


# --- the decisions --------------------------------------------------------------------------------


async def test_unknown_types_statuses_and_unreadable_rows_are_skipped_with_their_reasons(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run(source, migrated_any_db)

    assert dict(report.tables["agents"].skipped) == {
        "no session to import": 1,
        "no user": 1,
        "unknown session type 'astrologer'": 1,
    }
    assert dict(report.tables["session_history"].skipped) == {
        "invalid started_at": 1,
        "no user": 1,
        "unknown session type 'astrologer'": 1,
        "unknown status 'paused'": 1,
    }
    assert dict(report.tables["active_sessions"].skipped) == {
        "refused: another session is active (one at a time)": 1,
        "unknown session type 'astrologer'": 1,
    }
    assert "skipped 1 agents: unknown session type 'astrologer'" in report.format()
    assert await AgentStore(migrated_any_db).find(agent_id_for("u2", "astrologer")) is None
    assert await AgentStore(migrated_any_db).find(agent_id_for("u2", "planner")) is None


async def test_ids_are_derived_from_the_legacy_rows(
    source: Database, migrated_any_db: Database
) -> None:
    await run(source, migrated_any_db)

    agent_id = agent_id_for("u1", "tutor")
    assert agent_id == derived_agent_id("u1", "tutor")
    rows = await migrated_any_db.fetch_all(
        "SELECT event_id, type FROM events WHERE stream_id = :s ORDER BY version",
        {"s": f"agent-{agent_id}"},
    )
    assert rows[1] == {
        "event_id": event_id_for(agent_id, "s01", 0),
        "type": "agent.session.started.v1",
    }
    assert rows[2]["event_id"] == event_id_for(agent_id, "s01", 1)
    assert rows[0]["event_id"] == event_id_for(agent_id, None, 0)
    stamps = await migrated_any_db.fetch_all("SELECT metadata FROM events")
    assert {json.dumps(decoded_json(migrated_any_db, row["metadata"])) for row in stamps} == {
        json.dumps({"imported_by": "sessions-to-agents"})
    }


async def test_a_group_spanning_several_batches_and_sort_runs_imports_as_one_batch_does(
    tmp_path: Path, migrated_any_db: Database
) -> None:
    path = tmp_path / "big.db"
    rows = [
        legacy(
            f"b{i:03d}",
            "u9",
            "researcher",
            "completed",
            f"2024-01-01T10:{59 - i:02d}:00",
            f"2024-01-01T11:{59 - i:02d}:00",
        )
        for i in range(23)
    ] + [legacy("b999", "u9", "researcher", "active", "2024-02-01T00:00:00")]
    make_sessions_source(path, rows)
    async with (
        agentsdb.connect(str(path)) as source,
        agentsdb.connect(str(tmp_path / "one.db")) as one,
    ):
        await agentsdb.Migrator(one).migrate()
        small = await run(source, migrated_any_db, batch_size=4, run_size=5)
        whole = await run(source, one, batch_size=1000)

        assert small.counts() == whole.counts()
        assert await snapshot_of(migrated_any_db) == await snapshot_of(one)
        batches = await migrated_any_db.fetch_one("SELECT batches FROM agentsdb_job_runs")
        agent = await AgentStore(migrated_any_db).load(agent_id_for("u9", "researcher"))
    assert batches == {"batches": 6}
    assert agent.state.total_sessions == 24
    history = await migrated_any_db.fetch_all(
        "SELECT started_at FROM agent_session_history ORDER BY seq"
    )
    started = [row["started_at"] for row in history]
    assert started == sorted(started)


# --- validation -----------------------------------------------------------------------------------


async def test_validation_catches_a_missing_history_row(
    source: Database, migrated_any_db: Database
) -> None:
    await run(source, migrated_any_db)
    await migrated_any_db.execute(
        "DELETE FROM agent_session_history WHERE session_id = :s",
        {"s": session_id_for(agent_id_for("u1", "tutor"), "s02")},
    )

    checked = await validate_job(SessionsToAgentsJob(), source, migrated_any_db)

    assert not checked.ok
    [history] = [p for p in checked.parity if p.table == "session_history"]
    assert (history.source_rows, history.target_rows, history.skipped) == (9, 4, 4)
    [line] = [x for x in checked.format().splitlines() if x.startswith("session_history")]
    assert line.split() == ["session_history", "9", "4", "4", "MISMATCH"]


async def test_validation_catches_a_lost_active_session(
    source: Database, migrated_any_db: Database
) -> None:
    await run(source, migrated_any_db)
    store = AgentStore(migrated_any_db)
    await store.execute(agent_id_for("u1", "tutor"), lambda a: a.terminate_session("gone"))

    checked = await validate_job(SessionsToAgentsJob(), source, migrated_any_db)

    assert not checked.ok
    [active] = [p for p in checked.parity if p.table == "active_sessions"]
    assert (active.source_rows, active.target_rows, active.skipped) == (3, 0, 2)


async def test_validation_catches_a_user_left_without_agents(
    source: Database, migrated_any_db: Database
) -> None:
    await run(source, migrated_any_db)
    await AgentStore(migrated_any_db).delete(agent_id_for("u3", "wellness"))

    checked = await validate_job(SessionsToAgentsJob(), source, migrated_any_db)

    assert not checked.ok
    assert [(o.check, o.rows) for o in checked.orphans] == [("users with sessions but no agent", 1)]
    [agents] = [p for p in checked.parity if p.table == "agents"]
    assert (agents.source_rows, agents.target_rows, agents.skipped) == (6, 2, 3)


# --- refusals -------------------------------------------------------------------------------------


async def test_a_missing_source_column_is_named_and_nothing_is_written(
    tmp_path: Path, migrated_any_db: Database
) -> None:
    path = tmp_path / "old.db"
    async with agentsdb.connect(str(path)) as old:
        await old.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT)")
        with pytest.raises(MissingSourceError, match=r"column sessions\.session_type"):
            await run(old, migrated_any_db)
    assert await count(migrated_any_db, "agentsdb_job_runs") == 0


async def test_rows_without_an_id_are_refused_before_anything_is_written(
    tmp_path: Path, migrated_any_db: Database
) -> None:
    path = tmp_path / "null-ids.db"
    make_sessions_source(
        path,
        [
            legacy("s1", "u1", "coach", "active", "2024-01-01"),
            {**legacy("s2", "u1", "coach", "completed", "2024-01-01"), "id": None},
        ],
    )
    async with agentsdb.connect(str(path)) as source:
        with pytest.raises(JobError, match="1 rows of sessions have no id"):
            await run(source, migrated_any_db)
    assert await count(migrated_any_db, "events") == 0


async def test_one_database_needs_a_prefix_for_the_legacy_table(migrated_any_db: Database) -> None:
    with pytest.raises(JobError, match="shares its name with agentsdb's own"):
        await run(migrated_any_db, migrated_any_db)

    for ddl in SESSIONS_DDL:
        await migrated_any_db.execute(
            ddl.replace("TABLE sessions", "TABLE legacy_sessions").replace(
                "INDEX sessions_user_id ON sessions", "INDEX legacy_user ON legacy_sessions"
            )
        )
    await migrated_any_db.execute(
        "INSERT INTO legacy_sessions (id, user_id, session_type, status, started_at)"
        " VALUES ('x1', 'u1', 'coach', 'active', '2024-01-01')"
    )
    report = await run_job(
        SessionsToAgentsJob(source_prefix="legacy_"),
        migrated_any_db,
        migrated_any_db,
        progress=False,
    )
    assert SessionsToAgentsJob().summary(report) == "Migrated 1 sessions into 1 new agents."


# --- a run killed with SIGKILL --------------------------------------------------------------------

# Runs the job in a child process. With ``slow`` > 0 every append does that much counting inside
# its unit, after the agent's events and before the checkpoint, so a kill can land mid-unit.
CHILD = """
import asyncio, json, sys
import agentsdb
from agentsdb.aggregate.store import AgentStore
from agentsdb.db.base import FetchOne
from agentsdb.jobs import SessionsToAgentsJob, run_job

source_url, target_url, batch_size, run_size, slow = sys.argv[1:6]
SLOW = FetchOne(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n)"
    " SELECT COUNT(*) AS n FROM c",
    {"n": int(slow)},
)
save = AgentStore.save


async def slow_save(self, agent, *, metadata=None, with_steps=()):
    return await save(self, agent, metadata=metadata, with_steps=[SLOW, *with_steps])


if int(slow):
    AgentStore.save = slow_save


async def main():
    job = SessionsToAgentsJob(run_size=int(run_size))
    async with agentsdb.connect(source_url) as source, agentsdb.connect(target_url) as target:
        report = await run_job(job, source, target, batch_size=int(batch_size), progress=False)
    print(json.dumps(report.counts()))


asyncio.run(main())
"""


def start_child(source: Path, target: Path | str, slow: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(source), str(target), "3", "7", str(slow)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_child(source: Path, target: Path | str) -> dict[str, Any]:
    child = start_child(source, target, 0)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    counts: dict[str, Any] = json.loads(out)
    return counts


async def test_a_run_killed_with_sigkill_resumes_to_what_an_uninterrupted_run_writes(
    tmp_path: Path, backend_url: str, migrated_any_db: Database
) -> None:
    source = tmp_path / "legacy.db"
    rows = [
        legacy(
            f"r{user:02d}{kind[0]}{n}",
            f"user{user:02d}",
            kind,
            ("completed", "terminated", "active")[n % 3] if n else "completed",
            f"2024-0{1 + n % 9}-{1 + user % 28:02d}T10:00:00",
            f"2024-0{1 + n % 9}-{1 + user % 28:02d}T11:00:00",
        )
        for user in range(30)
        for kind in ("tutor", "coach", "unknown")
        for n in range(user % 6)
    ]
    make_sessions_source(source, rows)
    killed = migrated_any_db
    await kill_after_committed_batches(start_child(source, backend_url, 150_000), killed, 25)

    # Every committed unit is whole: the sessions in the events are the ones its checkpoint counts.
    # One statement reads both, so a unit the killed process sent just before it died, which a
    # server may still commit, cannot land between the two counts.
    run = await killed.fetch_one(
        "SELECT status, report, (SELECT COUNT(*) FROM events"
        " WHERE type = 'agent.session.started.v1') AS started FROM agentsdb_job_runs"
    )
    assert run is not None
    assert run["status"] == "running"
    tables = decoded_json(killed, run["report"])["tables"]
    assert run["started"] == sum(
        tables[t]["created"] for t in ("session_history", "active_sessions")
    )
    assert run["started"] < len(rows)

    resumed = run_child(source, backend_url)
    clean = await migrated(tmp_path / "clean.db")
    uninterrupted = run_child(source, clean)

    assert resumed == uninterrupted
    async with agentsdb.connect(str(clean)) as oracle:
        assert await snapshot_of(killed) == await snapshot_of(oracle)
    async with agentsdb.connect(str(source)) as legacy_db:
        checked = await validate_job(SessionsToAgentsJob(), legacy_db, killed)
    assert checked.ok, checked.format()


async def test_a_target_without_the_event_store_is_refused(
    source: Database, any_db: Database
) -> None:
    before_events = [m for m in builtin_migrations() if m.id < "011"]
    await agentsdb.Migrator(any_db, before_events).migrate()

    with pytest.raises(TargetNotMigratedError, match="agentsdb migrate"):
        await run(source, any_db)
    assert await count(any_db, "agentsdb_job_runs") == 0


# --- reading the source in import order -----------------------------------------------------------


async def test_a_sqlite_source_is_paged_by_its_primary_key_whatever_else_it_is_indexed_by(
    source: Database, migrated_any_db: Database
) -> None:
    [step] = SessionsToAgentsJob().steps(source, migrated_any_db)
    plan = await source.fetch_all(
        f"EXPLAIN QUERY PLAN {step.select(False)}", {"k0": "s05", "limit": 2}
    )

    details = " ".join(str(row["detail"]) for row in plan)
    assert "SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (id>?)" in details
    assert "TEMP B-TREE" not in details


async def test_records_spilled_to_sorted_runs_merge_in_the_order_one_run_gives(
    source: Database,
) -> None:
    spilled_job, one_run_job = SessionsToAgentsJob(run_size=2), SessionsToAgentsJob()

    spilled = [key async for key, _ in spilled_job.records(source, page_size=3)]
    whole = [key async for key, _ in one_run_job.records(source)]
    after = [key async for key, _ in spilled_job.records(source, whole[4], 3)]

    assert spilled == whole == sorted(whole)
    assert len(whole) == len(ROWS)
    assert after == whole[5:]
    # Ended sessions oldest first, then active ones newest first, per (user, type).
    tutor = [key[4] for key in whole if key[:2] == ["u1", "tutor"]]
    assert tutor == ["s01", "s02", "s03", "s05", "s04"]


async def test_a_postgres_legacy_table_with_timestamptz_columns_in_the_target_database(
    postgres_db: Database,
) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    await postgres_db.execute(
        """CREATE TABLE legacy_sessions (id BIGINT PRIMARY KEY, user_id TEXT, session_type TEXT,
            status TEXT NOT NULL, conversation_id TEXT, started_at TIMESTAMPTZ,
            ended_at TIMESTAMPTZ, summary TEXT, end_reason TEXT)"""
    )
    await postgres_db.execute(
        """INSERT INTO legacy_sessions VALUES
            (1, 'u1', 'coach', 'completed', 'c1', '2024-01-01 10:00+02', '2024-01-01 11:00+02',
             'done', NULL),
            (2, 'u1', 'coach', 'active', 'c2', '2024-01-02 10:00+00', NULL, NULL, NULL),
            (10, 'u1', 'coach', 'expired', 'c3', '2024-01-01 12:00+00', NULL, NULL, NULL)"""
    )
    job = SessionsToAgentsJob(source_prefix="legacy_")

    dry = await run_job(job, postgres_db, postgres_db, dry_run=True, batch_size=1, progress=False)
    real = await run_job(job, postgres_db, postgres_db, batch_size=1, progress=False)
    checked = await validate_job(job, postgres_db, postgres_db)

    assert dry.counts() == real.counts()
    assert job.summary(real) == "Migrated 3 sessions into 1 new agents."
    assert checked.ok, checked.format()
    history = await postgres_db.fetch_all(
        "SELECT started_at, status, end_reason FROM agent_session_history ORDER BY seq"
    )
    assert [tuple(row.values()) for row in history] == [
        ("2024-01-01T08:00:00.000000Z", "completed", None),
        ("2024-01-01T12:00:00.000000Z", "terminated", "expired"),
        ("2024-01-02T10:00:00.000000Z", "active", None),
    ]


def test_the_command_line_runs_validates_and_dry_runs_the_job(
    source_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "agents.db"

    def agentsdb_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentsdb", *args, "--db", str(target)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert agentsdb_cli("migrate").returncode == 0
    job = ("backfill", "sessions-to-agents", "--source", str(source_path))
    dry = agentsdb_cli(*job, "--dry-run")
    done = agentsdb_cli(*job, "--batch-size", "2")
    checked = agentsdb_cli(*job, "--validate")

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Dry run: nothing was written")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Migrated 6 sessions into 3 new agents.\n")
    assert dry.stdout.splitlines()[1:-1] == done.stdout.splitlines()[1:-1]
    assert "skipped 1 agents: unknown session type 'astrologer'" in done.stdout
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.rstrip().endswith("sessions-to-agents: valid.")
