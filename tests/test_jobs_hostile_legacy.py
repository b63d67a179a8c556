"""Hostile legacy data through every job that reads legacy rows, on every backend each job runs
on: whatever a job writes, every repository reads back; whatever it refuses, its report counts.

The legacy sources are SQLite files (what a legacy system left behind: ids and handles with
spaces, mixed case, fullwidth and invisible characters, over-long values, NUL characters,
unreadable times, handles that differ only in case); the target is migrated.
Lone surrogates cannot be stored in a SQLite file as text, so the rules' refusal of them is
proven on the jobs' row functions directly (see the end of this module).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jobs_support import JOB_TARGETS, make_bluesky_source, make_legacy_source
from sessions_support import legacy, make_sessions_source

import agentsdb
from agentsdb.aggregate.read_model import AgentReadModel
from agentsdb.aggregate.store import AgentStore
from agentsdb.db.base import Database
from agentsdb.jobs import (
    AgentScopeJob,
    BlueskyProfilesJob,
    JobReport,
    SessionsToAgentsJob,
    run_job,
    validate_job,
)
from agentsdb.jobs.agent_scope_common import conversation_row, persona_agent
from agentsdb.jobs.legacy_sessions import judge
from agentsdb.jobs.profile_rows import profile_refusal
from agentsdb.repositories import AgentRepository, ConversationRepository, MessageRepository
from agentsdb.repositories.embeddings import EmbeddingRepository
from agentsdb.repositories.persona_bios import PersonaBioRepository
from agentsdb.repositories.profile_metadata import ProfileMetadataRepository

LONG = "x" * 300
NUL = "nul\x00here"

# Each persona is (id, name, is_active); the good ones are p1 and P1 (ids are case-sensitive).
PERSONAS = [
    ("p1", "Ada", 1),
    ("P1", "Ada again", 1),
    ("p 2", "space in id", 1),
    (" p3", "leading space", 1),
    ("p\u00a04", "no-break space", 1),
    ("p\x1f5", "unit separator", 1),
    ("p6", LONG, 1),
    ("p7", NUL, 1),
    (NUL, "nul in id", 1),
    (LONG, "long id", 1),
    ("\uff50\uff18", "fullwidth id", 0),
    ("p9", "\u202egnp.exe", 1),
]
CONVERSATIONS = [
    ("c1", "p1", "first", "2024-02-01 10:00:00"),
    ("C1", "P1", "case", "not a time"),
    ("c 2", "p1", "space in id", None),
    ("c3", "p 2", "persona refused", None),
    ("c4", "p1", NUL, None),
    ("c5", "p7", "persona with a NUL name", None),
    (NUL, "p1", "nul in id", None),
    (LONG, "p1", "long id", None),
    ("c6", "\uff50\uff18", "\u0000" if False else "fullwidth persona", "2024-13-45"),
]
MESSAGES = [
    ("m1", "c1", "p1", "user", "Hello", "2024-02-01 10:00:01"),
    ("M1", "c1", None, "assistant", "case differs from m1", None),
    ("m 2", "c1", None, "user", "space in id", None),
    ("m3", "c1", None, "USER", "role in upper case", None),
    ("m4", "c1", None, "user", NUL, None),
    ("m5", "c 2", None, "user", "conversation refused", None),
    ("m6", "c3", None, "user", "persona refused", None),
    ("m7", "c1", "p 2", "user", "sender refused", None),
    (LONG, "c1", None, "user", "long id", None),
    ("m8", "c1", None, "user", "\U0001f600 \u0301e\u200b", "2024-02-01T10:00:00+02:00"),
    ("m9", "c6", None, "system", "fullwidth conversation", None),
]
VECTORS = [
    ("v1", "p1", "c1", "fact", b"\x01"),
    ("v 2", "p1", "c1", "space in id", None),
    ("v3", "p1", "c 2", "conversation refused: kept as legacy", None),
    ("v4", "p1", "c1", NUL, None),
    ("v5", "p 2", "c1", "persona refused", None),
    (LONG, "p1", None, "long id", None),
]

PROFILES: list[tuple[Any, ...]] = [
    ("@Alice", "did:plc:alice", "Alice", "bio", 1, 2, 3, "2024-05-01T10:00:00"),
    ("alice", "did:plc:alice2", "Same handle, other case", None, 0, 0, 0, None),
    ("\uff21LICE3", "did:plc:alice3", "Fullwidth handle", None, 0, 0, 0, "garbage"),
    ("bob", "did:plc:b o b", "Space in did", None, 0, 0, 0, None),
    ("carol", "did:plc:carol\x00", "NUL in did", None, 0, 0, 0, None),
    ("dave", "did:plc:" + LONG, "Long did", None, 0, 0, 0, None),
    ("bad handle", "did:plc:erin", "Space in handle", None, 0, 0, 0, None),
    ("frank", "did:plc:frank", NUL, None, 0, 0, 0, None),
    ("grace", "did:plc:grace", LONG, None, 0, 0, 0, None),
    ("heidi", "did:plc:heidi", "NUL in bio", NUL, 0, 0, 0, None),
    ("ivan", "did:plc:ivan", None, None, -1, 0, 0, None),
    ("x" * 260, "did:plc:long-handle", None, None, 0, 0, 0, None),
]
BIOS = [(1, "@Alice", "a generated bio", "2024-05-02"), (2, "grace", NUL, None)]

SESSIONS = [
    legacy("s1", "u1", "tutor", "completed", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
    legacy("S1", "U1", "Tutor", "active", "2024-01-02T10:00:00"),
    legacy("s 2", "u1", "tutor", "completed", "2024-01-03T10:00:00", "2024-01-03T11:00:00"),
    legacy("s3", "u 1", "tutor", "completed", "2024-01-01T10:00:00"),
    legacy("s4", "u\x00", "tutor", "completed", "2024-01-01T10:00:00"),
    legacy("s5", LONG, "coach", "completed", "2024-01-01T10:00:00"),
    legacy("s6", "u1", "tutor", "completed", "not a time"),
    legacy("s7", "u1", "coach", "completed", "2024-01-01T10:00:00", summary=NUL),
    legacy("s8", "u1", "coach", "failed", "2024-01-02T10:00:00", end_reason=NUL),
    legacy("s9", "u1", "coach", "completed", "2024-01-03T10:00:00", conversation_id=NUL),
    legacy(NUL, "u2", "coach", "completed", "2024-01-03T10:00:00", conversation_id="c9"),
    legacy("s10", "u\u00a03", "coach", "completed", "2024-01-03T10:00:00"),
]


@pytest.fixture
def target(migrated_any_db: Database) -> Database:
    """The migrated target of a batch job's test. A batch reads the target in the transaction
    that writes it, which libSQL over HTTP cannot hold (docs/backfill.md): those tests run on
    JOB_TARGETS; sessions-to-agents runs on all four backends."""
    return migrated_any_db


@pytest.fixture
async def agent_scope_source(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "legacy.db"
    make_legacy_source(path, PERSONAS, CONVERSATIONS, MESSAGES, VECTORS)
    async with agentsdb.connect(str(path)) as database:
        yield database


@pytest.fixture
async def bluesky_source(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "bluesky.db"
    make_bluesky_source(path, PROFILES, BIOS)
    async with agentsdb.connect(str(path)) as database:
        yield database


@pytest.fixture
async def sessions_source(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "sessions.db"
    make_sessions_source(path, SESSIONS)
    async with agentsdb.connect(str(path)) as database:
        yield database


def counted(report: JobReport, table: str) -> int:
    """Every row the report accounts for in ``table``."""
    counts = report.table(table)
    return counts.created + counts.updated + counts.unchanged + counts.skipped_total


async def all_ids(db: Database, table: str) -> list[str]:
    return [str(r["id"]) for r in await db.fetch_all(f"SELECT id FROM {table} ORDER BY id")]


async def read_back_entities(db: Database) -> dict[str, int]:
    """Read every row of the entity tables through every repository that reads it; how many
    rows of each table the repositories returned."""
    agents, conversations = AgentRepository(db), ConversationRepository(db)
    messages, embeddings = MessageRepository(db), EmbeddingRepository(db)
    bios, counters = PersonaBioRepository(db), ProfileMetadataRepository(db)
    listed: list[str] = []
    after: str | None = None
    while page := await agents.list(limit=3, after=after):
        listed += [a.id for a in page]
        after = page[-1].id
    assert listed == await all_ids(db, "agents")
    seen = {"agents": len(listed), "conversations": 0, "messages": 0, "embeddings": 0}
    seen |= {"agent_persona_bios": 0, "user_agent_profile_metadata": 0}
    for agent_id in listed:
        agent = await agents.get(agent_id)
        assert agent is not None
        if agent.handle is not None:
            assert await agents.get_by_handle(agent.handle) == agent
            assert await agents.get_by_handle("@" + agent.handle.upper()) == agent
        for conversation in await conversations.list(agent_id=agent_id, limit=1000):
            assert await conversations.get(conversation.id) == conversation
            seen["conversations"] += 1
            page = await messages.page(conversation.id, limit=1000)
            for message in page:
                assert await messages.get(message.id or 0) == message
            assert len(page) == await messages.count(conversation.id)
            seen["messages"] += len(page)
        for embedding in await embeddings.list_scoped(agent_id=agent_id, limit=1000):
            assert await embeddings.get(embedding.id) == embedding
            seen["embeddings"] += 1
        seen["agent_persona_bios"] += len(await bios.list_for_agent(agent_id, limit=1000))
        seen["user_agent_profile_metadata"] += await counters.get_by_agent_id(agent_id) is not None
    return seen


async def table_sizes(db: Database, tables: list[str]) -> dict[str, int]:
    sizes = {}
    for table in tables:
        row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
        sizes[table] = int(row["n"]) if row is not None else 0
    return sizes


@JOB_TARGETS
async def test_agent_scope_writes_only_rows_the_repositories_read_and_reports_the_rest(
    agent_scope_source: Database, target: Database
) -> None:
    dry = await run_job(AgentScopeJob(), agent_scope_source, target, dry_run=True, progress=False)
    report = await run_job(AgentScopeJob(), agent_scope_source, target, progress=False)
    assert dry.tables == report.tables

    tables = ["agents", "conversations", "messages", "embeddings"]
    assert await read_back_entities(target) == {
        **await table_sizes(target, tables),
        "agent_persona_bios": 0,
        "user_agent_profile_metadata": 0,
    }
    # Every legacy row is counted once: written, or skipped with a reason.
    assert counted(report, "agents") == len(PERSONAS)
    assert counted(report, "conversations") == len(CONVERSATIONS)
    assert counted(report, "messages") == len(MESSAGES)
    assert counted(report, "embeddings") == len(VECTORS)
    assert sorted(
        r["persona_id"] for r in await target.fetch_all("SELECT persona_id FROM agents")
    ) == sorted(["p1", "P1", "p9", "\uff50\uff18"])
    assert await all_ids(target, "conversations") == sorted(["c1", "C1", "c6"])
    assert report.table("agents").skipped == {
        "invalid persona id": 6,
        "invalid name": 2,
    }
    assert report.table("messages").skipped["invalid role"] == 1
    assert report.table("messages").skipped["invalid content"] == 1
    assert report.table("embeddings").skipped["invalid content"] == 1
    stored = await target.fetch_all(
        "SELECT client_message_id, created_at FROM messages ORDER BY client_message_id"
    )
    assert [r["client_message_id"] for r in stored] == ["M1", "m1", "m8", "m9"]
    assert {r["client_message_id"]: r["created_at"] for r in stored}["m8"] == (
        "2024-02-01T08:00:00.000000Z"
    )
    # A rerun finds everything in place, and the validation agrees with the report.
    again = await run_job(AgentScopeJob(), agent_scope_source, target, progress=False)
    assert all(again.table(t).created == 0 for t in tables)
    assert (await validate_job(AgentScopeJob(), agent_scope_source, target)).ok


@JOB_TARGETS
async def test_bluesky_profiles_writes_only_rows_the_repositories_read_and_reports_the_rest(
    bluesky_source: Database, target: Database
) -> None:
    dry = await run_job(BlueskyProfilesJob(), bluesky_source, target, dry_run=True, progress=False)
    report = await run_job(BlueskyProfilesJob(), bluesky_source, target, progress=False)
    assert dry.tables == report.tables

    tables = ["agents", "agent_persona_bios", "user_agent_profile_metadata"]
    assert await read_back_entities(target) == {
        **await table_sizes(target, tables),
        "conversations": 0,
        "messages": 0,
        "embeddings": 0,
    }
    assert counted(report, "agents") == len(PROFILES)
    assert await all_ids(target, "agents") == sorted(
        ["did:plc:alice", "did:plc:alice3", "did:plc:ivan"]
    )
    assert report.table("agents").skipped == {
        "handle belongs to another agent": 1,
        "invalid id": 3,
        "invalid name": 2,
        "invalid persona_bio": 1,
        "not a valid handle (see agentsdb.rules.identity)": 2,
    }
    repository = AgentRepository(target)
    alice = await repository.get_by_handle("@Alice")
    assert alice is not None
    assert (alice.id, alice.handle) == ("did:plc:alice", "alice")
    fullwidth = await repository.get_by_handle("alice3")
    assert fullwidth is not None
    assert fullwidth.id == "did:plc:alice3"
    assert (await validate_job(BlueskyProfilesJob(), bluesky_source, target)).ok


async def test_sessions_to_agents_writes_only_what_the_aggregate_reads_and_reports_the_rest(
    sessions_source: Database, migrated_any_db: Database
) -> None:
    dry = await run_job(
        SessionsToAgentsJob(), sessions_source, migrated_any_db, dry_run=True, progress=False
    )
    report = await run_job(SessionsToAgentsJob(), sessions_source, migrated_any_db, progress=False)
    assert dry.tables == report.tables

    sessions = counted(report, "session_history") + counted(report, "active_sessions")
    assert sessions == len(SESSIONS)
    store, read_model = AgentStore(migrated_any_db), AgentReadModel(migrated_any_db)
    streams = await migrated_any_db.fetch_all("SELECT DISTINCT stream_id FROM events")
    summaries = await migrated_any_db.fetch_all("SELECT agent_id FROM agent_summaries")
    assert len(streams) == len(summaries) == report.table("agents").created
    imported = 0
    for row in summaries:
        agent = await store.load(str(row["agent_id"]))
        summary = await read_model.get(agent.id)
        assert summary.version == agent.version
        history = await read_model.session_history(agent.id, limit=100)
        state = agent.state
        assert len(history) == len(state.session_history) + (state.active_session is not None)
        imported += len(history)
    assert imported == report.table("session_history").created + (
        report.table("active_sessions").created
    )
    owners = sorted(
        str(r["owner_user_id"])
        for r in await migrated_any_db.fetch_all("SELECT owner_user_id FROM agent_summaries")
    )
    assert owners == ["U1", "u1"]
    assert report.table("session_history").skipped == {
        "invalid user_id": 4,
        "invalid summary": 1,
        "invalid end_reason": 1,
        "invalid conversation_id": 2,
        "invalid started_at": 1,
        "invalid id": 1,
    }
    assert report.table("agents").skipped == {"no session to import": 6}
    assert (await validate_job(SessionsToAgentsJob(), sessions_source, migrated_any_db)).ok


def test_lone_surrogates_are_refused_by_the_rows_every_job_writes() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    surrogate = "a\ud800b"
    assert persona_agent(surrogate, "n", 1, agent_id="a", memory_root_id="r", now=now) == (
        "invalid persona id"
    )
    assert persona_agent("p", surrogate, 1, agent_id="a", memory_root_id="r", now=now) == (
        "invalid name"
    )
    assert conversation_row("c", surrogate, None, agent_id="a", now=now) == "invalid title"
    assert conversation_row(surrogate, "t", None, agent_id="a", now=now) == "invalid id"
    assert profile_refusal("did:x", "alice", surrogate, None, None) == "invalid name"
    assert profile_refusal("did:x", "alice", "A", None, (surrogate, "ai_generated")) == (
        "invalid persona_bio"
    )
    assert isinstance(
        judge({**legacy("s", "u", "tutor", "completed", "2024-01-01"), "summary": surrogate}), str
    )
