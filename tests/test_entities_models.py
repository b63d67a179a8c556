"""The entity models: every invariant is checked on input, naming the field, before any SQL."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agentsdb.clock import format_timestamp
from agentsdb.ids import new_id
from agentsdb.models import (
    Agent,
    AgentStatus,
    AgentUpdate,
    Conversation,
    EffectiveSession,
    Memory,
    MemoryUpdate,
    Message,
    MessageRole,
    PersonaBio,
    ProfileMetadata,
    Session,
    SessionLog,
    SessionLogUpdate,
    SessionStatus,
    SessionUpdate,
    User,
    UserUpdate,
    content_hash_of,
    format_ts,
    now,
)

AGENT = {"name": "Ada", "model": "gpt-main"}
LOG = {"session_id": "s-1", "role": "user", "type": "message", "content": {"text": "hi"}}


def error_fields(error: ValidationError) -> set[str]:
    return {str(detail["loc"][0]) for detail in error.errors() if detail["loc"]}


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (Agent, {**AGENT, "name": ""}, "name"),
        (Agent, {**AGENT, "name": "   "}, "name"),
        (Agent, {"name": "Ada"}, "model"),
        (Agent, {**AGENT, "max_steps": -1}, "max_steps"),
        (Agent, {**AGENT, "handle": "not a handle"}, "handle"),
        (Agent, {**AGENT, "handle": "a..b"}, "handle"),
        (Agent, {**AGENT, "permission_mode": "yolo"}, "permission_mode"),
        (Agent, {**AGENT, "persona_source": "fax"}, "persona_source"),
        (Agent, {**AGENT, "mcps": "not-a-list"}, "mcps"),
        (Agent, {**AGENT, "configuration": ["not", "a", "dict"]}, "configuration"),
        (Agent, {**AGENT, "configuration": {"when": datetime.now(UTC)}}, "configuration"),
        (Agent, {**AGENT, "id": "has space"}, "id"),
        (Agent, {**AGENT, "id": ""}, "id"),
        (Agent, {**AGENT, "nmae": "typo"}, "nmae"),
        (Agent, {**AGENT, "created_at": datetime(2026, 1, 1)}, "created_at"),
        (User, {"email": "not-an-email"}, "email"),
        (User, {"phone_number": "12"}, "phone_number"),
        (User, {"user_data": [1, 2]}, "user_data"),
        (ProfileMetadata, {"agent_id": "a", "followers_count": -1}, "followers_count"),
        (ProfileMetadata, {"agent_id": "a", "posts_count": -5}, "posts_count"),
        (
            PersonaBio,
            {"agent_id": "a", "persona_bio": "x", "persona_bio_source": "me"},
            "persona_bio_source",
        ),
        (Session, {"main_agent_id": "a", "status": "paused"}, "status"),
        (Session, {"main_agent_id": "a", "max_steps": -1}, "max_steps"),
        (Session, {"main_agent_id": "a", "sub_agent_ids": {"a": 1}}, "sub_agent_ids"),
        (SessionLog, {**LOG, "role": "robot"}, "role"),
        (SessionLog, {**LOG, "type": "dream"}, "type"),
        (SessionLog, {**LOG, "content": None}, "content"),
        (SessionLog, {**LOG, "content": {"x": float("nan")}}, "content"),
        (SessionLog, {**LOG, "content": {1, 2}}, "content"),
        (SessionLog, {**LOG, "metadata": []}, "metadata"),
        (SessionLog, {**LOG, "parent_id": 0}, "parent_id"),
        (Memory, {"name": "n", "content": "c", "agent_id": "a", "read_mode": "aloud"}, "read_mode"),
        (Memory, {"name": "n", "content": "c", "agent_id": "a", "access": "admin"}, "access"),
        (Memory, {"name": "", "content": "c", "agent_id": "a"}, "name"),
        (Message, {"conversation_id": "c", "role": "agent", "content": "x"}, "role"),
        (
            Message,
            {"conversation_id": "c", "role": "user", "content": "x", "tool_calls": [1]},
            "tool_calls",
        ),
        (
            Message,
            {"conversation_id": "c", "role": "user", "content": "x", "content_hash": ""},
            "content_hash",
        ),
        (Conversation, {"agent_id": ""}, "agent_id"),
        (AgentUpdate, {"name": None}, "name"),
        (AgentUpdate, {"max_steps": -3}, "max_steps"),
        (AgentUpdate, {"handle": "Bad Handle"}, "handle"),
        (AgentUpdate, {"status": "archived"}, "status"),
        (UserUpdate, {"user_data": None}, "user_data"),
        (SessionUpdate, {"status": None}, "status"),
        (SessionLogUpdate, {"content": None}, "content"),
        (MemoryUpdate, {"read_mode": "loud"}, "read_mode"),
    ],
)
def test_invalid_input_raises_a_validation_error_naming_the_field(
    model: type[BaseModel], fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    assert field in error_fields(caught.value)


def test_archived_status_and_archive_time_must_come_together() -> None:
    with pytest.raises(ValidationError, match="archived_at must be set exactly when"):
        Agent(**AGENT, status=AgentStatus.ARCHIVED)
    with pytest.raises(ValidationError, match="archived_at must be set exactly when"):
        Agent(**AGENT, archived_at=datetime.now(UTC))
    archived = Agent(**AGENT, status="archived", archived_at=datetime.now(UTC))
    assert archived.status is AgentStatus.ARCHIVED


def test_assignment_is_validated_too() -> None:
    agent = Agent(**AGENT)
    with pytest.raises(ValidationError) as caught:
        agent.max_steps = -1
    assert error_fields(caught.value) == {"max_steps"}
    assert agent.max_steps == 10


def test_handles_emails_and_phone_numbers_are_normalized() -> None:
    assert Agent(**AGENT, handle="@Ada.Example.COM").handle == "ada.example.com"
    assert User(email="  Ada@Example.COM ").email == "ada@example.com"
    assert User(phone_number="+1 (555) 010-0199").phone_number == "+15550100199"


def test_timestamps_are_normalized_to_utc_and_stored_in_the_clock_format() -> None:
    plus_two = timezone(timedelta(hours=2))
    agent = Agent(**AGENT, created_at=datetime(2026, 5, 1, 14, 0, 0, 5, tzinfo=plus_two))
    assert agent.created_at == datetime(2026, 5, 1, 12, 0, 0, 5, tzinfo=UTC)
    assert agent.created_at.utcoffset() == timedelta(0)
    assert agent.to_params()["created_at"] == "2026-05-01T12:00:00.000005Z"
    assert agent.updated_at == agent.created_at


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 22, 11, 45, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_fast_timestamp_format_equals_the_clock_format(moment: datetime) -> None:
    assert format_ts(moment) == format_timestamp(moment)


def test_now_strictly_increases_even_within_one_microsecond() -> None:
    moments = [now() for _ in range(2000)]
    assert all(later > earlier for earlier, later in itertools.pairwise(moments))


def test_generated_ids_are_uuid7_and_strictly_increase() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(value).version for value in ids} == {7}


def test_update_models_report_only_the_fields_given() -> None:
    params = AgentUpdate(name="Bea", description=None).to_params()
    assert params["set_name"] is True
    assert params["name"] == "Bea"
    assert params["set_description"] is True
    assert params["description"] is None
    assert params["set_model"] is False
    assert params["model"] is None


def test_session_overrides_default_to_null_not_to_the_agents_defaults() -> None:
    params = Session(main_agent_id="a").to_params()
    for column in ("model", "max_steps", "permission_mode", "configuration", "built_in_tools"):
        assert params[column] is None, column


@pytest.mark.parametrize(
    "record",
    [
        Agent(**AGENT, handle="ada", configuration={"temperature": 0.2}, mcps=["fs"]),
        User(email="ada@example.com", user_data={"tier": {"name": "pro"}}),
        Session(main_agent_id="a", max_steps=0, configuration={}, sub_agent_ids=["b"]),
        SessionLog(**LOG, parent_id=4, metadata={"tokens": 12}),
        SessionLog(**{**LOG, "content": "plain text"}),
        Memory(name="n", content="c", agent_id="a", metadata={"k": [1, None]}),
        Message(conversation_id="c", role="assistant", content="x", tool_calls=[{"name": "f"}]),
        PersonaBio(agent_id="a", persona_bio="Curious.", persona_bio_source="user_provided"),
        ProfileMetadata(agent_id="a", followers_count=7),
        Conversation(agent_id="a", title="Hi"),
    ],
    ids=lambda record: type(record).__name__,
)
def test_to_params_then_from_row_gives_the_same_model(record: Any) -> None:
    assert type(record).from_row(record.to_params()) == record


def test_effective_session_requires_resolved_configuration() -> None:
    with pytest.raises(ValidationError) as caught:
        EffectiveSession.from_row({"id": "s", "model": None})
    assert "model" in error_fields(caught.value)


def test_message_hash_defaults_to_the_content_and_an_explicit_one_is_kept() -> None:
    first = Message(conversation_id="c", role="user", content="yes")
    again = Message(conversation_id="c", role="user", content="yes")
    other = Message(conversation_id="c", role="assistant", content="yes")
    assert first.content_hash == again.content_hash != other.content_hash
    assert first.content_hash == content_hash_of(MessageRole.USER, "yes", [], None)
    assert (
        Message(conversation_id="c", role="user", content="yes", content_hash="k1").content_hash
        == "k1"
    )
    with pytest.raises(ValidationError):
        first.content = "no"  # messages are immutable


def test_terminal_statuses() -> None:
    assert {s for s in SessionStatus if s.terminal} == {
        SessionStatus.COMPLETED,
        SessionStatus.FAILED,
        SessionStatus.STOPPED,
    }


def test_from_row_reads_json_columns_as_text_or_as_values_the_driver_decoded() -> None:
    # PostgreSQL's JSONB arrives decoded: a JSON string is then a plain str that is not JSON
    # text, and must be kept, where SQLite's text '"question"' must be parsed.
    log = SessionLog(session_id="s", role="user", type="message", content="[1, 2]")
    as_text = log.to_params()
    assert as_text["content"] == '"[1, 2]"'
    decoded = {**as_text, "content": "[1, 2]", "metadata": {}}
    assert SessionLog.from_row(as_text) == log
    assert SessionLog.from_row(decoded, json_decoded=True) == log
    agent = Agent(name="Ada", model="m", mcps=["fs"], configuration={"t": 1})
    values = {**agent.to_params(), **agent.model_dump(include=set(Agent.json_columns))}
    assert Agent.from_row(values, json_decoded=True) == agent
