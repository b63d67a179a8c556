"""The rules of the Agent aggregate, one error class each.

Every class derives from :class:`DomainError` (itself an :class:`agentsdb.errors.AgentsDBError`),
carries the data that broke the rule as attributes, and says in its message what to do next. A
command that raises has recorded no event and left the aggregate unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.errors import AgentsDBError


def _short(value: object, limit: int = 60) -> str:
    """A value quoted for a message, cut to a short prefix."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DomainError(AgentsDBError):
    """A command or an input broke a rule of the Agent aggregate."""


# --- commands on the agent's lifecycle ----------------------------------------------------------


class InvalidCommandError(DomainError):
    """A command's arguments are not valid (``problems`` lists what was wrong, field by field)."""

    def __init__(self, command: str, problems: Sequence[str]) -> None:
        self.command = command
        self.problems = list(problems)
        super().__init__(f"{command}: invalid arguments: {'; '.join(self.problems)}")


class InvalidAgentIdError(DomainError):
    """An agent id is not a UUID of the kind agent instances use."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"agent id {_short(value)} is not valid: {reason}")


class InvalidChoiceError(DomainError):
    """A value is not one of a closed set (an agent type, an assignment role)."""

    def __init__(self, field: str, value: object, choices: Sequence[str]) -> None:
        self.field = field
        self.value = value
        self.choices = list(choices)
        super().__init__(f"{field} {_short(value)} is not one of: {', '.join(self.choices)}")


class InvalidAgentTypeError(InvalidChoiceError):
    """The agent type is not an :class:`~agentsdb.aggregate.AgentType`."""


class InvalidAssignmentRoleError(InvalidChoiceError):
    """The role is not an :class:`~agentsdb.aggregate.AssignmentRole`."""


class AgentArchivedError(DomainError):
    """The agent is archived: it accepts no command, only reads."""

    def __init__(self, agent_id: str, command: str) -> None:
        self.agent_id = agent_id
        self.command = command
        super().__init__(
            f"agent {agent_id} is archived and accepts no {command}; create a new agent instead"
        )


class DuplicateAssignmentError(DomainError):
    """The user is already assigned to the agent."""

    def __init__(self, agent_id: str, user_id: str, role: str) -> None:
        self.agent_id = agent_id
        self.user_id = user_id
        self.role = role
        super().__init__(f"user {user_id!r} is already assigned to agent {agent_id} as {role}")


class OwnerAssignmentError(DomainError):
    """The owner of an agent cannot also be assigned to it."""

    def __init__(self, agent_id: str, user_id: str) -> None:
        self.agent_id = agent_id
        self.user_id = user_id
        super().__init__(f"user {user_id!r} owns agent {agent_id} and needs no assignment")


# --- sessions and execution ---------------------------------------------------------------------


class SessionAlreadyActiveError(DomainError):
    """A session is already active: an agent runs one session at a time."""

    def __init__(self, agent_id: str, session_id: str) -> None:
        self.agent_id = agent_id
        self.session_id = session_id
        super().__init__(
            f"agent {agent_id} already has active session {session_id!r}; complete or "
            "terminate it first"
        )


class NoActiveSessionError(DomainError):
    """The command needs an active session and the agent has none."""

    def __init__(self, agent_id: str, command: str) -> None:
        self.agent_id = agent_id
        self.command = command
        super().__init__(f"agent {agent_id} has no active session for {command}; start one first")


class SessionStillActiveError(DomainError):
    """The agent cannot be archived while a session is active."""

    def __init__(self, agent_id: str, session_id: str) -> None:
        self.agent_id = agent_id
        self.session_id = session_id
        super().__init__(
            f"agent {agent_id} has active session {session_id!r}; complete or terminate it "
            "before archiving the agent"
        )


class AlreadySuspendedError(DomainError):
    """Execution is already suspended, waiting for the response to another call."""

    def __init__(self, agent_id: str, pending_call_id: str) -> None:
        self.agent_id = agent_id
        self.pending_call_id = pending_call_id
        super().__init__(
            f"agent {agent_id} is already suspended waiting for call {pending_call_id!r}; "
            "resume or terminate first"
        )


class NotSuspendedError(DomainError):
    """A client response or resume arrived while execution is not suspended."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        self.agent_id = agent_id
        self.call_id = call_id
        super().__init__(
            f"agent {agent_id} is not suspended, so there is nothing for call {call_id!r} to answer"
        )


