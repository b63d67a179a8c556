"""Value objects of the Agent aggregate: immutable, validated, and exact through JSON.

Each model is frozen (attributes cannot be reassigned; sequences are tuples) and refuses unknown
fields. ``Model.model_validate_json(model.model_dump_json()) == model`` holds for every valid value:
timestamps are written in the one agentsdb format (UTC, microseconds, ``Z``), and JSON payloads
hold JSON values only (no NaN or infinity).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainSerializer

from agentsdb.aggregate.enums import AssignmentRole, SessionStatus
from agentsdb.models._fields import JsonTimestamp
from agentsdb.models._record import JsonObject, Key, Text, format_ts

#: A timezone-aware UTC moment, written as ``2026-11-22T11:45:00.123456Z`` in JSON. Read from
#: JSON text in that form, it keeps pydantic's fixed UTC offset as its ``tzinfo`` (equal to
#: ``datetime.UTC``; see :data:`agentsdb.models._fields.JsonTimestamp`).
Moment: TypeAlias = Annotated[JsonTimestamp, PlainSerializer(format_ts, when_used="json")]

#: A count that cannot go below zero.
Count: TypeAlias = Annotated[int, Field(ge=0)]

#: Milliseconds since the Unix epoch.
EpochMs: TypeAlias = Annotated[int, Field(ge=0)]

#: Who wrote a message in an LLM conversation.
MessageRole: TypeAlias = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ValueObject(BaseModel):
    """Base of the aggregate's value objects: frozen, closed, JSON values only.

    A value object given to a model is validated again, which copies its JSON containers: an
    ``ExecutionState`` handed to a command and changed by its caller afterwards does not change
    the agent. Treat the containers of a value read from ``agent.state`` as read-only.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, revalidate_instances="always"
    )


class LlmMessageSnapshot(ValueObject):
    """One message of an LLM conversation, as the model saw it.

    ``content`` is text, a list of content parts (multimodal messages), or None (an assistant
    message that only calls tools). ``tool_calls`` are the provider's tool-call objects, kept as
    they are; ``tool_call_id`` links a tool message to the call it answers.
    """

    role: MessageRole
    content: str | tuple[JsonObject, ...] | None = None
    tool_calls: tuple[JsonObject, ...] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class PendingToolCall(ValueObject):
    """The tool call an execution stopped at, waiting for the client to answer it."""

    call_id: Key
    tool_name: Text
    arguments: JsonObject = Field(default_factory=dict)


class ExecutionState(ValueObject):
    """Everything an agent run needs to continue where it stopped.

    ``messages`` is the conversation so far; ``iteration`` and ``tool_calls_made`` count the run's
    loop turns and tool calls; ``pending_tool_call`` is the call waiting for the client;
    ``started_at_ms`` and ``suspended_at_ms`` are Unix milliseconds.
    """

    messages: tuple[LlmMessageSnapshot, ...] = ()
    iteration: Count = 0
    tool_calls_made: Count = 0
    pending_tool_call: PendingToolCall | None = None
    started_at_ms: EpochMs
    suspended_at_ms: EpochMs | None = None


class ClientAction(ValueObject):
    """Something the client must do or show (a widget, a confirmation, a file pick).

    ``call_id`` identifies it; a suspended execution's action carries the pending tool call's id.
    """

    call_id: Key
    kind: Text
    payload: JsonObject = Field(default_factory=dict)


class ClientResponse(ValueObject):
    """The client's answer to the action with the same ``call_id``."""

    call_id: Key
    payload: JsonObject = Field(default_factory=dict)


class Session(ValueObject):
    """One session of an agent: the active one, or one in the history.

    ``interaction_count`` counts the client responses received during the session and
    ``client_action_count`` the client actions requested (blocking or not).
    """

    session_id: Key
    conversation_id: Key
    status: SessionStatus = SessionStatus.ACTIVE
    started_at: Moment
    ended_at: Moment | None = None
    summary: str | None = None
    termination_reason: str | None = None
    interaction_count: Count = 0
    client_action_count: Count = 0


#: The name the issue and the seed use for the session value object.
AgentSession = Session


class AgentAssignment(ValueObject):
    """A user, other than the owner, given a role on an agent."""

    user_id: Key
    role: AssignmentRole
    assigned_by: Key
    assigned_at: Moment


#: Preferences: a JSON object of the user's choices for the agent.
Preferences: TypeAlias = dict[str, JsonValue]

__all__ = [
    "AgentAssignment",
    "AgentSession",
    "ClientAction",
    "ClientResponse",
    "Count",
    "EpochMs",
    "ExecutionState",
    "LlmMessageSnapshot",
    "MessageRole",
    "Moment",
    "PendingToolCall",
    "Preferences",
    "Session",
    "ValueObject",
]
