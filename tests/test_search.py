"""Full-text search over memories and messages (migration 013) on every backend of
``migrated_any_db``: ranking, scoping, the index kept in step by every write, keyset pages, any
text searched safely, hostile text refused before SQL, and the migration's up and down.
"""

from __future__ import annotations

import pytest
from entities_support import RecordingDatabase, Repos, repos_for, stored_agent, stored_user

import agentsdb
from agentsdb.db.base import Database
from agentsdb.errors import DatabaseError, ValidationError
from agentsdb.models import (
    Conversation,
    Memory,
    MemorySearchHit,
    MemoryUpdate,
    Message,
    MessageRole,
    MessageSearchHit,
    Page,
)
from agentsdb.repositories import MemoryRepository, MessageRepository


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


async def remember(
    repos: Repos, agent_id: str, name: str, content: str, **fields: object
) -> Memory:
    return await repos.memories.create(
        Memory(name=name, content=content, agent_id=agent_id, **fields)  # type: ignore[arg-type]  # test factory passes optional model fields through
    )


async def all_memory_hits(
    repos: Repos, agent_id: str, text: str, limit: int
) -> list[MemorySearchHit]:
    hits: list[MemorySearchHit] = []
    after: str | None = None
    while True:
        page = await repos.memories.search(agent_id, text, limit=limit, after=after)
        hits.extend(page.items)
        if page.next is None:
            return hits
        after = page.next


async def test_a_memory_mentioning_the_term_more_ranks_first(repos: Repos) -> None:
    agent = await stored_agent(repos)
    once = await remember(repos, agent.id, "a", "the garden needs water and the roof needs paint")
    thrice = await remember(repos, agent.id, "b", "garden beds, garden tools, a garden shed")
    await remember(repos, agent.id, "c", "nothing relevant here at all")

    page = await repos.memories.search(agent.id, "garden")

    assert [hit.memory.id for hit in page.items] == [thrice.id, once.id]
    assert page.items[0].score > page.items[1].score
    assert page.items[0].memory == thrice
    assert page.next is None


async def test_search_needs_every_word_and_ignores_case_and_accents(repos: Repos) -> None:
    agent = await stored_agent(repos)
    both = await remember(repos, agent.id, "a", "Paris Café opens at nine")
    await remember(repos, agent.id, "b", "the café in Rome")

    page = await repos.memories.search(agent.id, "paris CAFÉ")

    assert [hit.memory.id for hit in page.items] == [both.id]


async def test_memory_name_and_description_are_searched(repos: Repos) -> None:
    agent = await stored_agent(repos)
    named = await remember(repos, agent.id, "birthday", "march the third")
    described = await remember(repos, agent.id, "x", "y", description="favourite birthday cake")

    page = await repos.memories.search(agent.id, "birthday")

    assert {hit.memory.id for hit in page.items} == {named.id, described.id}


async def test_memory_search_is_scoped_to_the_agent_and_optionally_the_user(repos: Repos) -> None:
    agent = await stored_agent(repos)
    other_agent = await stored_agent(repos)
    ann = await stored_user(repos, email="ann@example.com")
    bob = await stored_user(repos, email="bob@example.com")
    shared = await remember(repos, agent.id, "s", "likes tea")
    anns = await remember(repos, agent.id, "t", "likes tea with milk", user_id=ann.id)
    bobs = await remember(repos, agent.id, "t", "likes tea with lemon", user_id=bob.id)
    await remember(repos, other_agent.id, "s", "likes tea too")

    everyone = await repos.memories.search(agent.id, "tea")
    anns_only = await repos.memories.search(agent.id, "tea", user_id=ann.id)

    assert {hit.memory.id for hit in everyone.items} == {shared.id, anns.id, bobs.id}
    assert [hit.memory.id for hit in anns_only.items] == [anns.id]


async def test_updates_and_deletes_keep_the_memory_index_in_step(repos: Repos) -> None:
    agent = await stored_agent(repos)
    memory = await remember(repos, agent.id, "pet", "a cat named Tom")
    gone = await remember(repos, agent.id, "old", "a cat that left")

    await repos.memories.update(memory.id, MemoryUpdate(content="a dog named Rex"))
    await repos.memories.update(gone.id, MemoryUpdate(description="no longer here"))
    await repos.memories.delete(gone.id)

    assert (await repos.memories.search(agent.id, "cat")).items == []
    dog = await repos.memories.search(agent.id, "dog")
    assert [hit.memory.content for hit in dog.items] == ["a dog named Rex"]
    assert (await repos.memories.search(agent.id, "left")).items == []


