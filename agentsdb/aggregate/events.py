"""The Agent's 11 event types: pydantic payloads, and their conversion to and from the event store.

Every payload has ``occurred_at`` (when the command decided it). The ``.v1`` ending is part of
each type's name, which consumers route on and which never changes; the shape of the data is
versioned by ``schema_version`` (``SCHEMA_VERSION`` here). When a shape changes, raise
``SCHEMA_VERSION`` and register an upcaster for the old version with the event store
(:mod:`agentsdb.events.upcasting`), which reads old events in the new shape.

Only ``agent.execution.suspended.v1`` carries the conversation snapshot (so a suspended run
survives a crash); a resume names the call it answers and a completion its summary, so the stream
grows with the work, not with the square of the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

from pydantic import Field, ValidationError

from agentsdb.aggregate.enums import AgentType, AssignmentRole
from agentsdb.aggregate.errors import (
    EventPayloadError,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
    validation_problems,
)
from agentsdb.aggregate.values import (
    ClientAction,
    ClientResponse,
    ExecutionState,
    Moment,
    Preferences,
    ValueObject,
)
from agentsdb.events.types import NewEvent, RecordedEvent
from agentsdb.models._record import Key, Text

#: The default number of ended sessions an agent keeps in its history.
DEFAULT_MAX_HISTORY_SIZE: Final = 50


class AgentEvent(ValueObject):
    """Base of the Agent's event payloads. ``TYPE`` is the event type string."""

    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    occurred_at: Moment

    def to_data(self) -> dict[str, Any]:
        """The payload as the JSON object stored in the event's ``data``."""
        # model_dump(mode="json") without its keyword handling: this runs for every command.
        return self.__pydantic_serializer__.to_python(self, mode="json")  # type: ignore[no-any-return]  # pydantic-core types it Any

    def to_new_event(
        self, event_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> NewEvent:
        """The payload as an event to append (a fresh random id unless ``event_id`` is given)."""
        data = self.to_data()
        stored_metadata = {} if metadata is None else dict(metadata)
        if event_id is None:  # NewEvent's own default
            return NewEvent(
                self.TYPE, data, schema_version=self.SCHEMA_VERSION, metadata=stored_metadata
            )
        return NewEvent(self.TYPE, data, event_id, self.SCHEMA_VERSION, stored_metadata)


class AgentCreated(AgentEvent):
    """An agent instance was created for its owner.

    ``definition_id`` optionally names the ``agents`` row (the definition) it was made from.
    """

    TYPE: ClassVar[str] = "agent.created.v1"

    agent_id: Key
    owner_user_id: Key
    agent_type: AgentType
    name: Text
    definition_id: Key | None = None
    system_prompt_override: str | None = None
    preferences: Preferences = Field(default_factory=dict)
    max_history_size: int = Field(default=DEFAULT_MAX_HISTORY_SIZE, ge=1)


class AgentArchived(AgentEvent):
    """The agent was archived; it accepts no more commands."""

    TYPE: ClassVar[str] = "agent.archived.v1"

    reason: Text


class UserAssigned(AgentEvent):
    """A user was given a role on the agent."""

    TYPE: ClassVar[str] = "agent.user.assigned.v1"

    user_id: Key
    role: AssignmentRole
    assigned_by: Key


class PreferencesUpdated(AgentEvent):
    """The agent's preferences or system prompt override changed; both hold their new value."""

    TYPE: ClassVar[str] = "agent.preferences.updated.v1"

    preferences: Preferences
    system_prompt_override: str | None = None


class SessionStarted(AgentEvent):
    """A session started in a conversation."""

    TYPE: ClassVar[str] = "agent.session.started.v1"

    session_id: Key
    conversation_id: Key


class ExecutionSuspended(AgentEvent):
    """Execution stopped at a tool call the client must answer; the state to resume from."""

    TYPE: ClassVar[str] = "agent.execution.suspended.v1"

    session_id: Key
    execution_state: ExecutionState


class ExecutionResumed(AgentEvent):
    """Execution resumed with the response to ``call_id`` (recorded just before)."""

    TYPE: ClassVar[str] = "agent.execution.resumed.v1"

    session_id: Key
    call_id: Key


class ClientActionRequested(AgentEvent):
    """The client was asked to do something; ``blocking`` when execution waits for the answer."""

    TYPE: ClassVar[str] = "agent.client.action.requested.v1"

    session_id: Key
    action: ClientAction
    blocking: bool


class ClientResponseReceived(AgentEvent):
    """The client answered the pending call."""

    TYPE: ClassVar[str] = "agent.client.response.received.v1"

    session_id: Key
    response: ClientResponse


class SessionCompleted(AgentEvent):
    """The session ended successfully."""

    TYPE: ClassVar[str] = "agent.session.completed.v1"

    session_id: Key
    summary: str | None = None


class SessionTerminated(AgentEvent):
    """The session was ended before completing; any suspended execution is dropped."""

    TYPE: ClassVar[str] = "agent.session.terminated.v1"

    session_id: Key
    reason: Text


#: Every event type string and the payload class that reads it.
EVENT_TYPES: Final[Mapping[str, type[AgentEvent]]] = {
    cls.TYPE: cls
    for cls in (
        AgentCreated,
        AgentArchived,
        UserAssigned,
        PreferencesUpdated,
        SessionStarted,
        ExecutionSuspended,
        ExecutionResumed,
        ClientActionRequested,
        ClientResponseReceived,
        SessionCompleted,
        SessionTerminated,
    )
}


def payload_class(event_type: str) -> type[AgentEvent]:
    """The payload class of ``event_type``; :class:`UnknownEventTypeError` if there is none."""
    try:
        return EVENT_TYPES[event_type]
    except (KeyError, TypeError):
        raise UnknownEventTypeError(event_type, sorted(EVENT_TYPES)) from None


def decode_event(event_type: str, data: Mapping[str, Any], schema_version: int = 1) -> AgentEvent:
    """The payload of a stored or received event, validated.

    Raises :class:`UnknownEventTypeError`, :class:`UnsupportedSchemaVersionError` (older shapes
    are upcast by the event store before they get here) or :class:`EventPayloadError`.
    """
    cls = _current_class(event_type, schema_version)
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise EventPayloadError(event_type, validation_problems(error)) from error


def from_recorded(event: RecordedEvent) -> AgentEvent:
    """The payload of an event read from the store, validated as :func:`decode_event` does.

    When the event holds its data as the stored JSON text (:attr:`RecordedEvent.data_json`),
    pydantic validates that text in one pass instead of decoding it first: about 30% less work
    (26 against 37 ms of CPU for the 10,003 events of ``benchmarks/bench_events.py``), and the
    same payload (the JSON and Python modes of these models accept the same values;
    ``tests/test_aggregate_decoding.py`` holds them to it).
    """
    text = event.data_json
    if text is None:
        return decode_event(event.type, event.data, event.schema_version)
    validator = _TEXT_VALIDATORS.get((event.type, event.schema_version))
    if validator is None:
        _current_class(event.type, event.schema_version)  # raises the error that says why
        raise AssertionError("unreachable")  # pragma: no cover - every current class has one
    try:
        payload: AgentEvent = validator(text)
    except ValidationError as error:
        raise EventPayloadError(event.type, validation_problems(error)) from error
    return payload


# (type, current schema version) -> the payload class's JSON validator, what model_validate_json
# calls: looked up once per replayed event instead of three calls through the class.
_TEXT_VALIDATORS: Final[Mapping[tuple[str, int], Callable[[str], Any]]] = {
    (cls.TYPE, cls.SCHEMA_VERSION): cls.__pydantic_validator__.validate_json
    for cls in EVENT_TYPES.values()
}


def _current_class(event_type: str, schema_version: int) -> type[AgentEvent]:
    cls = payload_class(event_type)
    if schema_version != cls.SCHEMA_VERSION:
        raise UnsupportedSchemaVersionError(event_type, schema_version, cls.SCHEMA_VERSION)
    return cls


__all__ = [
    "DEFAULT_MAX_HISTORY_SIZE",
    "EVENT_TYPES",
    "AgentArchived",
    "AgentCreated",
    "AgentEvent",
    "ClientActionRequested",
    "ClientResponseReceived",
    "ExecutionResumed",
    "ExecutionSuspended",
    "PreferencesUpdated",
    "SessionCompleted",
    "SessionStarted",
    "SessionTerminated",
    "UserAssigned",
    "decode_event",
    "from_recorded",
    "payload_class",
]
