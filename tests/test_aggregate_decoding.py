"""Replay's fast paths give what the plain paths give, without a database.

* An event whose stored JSON text is validated in one pass (``from_recorded`` with
  ``RecordedEvent.data_json``) is the payload that decoding the text and validating the data
  gives, and bad text is refused at the same fields.
* ``rebuild`` folds events into its own state in place (``evolve_owned``): the state equals the
  one the pure ``evolve`` chain builds, field for field and in its set fields, and no state or
  snapshot it started from changes.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from typing import Any

import pytest
from aggregate_support import AGENT_ID, T0, full_life

from agentsdb.aggregate import AgentAggregate, AgentEvent, EventPayloadError, evolve
from agentsdb.aggregate.events import (
    EVENT_TYPES,
    AgentCreated,
    ClientResponseReceived,
    ExecutionSuspended,
    PreferencesUpdated,
    decode_event,
    from_recorded,
)
from agentsdb.aggregate.identity import stream_id_for
from agentsdb.aggregate.replay import rebuild
from agentsdb.aggregate.state import initial_state
from agentsdb.events.types import RecordedEvent
from agentsdb.models._record import encode_json

STREAM = stream_id_for(AGENT_ID)
WHEN = "2026-11-01T09:00:00.123456Z"


def as_stored(event: RecordedEvent) -> RecordedEvent:
    """``event`` as a store read returns it: its data and metadata held as stored JSON text."""
    return RecordedEvent.stored(
        event.position,
        event.stream_id,
        event.version,
        event.event_id,
        event.type,
        event.schema_version,
        encode_json(event.data),
        encode_json(event.metadata),
        event.recorded_at,
        decode=False,
    )


def _event(event_type: str, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(1, STREAM, 1, "e-1", event_type, 1, data, {}, WHEN)


def full_log() -> list[RecordedEvent]:
    log: list[RecordedEvent] = []
    full_life(log)
    return log


def test_the_full_life_covers_every_event_type() -> None:
    assert {event.type for event in full_log()} == set(EVENT_TYPES)


@pytest.mark.parametrize("index", range(len(full_log())))
def test_validating_an_events_stored_text_gives_the_payload_decoded_data_gives(index: int) -> None:
    event = full_log()[index]
    stored = as_stored(event)
    assert stored.data_json is not None

    from_text = from_recorded(stored)
    from_data = decode_event(event.type, json.loads(stored.data_json), event.schema_version)

    assert type(from_text) is type(from_data)
    assert from_text == from_data
    assert from_text.model_fields_set == from_data.model_fields_set
    assert from_text.to_data() == from_data.to_data() == event.data


AWKWARD_VALUES: list[Any] = [
    'naïve ☃ 𝄞 \u2028 "quoted" \\ back\\slash \t tab',
    "",
    2**70,
    -(2**63),
    0.1,
    1e-7,
    -0.0,
    1.5e300,
    [1, [2, [3, {"deep": None}]]],
    {"z": 1, "a": 2, "": 3},
    True,
    None,
]


@pytest.mark.parametrize("value", AWKWARD_VALUES, ids=repr)
def test_awkward_json_values_read_the_same_from_text_and_from_decoded_data(value: Any) -> None:
    payloads = [
        (PreferencesUpdated.TYPE, {"occurred_at": WHEN, "preferences": {"k": value}}),
        (
            ClientResponseReceived.TYPE,
            {
                "occurred_at": WHEN,
                "session_id": "s-1",
                "response": {"call_id": "c", "payload": {"v": value}},
            },
        ),
        (
            ExecutionSuspended.TYPE,
            {
                "occurred_at": WHEN,
                "session_id": "s-1",
                "execution_state": {
                    "messages": [
                        {"role": "tool", "content": [{"part": value}], "tool_call_id": "c"}
                    ],
                    "pending_tool_call": {
                        "call_id": "c",
                        "tool_name": "t",
                        "arguments": {"a": value},
                    },
                    "started_at_ms": 1,
                },
            },
        ),
    ]
    for event_type, data in payloads:
        stored = as_stored(_event(event_type, data))
        from_text = from_recorded(stored)
        assert from_text == decode_event(event_type, data)
        assert from_text.to_data() == decode_event(event_type, data).to_data()


BAD_PAYLOADS: list[tuple[str, dict[str, Any]]] = [
    (AgentCreated.TYPE, {"occurred_at": WHEN, "agent_id": AGENT_ID, "owner_user_id": "o"}),
    (
        AgentCreated.TYPE,
        {
            "occurred_at": WHEN,
            "agent_id": AGENT_ID,
            "owner_user_id": "o",
            "agent_type": "wizard",
            "name": "n",
        },
    ),
    (PreferencesUpdated.TYPE, {"occurred_at": "yesterday", "preferences": {}}),
    (PreferencesUpdated.TYPE, {"occurred_at": "2026-11-01T09:00:00", "preferences": {}}),
    (PreferencesUpdated.TYPE, {"occurred_at": WHEN, "preferences": [1]}),
    (PreferencesUpdated.TYPE, {"occurred_at": WHEN, "preferences": {}, "surprise": 1}),
    (
        ClientResponseReceived.TYPE,
        {"occurred_at": WHEN, "session_id": "has space", "response": {"call_id": "c"}},
    ),
    (
        ExecutionSuspended.TYPE,
        {
            "occurred_at": WHEN,
            "session_id": "s",
            "execution_state": {"messages": [{"role": "robot"}], "started_at_ms": -1},
        },
    ),
]


@pytest.mark.parametrize(("event_type", "data"), BAD_PAYLOADS)
def test_a_bad_stored_payload_is_refused_at_the_fields_decoded_data_is_refused_at(
    event_type: str, data: dict[str, Any]
) -> None:
    with pytest.raises(EventPayloadError) as from_data:
        decode_event(event_type, data)
    with pytest.raises(EventPayloadError) as from_text:
        from_recorded(as_stored(_event(event_type, data)))

    # pydantic words a few problems in JSON terms ("an object", not "a valid dictionary").
    def fields(problems: list[str]) -> list[str]:
        return [problem.partition(":")[0] for problem in problems]

    assert fields(from_text.value.problems) == fields(from_data.value.problems)
    assert from_text.value.event_type == from_data.value.event_type == event_type


def test_stored_text_that_is_not_json_is_an_event_payload_error() -> None:
    stored = RecordedEvent.stored(
        1,
        STREAM,
        1,
        "e-1",
        PreferencesUpdated.TYPE,
        1,
        '{"occurred_at": ',
        "{}",
        WHEN,
        decode=False,
    )
    with pytest.raises(EventPayloadError, match=PreferencesUpdated.TYPE):
        from_recorded(stored)


def test_an_event_without_stored_text_is_validated_from_its_data() -> None:
    event = full_log()[0]
    assert event.data_json is None
    changed = dataclasses.replace(as_stored(event), data={**event.data, "name": " "})
    assert changed.data_json is None  # replace() drops the text of the data it replaced

    with pytest.raises(EventPayloadError, match="name"):
        from_recorded(changed)


# --- replay folds in place ------------------------------------------------------------------------


def pure_chain(log: list[RecordedEvent]) -> Any:
    payloads: list[AgentEvent] = [from_recorded(event) for event in log]
    created = payloads[0]
    assert isinstance(created, AgentCreated)
    return functools.reduce(evolve, payloads[1:], initial_state(created))


@pytest.mark.parametrize("stored_text", [False, True])
def test_replay_builds_the_state_the_pure_evolve_chain_builds(stored_text: bool) -> None:
    log = full_log()
    if stored_text:
        log = [as_stored(event) for event in log]

    state, version = rebuild(log)

    expected = pure_chain(log)
    assert state == expected
    assert state.model_fields_set == expected.model_fields_set
    assert list(state.__dict__) == list(expected.__dict__)
    assert version == len(log)


class TaggedPreferencesUpdated(PreferencesUpdated):
    """An application's own subclass of an event type."""


