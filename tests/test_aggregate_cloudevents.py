"""Agent events to and from CloudEvents 1.0 structured JSON envelopes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from aggregate_support import AGENT_ID, full_life, new_agent

from agentsdb.aggregate import (
    DEFAULT_SOURCE,
    CloudEventError,
    EventPayloadError,
    SessionStarted,
    UnknownEventTypeError,
    from_cloudevent,
    to_cloudevent,
)
from agentsdb.events.types import RecordedEvent

# An envelope written by hand from the CloudEvents 1.0 JSON format's example.
SPEC_EXAMPLE = """
{
    "specversion" : "1.0",
    "type" : "agent.session.started.v1",
    "source" : "https://tutor.example.com/agents",
    "subject" : "5f0e8b1c-6a3d-4e2f-9b7a-1c2d3e4f5a6b",
    "id" : "A234-1234-1234",
    "time" : "2018-04-05T17:31:00Z",
    "comexampleextension1" : "value",
    "datacontenttype" : "application/json",
    "data" : {
        "occurred_at" : "2018-04-05T17:31:00Z",
        "session_id" : "s-1",
        "conversation_id" : "c-1"
    }
}
"""
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def envelope(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_a_hand_written_spec_envelope_is_read() -> None:
    cloud = from_cloudevent(json.loads(SPEC_EXAMPLE))
    assert cloud.event_id == "A234-1234-1234"
    assert cloud.source == "https://tutor.example.com/agents"
    assert cloud.agent_id == AGENT_ID
    assert cloud.type == "agent.session.started.v1"
    assert isinstance(cloud.event, SessionStarted)
    assert cloud.event.conversation_id == "c-1"
    assert cloud.extensions == {"comexampleextension1": "value"}
    new_event = cloud.to_new_event()
    assert (new_event.event_id, new_event.type) == ("A234-1234-1234", "agent.session.started.v1")


def test_every_agent_event_round_trips_through_an_envelope() -> None:
    log: list[RecordedEvent] = []
    full_life(log)
    for event in log:
        sent = to_cloudevent(event, AGENT_ID, extensions={"traceid": "t-1"})
        text = json.dumps(sent)  # a bus carries JSON text
        cloud = from_cloudevent(json.loads(text))
        assert cloud.to_dict() == sent
        assert cloud.event_id == event.event_id
        assert cloud.to_new_event().data == event.data


def test_a_made_envelope_has_the_spec_attributes() -> None:
    [created] = new_agent().pending_events
    sent = to_cloudevent(created, AGENT_ID)
    assert sent["specversion"] == "1.0"
    assert (sent["id"], sent["type"], sent["subject"]) == (
        created.event_id,
        "agent.created.v1",
        AGENT_ID,
    )
    assert sent["source"] == DEFAULT_SOURCE
    assert sent["datacontenttype"] == "application/json"
    assert RFC3339.match(sent["time"])
    assert sent["time"] == sent["data"]["occurred_at"]


def test_to_cloudevent_refuses_data_that_is_not_a_valid_payload() -> None:
    [created] = new_agent().pending_events
    broken = replace(created, data={**created.data, "agent_type": "wizard"})
    with pytest.raises(EventPayloadError, match="agent_type"):
        to_cloudevent(broken, AGENT_ID)


def test_to_cloudevent_refuses_a_subject_that_is_not_an_agent_id() -> None:
    [created] = new_agent().pending_events
    with pytest.raises(CloudEventError, match="subject"):
        to_cloudevent(created, "agents-row-7")


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "subject", "data"])
def test_from_cloudevent_refuses_a_missing_required_attribute(attribute: str) -> None:
    with pytest.raises(CloudEventError, match=f"'{attribute}': is required") as raised:
        from_cloudevent(envelope(**{attribute: None}))
    assert raised.value.attribute == attribute


@pytest.mark.parametrize(
    ("changes", "attribute", "problem"),
    [
        ({"specversion": "0.3"}, "specversion", "must be '1.0'"),
        ({"id": ""}, "id", "non-empty string"),
        ({"source": 7}, "source", "non-empty string"),
        ({"subject": "not-a-uuid"}, "subject", "must be the agent id"),
        ({"time": "April 5th"}, "time", "RFC 3339"),
        ({"time": "2018-04-05T17:31:01Z"}, "time", "differs from the data"),
        ({"datacontenttype": "text/xml"}, "datacontenttype", "application/json"),
        ({"data": "text"}, "data", "JSON object"),
        ({"data_base64": "AAAA"}, "data_base64", "not binary"),
        ({"Bad-Name": "x"}, "Bad-Name", "lower-case letters or digits"),
        ({"traceid": {"a": 1}}, "traceid", "strings, integers or booleans"),
    ],
)
def test_from_cloudevent_refuses_a_bad_attribute_naming_it(
    changes: dict[str, Any], attribute: str, problem: str
) -> None:
    with pytest.raises(CloudEventError, match=problem) as raised:
        from_cloudevent(envelope(**changes))
    assert raised.value.attribute == attribute


def test_from_cloudevent_accepts_an_equal_time_in_another_offset_and_no_content_type() -> None:
    cloud = from_cloudevent(envelope(time="2018-04-05T19:31:00+02:00", datacontenttype=None))
    assert cloud.to_dict()["time"] == "2018-04-05T17:31:00.000000Z"


def test_from_cloudevent_refuses_an_unknown_type_and_bad_data() -> None:
    with pytest.raises(UnknownEventTypeError):
        from_cloudevent(envelope(type="com.example.other"))
    with pytest.raises(EventPayloadError, match="conversation_id"):
        from_cloudevent(envelope(data={"occurred_at": "2018-04-05T17:31:00Z", "session_id": "s"}))


def test_from_cloudevent_refuses_a_non_object() -> None:
    with pytest.raises(CloudEventError, match="JSON object"):
        from_cloudevent([])  # type: ignore[arg-type]  # a wrong type on purpose


def test_to_cloudevent_refuses_a_stored_event_of_another_agent() -> None:
    log: list[RecordedEvent] = []
    full_life(log)
    other = "0d7a1c9e-3b4f-4a6e-8c2d-9e8f7a6b5c4d"
    with pytest.raises(CloudEventError, match="is not the agent of stream"):
        to_cloudevent(log[0], other)
