"""Hostile text through every string parameter of every repository method, on every backend.

For each call the contract is: either it is accepted (a write reads back equal to what was
written), or it is refused with an ``AgentsDBError`` subclass whose message stays short; a
``ValidationError`` is raised before anything reaches the database, and a refused write leaves
the database unchanged. Every backend gives the same outcome for the same call: each run compares
its outcomes with those of the backends that ran before it in this test session.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from entities_support import RecordingDatabase, Repos, repos_for

from agentsdb.db.base import Database
from agentsdb.errors import AgentsDBError, ValidationError
from agentsdb.models import (
    Agent,
    AgentUpdate,
    Conversation,
    ConversationUpdate,
    Embedding,
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
)
from agentsdb.repositories import EmbeddingRepository

#: One representative of each kind of hostile text.
CORPUS: dict[str, str] = {
    "empty": "",
    "space": " ",
    "whitespace": " \t\n",
    "lone-surrogate": "\ud800",
    "surrogate-inside": "a\udfffb",
    "nul": "a\x00b",
    "1mb": "x" * 1_000_000,
    "300-chars": "k" * 300,
    "3000-two-byte-chars": "é" * 3000,
    "sql-quote": "'; DROP TABLE agents; --",
    "sql-or": '" OR 1=1 --',
    "like-wildcards": "%_\\",
    "placeholders": ":id $1 ?",
    "nfd": "jose\u0301",
    "kelvin-sign": "\u212aate",
    "bidi-bom-zwj": "\u202e\ufeff\u200d",
    "astral": "\U0001f642",
    "email-kelvin": "\u212aate@example.com",
    "email-nfd": "jose\u0301@example.com",
}

#: For parameters that only select rows (ids, cursors, lookups): one of each kind, enough to
#: reach each rule, where storing nothing leaves less to differ between backends.
LOOKUP_CORPUS = (
    "empty",
    "whitespace",
    "lone-surrogate",
    "nul",
    "1mb",
    "300-chars",
    "sql-quote",
    "kelvin-sign",
    "email-kelvin",
    "astral",
)

#: The longest message a refusal may have (a 1 MB value must not give a 1 MB message); a
#: database's refusal also shows the statement (cut to 200 characters).
MAX_MESSAGE = 600
#: A message shows at most a short prefix of the value: never this many of its first characters.
QUOTED_AT_MOST = 100

_TABLES = (
    "agents",
    "users",
    "sessions",
    "session_logs",
    "memories",
    "conversations",
    "agent_persona_bios",
    "user_agent_profile_metadata",
)
_FINGERPRINT = "SELECT " + ", ".join(
    [
        f"(SELECT COUNT(*) FROM {t}) AS n_{t}, (SELECT MAX(updated_at) FROM {t}) AS u_{t}"
        for t in _TABLES
    ]
    + [f"(SELECT COUNT(*) FROM {t}) AS n_{t}" for t in ("messages", "embeddings")]
)


@dataclass
class World:
    """Seeded rows and the repositories, on a database that records what reaches it."""

    db: Database
    recorder: RecordingDatabase
    repos: Repos
    embeddings: EmbeddingRepository
    agent: Agent
    user: User
    session: Session
    conversation: Conversation
    memory: Memory
    log: SessionLog


Call = Callable[[World, str], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    name: str
    call: Call
    writes: bool
    lookup: bool = False

    def corpus(self) -> dict[str, str]:
        if self.lookup:
            return {label: CORPUS[label] for label in LOOKUP_CORPUS}
        return CORPUS


def fresh() -> str:
    return str(uuid.uuid4())


def shaped(kind: str, value: str) -> Any:
    """The hostile text in the shape a field takes."""
    return {
        "text": value,
        "list": [value],
        "json-value": {"k": value},
        "json-key": {value: 1},
        "json-list": [{"k": value}],
    }[kind]


# --- the cases: every string parameter of every repository method ------------------------------


def reads() -> Iterator[Case]:
    def case(name: str, call: Call) -> Case:
        return Case(name, call, writes=False, lookup=True)

    yield case("agents.get", lambda w, v: w.repos.agents.get(v))
    yield case("agents.get_by_handle", lambda w, v: w.repos.agents.get_by_handle(v))
    yield case("agents.get_by_name", lambda w, v: w.repos.agents.get_by_name(v))
    yield case("agents.list.after", lambda w, v: w.repos.agents.list(after=v))
    yield case("agents.exists", lambda w, v: w.repos.agents.exists(v))
    yield case("users.get", lambda w, v: w.repos.users.get(v))
    yield case("users.get_by_email", lambda w, v: w.repos.users.get_by_email(v))
    yield case("users.list.after", lambda w, v: w.repos.users.list(after=v))
    yield case("sessions.get", lambda w, v: w.repos.sessions.get(v))
    yield case("sessions.get_with_agent", lambda w, v: w.repos.sessions.get_with_agent(v))
    yield case("sessions.get_by_external_id", lambda w, v: w.repos.sessions.get_by_external_id(v))
    yield case("sessions.list.agent_id", lambda w, v: w.repos.sessions.list(agent_id=v))
    yield case("sessions.list.user_id", lambda w, v: w.repos.sessions.list(user_id=v))
    yield case("sessions.list.status", lambda w, v: w.repos.sessions.list(status=v))
    yield case("sessions.list.after", lambda w, v: w.repos.sessions.list(after=v))
    yield case("logs.page", lambda w, v: w.repos.logs.page(v))
    yield case("logs.latest", lambda w, v: w.repos.logs.latest(v))
    yield case("logs.tree", lambda w, v: w.repos.logs.tree(v))
    yield case("logs.count", lambda w, v: w.repos.logs.count(v))
    yield case("memories.get", lambda w, v: w.repos.memories.get(v))
    yield case(
        "memories.get_by_name.name",
        lambda w, v: w.repos.memories.get_by_name(v, agent_id=w.agent.id),
    )
    yield case(
        "memories.get_by_name.agent_id", lambda w, v: w.repos.memories.get_by_name("n", agent_id=v)
    )
    yield case(
        "memories.get_by_name.user_id",
        lambda w, v: w.repos.memories.get_by_name("n", agent_id=w.agent.id, user_id=v),
    )
    yield case("memories.list.agent_id", lambda w, v: w.repos.memories.list(agent_id=v))
    yield case("memories.list.user_id", lambda w, v: w.repos.memories.list(user_id=v))
    yield case(
        "memories.list.read_mode",
        lambda w, v: w.repos.memories.list(agent_id=w.agent.id, read_mode=v),
    )
    yield case(
        "memories.list.after", lambda w, v: w.repos.memories.list(agent_id=w.agent.id, after=v)
    )
    yield case(
        "memories.list_visible.agent_id",
        lambda w, v: w.repos.memories.list_visible(agent_id=v, user_id=w.user.id),
    )
    yield case(
        "memories.list_visible.user_id",
        lambda w, v: w.repos.memories.list_visible(agent_id=w.agent.id, user_id=v),
    )
    yield case(
        "memories.list_visible.read_mode",
        lambda w, v: w.repos.memories.list_visible(
            agent_id=w.agent.id, user_id=w.user.id, read_mode=v
        ),
    )
    yield case(
        "memories.list_visible.after",
        lambda w, v: w.repos.memories.list_visible(agent_id=w.agent.id, user_id=w.user.id, after=v),
    )
    yield case("conversations.get", lambda w, v: w.repos.conversations.get(v))
    yield case("conversations.list.agent_id", lambda w, v: w.repos.conversations.list(agent_id=v))
    yield case("conversations.list.user_id", lambda w, v: w.repos.conversations.list(user_id=v))
    yield case(
        "conversations.list.after",
        lambda w, v: w.repos.conversations.list(agent_id=w.agent.id, after=v),
    )
    yield case("messages.page", lambda w, v: w.repos.messages.page(v))
    yield case("messages.list_by_agent", lambda w, v: w.repos.messages.list_by_agent(v))
    yield case("messages.count", lambda w, v: w.repos.messages.count(v))
    yield case("bios.get_latest", lambda w, v: w.repos.bios.get_latest(v))
    yield case("bios.list_for_agent", lambda w, v: w.repos.bios.list_for_agent(v))
    yield case("profiles.get_by_agent_id", lambda w, v: w.repos.profiles.get_by_agent_id(v))
    yield case("embeddings.get", lambda w, v: w.embeddings.get(v))
    yield case("embeddings.list_scoped.agent_id", lambda w, v: w.embeddings.list_scoped(agent_id=v))
    yield case(
        "embeddings.list_scoped.conversation_id",
        lambda w, v: w.embeddings.list_scoped(agent_id=w.agent.id, conversation_id=v),
    )


def id_writes() -> Iterator[Case]:
    """Writes addressed by a hostile id: refused, or NotFoundError (nothing has that id)."""

    def case(name: str, call: Call) -> Case:
        return Case(name, call, writes=True, lookup=True)

    yield case("agents.update.agent_id", lambda w, v: w.repos.agents.update(v, AgentUpdate()))
    yield case("agents.archive.agent_id", lambda w, v: w.repos.agents.archive(v))
    yield case("agents.restore.agent_id", lambda w, v: w.repos.agents.restore(v))
    yield case("agents.delete", lambda w, v: w.repos.agents.delete(v))
    yield case("users.update.user_id", lambda w, v: w.repos.users.update(v, UserUpdate()))
    yield case("users.delete", lambda w, v: w.repos.users.delete(v))
    yield case(
        "sessions.update.session_id", lambda w, v: w.repos.sessions.update(v, SessionUpdate())
    )
    yield case(
        "sessions.update_status.session_id",
        lambda w, v: w.repos.sessions.update_status(v, "running"),
    )
    yield case("sessions.finish.session_id", lambda w, v: w.repos.sessions.finish(v))
    yield case("sessions.delete", lambda w, v: w.repos.sessions.delete(v))
    yield case("logs.delete_for_session", lambda w, v: w.repos.logs.delete_for_session(v))
    yield case("memories.update.memory_id", lambda w, v: w.repos.memories.update(v, MemoryUpdate()))
    yield case("memories.delete", lambda w, v: w.repos.memories.delete(v))
    yield case(
        "conversations.update.conversation_id",
        lambda w, v: w.repos.conversations.update(v, ConversationUpdate()),
    )
    yield case("conversations.delete", lambda w, v: w.repos.conversations.delete(v))


async def _update_status(w: World, v: str) -> None:
    stored = await w.repos.sessions.update_status(w.session.id, v)
    assert await w.repos.sessions.get(w.session.id) == stored


async def _finish(w: World, v: str) -> None:
    stored = await w.repos.sessions.finish(w.session.id, v)
    assert await w.repos.sessions.get(w.session.id) == stored


async def _archive_reason(w: World, v: str) -> None:
    stored = await w.repos.agents.archive(w.agent.id, v)
    assert stored.archive_reason == v
    assert await w.repos.agents.get(w.agent.id) == stored
    await w.repos.agents.restore(w.agent.id)


def value_writes() -> Iterator[Case]:
    """Writes of a hostile value into a seeded row; accepted ones read back as written."""
    yield Case("sessions.update_status.status", _update_status, writes=True)
    yield Case("sessions.finish.status", _finish, writes=True)
    yield Case("agents.archive.reason", _archive_reason, writes=True)


# Fields of the models the repositories take, with the shape hostile text takes in each.
_AGENT_FIELDS = {
    "id": "text",
    "type": "text",
    "name": "text",
    "description": "text",
    "avatar": "text",
    "instructions": "text",
    "model": "text",
    "plan_model": "text",
    "small_model": "text",
    "handle": "text",
    "display_name": "text",
    "owner_user_id": "text",
    "mcps": "list",
    "accessible_paths": "list",
    "built_in_tools": "json-list",
    "knowledges": "list",
    "configuration": "json-value",
    "configuration ": "json-key",
}
_AGENT_UPDATE_FIELDS = {k: v for k, v in _AGENT_FIELDS.items() if k not in ("id",)}
_USER_FIELDS = {
    "id": "text",
    "email": "text",
    "phone_number": "text",
    "user_data": "json-value",
    "user_data ": "json-key",
}
_USER_UPDATE_FIELDS = {"email": "text", "user_data": "json-value"}
_SESSION_FIELDS = {
    "id": "text",
    "name": "text",
    "main_agent_id": "text",
    "sub_agent_ids": "list",
    "user_goal": "text",
    "external_session_id": "text",
    "instructions": "text",
    "model": "text",
    "plan_model": "text",
    "small_model": "text",
    "built_in_tools": "json-list",
    "mcps": "list",
    "knowledges": "list",
    "configuration": "json-value",
    "accessible_paths": "list",
    "permission_mode": "text",
    "user_id": "text",
    "platform": "text",
    "status": "text",
}
_SESSION_UPDATE_FIELDS = {
    k: v for k, v in _SESSION_FIELDS.items() if k not in ("id", "main_agent_id")
}
_MEMORY_FIELDS = {
    "id": "text",
    "name": "text",
    "content": "text",
    "description": "text",
    "agent_id": "text",
    "user_id": "text",
    "session_id": "text",
    "read_mode": "text",
    "access": "text",
    "metadata": "json-value",
}
_MEMORY_UPDATE_FIELDS = {
    k: v for k, v in _MEMORY_FIELDS.items() if k not in ("id", "agent_id", "user_id")
}
_CONVERSATION_FIELDS = {"id": "text", "agent_id": "text", "user_id": "text", "title": "text"}
_LOG_FIELDS = {
    "session_id": "text",
    "role": "text",
    "type": "text",
    "content": "text",
    "content ": "json-value",
    "metadata": "json-key",
}
_MESSAGE_FIELDS = {
    "conversation_id": "text",
    "from_agent_id": "text",
    "role": "text",
    "content": "text",
    "content_hash": "text",
    "tool_calls": "json-list",
}
_BIO_FIELDS = {"agent_id": "text", "persona_bio": "text", "persona_bio_source": "text"}
_EMBEDDING_FIELDS = {
    "id": "text",
    "agent_id": "text",
    "conversation_id": "text",
    "content": "text",
    "content_hash": "text",
    "source": "text",
}


def field_cases(
    prefix: str,
    fields: dict[str, str],
    write: Callable[[World, str, Any], Awaitable[None]],
) -> Iterator[Case]:
    for label, kind in fields.items():
        field = label.strip()

        def call(w: World, v: str, field: str = field, kind: str = kind) -> Awaitable[None]:
            return write(w, field, shaped(kind, v))

        yield Case(f"{prefix}.{label.replace(' ', '~key')}", call, writes=True)


async def _agent(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {"name": "Ada", "model": "m", field: value}
    agent = Agent(**fields)
    await w.repos.agents.create(agent)
    assert await w.repos.agents.get(agent.id) == agent
    await w.repos.agents.delete(agent.id)


async def _agent_upsert(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {"name": "Ada", "model": "m", field: value}
    agent = Agent(**fields)
    stored = await w.repos.agents.create_or_update(agent)
    assert await w.repos.agents.get(agent.id) == stored
    assert getattr(stored, field) == getattr(agent, field)
    await w.repos.agents.delete(agent.id)


async def _agent_update(w: World, field: str, value: Any) -> None:
    changes = AgentUpdate(**{field: value})
    stored = await w.repos.agents.update(w.agent.id, changes)
    assert getattr(stored, field) == getattr(changes, field)
    assert await w.repos.agents.get(w.agent.id) == stored


async def _user(w: World, field: str, value: Any) -> None:
    user = User(**{field: value})
    await w.repos.users.create(user)
    assert await w.repos.users.get(user.id) == user
    await w.repos.users.delete(user.id)


async def _user_update(w: World, field: str, value: Any) -> None:
    changes = UserUpdate(**{field: value})
    stored = await w.repos.users.update(w.user.id, changes)
    assert getattr(stored, field) == getattr(changes, field)
    assert await w.repos.users.get(w.user.id) == stored


async def _session(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {"main_agent_id": w.agent.id, field: value}
    session = Session(**fields)
    await w.repos.sessions.create(session)
    assert await w.repos.sessions.get(session.id) == session
    await w.repos.sessions.delete(session.id)


async def _session_update(w: World, field: str, value: Any) -> None:
    changes = SessionUpdate(**{field: value})
    stored = await w.repos.sessions.update(w.session.id, changes)
    assert getattr(stored, field) == getattr(changes, field)
    assert await w.repos.sessions.get(w.session.id) == stored


async def _memory(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {"name": fresh(), "content": "c", "agent_id": w.agent.id}
    memory = Memory(**{**fields, field: value})
    await w.repos.memories.create(memory)
    assert await w.repos.memories.get(memory.id) == memory
    await w.repos.memories.delete(memory.id)


async def _memory_update(w: World, field: str, value: Any) -> None:
    changes = MemoryUpdate(**{field: value})
    stored = await w.repos.memories.update(w.memory.id, changes)
    assert getattr(stored, field) == getattr(changes, field)
    assert await w.repos.memories.get(w.memory.id) == stored


async def _conversation(w: World, field: str, value: Any) -> None:
    conversation = Conversation(**{"agent_id": w.agent.id, field: value})
    await w.repos.conversations.create(conversation)
    assert await w.repos.conversations.get(conversation.id) == conversation
    await w.repos.conversations.delete(conversation.id)


async def _conversation_update(w: World, field: str, value: Any) -> None:
    changes = ConversationUpdate(**{field: value})
    stored = await w.repos.conversations.update(w.conversation.id, changes)
    assert await w.repos.conversations.get(w.conversation.id) == stored


def _log(w: World, field: str, value: Any) -> SessionLog:
    fields: dict[str, Any] = {
        "session_id": w.session.id,
        "role": "user",
        "type": "message",
        "content": "hello",
    }
    return SessionLog(**{**fields, field: value})


async def _log_append(w: World, field: str, value: Any) -> None:
    log = await w.repos.logs.append(_log(w, field, value))
    assert log.id is not None
    assert await w.repos.logs.get(log.id) == log


async def _log_append_many(w: World, field: str, value: Any) -> None:
    (log,) = await w.repos.logs.append_many([_log(w, field, value)])
    assert log.id is not None
    assert await w.repos.logs.get(log.id) == log


async def _log_update(w: World, field: str, value: Any) -> None:
    assert w.log.id is not None
    stored = await w.repos.logs.update(w.log.id, SessionLogUpdate(**{field: value}))
    assert await w.repos.logs.get(w.log.id) == stored


async def _message(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "conversation_id": w.conversation.id,
        "role": "user",
        "content": fresh(),
    }
    message = Message(**{**fields, field: value})
    stored = await w.repos.messages.append(message)
    assert stored.id is not None
    assert stored in await w.repos.messages.page(message.conversation_id, limit=10_000)


async def _bio(w: World, field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "agent_id": w.agent.id,
        "persona_bio": "bio",
        "persona_bio_source": "ai_generated",
    }
    stored = await w.repos.bios.create(PersonaBio(**{**fields, field: value}))
    assert await w.repos.bios.get_latest(stored.agent_id) == stored


async def _profile(w: World, field: str, value: Any) -> None:
    stored = await w.repos.profiles.create_or_update(ProfileMetadata(**{field: value}))
    assert await w.repos.profiles.get_by_agent_id(stored.agent_id) == stored


async def _embedding(w: World, field: str, value: Any) -> None:
    embedding = Embedding(**{"agent_id": w.agent.id, "content": "c", field: value})
    await w.embeddings.create(embedding)
    assert await w.embeddings.get(embedding.id) == embedding


def model_writes() -> Iterator[Case]:
    yield from field_cases("agents.create", _AGENT_FIELDS, _agent)
    yield from field_cases("agents.create_or_update", _AGENT_FIELDS, _agent_upsert)
    yield from field_cases("agents.update", _AGENT_UPDATE_FIELDS, _agent_update)
    yield from field_cases("users.create", _USER_FIELDS, _user)
    yield from field_cases(
        "users.update", {"email": "text", "user_data": "json-value"}, _user_update
    )
    yield from field_cases("sessions.create", _SESSION_FIELDS, _session)
    yield from field_cases("sessions.update", _SESSION_UPDATE_FIELDS, _session_update)
    yield from field_cases("memories.create", _MEMORY_FIELDS, _memory)
    yield from field_cases("memories.update", _MEMORY_UPDATE_FIELDS, _memory_update)
    yield from field_cases("conversations.create", _CONVERSATION_FIELDS, _conversation)
    yield from field_cases("conversations.update", {"title": "text"}, _conversation_update)
    yield from field_cases("logs.append", _LOG_FIELDS, _log_append)
    yield from field_cases("logs.append_many", {"content": "json-value"}, _log_append_many)
    yield from field_cases(
        "logs.update", {"content": "json-value", "metadata": "json-key"}, _log_update
    )
    yield from field_cases("messages.append", _MESSAGE_FIELDS, _message)
    yield from field_cases("bios.create", _BIO_FIELDS, _bio)
    yield from field_cases("profiles.create_or_update", {"agent_id": "text"}, _profile)
    yield from field_cases("embeddings.create", _EMBEDDING_FIELDS, _embedding)


CASES = [*reads(), *id_writes(), *value_writes(), *model_writes()]


# --- the test --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def outcomes_by_backend() -> dict[str, dict[tuple[str, str], str]]:
    """Each backend's outcomes, so later backends compare theirs with the earlier ones."""
    return {}


