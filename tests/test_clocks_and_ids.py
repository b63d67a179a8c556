"""Clocks and id generators are passed in: what a repository, the event store, the AgentStore and
a job store is stamped and keyed by the clock and the generator they were given (every backend)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jobs_support import BLUESKY_DDL, JOB_TARGETS, make_legacy_source
from sessions_support import legacy, make_sessions_source

import agentsdb
from agentsdb.aggregate import AgentAggregate, AgentProjection, AgentStore, derived_agent_id
from agentsdb.db.base import Database
from agentsdb.events import EventStore, NewEvent, Projector
from agentsdb.events.types import NO_STREAM
from agentsdb.ids import UuidV7Generator
from agentsdb.jobs import AgentScopeJob, BlueskyProfilesJob, SessionsToAgentsJob, run_job
from agentsdb.models import AgentUpdate, Session
from agentsdb.repositories import AgentRepository, SessionRepository

#: The fixed time every clock below tells, and its stored text.
MOMENT = datetime(2031, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
MOMENT_TEXT = "2031-03-04T05:06:07.890123Z"
#: A time no default clock tells while these tests run.
CREATED = datetime(2001, 1, 1, tzinfo=UTC)


def fixed() -> datetime:
    return MOMENT


def id_generator() -> Callable[[], str]:
    """A generator whose ids repeat from run to run: two of them make the same sequence."""
    return UuidV7Generator(clock_ns=lambda: 1_700_000_000_000_000_000, random_bits=lambda: 7)


# --- repositories ---------------------------------------------------------------------------------


async def test_a_repository_stamps_its_changes_with_the_clock_it_was_given(
    migrated_any_db: Database,
) -> None:
    agents = AgentRepository(migrated_any_db, clock=fixed)
    agent = await agents.create(
        agentsdb.Agent(name="Ada", model="m", created_at=CREATED, updated_at=CREATED)
    )

    updated = await agents.update(agent.id, AgentUpdate(name="Bea"))
    archived = await agents.archive(agent.id, "done")

    assert updated.updated_at == MOMENT
    stored = await migrated_any_db.fetch_one(
        "SELECT created_at, updated_at, archived_at FROM agents WHERE id = :id", {"id": agent.id}
    )
    assert stored == {
        "created_at": "2001-01-01T00:00:00.000000Z",
        "updated_at": MOMENT_TEXT,
        "archived_at": MOMENT_TEXT,
    }
    assert archived.archived_at == MOMENT


async def test_a_session_finished_through_a_repository_gets_the_clocks_time(
    migrated_any_db: Database,
) -> None:
    agent = await AgentRepository(migrated_any_db).create(agentsdb.Agent(name="Ada", model="m"))
    sessions = SessionRepository(migrated_any_db, clock=fixed)
    session = await sessions.create(Session(main_agent_id=agent.id, created_at=CREATED))

    await sessions.finish(session.id)

    stored = await migrated_any_db.fetch_one(
        "SELECT created_at, updated_at, finished_at FROM sessions WHERE id = :id",
        {"id": session.id},
    )
    assert stored == {
        "created_at": "2001-01-01T00:00:00.000000Z",
        "updated_at": MOMENT_TEXT,
        "finished_at": MOMENT_TEXT,
    }


# --- event store ----------------------------------------------------------------------------------


async def test_appended_events_and_snapshots_are_recorded_at_the_stores_clock(
    migrated_any_db: Database,
) -> None:
    events = EventStore(migrated_any_db, clock=fixed)
    await events.append(
        "s-1", [NewEvent("a", {}, event_id="e-1"), NewEvent("b", {}, event_id="e-2")], NO_STREAM
    )
    await events.save_snapshot("s-1", 2, 1, {"n": 2})

    stored = await migrated_any_db.fetch_all(
        "SELECT event_id, recorded_at FROM events ORDER BY position"
    )
    snapshot = await events.load_snapshot("s-1")

    assert stored == [
        {"event_id": "e-1", "recorded_at": MOMENT_TEXT},
        {"event_id": "e-2", "recorded_at": MOMENT_TEXT},
    ]
    assert snapshot is not None
    assert snapshot.recorded_at == MOMENT_TEXT


async def test_a_projector_stamps_its_position_with_its_clock(migrated_any_db: Database) -> None:
    events = EventStore(migrated_any_db)
    store = AgentStore(migrated_any_db, events=events, project_inline=False)
    await store.save(AgentAggregate.create(owner_user_id="u1", name="tutor", now=CREATED))
    projection = AgentProjection(events)

    await Projector(migrated_any_db, events, projection, clock=fixed).catch_up()

    position = await migrated_any_db.fetch_one(
        "SELECT updated_at FROM agentsdb_projector_positions WHERE name = :name",
        {"name": projection.name},
    )
    assert position == {"updated_at": MOMENT_TEXT}


# --- AgentStore -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cache_size", [1000, 0], ids=["cached", "loaded"])
async def test_a_command_run_by_the_agent_store_takes_its_time_and_ids_from_the_store(
    migrated_any_db: Database, cache_size: int
) -> None:
    store = AgentStore(migrated_any_db, clock=fixed, new_id=id_generator(), cache_size=cache_size)
    agent = AgentAggregate.create(
        owner_user_id="u1",
        name="tutor",
        agent_id=derived_agent_id("u1", "tutor"),
        now=CREATED,
        id_factory=lambda: "created-event",
    )
    await store.save(agent)

    await store.execute(agent.id, lambda loaded: loaded.start_session("c1"))

    [created, started] = await store.events.read_stream(agent.stream_id)
    expected = id_generator()
    session_id, event_id = expected(), expected()
    assert created.event_id == "created-event"
    assert created.data["occurred_at"] == "2001-01-01T00:00:00.000000Z"
    assert (started.event_id, started.data["session_id"]) == (event_id, session_id)
    assert started.data["occurred_at"] == MOMENT_TEXT
    assert {created.recorded_at, started.recorded_at} == {MOMENT_TEXT}
    summary = await migrated_any_db.fetch_one(
        "SELECT active_session_id, updated_at FROM agent_summaries WHERE agent_id = :id",
        {"id": agent.id},
    )
    assert summary == {"active_session_id": session_id, "updated_at": MOMENT_TEXT}


async def test_the_former_id_factory_keyword_still_works_and_warns(
    migrated_any_db: Database,
) -> None:
    with pytest.warns(DeprecationWarning, match="new_id"):
        store = AgentStore(migrated_any_db, clock=fixed, id_factory=id_generator())
    agent = AgentAggregate.create(owner_user_id="u1", name="tutor", now=CREATED)
    await store.save(agent)

    await store.execute(agent.id, lambda loaded: loaded.start_session("c1"))

    started = (await store.events.read_stream(agent.stream_id))[-1]
    assert started.data["session_id"] == id_generator()()


# --- jobs -----------------------------------------------------------------------------------------


@JOB_TARGETS
async def test_a_job_run_stamps_its_events_and_checkpoints_with_the_jobs_clock(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.db"
    make_sessions_source(
        path,
        [
            legacy("s1", "u1", "tutor", "completed", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
            legacy("s2", "u1", "tutor", "active", "2024-01-02T10:00:00"),
        ],
    )
    async with agentsdb.connect(str(path)) as source:
        await run_job(
            SessionsToAgentsJob(clock=fixed), source, migrated_any_db, batch_size=1, progress=False
        )

    recorded = await migrated_any_db.fetch_all("SELECT DISTINCT recorded_at FROM events")
    run = await migrated_any_db.fetch_one(
        "SELECT started_at, updated_at, finished_at FROM agentsdb_job_runs"
        " WHERE job = 'sessions-to-agents'"
    )
    assert recorded == [{"recorded_at": MOMENT_TEXT}]
    assert run == {"started_at": MOMENT_TEXT, "updated_at": MOMENT_TEXT, "finished_at": MOMENT_TEXT}


@JOB_TARGETS
async def test_a_backfill_stamps_the_rows_it_writes_with_the_jobs_clock(
    migrated_any_db: Database,
) -> None:
    for ddl in BLUESKY_DDL:
        await migrated_any_db.execute(ddl)
    await migrated_any_db.execute(
        "INSERT INTO bluesky_profiles VALUES"
        " ('ann', 'did:plc:ann', 'Ann', 'hi', 1, 2, 3, NULL),"
        " ('bo', 'did:plc:bo', 'Bo', NULL, 1, 2, 3, '2024-05-01T10:00:00')"
    )

    await run_job(BlueskyProfilesJob(clock=fixed), migrated_any_db, migrated_any_db, progress=False)

    agents = await migrated_any_db.fetch_all(
        "SELECT id, created_at, updated_at FROM agents ORDER BY id"
    )
    bio = await migrated_any_db.fetch_one("SELECT created_at, updated_at FROM agent_persona_bios")
    counters = await migrated_any_db.fetch_all(
        "SELECT DISTINCT created_at, updated_at FROM user_agent_profile_metadata"
    )
    run = await migrated_any_db.fetch_one(
        "SELECT started_at, finished_at FROM agentsdb_job_runs WHERE job = 'bluesky-profiles'"
    )
    assert agents == [
        {"id": "did:plc:ann", "created_at": MOMENT_TEXT, "updated_at": MOMENT_TEXT},
        {
            "id": "did:plc:bo",
            "created_at": "2024-05-01T10:00:00.000000Z",
            "updated_at": MOMENT_TEXT,
        },
    ]
    assert bio == {"created_at": MOMENT_TEXT, "updated_at": MOMENT_TEXT}
    assert counters == [{"created_at": MOMENT_TEXT, "updated_at": MOMENT_TEXT}]
    assert run == {"started_at": MOMENT_TEXT, "finished_at": MOMENT_TEXT}


@JOB_TARGETS
async def test_the_agent_scope_job_keys_agents_by_its_generator_and_stamps_them_by_its_clock(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.db"
    make_legacy_source(
        path,
        personas=[("p1", "Ann", 1), ("p2", "Bo", 1)],
        conversations=[("c1", "p1", "hello", None)],
        messages=[("m1", "c1", "p1", "user", "hi", None)],
    )
    async with agentsdb.connect(str(path)) as source:
        await run_job(
            AgentScopeJob(clock=fixed, new_id=id_generator()),
            source,
            migrated_any_db,
            progress=False,
        )

    agents = await migrated_any_db.fetch_all(
        "SELECT id, memory_root_id, created_at, updated_at FROM agents ORDER BY persona_id"
    )
    conversation = await migrated_any_db.fetch_one(
        "SELECT created_at FROM conversations WHERE id = 'c1'"
    )
    run = await migrated_any_db.fetch_one(
        "SELECT started_at, finished_at FROM agentsdb_job_runs WHERE job = 'agent-scope'"
    )
    # Personas are read in id order; each takes two ids: its agent's, then its memory root's.
    expected = id_generator()
    assert agents == [
        {
            "id": expected(),
            "memory_root_id": expected(),
            "created_at": MOMENT_TEXT,
            "updated_at": MOMENT_TEXT,
        }
        for _ in range(2)
    ]
    assert conversation == {"created_at": MOMENT_TEXT}
    assert run == {"started_at": MOMENT_TEXT, "finished_at": MOMENT_TEXT}