async def test_deleting_an_agent_removes_its_memories_from_search(repos: Repos) -> None:
    agent = await stored_agent(repos)
    await remember(repos, agent.id, "a", "compass bearing north")
    await repos.agents.delete(agent.id)
    newcomer = await stored_agent(repos)
    kept = await remember(repos, newcomer.id, "a", "compass bearing south")

    page = await repos.memories.search(newcomer.id, "compass")

    assert [hit.memory.id for hit in page.items] == [kept.id]


async def test_keyset_pages_return_every_hit_exactly_once_in_rank_order(repos: Repos) -> None:
    agent = await stored_agent(repos)
    # Several memories per score (identical text ranks alike), so page boundaries fall on ties.
    made = set()
    for number in range(23):
        repeats = number % 4 + 1
        text = " ".join(["apple"] * repeats + ["filler"] * (4 - repeats))
        made.add((await remember(repos, agent.id, f"m{number:02d}", text)).id)

    paged = await all_memory_hits(repos, agent.id, "apple", limit=5)
    whole = (await repos.memories.search(agent.id, "apple", limit=100)).items

    assert [hit.memory.id for hit in paged] == [hit.memory.id for hit in whole]
    assert len(paged) == len(made)
    assert {hit.memory.id for hit in paged} == made
    order = [(-hit.score, hit.memory.id) for hit in paged]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "text",
    [
        'say "hello',
        '""',
        "tea AND",
        "OR tea",
        "NOT",
        "*",
        "tea*",
        "NEAR(tea",
        "(tea",
        "tea)",
        "name: tea",
        "-tea",
        "tea & | ! :*",
        "'tea'",
        "^tea",
        "{tea}",
        "tea\\",
        "日本語のお茶",
        "émoji 🍵",
        "   ",
        "",
    ],
)
async def test_any_search_text_gives_a_page_never_a_syntax_error(repos: Repos, text: str) -> None:
    agent = await stored_agent(repos)
    await remember(repos, agent.id, "drink", "tea AND coffee, NEAR the (kitchen) * 日本語のお茶 🍵")
    await repos.conversations.create(Conversation(agent_id=agent.id))

    memories = await repos.memories.search(agent.id, text)
    messages = await repos.messages.search(agent.id, text)

    assert isinstance(memories, Page)
    assert isinstance(messages, Page)
    assert messages.items == []
    assert messages.next is None


async def test_long_texts_are_stored_and_their_first_words_found(repos: Repos) -> None:
    # 1.3 MB of distinct words: more than a PostgreSQL tsvector may hold.
    long_text = "needle " + " ".join(f"{number:032x}" for number in range(40_000))
    agent = await stored_agent(repos)
    memory = await remember(repos, agent.id, "long", long_text, description=long_text)
    conversation = await repos.conversations.create(Conversation(agent_id=agent.id))
    message = await repos.messages.append(
        Message(conversation_id=conversation.id, role=MessageRole.USER, content=long_text)
    )

    memories = await repos.memories.search(agent.id, "needle")
    messages = await repos.messages.search(agent.id, "needle")

    assert [hit.memory.id for hit in memories.items] == [memory.id]
    assert [hit.message.id for hit in messages.items] == [message.id]


async def test_quoted_words_are_found_as_words(repos: Repos) -> None:
    agent = await stored_agent(repos)
    memory = await remember(repos, agent.id, "q", 'she said "hello" (twice)')

    page = await repos.memories.search(agent.id, '"hello" (twice')

    assert [hit.memory.id for hit in page.items] == [memory.id]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("text", {"text": "tea\x00"}),
        ("text", {"text": "tea \ud800"}),
        ("text", {"text": "t" * 1_000_001}),
        ("text", {"text": 42}),
        ("agent_id", {"agent_id": "a b"}),
        ("user_id", {"user_id": "\x00"}),
        ("limit", {"limit": 0}),
        ("after", {"after": "not a cursor"}),
        ("after", {"after": "nan/abc"}),
        ("after", {"after": "1.0/" + "x" * 1000}),
    ],
)
async def test_hostile_search_input_is_refused_before_any_sql(
    migrated_any_db: Database, field: str, kwargs: dict[str, object]
) -> None:
    recording = RecordingDatabase(migrated_any_db)
    arguments: dict[str, object] = {"agent_id": "agent", "text": "tea", **kwargs}
    for repository in (MemoryRepository(recording), MessageRepository(recording)):
        with pytest.raises(ValidationError) as caught:
            await repository.search(**arguments)  # type: ignore[arg-type]  # hostile input on purpose
        assert field in str(caught.value)
    assert not recording.touched