async def seeded_world(db: Database) -> World:
    recorder = RecordingDatabase(db)
    repos = repos_for(recorder)
    agent = await repos.agents.create(Agent(name="Ada", model="m"))
    user = await repos.users.create(User(email="ada@example.com"))
    session = await repos.sessions.create(Session(main_agent_id=agent.id, user_id=user.id))
    conversation = await repos.conversations.create(
        Conversation(agent_id=agent.id, user_id=user.id)
    )
    memory = await repos.memories.create(Memory(name="m", content="c", agent_id=agent.id))
    log = await repos.logs.append(
        SessionLog(session_id=session.id, role="user", type="message", content="hi")
    )
    return World(
        db=db,
        recorder=recorder,
        repos=repos,
        embeddings=EmbeddingRepository(recorder),
        agent=agent,
        user=user,
        session=session,
        conversation=conversation,
        memory=memory,
        log=log,
    )


async def fingerprint(db: Database) -> dict[str, Any]:
    row = await db.fetch_one(_FINGERPRINT)
    assert row is not None
    return dict(row)


def forget(recorder: RecordingDatabase) -> None:
    recorder.statements.clear()
    recorder.operations.clear()
    recorder.programs = 0


async def test_hostile_text_is_stored_as_given_or_refused_before_sql_alike_on_every_backend(
    migrated_any_db: Database,
    backend: str,
    outcomes_by_backend: dict[str, dict[tuple[str, str], str]],
) -> None:
    world = await seeded_world(migrated_any_db)
    outcomes: dict[tuple[str, str], str] = {}
    problems: list[str] = []
    state = await fingerprint(migrated_any_db)
    for case in CASES:
        for label, value in case.corpus().items():
            where = f"{case.name}[{label}]"
            forget(world.recorder)
            try:
                await case.call(world, value)
            except AgentsDBError as error:
                outcome = type(error).__name__
                message = str(error)
                if len(message) >= MAX_MESSAGE:
                    problems.append(f"{where}: {outcome} message of {len(message)} chars")
                if len(value) >= QUOTED_AT_MOST and value[:QUOTED_AT_MOST] in message:
                    problems.append(f"{where}: {outcome} message quotes the value")
                if isinstance(error, ValidationError) and world.recorder.touched:
                    problems.append(f"{where}: ValidationError after SQL was sent")
                # A call that sent nothing changed nothing; one that did must have changed nothing.
                touched = case.writes and world.recorder.touched
                if touched and await fingerprint(migrated_any_db) != state:
                    problems.append(f"{where}: {outcome} but the database changed")
            except Exception as error:  # the contract is broken: record it, keep going
                outcome = f"raw {type(error).__name__}"
                problems.append(f"{where}: {outcome}: {str(error)[:200]}")
            else:
                outcome = "accepted"
                if case.writes:
                    state = await fingerprint(migrated_any_db)
            outcomes[(case.name, label)] = outcome
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
    assert len(outcomes) == sum(len(case.corpus()) for case in CASES)
    for other, theirs in outcomes_by_backend.items():
        differ = [
            f"{name}[{label}]: {outcome} here, {theirs[(name, label)]} on {other}"
            for (name, label), outcome in outcomes.items()
            if theirs[(name, label)] != outcome
        ]
        assert not differ, "\n".join(differ[:40])
    outcomes_by_backend[backend] = outcomes
    # The corpus did reach both sides of the contract.
    assert "accepted" in outcomes.values()
    assert "ValidationError" in outcomes.values()
