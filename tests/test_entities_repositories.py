"""The repositories on every backend of ``migrated_any_db`` (a temp-file SQLite database and a
fresh PostgreSQL database): the rules every one of them follows, cascades, configuration
inheritance, bios, memories, messages and keyset pages.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from entities_support import (
    RecordingDatabase,
    Repos,
    count_in,
    make_agent,
    repos_for,
    stored_agent,
    stored_session,
    stored_user,
)
from pydantic import ValidationError

from agentsdb.db.base import Database
from agentsdb.errors import (
    CheckViolationError,
    ForeignKeyViolationError,
    NotFoundError,
    UniqueViolationError,
)
from agentsdb.models import (
    Agent,
    AgentStatus,
    AgentUpdate,
    Conversation,
    ConversationUpdate,
    Memory,
    MemoryUpdate,
    Message,
    PermissionMode,
    PersonaBio,
    ProfileMetadata,
    ReadMode,
    Session,
    SessionLog,
    SessionStatus,
    SessionUpdate,
    User,
    UserUpdate,
)


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


def log_of(session: Session, **fields: object) -> SessionLog:
    values: dict[str, object] = {"role": "agent", "type": "message", "content": {"text": "hi"}}
    values.update(fields)
    return SessionLog(session_id=session.id, **values)


# --- the shared rules ----------------------------------------------------------------------------


async def test_get_returns_none_for_every_absent_row(repos: Repos) -> None:
    assert await repos.agents.get("nope") is None
    assert await repos.agents.get_by_handle("nope") is None
    assert await repos.agents.get_by_name("nope") is None
    assert await repos.users.get("nope") is None
    assert await repos.users.get_by_email("nope@example.com") is None
    assert await repos.sessions.get("nope") is None
    assert await repos.sessions.get_with_agent("nope") is None
    assert await repos.sessions.get_by_external_id("nope") is None
    assert await repos.logs.get(12345) is None
    assert await repos.memories.get("nope") is None
    assert await repos.memories.get_by_name("n", agent_id="nope") is None
    assert await repos.conversations.get("nope") is None
    assert await repos.messages.get(12345) is None
    assert await repos.bios.get_latest("nope") is None
    assert await repos.profiles.get_by_agent_id("nope") is None


async def test_update_and_delete_of_an_absent_row_raise_not_found(repos: Repos) -> None:
    attempts = [
        repos.agents.update("nope", AgentUpdate(name="x")),
        repos.agents.archive("nope"),
        repos.agents.restore("nope"),
        repos.agents.delete("nope"),
        repos.users.update("nope", UserUpdate(user_data={})),
        repos.users.delete("nope"),
        repos.sessions.update("nope", SessionUpdate(name="x")),
        repos.sessions.update_status("nope", SessionStatus.RUNNING),
        repos.sessions.finish("nope"),
        repos.sessions.delete("nope"),
        repos.memories.update("nope", MemoryUpdate(content="x")),
        repos.memories.delete("nope"),
        repos.conversations.update("nope", ConversationUpdate(title="x")),
        repos.conversations.delete("nope"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError) as caught:
            await attempt
        assert caught.value.key == "nope"


# SQLite names the columns of a unique key, PostgreSQL the constraint or index.
UNIQUE_KEYS = {
    "sqlite": ("agents.id", "agents.handle", "users.email"),
    "postgresql": ("agents_pkey", "agents_handle", "users_email"),
    "libsql-ws": ("agents.id", "agents.handle", "users.email"),
    "libsql-http": ("agents.id", "agents.handle", "users.email"),
}


@pytest.fixture
def unique_keys(backend: str) -> tuple[str, str, str]:
    """How the backend names the agents' id and handle keys and the users' email key."""
    return UNIQUE_KEYS[backend]


async def test_unique_violations_name_the_constraint(
    repos: Repos, unique_keys: tuple[str, str, str]
) -> None:
    agent_id, agent_handle, user_email = unique_keys
    agent = await stored_agent(repos, handle="ada")
    with pytest.raises(UniqueViolationError) as caught:
        await repos.agents.create(make_agent(id=agent.id))
    assert caught.value.constraint == agent_id
    with pytest.raises(UniqueViolationError) as caught:
        await repos.agents.create(make_agent(handle="@ADA"))
    assert caught.value.constraint == agent_handle
    await stored_user(repos, email="ada@example.com")
    with pytest.raises(UniqueViolationError) as caught:
        await repos.users.create(User(email="Ada@Example.com"))
    assert caught.value.constraint == user_email
    await repos.memories.create(Memory(name="tone", content="dry", agent_id=agent.id))
    with pytest.raises(UniqueViolationError) as caught:
        await repos.memories.create(Memory(name="tone", content="wet", agent_id=agent.id))
    assert caught.value.constraint is not None
    assert "memories_name_agent_user" in caught.value.constraint


async def test_updated_at_moves_on_every_update_and_created_at_never(repos: Repos) -> None:
    agent = await stored_agent(repos)
    first = await repos.agents.update(agent.id, AgentUpdate(description="one"))
    second = await repos.agents.update(agent.id, AgentUpdate(description="one"))
    archived = await repos.agents.archive(agent.id)
    restored = await repos.agents.restore(agent.id)
    stamps = [agent.updated_at, first.updated_at, second.updated_at, archived.updated_at]
    stamps.append(restored.updated_at)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert {first.created_at, second.created_at, restored.created_at} == {agent.created_at}

    session = await stored_session(repos, agent)
    updated = await repos.sessions.update_status(session.id, "running")
    finished = await repos.sessions.finish(session.id)
    assert session.updated_at < updated.updated_at < finished.updated_at
    user = await stored_user(repos)
    assert (await repos.users.update(user.id, UserUpdate())).updated_at > user.updated_at


async def test_an_update_changes_only_the_fields_given(repos: Repos) -> None:
    agent = await stored_agent(repos, description="keep me", max_steps=3)
    updated = await repos.agents.update(agent.id, AgentUpdate(name="Bea", instructions=None))
    assert updated.name == "Bea"
    assert updated.description == "keep me"
    assert updated.max_steps == 3
    assert updated.instructions is None


async def test_concurrent_updates_of_different_fields_both_survive(repos: Repos) -> None:
    # Read-merge-write would let the second writer put back the first one's old value.
    agent = await stored_agent(repos)
    await asyncio.gather(
        *(
            repos.agents.update(agent.id, AgentUpdate(**{field: value}))
            for field, value in [
                ("description", "d"),
                ("avatar", "a.png"),
                ("display_name", "Ada L."),
                ("max_steps", 0),
            ]
        )
    )
    stored = await repos.agents.get(agent.id)
    assert stored is not None
    assert (stored.description, stored.avatar, stored.display_name, stored.max_steps) == (
        "d",
        "a.png",
        "Ada L.",
        0,
    )


async def test_an_update_is_a_single_statement(migrated_any_db: Database) -> None:
    recording = RecordingDatabase(migrated_any_db)
    repos = repos_for(recording)
    agent = await stored_agent(repos)
    recording.statements.clear()
    await repos.agents.update(agent.id, AgentUpdate(name="Bea", max_steps=1))
    assert len(recording.statements) == 1
    assert recording.statements[0].lstrip().startswith("UPDATE")
    assert recording.programs == 0


# --- validation happens before any SQL; bad input leaves nothing behind -------------------------


async def test_invalid_input_never_reaches_the_database(migrated_any_db: Database) -> None:
    recording = RecordingDatabase(migrated_any_db)
    repos = repos_for(recording)
    with pytest.raises(ValidationError):
        await repos.agents.create(Agent(name="Ada", model="m", max_steps=-1))
    with pytest.raises(ValidationError):
        await repos.agents.update("a", AgentUpdate(handle="no spaces allowed"))
    with pytest.raises(ValidationError):
        await repos.logs.append(SessionLog(session_id="s", role="robot", type="message", content=1))
    with pytest.raises(ValueError, match="limit"):
        await repos.agents.list(limit=0)
    with pytest.raises(ValueError, match="paused"):
        await repos.sessions.update_status("s", "paused")
    with pytest.raises(ValueError, match="finishes as"):
        await repos.sessions.finish("s", SessionStatus.RUNNING)
    with pytest.raises(ValueError, match="already stored"):
        await repos.logs.append(
            SessionLog(id=3, session_id="s", role="user", type="message", content=1)
        )
    assert not recording.touched


async def test_rows_refused_by_the_database_leave_nothing_behind(
    repos: Repos, migrated_any_db: Database
) -> None:
    agent = await stored_agent(repos)
    with pytest.raises(ForeignKeyViolationError):
        await repos.agents.create(make_agent(owner_user_id="ghost"))
    with pytest.raises(ForeignKeyViolationError):
        await repos.sessions.create(Session(main_agent_id="ghost"))
    with pytest.raises(ForeignKeyViolationError):
        await repos.memories.create(Memory(name="n", content="c", agent_id="ghost"))
    with pytest.raises(ForeignKeyViolationError):
        await repos.messages.append(Message(conversation_id="ghost", role="user", content="x"))
    with pytest.raises(ForeignKeyViolationError):
        await repos.bios.create(
            PersonaBio(agent_id="ghost", persona_bio="x", persona_bio_source="ai_generated")
        )
    # A value the model would refuse, forced past it: the schema's CHECK still refuses it.
    forced = ProfileMetadata.model_construct(
        **{**ProfileMetadata(agent_id=agent.id).model_dump(), "followers_count": -1}
    )
    with pytest.raises(CheckViolationError):
        await repos.profiles.create_or_update(forced)
    assert await count_in(migrated_any_db, "agents") == 1
    for table in ("sessions", "memories", "messages", "agent_persona_bios"):
        assert await count_in(migrated_any_db, table) == 0, table
    assert await count_in(migrated_any_db, "user_agent_profile_metadata") == 0


# --- agents --------------------------------------------------------------------------------------


async def test_agent_lookups_by_id_handle_and_name(repos: Repos) -> None:
    ada = await stored_agent(repos, name="Ada", handle="ada.example")
    await stored_agent(repos, name="Ada")
    assert await repos.agents.get(ada.id) == ada
    assert await repos.agents.get_by_handle("@Ada.Example") == ada
    assert await repos.agents.get_by_name("Ada") == ada  # the first of two, by id
    assert await repos.agents.exists(ada.id)
    assert not await repos.agents.exists("nope")


async def test_create_or_update_inserts_then_overwrites_but_keeps_lifecycle(repos: Repos) -> None:
    synced = make_agent(id="did:plc:abc", persona_source="sync_bluesky", name="Ada")
    first = await repos.agents.create_or_update(synced)
    assert first.name == "Ada"
    await repos.agents.archive(synced.id, reason="spam")
    again = await repos.agents.create_or_update(synced.model_copy(update={"name": "Ada 2"}))
    assert again.name == "Ada 2"
    assert again.status is AgentStatus.ARCHIVED
    assert again.archive_reason == "spam"
    assert again.created_at == first.created_at
    assert again.updated_at > first.updated_at
    assert await repos.agents.count() == 1


async def test_archive_and_restore(repos: Repos) -> None:
    agent = await stored_agent(repos)
    archived = await repos.agents.archive(agent.id, reason="retired")
    assert archived.status is AgentStatus.ARCHIVED
    assert archived.archived_at is not None
    assert archived.archive_reason == "retired"
    assert await repos.agents.count(active_only=True) == 0
    restored = await repos.agents.restore(agent.id)
    assert restored.status is AgentStatus.ACTIVE
    assert restored.archived_at is None


async def test_agent_list_pages_by_id_and_filters_active(repos: Repos) -> None:
    agents = [await stored_agent(repos, name=f"a{i}") for i in range(7)]
    await repos.agents.archive(agents[2].id)
    pages = []
    after = None
    while page := await repos.agents.list(limit=3, after=after):
        pages.append([a.id for a in page])
        after = page[-1].id
    assert pages == [[a.id for a in agents[i : i + 3]] for i in (0, 3, 6)]
    active = await repos.agents.list(active_only=True, limit=100)
    assert [a.id for a in active] == [a.id for a in agents if a.id != agents[2].id]
    assert await repos.agents.count() == 7


# --- cascades ------------------------------------------------------------------------------------


async def test_deleting_an_agent_removes_everything_that_belongs_to_it(
    repos: Repos, migrated_any_db: Database
) -> None:
    agent = await stored_agent(repos)
    other = await stored_agent(repos, name="Other")
    session = await stored_session(repos, agent)
    root = await repos.logs.append(log_of(session))
    await repos.logs.append(log_of(session, parent_id=root.id))
    await repos.bios.create(
        PersonaBio(agent_id=agent.id, persona_bio="Bio.", persona_bio_source="ai_generated")
    )
    await repos.profiles.create_or_update(ProfileMetadata(agent_id=agent.id, posts_count=2))
    await repos.memories.create(
        Memory(name="m", content="c", agent_id=agent.id, session_id=session.id)
    )
    conversation = await repos.conversations.create(Conversation(agent_id=agent.id))
    await repos.messages.append(Message(conversation_id=conversation.id, role="user", content="hi"))
    other_conversation = await repos.conversations.create(Conversation(agent_id=other.id))
    from_agent = await repos.messages.append(
        Message(
            conversation_id=other_conversation.id,
            from_agent_id=agent.id,
            role="assistant",
            content="hello from the deleted agent",
        )
    )

    await repos.agents.delete(agent.id)

    for table in (
        "sessions",
        "session_logs",
        "agent_persona_bios",
        "user_agent_profile_metadata",
        "memories",
    ):
        assert await count_in(migrated_any_db, table) == 0, table
    assert await repos.conversations.get(conversation.id) is None
    assert await repos.messages.count(conversation.id) == 0
    # A message the agent sent in another agent's conversation stays, without a sender.
    assert from_agent.id is not None
    kept = await repos.messages.get(from_agent.id)
    assert kept is not None
    assert kept.from_agent_id is None
    assert await repos.agents.get(other.id) is not None


async def test_deleting_a_user_removes_their_data_and_orphans_their_agents(repos: Repos) -> None:
    user = await stored_user(repos, email="ada@example.com")
    agent = await stored_agent(repos, owner_user_id=user.id)
    session = await stored_session(repos, agent, user_id=user.id)
    memory = await repos.memories.create(
        Memory(name="m", content="c", agent_id=agent.id, user_id=user.id)
    )
    conversation = await repos.conversations.create(
        Conversation(agent_id=agent.id, user_id=user.id)
    )
    await repos.users.delete(user.id)
    assert await repos.sessions.get(session.id) is None
    assert await repos.memories.get(memory.id) is None
    assert await repos.conversations.get(conversation.id) is None
    kept = await repos.agents.get(agent.id)
    assert kept is not None
    assert kept.owner_user_id is None


async def test_deleting_a_session_keeps_memories_learned_in_it(repos: Repos) -> None:
    agent = await stored_agent(repos)
    session = await stored_session(repos, agent)
    memory = await repos.memories.create(
        Memory(name="m", content="c", agent_id=agent.id, session_id=session.id)
    )
    await repos.sessions.delete(session.id)
    kept = await repos.memories.get(memory.id)
    assert kept is not None
    assert kept.session_id is None


# --- sessions: effective configuration -----------------------------------------------------------


async def test_a_session_without_overrides_inherits_every_value_and_stores_nulls(
    repos: Repos, migrated_any_db: Database
) -> None:
    agent = await stored_agent(
        repos,
        instructions="Be brief.",
        model="main",
        plan_model="planner",
        small_model="small",
        built_in_tools=["search"],
        mcps=["fs"],
        knowledges=[{"id": "kb"}],
        configuration={"temperature": 0.1},
        accessible_paths=["/srv"],
        permission_mode=PermissionMode.PLAN,
        max_steps=0,
    )
    session = await stored_session(repos, agent)
    stored = await migrated_any_db.fetch_one(
        "SELECT instructions, model, plan_model, small_model, built_in_tools, mcps, knowledges,"
        " configuration, accessible_paths, permission_mode, max_steps FROM sessions WHERE id = :id",
        {"id": session.id},
    )
    assert stored is not None
    assert list(stored.values()) == [None] * 11
    effective = await repos.sessions.get_with_agent(session.id)
    assert effective is not None
    assert effective.instructions == "Be brief."
    assert (effective.model, effective.plan_model, effective.small_model) == (
        "main",
        "planner",
        "small",
    )
    assert effective.built_in_tools == ["search"]
    assert effective.mcps == ["fs"]
    assert effective.knowledges == [{"id": "kb"}]
    assert effective.configuration == {"temperature": 0.1}
    assert effective.accessible_paths == ["/srv"]
    assert effective.permission_mode is PermissionMode.PLAN
    assert effective.max_steps == 0
    assert effective.agent_name == agent.name


async def test_an_override_wins_and_max_steps_zero_stays_zero(repos: Repos) -> None:
    agent = await stored_agent(repos, model="main", max_steps=25, configuration={"t": 1})
    session = await stored_session(repos, agent, model="override", max_steps=0, configuration={})
    effective = await repos.sessions.get_with_agent(session.id)
    assert effective is not None
    assert effective.model == "override"
    assert effective.max_steps == 0
    assert effective.configuration == {}
    # Setting an override back to None makes the session inherit again.
    await repos.sessions.update(session.id, SessionUpdate(model=None))
    effective = await repos.sessions.get_with_agent(session.id)
    assert effective is not None
    assert effective.model == "main"
    # A change to the agent reaches sessions that inherit it.
    await repos.agents.update(agent.id, AgentUpdate(model="newer"))
    effective = await repos.sessions.get_with_agent(session.id)
    assert effective is not None
    assert effective.model == "newer"


async def test_session_status_finish_and_external_id(repos: Repos) -> None:
    agent = await stored_agent(repos)
    session = await stored_session(repos, agent, external_session_id="thread-9")
    assert await repos.sessions.get_by_external_id("thread-9") == session
    running = await repos.sessions.update_status(session.id, "running")
    assert running.status is SessionStatus.RUNNING
    assert running.finished_at is None
    finished = await repos.sessions.finish(session.id, "failed")
    assert finished.status is SessionStatus.FAILED
    assert finished.finished_at is not None


async def test_session_list_filters_by_agent_user_and_status_with_keyset_pages(
    repos: Repos,
) -> None:
    user = await stored_user(repos)
    agent_a = await stored_agent(repos)
    agent_b = await stored_agent(repos)
    made = []
    for i in range(12):
        made.append(
            await stored_session(
                repos,
                agent_a if i % 2 else agent_b,
                user_id=user.id if i % 3 == 0 else None,
                status="running" if i % 4 == 0 else "idle",
            )
        )

    async def walk(
        agent_id: str | None = None, user_id: str | None = None, status: str | None = None
    ) -> list[str]:
        seen: list[str] = []
        after = None
        while page := await repos.sessions.list(
            agent_id=agent_id, user_id=user_id, status=status, limit=2, after=after
        ):
            seen.extend(s.id for s in page)
            after = page[-1].id
        return seen

    assert await walk() == [s.id for s in made]
    assert await walk(agent_id=agent_a.id) == [s.id for s in made if s.main_agent_id == agent_a.id]
    assert await walk(user_id=user.id) == [s.id for s in made if s.user_id == user.id]
    assert await walk(status="running") == [s.id for s in made if s.status == "running"]
    assert await walk(agent_id=agent_b.id, user_id=user.id, status="running") == [
        s.id
        for s in made
        if s.main_agent_id == agent_b.id and s.user_id == user.id and s.status == "running"
    ]
    assert await repos.sessions.count() == 12


# --- persona bios and profile counters -----------------------------------------------------------


async def test_the_latest_bio_wins_and_ties_go_to_the_later_insert(repos: Repos) -> None:
    agent = await stored_agent(repos)
    early = datetime(2026, 1, 1, tzinfo=UTC)
    late = datetime(2026, 6, 1, tzinfo=UTC)

    def bio(text: str, at: datetime) -> PersonaBio:
        return PersonaBio(
            agent_id=agent.id, persona_bio=text, persona_bio_source="user_provided", created_at=at
        )

    await repos.bios.create(bio("late", late))
    await repos.bios.create(bio("early, inserted after", early))
    latest = await repos.bios.get_latest(agent.id)
    assert latest is not None
    assert latest.persona_bio == "late"
    await repos.bios.create(bio("late too", late))
    latest = await repos.bios.get_latest(agent.id)
    assert latest is not None
    assert latest.persona_bio == "late too"
    history = await repos.bios.list_for_agent(agent.id)
    assert [b.persona_bio for b in history] == ["late too", "late", "early, inserted after"]


async def test_profile_counts_are_one_row_per_agent_replaced_by_upsert(repos: Repos) -> None:
    agent = await stored_agent(repos)
    first = await repos.profiles.create_or_update(
        ProfileMetadata(agent_id=agent.id, followers_count=1, follows_count=2, posts_count=3)
    )
    second = await repos.profiles.create_or_update(
        ProfileMetadata(agent_id=agent.id, followers_count=10)
    )
    assert second.id == first.id
    assert (second.followers_count, second.follows_count, second.posts_count) == (10, 0, 0)
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert await repos.profiles.get_by_agent_id(agent.id) == second


# --- users ---------------------------------------------------------------------------------------


async def test_user_crud_and_email_lookup_ignores_case(repos: Repos) -> None:
    user = await stored_user(repos, email="Ada@Example.com", user_data={"plan": "pro"})
    assert user.email == "ada@example.com"
    assert await repos.users.get_by_email("ADA@example.COM") == user
    updated = await repos.users.update(user.id, UserUpdate(phone_number="+1 555 0100 99"))
    assert updated.phone_number == "+1555010099"
    assert updated.user_data == {"plan": "pro"}
    others = [await stored_user(repos) for _ in range(3)]
    listed = await repos.users.list(limit=10)
    assert [u.id for u in listed] == [user.id, *(u.id for u in others)]
    assert await repos.users.count() == 4
    await repos.users.delete(user.id)
    assert await repos.users.get(user.id) is None


# --- memories ------------------------------------------------------------------------------------


async def test_memory_names_are_unique_per_agent_and_user_and_null_user_is_one_scope(
    repos: Repos,
) -> None:
    agent = await stored_agent(repos)
    other_agent = await stored_agent(repos)
    ada = await stored_user(repos)
    bea = await stored_user(repos)
    shared = await repos.memories.create(Memory(name="tone", content="dry", agent_id=agent.id))
    for_ada = await repos.memories.create(
        Memory(name="tone", content="warm", agent_id=agent.id, user_id=ada.id)
    )
    await repos.memories.create(Memory(name="tone", content="x", agent_id=agent.id, user_id=bea.id))
    await repos.memories.create(Memory(name="tone", content="y", agent_id=other_agent.id))
    with pytest.raises(UniqueViolationError):
        await repos.memories.create(Memory(name="tone", content="again", agent_id=agent.id))
    with pytest.raises(UniqueViolationError):
        await repos.memories.create(
            Memory(name="tone", content="again", agent_id=agent.id, user_id=ada.id)
        )
    assert await repos.memories.get_by_name("tone", agent_id=agent.id) == shared
    assert await repos.memories.get_by_name("tone", agent_id=agent.id, user_id=ada.id) == for_ada


async def test_memory_listings_filter_by_agent_user_and_read_mode(repos: Repos) -> None:
    agent = await stored_agent(repos)
    ada = await stored_user(repos)
    bea = await stored_user(repos)

    async def memory(name: str, user: User | None, mode: ReadMode) -> Memory:
        return await repos.memories.create(
            Memory(
                name=name,
                content="c",
                agent_id=agent.id,
                user_id=None if user is None else user.id,
                read_mode=mode,
            )
        )

    shared = await memory("shared", None, ReadMode.SYSTEM_PROMPT)
    ada_prompt = await memory("ada-prompt", ada, ReadMode.SYSTEM_PROMPT)
    ada_tool = await memory("ada-tool", ada, ReadMode.TOOL)
    bea_tool = await memory("bea-tool", bea, ReadMode.TOOL)

    def ids(memories: list[Memory]) -> list[str]:
        return [m.id for m in memories]

    everything = [shared.id, ada_prompt.id, ada_tool.id, bea_tool.id]
    assert ids(await repos.memories.list(agent_id=agent.id)) == everything
    assert ids(await repos.memories.list(agent_id=agent.id, read_mode="tool")) == [
        ada_tool.id,
        bea_tool.id,
    ]
    assert ids(await repos.memories.list(user_id=ada.id)) == [ada_prompt.id, ada_tool.id]
    assert ids(await repos.memories.list_visible(agent_id=agent.id, user_id=ada.id)) == [
        shared.id,
        ada_prompt.id,
        ada_tool.id,
    ]
    page = await repos.memories.list(agent_id=agent.id, limit=2)
    rest = await repos.memories.list(agent_id=agent.id, limit=2, after=page[-1].id)
    assert ids(page) + ids(rest) == everything
    with pytest.raises(ValueError, match="agent_id, user_id"):
        await repos.memories.list()


async def test_memory_update_and_delete(repos: Repos) -> None:
    agent = await stored_agent(repos)
    memory = await repos.memories.create(Memory(name="m", content="c", agent_id=agent.id))
    updated = await repos.memories.update(
        memory.id, MemoryUpdate(content="new", access="write", metadata={"v": 2})
    )
    assert (updated.content, updated.access, updated.metadata) == ("new", "write", {"v": 2})
    assert updated.name == "m"
    assert updated.updated_at > memory.updated_at
    await repos.memories.delete(memory.id)
    assert await repos.memories.get(memory.id) is None


# --- conversations and messages (appends and their keys: tests/test_messages_transcripts.py) ------


async def test_messages_page_by_conversation_and_list_by_agent(repos: Repos) -> None:
    agent = await stored_agent(repos)
    conversation = await repos.conversations.create(Conversation(agent_id=agent.id))
    sent = [
        await repos.messages.append(
            Message(
                conversation_id=conversation.id,
                from_agent_id=agent.id if i % 2 else None,
                role="assistant" if i % 2 else "user",
                content=f"m{i}",
                tool_calls=[{"name": "lookup", "arguments": {"i": i}}] if i == 3 else [],
            )
        )
        for i in range(7)
    ]
    first = await repos.messages.page(conversation.id, limit=4)
    second = await repos.messages.page(conversation.id, limit=4, after=first[-1].id)
    assert [m.content for m in first + second] == [f"m{i}" for i in range(7)]
    assert first[3].tool_calls == [{"name": "lookup", "arguments": {"i": 3}}]
    by_agent = await repos.messages.list_by_agent(agent.id)
    assert [m.id for m in by_agent] == [m.id for m in sent if m.from_agent_id == agent.id]


async def test_conversation_crud_and_listing(repos: Repos) -> None:
    agent = await stored_agent(repos)
    user = await stored_user(repos)
    with_user = await repos.conversations.create(Conversation(agent_id=agent.id, user_id=user.id))
    alone = await repos.conversations.create(Conversation(agent_id=agent.id))
    assert [c.id for c in await repos.conversations.list(agent_id=agent.id)] == [
        with_user.id,
        alone.id,
    ]
    assert [c.id for c in await repos.conversations.list(user_id=user.id)] == [with_user.id]
    titled = await repos.conversations.update(alone.id, ConversationUpdate(title="Hi"))
    assert titled.title == "Hi"
    assert titled.updated_at > alone.updated_at
    await repos.conversations.delete(alone.id)
    assert await repos.conversations.get(alone.id) is None
