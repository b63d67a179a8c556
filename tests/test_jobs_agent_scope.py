"""Job 2, agent-scope, from a legacy SQLite file into every backend that takes a job's writes;
the dual-write option and scoped retrieval order on every backend."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import WriteWithoutForeignKeys
from jobs_support import (
    JOB_TARGETS,
    LEGACY_DDL,
    ORPHAN_TARGETS,
    agent_scope_state,
    make_legacy_source,
    rows,
)

import agentsdb
from agentsdb.db.base import Database
from agentsdb.jobs import AgentScopeJob, JobError, MissingSourceError, run_job, validate_job
from agentsdb.migrations import builtin_migrations, cutover_migrations
from agentsdb.models import Agent, Conversation, Message
from agentsdb.models.embedding import Embedding, EmbeddingSource
from agentsdb.repositories import AgentRepository, ConversationRepository, MessageRepository
from agentsdb.repositories.embeddings import EmbeddingRepository
from agentsdb.rules.content import message_content_hash, text_content_hash
from agentsdb.rules.ids import UuidV7Generator

PERSONAS = [("p1", "Ada", 1), ("p2", "", 0), ("p3", "Unused", None)]
CONVERSATIONS = [
    ("c1", "p1", "first", "2024-02-01 10:00:00"),
    ("c2", "p2", "second", None),
    ("c3", "nobody", "orphan", None),
]
MESSAGES = [
    ("m1", "c1", None, "user", "Hello  there", "2024-02-01 10:00:01"),
    ("m2", "c1", "p1", "assistant", "Hi!", "2024-02-01 10:00:02"),
    ("m3", "c1", None, "user", " Hello there ", "2024-02-01 10:00:03"),
    ("m4", "c2", "p2", "assistant", "Hello there", None),
    ("m5", "c3", "p1", "assistant", "lost", None),
    ("m6", None, "p1", "assistant", "nowhere", None),
    ("m7", "c2", None, "narrator", "odd role", None),
]
VECTORS = [
    ("v1", "p1", "c1", "fact one", b"\x01\x02"),
    ("v2", "p1", "gone", "fact two", b"\x03"),
    ("v3", "nobody", "c1", "fact three", None),
]


def pre_014_hash(role: str, content: str) -> str:
    """The hash the job stored before migration 014 (role, then whitespace-normalized content)."""
    return hashlib.sha256(f"{role}\n{' '.join(content.split())}".encode()).hexdigest()


@pytest.fixture
def source_path(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    make_legacy_source(path, PERSONAS, CONVERSATIONS, MESSAGES, VECTORS)
    return path


@pytest.fixture
async def source(source_path: Path) -> AsyncIterator[Database]:
    async with agentsdb.connect(str(source_path)) as database:
        yield database


@JOB_TARGETS
async def test_one_agent_per_persona_records_persona_and_memory_root(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)

    agents = await rows(
        migrated_any_db,
        "SELECT persona_id, name, status, memory_root_id IS NOT NULL FROM agents"
        " ORDER BY persona_id",
    )
    assert agents == [
        ("p1", "Ada", "active", 1),
        ("p2", "p2", "archived", 1),
        ("p3", "Unused", "active", 1),
    ]


@JOB_TARGETS
async def test_conversations_and_messages_get_their_agents_and_every_turn_is_kept(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)

    state = await agent_scope_state(migrated_any_db)
    assert state["conversations"] == [("c1", "p1", "p1", "first"), ("c2", "p2", "p2", "second")]
    assert await rows(migrated_any_db, "SELECT created_at FROM conversations WHERE id = 'c1'") == [
        ("2024-02-01T10:00:00.000000Z",)
    ]
    # m1 and m3 say the same after whitespace: two turns, each under its legacy id.
    assert state["messages"] == [
        ("c1", None, None, "user", "Hello  there", "m1"),
        ("c1", "p1", "p1", "assistant", "Hi!", "m2"),
        ("c1", None, None, "user", " Hello there ", "m3"),
        ("c2", "p2", "p2", "assistant", "Hello there", "m4"),
    ]
    assert report.tables["conversations"].skipped == {"unknown persona": 1}
    assert report.tables["messages"].skipped == {
        "unknown conversation": 1,
        "no conversation": 1,
        "invalid role": 1,
    }


@JOB_TARGETS
async def test_the_job_hashes_messages_and_vectors_by_the_models_own_rules(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)

    for role, content, sender, stored in await rows(
        migrated_any_db, "SELECT role, content, from_agent_id, content_hash FROM messages"
    ):
        assert stored == message_content_hash(role, content, [], sender)
        built = Message(conversation_id="c", role=role, content=content, from_agent_id=sender)
        assert stored == built.content_hash
    for content, stored in await rows(
        migrated_any_db, "SELECT content, content_hash FROM embeddings"
    ):
        assert (
            stored
            == text_content_hash(content)
            == Embedding(agent_id="a", content=content).content_hash
        )


@JOB_TARGETS
async def test_a_backfilled_message_appended_again_under_its_legacy_id_is_stored_once(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)
    [(agent_id,)] = await rows(migrated_any_db, "SELECT id FROM agents WHERE persona_id = 'p1'")
    [(backfilled_id,)] = await rows(
        migrated_any_db, "SELECT id FROM messages WHERE client_message_id = 'm2'"
    )
    repo = MessageRepository(migrated_any_db)

    again = await repo.append(
        Message(
            conversation_id="c1",
            from_agent_id=agent_id,
            role="assistant",
            content="Hi!",
            client_message_id="m2",
        )
    )
    unkeyed = await repo.append(
        Message(conversation_id="c1", from_agent_id=agent_id, role="assistant", content="Hi!")
    )

    assert again.id == backfilled_id
    assert unkeyed.id != backfilled_id
    assert unkeyed.content_hash == again.content_hash
    assert await repo.count("c1") == 4
    # ... and the job, run again, leaves the appended turn alone.
    rerun = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)
    assert rerun.tables["messages"].created == 0
    assert await repo.count("c1") == 4


@JOB_TARGETS
async def test_a_legacy_id_that_is_not_a_valid_key_is_skipped_by_name(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "odd_ids.db"
    make_legacy_source(
        path,
        PERSONAS,
        CONVERSATIONS,
        [("has space", "c1", None, "user", "x", None), ("ok", "c1", None, "user", "x", None)],
    )
    async with agentsdb.connect(str(path)) as odd:
        report = await run_job(AgentScopeJob(), odd, migrated_any_db, progress=False)

    assert report.tables["messages"].skipped == {"invalid id": 1}
    assert [m.client_message_id for m in await MessageRepository(migrated_any_db).page("c1")] == [
        "ok"
    ]


@JOB_TARGETS
async def test_a_rerun_adopts_the_keyless_rows_an_earlier_version_wrote_and_restores_lost_turns(
    source: Database, migrated_any_db: Database
) -> None:
    # What a run before migration 014 left: m3 collapsed into m1, no keys, the old hashes.
    db = migrated_any_db
    await run_job(AgentScopeJob(), source, db, progress=False)
    await db.execute("DELETE FROM messages WHERE client_message_id = 'm3'")
    await db.execute(
        "UPDATE messages SET client_message_id = NULL,"
        " content_hash = 'old:' || role || ':' || content"
    )
    old = {
        f"old:{role}:{content}": pre_014_hash(role, content)
        for role, content in await rows(db, "SELECT role, content FROM messages")
    }
    await db.execute_many(
        "UPDATE messages SET content_hash = :new WHERE content_hash = :placeholder",
        [{"new": new, "placeholder": placeholder} for placeholder, new in old.items()],
    )
    ids_before = await rows(migrated_any_db, "SELECT id, content FROM messages ORDER BY id")

    rerun = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)

    assert rerun.tables["messages"].created == 1  # m3, the turn the old run dropped
    assert rerun.tables["messages"].unchanged == 3
    adopted = await rows(
        migrated_any_db, "SELECT id, content, client_message_id FROM messages ORDER BY id"
    )
    assert [(i, c) for i, c, _ in adopted[:3]] == ids_before
    assert [key for _, _, key in adopted] == ["m1", "m2", "m4", "m3"]
    for role, content, sender, stored in await rows(
        migrated_any_db, "SELECT role, content, from_agent_id, content_hash FROM messages"
    ):
        assert stored == message_content_hash(role, content, [], sender)


@JOB_TARGETS
async def test_vectors_are_stamped_and_tagged_legacy_when_their_conversation_is_unknown(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)

    assert [
        (i, agent, conv, src)
        for i, agent, conv, _, _, _, src in (await agent_scope_state(migrated_any_db))["embeddings"]
    ] == [
        ("v1", "p1", "c1", "agentsdb"),
        ("v2", "p1", None, "legacy"),
    ]
    assert report.tables["embeddings"].skipped == {"unknown persona": 1}


@JOB_TARGETS
async def test_rerunning_creates_no_duplicates(source: Database, migrated_any_db: Database) -> None:
    first = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)
    before = await agent_scope_state(migrated_any_db)

    again = await run_job(AgentScopeJob(), source, migrated_any_db, batch_size=2, progress=False)

    assert await agent_scope_state(migrated_any_db) == before
    assert all(counts.created == 0 for counts in again.tables.values())
    assert again.tables["messages"].skipped == first.tables["messages"].skipped


@JOB_TARGETS
async def test_dry_run_writes_nothing_and_reports_the_real_runs_counts(
    source: Database, migrated_any_db: Database
) -> None:
    dry = await run_job(AgentScopeJob(), source, migrated_any_db, dry_run=True, batch_size=2)

    assert await agent_scope_state(migrated_any_db) == {
        "agents": [],
        "conversations": [],
        "messages": [],
        "embeddings": [],
    }
    real = await run_job(AgentScopeJob(), source, migrated_any_db, batch_size=2, progress=False)
    assert dry.counts() == real.counts()


@ORPHAN_TARGETS
async def test_validation_passes_then_catches_a_planted_orphan_message(
    source: Database,
    migrated_any_db: Database,
    write_without_foreign_keys: WriteWithoutForeignKeys,
) -> None:
    await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)
    assert (await validate_job(AgentScopeJob(), source, migrated_any_db)).ok

    await write_without_foreign_keys(
        migrated_any_db,
        "INSERT INTO messages (conversation_id, role, content, content_hash, created_at)"
        " VALUES ('no-such-conversation', 'user', 'x', 'h', 't')",
    )
    found = await validate_job(AgentScopeJob(), source, migrated_any_db)

    assert not found.ok
    assert {o.check: o.rows for o in found.orphans}["messages without a conversation"] == 1


@JOB_TARGETS
async def test_a_missing_source_column_is_named_and_nothing_is_written(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    async with agentsdb.connect(str(tmp_path / "partial.db")) as partial:
        await partial.execute("CREATE TABLE personas (id, name, is_active)")
        await partial.execute("CREATE TABLE conversations (id, persona_id, title, created_at)")
        await partial.execute("CREATE TABLE messages (id, conversation_id, role, content)")
        with pytest.raises(MissingSourceError, match=r"messages\.persona_id"):
            await run_job(AgentScopeJob(), partial, migrated_any_db, progress=False)
    assert await rows(migrated_any_db, "SELECT COUNT(*) FROM agents") == [(0,)]


@JOB_TARGETS
async def test_memory_vectors_are_optional(migrated_any_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "no_vectors.db"
    make_legacy_source(path, PERSONAS, CONVERSATIONS, MESSAGES)
    async with agentsdb.connect(str(path)) as source:
        await source.execute("DROP TABLE memory_vectors")
        report = await run_job(AgentScopeJob(), source, migrated_any_db, progress=False)
    assert "embeddings" not in report.tables
    assert report.tables["agents"].created == 3


@JOB_TARGETS
async def test_a_run_into_any_target_matches_its_dry_run_and_reads_back_scoped(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "small-legacy.db"
    make_legacy_source(
        path,
        [("p1", "Ada", 1)],
        [("c1", "p1", "t", None)],
        [
            ("m1", "c1", None, "user", "a b", None),
            ("m2", "c1", None, "user", "a  b", None),
            ("m3", "c1", "p1", "assistant", "ok", None),
        ],
        [("v1", "p1", "c1", "x", b"\x00"), ("v2", "p1", "gone", "y", None)],
    )
    target = migrated_any_db
    async with agentsdb.connect(str(path)) as source:
        dry = await run_job(AgentScopeJob(), source, target, dry_run=True)
        real = await run_job(AgentScopeJob(), source, target, batch_size=1, progress=False)
        valid = await validate_job(AgentScopeJob(), source, target)

    assert dry.counts() == real.counts()
    assert real.tables["messages"].created == 3
    assert valid.ok, valid.format()
    agent = await target.fetch_one("SELECT id FROM agents WHERE persona_id = 'p1'")
    assert agent is not None
    repo = EmbeddingRepository(target)
    await repo.create(Embedding(id="v0", agent_id=agent["id"], content="z"))
    scoped = await repo.list_scoped(agent_id=agent["id"], conversation_id="c1")
    assert [e.id for e in scoped] == ["v1", "v0", "v2"]
    assert scoped[0].embedding == b"\x00"


@JOB_TARGETS
async def test_one_database_needs_a_prefix_for_the_legacy_tables(
    migrated_any_db: Database,
) -> None:
    with pytest.raises(JobError, match="source_prefix"):
        await run_job(AgentScopeJob(), migrated_any_db, migrated_any_db, progress=False)

    for ddl in LEGACY_DDL:
        # BYTEA: a type name PostgreSQL knows and SQLite accepts (blob affinity either way).
        prefixed = ddl.replace("CREATE TABLE ", "CREATE TABLE old_", 1)
        await migrated_any_db.execute(prefixed.replace("BLOB", "BYTEA"))
    await migrated_any_db.execute("INSERT INTO old_personas VALUES ('p', 'P', 0)")
    await migrated_any_db.execute("INSERT INTO old_conversations VALUES ('c', 'p', NULL, NULL)")
    await migrated_any_db.execute(
        "INSERT INTO old_messages VALUES ('m', 'c', NULL, 'user', 'hello', NULL)"
    )

    report = await run_job(
        AgentScopeJob(source_prefix="old_"), migrated_any_db, migrated_any_db, progress=False
    )

    assert report.tables["conversations"].created == 1
    assert report.tables["messages"].created == 1


# --- dual write and retrieval order ---------------------------------------------------------


async def scoped_agent(db: Database, persona: str) -> Agent:
    agent = Agent(name=f"agent of {persona}", model="m")
    await AgentRepository(db).create(agent)
    await db.execute(
        "UPDATE agents SET persona_id = :p WHERE id = :id", {"p": persona, "id": agent.id}
    )
    return agent


async def test_dual_write_fills_the_persona_columns_of_conversations_and_messages(
    migrated_any_db: Database,
) -> None:
    agent = await scoped_agent(migrated_any_db, "persona-7")
    conversation = Conversation(agent_id=agent.id, title="t")

    await ConversationRepository(migrated_any_db, dual_write=True).create(conversation)
    stored = await MessageRepository(migrated_any_db, dual_write=True).append(
        Message(
            conversation_id=conversation.id, from_agent_id=agent.id, role="assistant", content="hi"
        )
    )

    assert await rows(migrated_any_db, "SELECT agent_id, persona_id FROM conversations") == [
        (agent.id, "persona-7")
    ]
    assert await rows(
        migrated_any_db,
        "SELECT from_agent_id, persona_id FROM messages WHERE id = :id",
        {"id": stored.id},
    ) == [(agent.id, "persona-7")]


async def test_without_dual_write_the_persona_columns_stay_empty(migrated_any_db: Database) -> None:
    agent = await scoped_agent(migrated_any_db, "persona-8")
    conversation = Conversation(agent_id=agent.id)

    await ConversationRepository(migrated_any_db).create(conversation)
    await MessageRepository(migrated_any_db).append(
        Message(conversation_id=conversation.id, from_agent_id=agent.id, role="user", content="x")
    )

    assert await rows(migrated_any_db, "SELECT persona_id FROM conversations") == [(None,)]
    assert await rows(migrated_any_db, "SELECT persona_id FROM messages") == [(None,)]


async def test_scoped_reads_return_the_conversations_embeddings_first(
    migrated_any_db: Database,
) -> None:
    agent = await scoped_agent(migrated_any_db, "p")
    talk = Conversation(agent_id=agent.id)
    await ConversationRepository(migrated_any_db).create(talk)
    repo = EmbeddingRepository(migrated_any_db)
    for key, conversation in (("a", None), ("b", talk.id), ("c", None), ("d", talk.id)):
        await repo.create(
            Embedding(id=key, agent_id=agent.id, conversation_id=conversation, content=key)
        )

    scoped = await repo.list_scoped(agent_id=agent.id, conversation_id=talk.id)
    first_two = await repo.list_scoped(agent_id=agent.id, conversation_id=talk.id, limit=2)

    assert [e.id for e in scoped] == ["b", "d", "a", "c"]
    assert [e.id for e in first_two] == ["b", "d"]


async def test_scoped_reads_fall_back_to_the_agent_without_conversation_matches(
    migrated_any_db: Database,
) -> None:
    agent = await scoped_agent(migrated_any_db, "p")
    other = await scoped_agent(migrated_any_db, "q")
    repo = EmbeddingRepository(migrated_any_db)
    await repo.create(
        Embedding(id="x", agent_id=agent.id, content="x", source=EmbeddingSource.LEGACY)
    )
    await repo.create(Embedding(id="y", agent_id=other.id, content="y"))

    fallback = await repo.list_scoped(agent_id=agent.id, conversation_id="unknown")
    agent_only = await repo.list_scoped(agent_id=agent.id)

    assert [(e.id, e.source) for e in fallback] == [("x", EmbeddingSource.LEGACY)]
    assert [e.id for e in agent_only] == ["x"]


async def test_the_cutover_migration_applies_on_request_and_drops_the_persona_columns(
    migrated_any_db: Database,
) -> None:
    assert "010" not in [m.id for m in builtin_migrations()]
    migrator = agentsdb.Migrator(migrated_any_db, [*builtin_migrations(), *cutover_migrations()])

    # Built-in migrations numbered after 010 (the event store, 011) are applied already.
    applied = await migrator.migrate(allow_out_of_order=True)

    assert [r.migration_id for r in applied] == ["010"]
    assert "persona_id" not in await migrated_any_db.table_columns("conversations")
    assert "persona_id" not in await migrated_any_db.table_columns("messages")
    await migrator.rollback_last()
    assert "persona_id" in await migrated_any_db.table_columns("messages")
    assert "persona_id" in await migrated_any_db.table_columns("conversations")


@JOB_TARGETS
async def test_the_clock_and_id_generator_passed_in_stamp_and_key_the_rows(
    source: Database, migrated_any_db: Database
) -> None:
    moment = datetime(2025, 6, 1, 12, tzinfo=UTC)
    ids = UuidV7Generator(clock_ns=lambda: 1_000_000 * 1_000_000, random_bits=lambda: 0)
    job = AgentScopeJob(clock=lambda: moment, new_id=ids)
    await run_job(job, source, migrated_any_db, progress=False)

    agents = await migrated_any_db.fetch_all(
        "SELECT id, memory_root_id, created_at, updated_at FROM agents ORDER BY persona_id"
    )
    # Personas are read in id order, and each takes two ids: its agent's, then its memory root.
    again = UuidV7Generator(clock_ns=lambda: 1_000_000 * 1_000_000, random_bits=lambda: 0)
    assert [agents[0]["id"], agents[0]["memory_root_id"]] == [again(), again()]
    assert {a["created_at"] for a in agents} == {"2025-06-01T12:00:00.000000Z"}
    untimed = await migrated_any_db.fetch_one(
        "SELECT created_at FROM conversations WHERE id = 'c2'"
    )
    assert untimed == {"created_at": "2025-06-01T12:00:00.000000Z"}
