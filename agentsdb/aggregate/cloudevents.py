"""Agent events as CloudEvents 1.0 structured JSON envelopes, for publishing to a message bus.

An envelope (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md and its JSON
format) carries ``specversion`` "1.0", ``id`` (the event id), ``source``, ``type`` (the event type
string), ``subject`` (the agent id), ``time`` (RFC 3339, the payload's ``occurred_at``),
``datacontenttype`` "application/json" and ``data`` (the payload). Extension attributes are kept.
Reading an envelope checks every attribute and raises :class:`CloudEventError` naming the first
bad one, :class:`UnknownEventTypeError` or :class:`EventPayloadError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from agentsdb.aggregate.errors import CloudEventError, InvalidAgentIdError
from agentsdb.aggregate.events import AgentEvent, decode_event, payload_class
from agentsdb.aggregate.identity import STREAM_PREFIX, validate_agent_id
from agentsdb.events.types import NewEvent, RecordedEvent
from agentsdb.models._record import format_ts

SPEC_VERSION: Final = "1.0"
DATA_CONTENT_TYPE: Final = "application/json"

#: The ``source`` of envelopes made without one: a URI reference naming this library's agents.
DEFAULT_SOURCE: Final = "urn:agentsdb:agents"

#: Context attributes this module reads; any other (``dataschema``, extensions) is kept as is.
_CORE: Final = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype"}
)
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class AgentCloudEvent:
    """A validated CloudEvents envelope holding an Agent event."""

    event_id: str
    source: str
    agent_id: str
    event: AgentEvent
    extensions: Mapping[str, str | int | bool] = field(default_factory=dict)

    @property
    def type(self) -> str:
        """The event type string (the envelope's ``type``)."""
        return self.event.TYPE

    def to_dict(self) -> dict[str, Any]:
        """The structured JSON envelope (a JSON-able dict)."""
        envelope: dict[str, Any] = {
            "specversion": SPEC_VERSION,
            "id": self.event_id,
            "source": self.source,
            "type": self.event.TYPE,
            "subject": self.agent_id,
            "time": format_ts(self.event.occurred_at),
            "datacontenttype": DATA_CONTENT_TYPE,
        }
        envelope.update(self.extensions)
        envelope["data"] = self.event.to_data()
        return envelope

    def to_new_event(self) -> NewEvent:
        """The event to append to the agent's stream, keeping the envelope's id."""
        return self.event.to_new_event(self.event_id)


def to_cloudevent(
    event: NewEvent | RecordedEvent,
    agent_id: str,
    *,
    source: str = DEFAULT_SOURCE,
    extensions: Mapping[str, str | int | bool] | None = None,
) -> dict[str, Any]:
    """``event`` of agent ``agent_id`` as a CloudEvents 1.0 structured JSON envelope.

    The data is validated against its type's payload first, so only valid Agent events leave.
    """
    if isinstance(event, RecordedEvent) and event.stream_id != STREAM_PREFIX + str(agent_id):
        raise CloudEventError(
            "subject", f"{agent_id!r} is not the agent of stream {event.stream_id!r}"
        )
    decoded = decode_event(event.type, event.data, event.schema_version)
    cloud = AgentCloudEvent(
        event_id=_text("id", event.event_id),
        source=_text("source", source),
        agent_id=_subject(agent_id),
        event=decoded,
        extensions=_extensions(dict(extensions or {})),
    )
    return cloud.to_dict()


def from_cloudevent(envelope: Mapping[str, Any]) -> AgentCloudEvent:
    """Read a CloudEvents 1.0 structured JSON envelope holding an Agent event."""
    if not isinstance(envelope, Mapping):
        raise CloudEventError("envelope", f"must be a JSON object, not {type(envelope).__name__}")
    specversion = _required(envelope, "specversion")
    if specversion != SPEC_VERSION:
        raise CloudEventError("specversion", f"must be {SPEC_VERSION!r}, not {specversion!r}")
    event_id = _text("id", _required(envelope, "id"))
    source = _text("source", _required(envelope, "source"))
    event_type = _text("type", _required(envelope, "type"))
    cls = payload_class(event_type)
    agent_id = _subject(_required(envelope, "subject"))
    content_type = envelope.get("datacontenttype", DATA_CONTENT_TYPE)
    if not isinstance(content_type, str) or (
        content_type.split(";", 1)[0].strip().lower() != DATA_CONTENT_TYPE
    ):
        raise CloudEventError("datacontenttype", f"must be {DATA_CONTENT_TYPE!r}")
    if "data_base64" in envelope:
        raise CloudEventError("data_base64", "Agent events carry JSON data, not binary")
    data = _required(envelope, "data")
    if not isinstance(data, Mapping):
        raise CloudEventError("data", "must be a JSON object")
    event = decode_event(event_type, data, cls.SCHEMA_VERSION)
    if "time" in envelope:
        moment = _time(envelope["time"])
        if moment != event.occurred_at:
            raise CloudEventError(
                "time", f"{envelope['time']!r} differs from the data's occurred_at"
            )
    extensions = _extensions(
        {name: value for name, value in envelope.items() if name not in _CORE and name != "data"}
    )
    return AgentCloudEvent(
        event_id=event_id, source=source, agent_id=agent_id, event=event, extensions=extensions
    )


def _required(envelope: Mapping[str, Any], attribute: str) -> Any:
    if attribute not in envelope or envelope[attribute] is None:
        raise CloudEventError(attribute, "is required")
    return envelope[attribute]


def _text(attribute: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise CloudEventError(attribute, "must be a non-empty string")
    return value


def _subject(value: object) -> str:
    try:
        return validate_agent_id(value)
    except InvalidAgentIdError as error:
        raise CloudEventError("subject", f"must be the agent id: {error.reason}") from error


def _time(value: object) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise CloudEventError("time", "must be an RFC 3339 timestamp such as 2026-01-01T00:00:00Z")
    return datetime.fromisoformat(value)


def _extensions(values: dict[str, Any]) -> dict[str, str | int | bool]:
    for name, value in values.items():
        if not isinstance(name, str) or not _EXTENSION_NAME.match(name):
            raise CloudEventError(
                str(name)[:40], "extension names are 1 to 20 lower-case letters or digits"
            )
        if not isinstance(value, str | int | bool):
            raise CloudEventError(name, "extension values must be strings, integers or booleans")
    return values


__all__ = [
    "DATA_CONTENT_TYPE",
    "DEFAULT_SOURCE",
    "SPEC_VERSION",
    "AgentCloudEvent",
    "from_cloudevent",
    "to_cloudevent",
]
