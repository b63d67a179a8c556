"""Value objects and event payloads round-trip exactly through JSON; bad input is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from aggregate_support import AGENT_ID, T0
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from agentsdb.aggregate import (
    EVENT_TYPES,
    AgentAssignment,
    AgentCreated,
    AssignmentRole,
    ClientAction,
    ClientResponse,
    EventPayloadError,
    ExecutionState,
    ExecutionSuspended,
    InvalidAgentIdError,
    LlmMessageSnapshot,
    PendingToolCall,
    Session,
    SessionStatus,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
    agent_id_from_stream,
    decode_event,
    derived_agent_id,
    stream_id_for,
    validate_agent_id,
)

M = TypeVar("M", bound=BaseModel)

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
keys = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z")), min_size=1, max_size=20)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(text, json_values, max_size=4)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)
counts = st.integers(0, 10**6)
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"])

messages = st.builds(
    LlmMessageSnapshot,
    role=roles,
    content=st.none() | text | st.lists(json_objects, max_size=2).map(tuple),
    tool_calls=st.none() | st.lists(json_objects, max_size=2).map(tuple),
    tool_call_id=st.none() | keys,
    name=st.none() | text,
)
pending_calls = st.builds(PendingToolCall, call_id=keys, tool_name=keys, arguments=json_objects)
execution_states = st.builds(
    ExecutionState,
    messages=st.lists(messages, max_size=4).map(tuple),
    iteration=counts,
    tool_calls_made=counts,
    pending_tool_call=st.none() | pending_calls,
    started_at_ms=st.integers(0, 2**53),
    suspended_at_ms=st.none() | st.integers(0, 2**53),
)
client_actions = st.builds(ClientAction, call_id=keys, kind=keys, payload=json_objects)
client_responses = st.builds(ClientResponse, call_id=keys, payload=json_objects)
sessions = st.builds(
    Session,
    session_id=keys,
    conversation_id=keys,
    status=st.sampled_from(SessionStatus),
    started_at=moments,
    ended_at=st.none() | moments,
    summary=st.none() | text,
    termination_reason=st.none() | text,
    interaction_count=counts,
    client_action_count=counts,
)
assignments = st.builds(
    AgentAssignment,
    user_id=keys,
    role=st.sampled_from(AssignmentRole),
    assigned_by=keys,
    assigned_at=moments,
)
suspensions = st.builds(
    ExecutionSuspended, occurred_at=moments, session_id=keys, execution_state=execution_states
)


def through_json(model: M) -> M:
    """``model`` written as JSON text and read back, both ways pydantic offers."""
    from_text = type(model).model_validate_json(model.model_dump_json())
    from_data = type(model).model_validate(json.loads(json.dumps(model.model_dump(mode="json"))))
    assert from_text == from_data
    return from_text


@given(
    st.one_of(messages, pending_calls, execution_states, client_actions, client_responses, sessions)
    | assignments
)
def test_value_objects_round_trip_exactly_through_json(value: BaseModel) -> None:
    assert through_json(value) == value


@given(suspensions)
def test_the_suspension_event_round_trips_through_the_event_store_shape(
    event: ExecutionSuspended,
) -> None:
    stored = event.to_new_event("e-1")
    data = json.loads(json.dumps(stored.data))
    assert decode_event(stored.type, data, stored.schema_version) == event


def test_timestamps_are_written_in_the_one_agentsdb_format() -> None:
    created = AgentCreated(
        occurred_at=datetime(2026, 1, 2, 8, 0, tzinfo=timezone(timedelta(hours=-2))),
        agent_id=AGENT_ID,
        owner_user_id="u",
        agent_type="tutor",
        name="n",
    )
    assert created.to_data()["occurred_at"] == "2026-01-02T10:00:00.000000Z"


def test_a_moment_read_from_json_text_is_the_same_utc_moment_in_either_mode() -> None:
    def session(started_at: str) -> str:
        return json.dumps({"session_id": "s", "conversation_id": "c", "started_at": started_at})

    stored = session("2026-01-02T10:00:00.000001Z")
    from_text = Session.model_validate_json(stored)
    from_data = Session.model_validate(json.loads(stored))
    moment = datetime(2026, 1, 2, 10, 0, 0, 1, tzinfo=UTC)
    assert from_text == from_data
    assert from_text.started_at == from_data.started_at == moment
    assert from_text.started_at.utcoffset() == timedelta(0)
    assert hash(from_text) == hash(from_data)
    assert from_text.model_dump_json() == from_data.model_dump_json()
    assert json.loads(from_text.model_dump_json())["started_at"] == "2026-01-02T10:00:00.000001Z"

    # Another offset is normalized to UTC, in either mode.
    elsewhere = session("2026-01-02T12:00:00.000001+02:00")
    for read in (
        Session.model_validate_json(elsewhere),
        Session.model_validate(json.loads(elsewhere)),
    ):
        assert read.started_at == moment
        assert read.started_at.tzinfo is UTC

    # A time without a zone, or no time, is refused at the field in either mode.
    for bad in ("2026-01-02T10:00:00", "yesterday"):
        with pytest.raises(ValidationError) as from_text_refusal:
            Session.model_validate_json(session(bad))
        with pytest.raises(ValidationError) as from_data_refusal:
            Session.model_validate(json.loads(session(bad)))
        for refusal in (from_text_refusal.value, from_data_refusal.value):
            assert [error["loc"] for error in refusal.errors()] == [("started_at",)]
    assert "timezone-aware" in str(from_text_refusal.value)


def test_value_objects_are_frozen() -> None:
    response = ClientResponse(call_id="c")
    with pytest.raises(ValidationError, match="frozen"):
        response.call_id = "d"  # type: ignore[misc]  # assigning on purpose


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (LlmMessageSnapshot, {"role": "robot"}, "role"),
        (PendingToolCall, {"call_id": "has space", "tool_name": "t"}, "call_id"),
        (ExecutionState, {"started_at_ms": -1}, "started_at_ms"),
        (ExecutionState, {"started_at_ms": 1, "iteration": -1}, "iteration"),
        (ClientAction, {"call_id": "c", "kind": "k", "payload": {"x": float("inf")}}, "payload"),
        (ClientResponse, {"call_id": "c", "extra": 1}, "extra"),
        (
            Session,
            {"session_id": "s", "conversation_id": "c", "started_at": T0.replace(tzinfo=None)},
            "started_at",
        ),
    ],
)
def test_value_objects_refuse_invalid_fields_naming_them(
    model: type[BaseModel], fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        model.model_validate(fields)


# --- the event registry --------------------------------------------------------------------------


def test_the_registry_holds_the_eleven_event_types_by_their_exact_strings() -> None:
    assert sorted(EVENT_TYPES) == [
        "agent.archived.v1",
        "agent.client.action.requested.v1",
        "agent.client.response.received.v1",
        "agent.created.v1",
        "agent.execution.resumed.v1",
        "agent.execution.suspended.v1",
        "agent.preferences.updated.v1",
        "agent.session.completed.v1",
        "agent.session.started.v1",
        "agent.session.terminated.v1",
        "agent.user.assigned.v1",
    ]
    assert all(name == cls.TYPE for name, cls in EVENT_TYPES.items())


def test_decoding_an_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownEventTypeError, match=r"agent\.created\.v1") as raised:
        decode_event("agent.exploded.v1", {})
    assert raised.value.event_type == "agent.exploded.v1"


def test_decoding_another_schema_version_asks_for_an_upcast() -> None:
    with pytest.raises(UnsupportedSchemaVersionError, match="upcast") as raised:
        decode_event("agent.archived.v1", {"occurred_at": "2026-01-01T00:00:00Z"}, 2)
    assert (raised.value.schema_version, raised.value.supported) == (2, 1)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"occurred_at": "2026-01-01T00:00:00Z"}, "reason: Field required"),
        ({"occurred_at": "2026-01-01T00:00:00", "reason": "r"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T00:00:00Z", "reason": "r", "x": 1}, "x: Extra inputs"),
        ({"occurred_at": "2026-01-01T00:00:00Z", "reason": " "}, "reason"),
    ],
)
def test_decoding_bad_data_names_each_problem(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(EventPayloadError, match=problem) as raised:
        decode_event("agent.archived.v1", data)
    assert raised.value.event_type == "agent.archived.v1"


# --- ids -----------------------------------------------------------------------------------------


def test_stream_ids_map_to_agent_ids_and_back() -> None:
    assert stream_id_for(AGENT_ID) == f"agent-{AGENT_ID}"
    assert agent_id_from_stream(stream_id_for(AGENT_ID)) == AGENT_ID
    with pytest.raises(InvalidAgentIdError, match="starts with 'agent-'"):
        agent_id_from_stream(AGENT_ID)


def test_derived_agent_ids_are_stable_distinct_and_valid() -> None:
    first = derived_agent_id("user-1", "tutor")
    assert first == derived_agent_id("user-1", "tutor")
    assert first != derived_agent_id("user-1", "coach")
    assert first != derived_agent_id("user-1t", "utor")
    assert validate_agent_id(first) == first


def test_validate_agent_id_refuses_a_non_string() -> None:
    with pytest.raises(InvalidAgentIdError, match="must be a string"):
        validate_agent_id(42)
