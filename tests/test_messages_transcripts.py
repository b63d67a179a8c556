"""Transcripts keep every turn, on every backend: messages without a key are always stored;
a ``client_message_id`` makes a retry return the message stored first, and refuses another
message under the same key.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from entities_support import Repos, repos_for, stored_agent

from agentsdb.db.base import Database
from agentsdb.errors import IdempotencyKeyConflictError, ValidationError
from agentsdb.models import Conversation, Message
from agentsdb.repositories import MessageRepository
from agentsdb.rules.content import message_content_hash


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


async def new_conversation(repos: Repos) -> Conversation:
    agent = await stored_agent(repos)
    return await repos.conversations.create(Conversation(agent_id=agent.id))


async def test_yes_then_yes_without_a_key_are_two_turns_listed_in_order(repos: Repos) -> None:
    talk = await new_conversation(repos)

    first = await repos.messages.append(
        Message(conversation_id=talk.id, role="user", content="yes")
    )
    second = await repos.messages.append(
        Message(conversation_id=talk.id, role="user", content="yes")
    )

    assert first.id is not None
    assert second.id is not None
    assert second.id > first.id
    assert first.content_hash == second.content_hash
    assert [(m.id, m.content) for m in await repos.messages.page(talk.id)] == [
        (first.id, "yes"),
        (second.id, "yes"),
    ]
    assert await repos.messages.count(talk.id) == 2


async def test_a_page_keeps_every_turn_of_a_repetitive_transcript(repos: Repos) -> None:
    talk = await new_conversation(repos)
    said = ["yes", "no", "yes", "yes", "ok", "ok", "yes"]
    for i, text in enumerate(said):
        role = "user" if i % 2 == 0 else "assistant"
        await repos.messages.append(Message(conversation_id=talk.id, role=role, content=text))

    pages: list[list[Message]] = [await repos.messages.page(talk.id, limit=3)]
    while pages[-1]:
        pages.append(await repos.messages.page(talk.id, after=pages[-1][-1].id, limit=3))

    read = [m for page in pages for m in page]
    assert [m.content for m in read] == said
    assert [m.id for m in read] == sorted({m.id for m in read})


async def test_a_keyed_retry_returns_the_message_stored_first_and_stores_nothing(
    repos: Repos,
) -> None:
    talk = await new_conversation(repos)
    calls = [{"name": "lookup", "arguments": {"q": "tea", "limit": 3}}]
    first = await repos.messages.append(
        Message(
            conversation_id=talk.id,
            role="assistant",
            content="let me look",
            tool_calls=calls,
            client_message_id="client-1",
        )
    )

    # The retry is built later (another created_at) with the tool call's keys in another order.
    retry = await repos.messages.append(
        Message(
            conversation_id=talk.id,
            role="assistant",
            content="let me look",
            tool_calls=[{"arguments": {"limit": 3, "q": "tea"}, "name": "lookup"}],
            client_message_id="client-1",
            created_at=datetime.now(UTC) + timedelta(seconds=5),
        )
    )

    assert retry == first
    assert retry.client_message_id == "client-1"
    assert await repos.messages.count(talk.id) == 1


async def test_the_same_key_with_other_content_raises_and_stores_nothing(repos: Repos) -> None:
    talk = await new_conversation(repos)
    key = "k-" + "x" * 200
    first = await repos.messages.append(
        Message(conversation_id=talk.id, role="user", content="yes", client_message_id=key)
    )

    with pytest.raises(IdempotencyKeyConflictError) as caught:
        await repos.messages.append(
            Message(conversation_id=talk.id, role="user", content="no", client_message_id=key)
        )

    error = caught.value
    assert (error.conversation_id, error.client_message_id, error.existing_id) == (
        talk.id,
        key,
        first.id,
    )
    assert "'k-xxx" in str(error)
    assert key not in str(error)
    assert [m.content for m in await repos.messages.page(talk.id)] == ["yes"]


async def test_concurrent_appends_with_one_key_store_one_row(repos: Repos) -> None:
    talk = await new_conversation(repos)

    stored = await asyncio.gather(
        *(
            repos.messages.append(
                Message(
                    conversation_id=talk.id,
                    role="assistant",
                    content="answer",
                    client_message_id="same",
                )
            )
            for _ in range(8)
        )
    )

    assert len({m.id for m in stored}) == 1
    assert await repos.messages.count(talk.id) == 1


async def test_a_key_is_unique_within_its_conversation_only(repos: Repos) -> None:
    one = await new_conversation(repos)
    two = await new_conversation(repos)

    a = await repos.messages.append(
        Message(conversation_id=one.id, role="user", content="hi", client_message_id="k")
    )
    b = await repos.messages.append(
        Message(conversation_id=two.id, role="user", content="hi", client_message_id="k")
    )

    assert a.id != b.id
    assert [m.id for m in await repos.messages.page(two.id)] == [b.id]


async def test_keyed_and_unkeyed_messages_mix_and_each_unkeyed_one_is_stored(
    repos: Repos,
) -> None:
    talk = await new_conversation(repos)
    ids = []
    for key in ("a", None, "b", None, "a"):
        message = Message(
            conversation_id=talk.id, role="user", content="yes", client_message_id=key
        )
        ids.append((await repos.messages.append(message)).id)

    assert ids[4] == ids[0]
    assert len(set(ids)) == 4
    assert await repos.messages.count(talk.id) == 4


async def test_dual_write_appends_are_idempotent_by_key_only(migrated_any_db: Database) -> None:
    repos = repos_for(migrated_any_db)
    talk = await new_conversation(repos)
    dual = MessageRepository(migrated_any_db, dual_write=True)

    plain = [
        await dual.append(Message(conversation_id=talk.id, role="user", content="yes"))
        for _ in range(2)
    ]
    keyed = [
        await dual.append(
            Message(conversation_id=talk.id, role="user", content="yes", client_message_id="k")
        )
        for _ in range(2)
    ]

    assert plain[0].id != plain[1].id
    assert keyed[0].id == keyed[1].id
    assert await repos.messages.count(talk.id) == 3


@pytest.mark.parametrize("key", ["", "two words", "tab\there", "nul\x00", "x" * 256])
def test_a_client_message_id_follows_the_id_rules(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Message(conversation_id="c", role="user", content="x", client_message_id=key)
    assert "client_message_id" in str(caught.value)


def test_the_default_content_hash_is_the_one_rule_and_ignores_tool_call_key_order() -> None:
    message = Message(
        conversation_id="c",
        from_agent_id="a",
        role="tool",
        content="42",
        tool_calls=[{"name": "calc", "arguments": {"x": 1, "y": 2}}],
    )
    reordered = [{"arguments": {"y": 2, "x": 1}, "name": "calc"}]

    assert message.content_hash == message_content_hash("tool", "42", reordered, "a")
    assert message.content_hash != message_content_hash("tool", "42", reordered, None)