def test_a_subclass_of_an_event_type_changes_the_state_as_its_base_does() -> None:
    created = from_recorded(full_log()[0])
    assert isinstance(created, AgentCreated)
    state = initial_state(created)
    preferences: dict[str, Any] = {"tone": "warm"}

    by_base = evolve(state, PreferencesUpdated(occurred_at=T0, preferences=preferences))
    by_subclass = evolve(state, TaggedPreferencesUpdated(occurred_at=T0, preferences=preferences))

    assert by_subclass == by_base
    assert by_subclass.preferences == {"tone": "warm"}
    with pytest.raises(ValueError, match="cannot follow creation"):
        evolve(state, created)


def test_replay_from_a_snapshot_changes_neither_the_snapshot_nor_the_agent_it_came_from() -> None:
    log = full_log()
    middle = AgentAggregate.replay(log[:3])
    before = middle.state.model_copy(deep=True)
    snapshot = middle.to_snapshot()
    snapshot_before = copy.deepcopy(snapshot)

    rest = AgentAggregate.replay(log[3:], (middle.version, snapshot))

    assert middle.state == before
    assert middle.state.model_fields_set == before.model_fields_set
    assert snapshot == snapshot_before
    assert rest.state == AgentAggregate.replay(log).state
    assert rest.state is not middle.state


def test_states_handed_out_by_a_replay_do_not_change_when_it_is_replayed_again() -> None:
    log = full_log()
    first = AgentAggregate.replay(log[:5])
    kept = first.state.model_copy(deep=True)

    AgentAggregate.replay(log)
    AgentAggregate.replay(log[5:], (first.version, first.to_snapshot()))

    assert first.state == kept
    assert first.state.updated_at != AgentAggregate.replay(log).state.updated_at
    assert first.state.created_at == T0