class SessionSuspendedError(DomainError):
    """The session cannot complete while execution waits for a client response."""

    def __init__(self, agent_id: str, session_id: str, pending_call_id: str) -> None:
        self.agent_id = agent_id
        self.session_id = session_id
        self.pending_call_id = pending_call_id
        super().__init__(
            f"session {session_id!r} of agent {agent_id} is suspended waiting for call "
            f"{pending_call_id!r}; resume it, or terminate the session"
        )


class MissingPendingToolCallError(DomainError):
    """Execution was suspended with an execution state that has no pending tool call."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(
            f"agent {agent_id}: a suspended execution state must name its pending tool call"
        )


class CallIdMismatchError(DomainError):
    """A call id does not match the pending tool call it must answer."""

    def __init__(self, agent_id: str, expected: str, actual: str) -> None:
        self.agent_id = agent_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"agent {agent_id} waits for call {expected!r}, not {_short(actual)}")


class CallIdReusedError(DomainError):
    """A new client action reuses the call id of one already pending or answered."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        self.agent_id = agent_id
        self.call_id = call_id
        super().__init__(
            f"agent {agent_id} already used call id {call_id!r}; give each client action a "
            "new call id"
        )


class ConflictingClientResponseError(DomainError):
    """A call was answered twice with different payloads."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        self.agent_id = agent_id
        self.call_id = call_id
        super().__init__(
            f"agent {agent_id} already received a different response to call {call_id!r}; "
            "a call is answered once"
        )


# --- events, replay and snapshots ---------------------------------------------------------------


class EventError(DomainError):
    """An event, stored or received, cannot be read as an Agent event."""


class UnknownEventTypeError(EventError):
    """The event type is not one of the Agent's event types."""

    def __init__(self, event_type: str, known: Sequence[str]) -> None:
        self.event_type = event_type
        self.known = list(known)
        super().__init__(
            f"unknown agent event type {_short(event_type)}; known types: {', '.join(self.known)}"
        )


class UnsupportedSchemaVersionError(EventError):
    """The event's schema version is not the one its payload class reads."""

    def __init__(self, event_type: str, schema_version: int, supported: int) -> None:
        self.event_type = event_type
        self.schema_version = schema_version
        self.supported = supported
        super().__init__(
            f"{event_type} schema version {schema_version} cannot be read (this code reads "
            f"version {supported}); upcast it before decoding"
        )


class EventPayloadError(EventError):
    """The event's data does not fit its type's payload."""

    def __init__(self, event_type: str, problems: Sequence[str]) -> None:
        self.event_type = event_type
        self.problems = list(problems)
        super().__init__(f"{event_type} data is not valid: {'; '.join(self.problems)}")


class EventSequenceError(EventError):
    """Replayed events are out of order, from another stream, or do not start with creation."""

    def __init__(self, stream_id: str, problem: str) -> None:
        self.stream_id = stream_id
        self.problem = problem
        super().__init__(f"cannot replay stream {stream_id!r}: {problem}")


class CloudEventError(EventError):
    """A CloudEvents envelope is missing an attribute or holds a bad one."""

    def __init__(self, attribute: str, problem: str) -> None:
        self.attribute = attribute
        self.problem = problem
        super().__init__(f"CloudEvent attribute {attribute!r}: {problem}")


class SnapshotError(DomainError):
    """A snapshot cannot be read as the aggregate's state; load from events instead."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"snapshot is not a valid agent state: {problem}; replay from events")


class VersionMismatchError(DomainError):
    """``mark_saved`` was given a version that does not follow the pending events."""

    def __init__(self, agent_id: str, expected: int, actual: int) -> None:
        self.agent_id = agent_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"agent {agent_id}: saving the pending events must reach version {expected}, "
            f"not {actual}"
        )


def validation_problems(error: Exception) -> list[str]:
    """The field-by-field problems of a pydantic ``ValidationError`` (or the error's text)."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return [str(error)]
    problems: list[str] = []
    for item in errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item.get("loc", ())) or "value"
        problems.append(f"{location}: {item.get('msg', 'invalid')}")
    return problems
