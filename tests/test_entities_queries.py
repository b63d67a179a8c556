"""The SQL constants: each runs unchanged on plain sqlite3 and on every backend, returns the
columns the models read, and pages by an index."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agentsdb.db.base import Database
from agentsdb.models import (
    Agent,
    AgentUpdate,
    Conversation,
    ConversationUpdate,
    Memory,
    MemoryUpdate,
    Message,
    PersonaBio,
    ProfileMetadata,
    Session,
    SessionLog,
    SessionLogUpdate,
    SessionUpdate,
    User,
    UserUpdate,
    format_ts,
    now,
)
from agentsdb.queries import (
    ALL_QUERIES,
    AgentQueries,
    ConversationQueries,
    MemoryQueries,
    MessageQueries,
    PersonaBioQueries,
    ProfileMetadataQueries,
    SessionLogQueries,
    SessionQueries,
    UserQueries,
    constants,
)

PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _sample_params() -> dict[type, dict[str, Any]]:
    """One parameter set per query class, valid for every constant of the class."""
    user = User(id="user-1", email="ada@example.com", user_data={"plan": "pro"})
    agent = Agent(id="agent-1", name="Ada", model="gpt-main", handle="ada.example")
    session = Session(
        id="session-1",
        main_agent_id=agent.id,
        user_id=user.id,
        model="override",
        external_session_id="thread-1",
    )
    log = SessionLog(session_id=session.id, role="user", type="message", content={"text": "hi"})
    memory = Memory(id="memory-1", name="tone", content="dry", agent_id=agent.id)
    conversation = Conversation(id="conversation-1", agent_id=agent.id, user_id=user.id)
    message = Message(
        conversation_id=conversation.id, role="user", content="hello", client_message_id="c-1"
    )
    bio = PersonaBio(agent_id=agent.id, persona_bio="Curious.", persona_bio_source="ai_generated")
    counts = ProfileMetadata(agent_id=agent.id, followers_count=3)
    moment = format_ts(now())
    page = {"after": "", "limit": 10}

    def merged(update: dict[str, Any], row: dict[str, Any], **extra: Any) -> dict[str, Any]:
        # The row's values win over an update's unset (None) ones; the set_ flags stay.
        return {**update, **row, "updated_at": moment, **extra}

    return {
        UserQueries: merged(
            UserUpdate(phone_number="+15550100").to_params(), user.to_params(), **page
        ),
        AgentQueries: merged(
            AgentUpdate(display_name="Ada L.").to_params(),
            agent.to_params(),
            **page,
        ),
        PersonaBioQueries: merged({}, bio.to_params(), id=1, limit=10),
        ProfileMetadataQueries: merged({}, counts.to_params()),
        SessionQueries: merged(
            SessionUpdate(user_goal="ship").to_params(),
            session.to_params(),
            finished_at=moment,
            **page,
        ),
        SessionLogQueries: merged(
            SessionLogUpdate(metadata={"seen": True}).to_params(),
            log.to_params(),
            id=1,
            after=0,
            limit=10,
        ),
        MemoryQueries: merged(
            MemoryUpdate(content="drier").to_params(), memory.to_params(), user_id=None, **page
        ),
        ConversationQueries: merged(
            ConversationUpdate(title="Hello").to_params(), conversation.to_params(), **page
        ),
        MessageQueries: merged(
            {}, message.to_params(), id=1, after=0, limit=10, from_agent_id=agent.id
        ),
    }


#: Parameters one constant needs beyond its class's sample.
OVERRIDES: dict[tuple[type, str], dict[str, Any]] = {
    (AgentQueries, "archive"): {
        "archived_at": "2026-11-22T12:00:00.000000Z",
        "archive_reason": "retired",
    },
}


def _phase(name: str) -> int:
    if name.startswith(("insert", "upsert")):
        return 0
    if name.startswith("delete"):
        return 2
    return 1


def _all_constants() -> Iterator[tuple[type, str, str]]:
    for queries in ALL_QUERIES:
        for name, sql in constants(queries).items():
            yield queries, name, sql


@pytest.fixture
def migrated_file(migrated_db: Database, db_path: Path) -> Path:
    """The path of a migrated database (the async connection stays open beside sqlite3)."""
    return db_path


def _in_running_order() -> list[tuple[type, str, str]]:
    """Every constant, inserts first (parents before children), reads and updates next, deletes
    last (children before parents), so every constant runs against real rows."""
    return sorted(
        _all_constants(),
        key=lambda item: (
            _phase(item[1]),
            ALL_QUERIES.index(item[0]) * (-1 if _phase(item[1]) == 2 else 1),
        ),
    )


def _must_return_a_row(name: str, sql: str) -> bool:
    return name.startswith(("get_", "check_exists", "count")) or "RETURNING" in sql


def test_every_query_constant_runs_unchanged_on_plain_sqlite3(migrated_file: Path) -> None:
    samples = _sample_params()
    ran: list[str] = []
    with closing(sqlite3.connect(migrated_file)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.row_factory = sqlite3.Row
        for queries, name, sql in _in_running_order():
            params = {**samples[queries], **OVERRIDES.get((queries, name), {})}
            missing = set(PARAMETER.findall(sql)) - set(params)
            assert not missing, f"{queries.__name__}.{name} needs {missing}"
            rows = conn.execute(sql, params).fetchall()
            conn.commit()
            if _must_return_a_row(name, sql):
                assert rows, f"{queries.__name__}.{name} returned no row"
            ran.append(f"{queries.__name__}.{name}")
        assert conn.execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 0
    assert len(ran) == sum(len(constants(q)) for q in ALL_QUERIES)


async def test_every_query_constant_runs_unchanged_on_every_backend(
    migrated_any_db: Database,
) -> None:
    """Portable SQL, proven by running it: each constant, as written, through every backend's
    Database (which translates only the ``:name`` placeholders)."""
    samples = _sample_params()
    ran: list[str] = []
    for queries, name, sql in _in_running_order():
        params = {**samples[queries], **OVERRIDES.get((queries, name), {})}
        used = {key: params[key] for key in PARAMETER.findall(sql)}
        rows = await migrated_any_db.fetch_all(sql, used)
        if _must_return_a_row(name, sql):
            assert rows, f"{queries.__name__}.{name} returned no row"
        ran.append(f"{queries.__name__}.{name}")
    assert await migrated_any_db.fetch_one("SELECT COUNT(*) AS n FROM agents") == {"n": 0}
    assert len(ran) == sum(len(constants(q)) for q in ALL_QUERIES)


def test_query_constants_return_the_columns_the_models_read(migrated_file: Path) -> None:
    expected = {
        AgentQueries: set(Agent.model_fields),
        UserQueries: set(User.model_fields),
        SessionQueries: set(Session.model_fields),
        SessionLogQueries: set(SessionLog.model_fields),
        MemoryQueries: set(Memory.model_fields),
        ConversationQueries: set(Conversation.model_fields),
        MessageQueries: set(Message.model_fields),
        PersonaBioQueries: set(PersonaBio.model_fields),
        ProfileMetadataQueries: set(ProfileMetadata.model_fields),
    }
    for queries, fields in expected.items():
        assert {c.strip() for c in queries.columns.split(",")} == fields, queries.__name__


KEYSET_PAGES = [
    (AgentQueries.list, "agents"),
    (AgentQueries.list_active, "agents"),
    (UserQueries.list, "users"),
    (SessionQueries.list_with_limit, "sessions"),
    (SessionQueries.list_by_agent, "sessions"),
    (SessionQueries.list_by_user, "sessions"),
    (SessionQueries.get_by_status, "sessions"),
    (SessionLogQueries.get_by_session_id_with_pagination, "session_logs"),
    (MemoryQueries.list_by_agent, "memories"),
    (MemoryQueries.list_by_user, "memories"),
    (ConversationQueries.list_by_agent, "conversations"),
    (ConversationQueries.list_by_user, "conversations"),
    (MessageQueries.list_by_conversation, "messages"),
    (MessageQueries.list_by_agent, "messages"),
]


@pytest.mark.parametrize(("sql", "table"), KEYSET_PAGES)
def test_keyset_pages_seek_an_index_and_never_sort(
    migrated_file: Path, sql: str, table: str
) -> None:
    assert "OFFSET" not in sql.upper()
    params = {name: "x" for name in PARAMETER.findall(sql)}
    params["limit"] = 10
    with closing(sqlite3.connect(migrated_file)) as conn:
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert f"SEARCH {table}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