async def test_a_message_cursor_must_hold_a_message_id(repos: Repos) -> None:
    with pytest.raises(ValidationError, match="after"):
        await repos.messages.search("agent", "tea", after="1.5/not-a-number")


async def test_message_search_is_scoped_to_the_agents_conversations_and_pages(
    repos: Repos,
) -> None:
    agent = await stored_agent(repos)
    other = await stored_agent(repos)
    ann = await stored_user(repos, email="ann@example.com")
    with_ann = await repos.conversations.create(Conversation(agent_id=agent.id, user_id=ann.id))
    alone = await repos.conversations.create(Conversation(agent_id=agent.id))
    elsewhere = await repos.conversations.create(Conversation(agent_id=other.id))
    ids = []
    for number in range(7):
        for conversation in (with_ann, alone, elsewhere):
            message = await repos.messages.append(
                Message(
                    conversation_id=conversation.id,
                    role=MessageRole.USER,
                    content=f"invoice {number} " + "invoice " * (number % 3),
                )
            )
            if conversation is not elsewhere:
                ids.append(message.id)

    hits: list[MessageSearchHit] = []
    after: str | None = None
    while True:
        page = await repos.messages.search(agent.id, "invoice", limit=3, after=after)
        hits.extend(page.items)
        if page.next is None:
            break
        after = page.next
    anns = await repos.messages.search(agent.id, "invoice", user_id=ann.id, limit=100)
    one = await repos.messages.search(agent.id, "invoice", conversation_id=alone.id, limit=100)

    assert sorted(hit.message.id for hit in hits) == sorted(ids)  # type: ignore[type-var]  # ids are ints once stored
    assert len(hits) == 14
    order = [(-hit.score, hit.message.id) for hit in hits]
    assert order == sorted(order)  # type: ignore[type-var]  # ids are ints once stored
    assert {hit.message.conversation_id for hit in anns.items} == {with_ann.id}
    assert len(anns.items) == 7
    assert {hit.message.conversation_id for hit in one.items} == {alone.id}


async def test_deleting_a_conversation_removes_its_messages_from_search(repos: Repos) -> None:
    agent = await stored_agent(repos)
    dropped = await repos.conversations.create(Conversation(agent_id=agent.id))
    kept = await repos.conversations.create(Conversation(agent_id=agent.id))
    for conversation in (dropped, kept):
        await repos.messages.append(
            Message(
                conversation_id=conversation.id,
                role=MessageRole.USER,
                content=f"harbour pilot {conversation.id}",
            )
        )

    await repos.conversations.delete(dropped.id)
    late = await repos.messages.append(
        Message(conversation_id=kept.id, role=MessageRole.ASSISTANT, content="harbour again")
    )

    page = await repos.messages.search(agent.id, "harbour")
    assert {hit.message.conversation_id for hit in page.items} == {kept.id}
    assert late.id in {hit.message.id for hit in page.items}
    assert len(page.items) == 2


async def test_migration_013_indexes_existing_rows_and_its_down_removes_the_index(
    migrated_any_db: Database,
) -> None:
    repos = repos_for(migrated_any_db)
    migrator = agentsdb.Migrator(migrated_any_db)
    await migrator.rollback_to("012")
    with pytest.raises(DatabaseError):
        await repos.memories.search("agent", "lantern")
    # Without the index, writes go on as before 013 (no trigger is left behind).
    agent = await stored_agent(repos)
    memory = await remember(repos, agent.id, "light", "an old brass lantern")
    dropped = await remember(repos, agent.id, "dropped", "a paper lantern")
    await repos.memories.delete(dropped.id)
    conversation = await repos.conversations.create(Conversation(agent_id=agent.id))
    # Written by hand in the shape the schema has before 013 and 014: today's repository
    # writes columns that 014 adds.
    draft = Message(conversation_id=conversation.id, role=MessageRole.USER, content="lantern oil")
    await migrated_any_db.execute(
        "INSERT INTO messages (conversation_id, role, content, content_hash, created_at) "
        "VALUES (:conversation_id, :role, :content, :content_hash, :created_at)",
        {
            "conversation_id": draft.conversation_id,
            "role": draft.role.value,
            "content": draft.content,
            "content_hash": draft.content_hash,
            "created_at": "2026-12-02T10:00:00.000000Z",
        },
    )

    await migrator.migrate()
    [message] = await repos.messages.page(conversation.id)

    memories = await repos.memories.search(agent.id, "lantern")
    messages = await repos.messages.search(agent.id, "lantern")
    assert [hit.memory.id for hit in memories.items] == [memory.id]
    assert [hit.message.id for hit in messages.items] == [message.id]
