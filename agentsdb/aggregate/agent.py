"""The Agent aggregate: commands check the rules, record events, and apply them with ``evolve``.

An ``AgentAggregate`` is one per-user agent *instance*, with a UUID id (version 4 or 5) and its
own event stream ``agent-<uuid>``; rows of the ``agents`` table are agent *definitions* (personas,
profiles) with their own keys, which an instance may name as ``definition_id``. See
:mod:`agentsdb.aggregate.identity` for why the two id spaces cannot collide.

Commands take ``now`` (default :func:`agentsdb.clock.utc_now`) and record events in
``pending_events``; a store appends them with ``version`` as the expected version and calls
``mark_saved``. A command that raises a :class:`~agentsdb.aggregate.errors.DomainError` records
nothing. Archiving refuses while a session is active (complete or terminate it first), so no
suspended run is dropped as a side effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Final, TypeVar

from pydantic import JsonValue, ValidationError

from agentsdb.aggregate.enums import AgentStatus, AgentType, AssignmentRole
from agentsdb.aggregate.errors import (
    AgentArchivedError,
    AlreadySuspendedError,
    CallIdMismatchError,
    CallIdReusedError,
    ConflictingClientResponseError,
    DuplicateAssignmentError,
    EventSequenceError,
    InvalidAgentTypeError,
    InvalidAssignmentRoleError,
    InvalidCommandError,
    MissingPendingToolCallError,
    NoActiveSessionError,
    NotSuspendedError,
    OwnerAssignmentError,
    SessionAlreadyActiveError,
    SessionStillActiveError,
    SessionSuspendedError,
    SnapshotError,
    VersionMismatchError,
    validation_problems,
)
from agentsdb.aggregate.events import (
    DEFAULT_MAX_HISTORY_SIZE,
    AgentArchived,
    AgentCreated,
    AgentEvent,
    ClientActionRequested,
    ClientResponseReceived,
    ExecutionResumed,
    ExecutionSuspended,
    PreferencesUpdated,
    SessionCompleted,
    SessionStarted,
    SessionTerminated,
    UserAssigned,
    from_recorded,
)
from agentsdb.aggregate.identity import (
    agent_id_from_stream,
    derived_event_id,
    new_agent_id,
    stream_id_for,
    validate_agent_id,
)
from agentsdb.aggregate.state import AgentState, evolve, initial_state
from agentsdb.aggregate.values import ClientAction, ClientResponse, ExecutionState, Session
from agentsdb.clock import utc_now
from agentsdb.events.types import NewEvent, RecordedEvent
from agentsdb.ids import new_id

E = TypeVar("E", bound=AgentEvent)


class Keep(Enum):
    """The type of :data:`KEEP`."""

    KEEP = "keep"


#: Marks an argument left out (``None`` is a value: it clears the system prompt override).
KEEP: Final = Keep.KEEP


def _build(cls: type[E], command: str, **fields: Any) -> E:
    """A payload for ``command``, or :class:`InvalidCommandError` naming the bad arguments."""
    try:
        return cls.model_validate(fields)
    except ValidationError as error:
        raise InvalidCommandError(command, validation_problems(error)) from error


def _choice(enum: type[Any], value: object, error: type[Any], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise error(field, value, [member.value for member in enum]) from None


class AgentAggregate:
    """One agent instance: its state, the events it has not saved yet, and its commands."""

    #: The version of the state schema written by :meth:`to_snapshot`. A store keeps it beside
    #: each snapshot and ignores (rebuilds) a snapshot written under another number.
    STATE_SCHEMA_VERSION: ClassVar[int] = 1

    def __init__(
        self, state: AgentState, version: int = 0, *, id_factory: Callable[[], str] = new_id
    ) -> None:
        """Wrap ``state`` as loaded at ``version``; use :meth:`create` or :meth:`replay`."""
        self._state = state
        self._version = version
        self._pending: list[NewEvent] = []
        self._new_id = id_factory

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        owner_user_id: str,
        agent_type: AgentType | str = AgentType.TUTOR,
        name: str,
        agent_id: str | None = None,
        definition_id: str | None = None,
        system_prompt_override: str | None = None,
        preferences: Mapping[str, JsonValue] | None = None,
        max_history_size: int = DEFAULT_MAX_HISTORY_SIZE,
        now: datetime | None = None,
        id_factory: Callable[[], str] = new_id,
    ) -> AgentAggregate:
        """A new agent instance, with its ``agent.created.v1`` event pending.

        ``agent_id`` defaults to a random UUID; ``id_factory`` makes the ids of events and
        sessions (default UUIDv7).
        """
        agent_id = new_agent_id() if agent_id is None else validate_agent_id(agent_id)
        created = _build(
            AgentCreated,
            "create",
            occurred_at=now or utc_now(),
            agent_id=agent_id,
            owner_user_id=owner_user_id,
            agent_type=_choice(AgentType, agent_type, InvalidAgentTypeError, "agent_type"),
            name=name,
            definition_id=definition_id,
            system_prompt_override=system_prompt_override,
            preferences=dict(preferences or {}),
            max_history_size=max_history_size,
        )
        agent = cls(initial_state(created), 0, id_factory=id_factory)
        agent._pending.append(created.to_new_event(id_factory()))
        return agent

    @classmethod
    def replay(
        cls,
        events: Iterable[RecordedEvent],
        snapshot: tuple[int, Mapping[str, Any]] | None = None,
        *,
        id_factory: Callable[[], str] = new_id,
    ) -> AgentAggregate:
        """Rebuild an agent from an optional snapshot ``(version, state)`` and the later events.

        Events must be of one ``agent-<uuid>`` stream, with versions following the snapshot's
        (or starting at 1 with ``agent.created.v1``) without gaps. Raises
        :class:`EventSequenceError` otherwise, :class:`SnapshotError` for an unreadable snapshot,
        and the decoding errors of :func:`~agentsdb.aggregate.events.from_recorded`.
        """
        state: AgentState | None = None
        version = 0
        if snapshot is not None:
            version, data = snapshot
            try:
                state = AgentState.model_validate(data)
            except ValidationError as error:
                raise SnapshotError("; ".join(validation_problems(error))) from error
        stream_id = None if state is None else stream_id_for(state.agent_id)
        for recorded in events:
            if stream_id is None:
                stream_id = recorded.stream_id
                agent_id_from_stream(stream_id)
            elif recorded.stream_id != stream_id:
                raise EventSequenceError(stream_id, f"event from stream {recorded.stream_id!r}")
            if recorded.version != version + 1:
                raise EventSequenceError(
                    stream_id, f"expected version {version + 1}, got {recorded.version}"
                )
            event = from_recorded(recorded)
            state = cls._replay_one(stream_id, state, event)
            version = recorded.version
        if state is None:
            raise EventSequenceError(stream_id or "", "no snapshot and no events")
        return cls(state, version, id_factory=id_factory)

    @staticmethod
    def _replay_one(stream_id: str, state: AgentState | None, event: AgentEvent) -> AgentState:
        if isinstance(event, AgentCreated):
            if state is not None:
                raise EventSequenceError(stream_id, "agent.created.v1 after the agent exists")
            if stream_id_for(event.agent_id) != stream_id:
                raise EventSequenceError(stream_id, f"it creates agent {event.agent_id}")
            return initial_state(event)
        if state is None:
            raise EventSequenceError(stream_id, f"{event.TYPE} before agent.created.v1")
        try:
            return evolve(state, event)
        except ValueError as error:
            raise EventSequenceError(stream_id, str(error)) from error

    # --- queries -----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The agent instance id (a UUID)."""
        return self._state.agent_id

    @property
    def stream_id(self) -> str:
        """The event stream of this agent: ``agent-<uuid>``."""
        return stream_id_for(self._state.agent_id)

    @property
    def state(self) -> AgentState:
        """The current state, including events not saved yet (immutable)."""
        return self._state

    @property
    def version(self) -> int:
        """The version of the last event loaded from or saved to the store (0 for a new agent)."""
        return self._version

    @property
    def pending_events(self) -> list[NewEvent]:
        """The events recorded since the last load or save, in order (a copy)."""
        return list(self._pending)

    def is_suspended(self) -> bool:
        """True while execution waits for a client response."""
        return self._state.is_suspended

    def has_active_session(self) -> bool:
        """True while a session is active (suspended or not)."""
        return self._state.active_session is not None

    def mark_saved(self, new_version: int) -> None:
        """Record that the pending events were appended and the stream is at ``new_version``."""
        expected = self._version + len(self._pending)
        if new_version != expected:
            raise VersionMismatchError(self.id, expected, new_version)
        self._pending.clear()
        self._version = new_version

    def to_snapshot(self) -> dict[str, Any]:
        """The state as a JSON object, for :meth:`replay` (with ``STATE_SCHEMA_VERSION``)."""
        return self._state.model_dump(mode="json")

    # --- recording ---------------------------------------------------------------------------

    def _record(self, event: AgentEvent, event_id: str | None = None) -> None:
        state = evolve(self._state, event)
        self._pending.append(event.to_new_event(event_id or self._new_id()))
        self._state = state

    def _check_open(self, command: str) -> None:
        if self._state.status is AgentStatus.ARCHIVED:
            raise AgentArchivedError(self.id, command)

    def _active_session(self, command: str) -> Session:
        self._check_open(command)
        session = self._state.active_session
        if session is None:
            raise NoActiveSessionError(self.id, command)
        return session

    def _suspended_session(self, command: str, call_id: str) -> tuple[Session, str]:
        session = self._active_session(command)
        pending = self._state.pending_call_id
        if pending is None:
            raise NotSuspendedError(self.id, call_id)
        if call_id != pending:
            raise CallIdMismatchError(self.id, pending, call_id)
        return session, pending

    # --- commands -----------------------------------------------------------------------------

    def start_session(
        self, conversation_id: str, *, session_id: str | None = None, now: datetime | None = None
    ) -> Session:
        """Start a session in ``conversation_id``; one session is active at a time."""
        self._check_open("start_session")
        if self._state.active_session is not None:
            raise SessionAlreadyActiveError(self.id, self._state.active_session.session_id)
        event = _build(
            SessionStarted,
            "start_session",
            occurred_at=now or utc_now(),
            session_id=session_id or self._new_id(),
            conversation_id=conversation_id,
        )
        self._record(event)
        return _session_of(self._state)

    def suspend_execution(
        self, state: ExecutionState, action: ClientAction, *, now: datetime | None = None
    ) -> None:
        """Save ``state`` and wait for the client to answer ``action``.

        ``state.pending_tool_call`` must be set and ``action.call_id`` must be its call id.
        Records ``agent.execution.suspended.v1`` (with the state) and a blocking
        ``agent.client.action.requested.v1`` (with the action, so bus consumers of actions do not
        receive the conversation).
        """
        session = self._active_session("suspend_execution")
        if self._state.pending_call_id is not None:
            raise AlreadySuspendedError(self.id, self._state.pending_call_id)
        if state.pending_tool_call is None:
            raise MissingPendingToolCallError(self.id)
        call_id = state.pending_tool_call.call_id
        if action.call_id != call_id:
            raise CallIdMismatchError(self.id, call_id, action.call_id)
        self._check_new_call_id(call_id)
        moment = now or utc_now()
        self._record(
            ExecutionSuspended(
                occurred_at=moment, session_id=session.session_id, execution_state=state
            )
        )
        self._record(
            ClientActionRequested(
                occurred_at=moment, session_id=session.session_id, action=action, blocking=True
            )
        )

    def request_client_action(self, action: ClientAction, *, now: datetime | None = None) -> None:
        """Ask the client to do something that execution does not wait for (non-blocking)."""
        session = self._active_session("request_client_action")
        if action.call_id == self._state.pending_call_id:
            raise CallIdReusedError(self.id, action.call_id)
        self._check_new_call_id(action.call_id)
        self._record(
            ClientActionRequested(
                occurred_at=now or utc_now(),
                session_id=session.session_id,
                action=action,
                blocking=False,
            )
        )

    def _check_new_call_id(self, call_id: str) -> None:
        if call_id == self._state.last_resumed_call_id or (
            self._state.last_response is not None and self._state.last_response.call_id == call_id
        ):
            raise CallIdReusedError(self.id, call_id)

    def _is_duplicate(self, response: ClientResponse) -> bool:
        """True when ``response`` was received already; an error when it differs from it."""
        last = self._state.last_response
        if last is None or last.call_id != response.call_id:
            return False
        if last.payload != response.payload:
            raise ConflictingClientResponseError(self.id, response.call_id)
        return True

    def receive_client_response(
        self, response: ClientResponse, *, now: datetime | None = None
    ) -> bool:
        """Record the client's answer to the pending call, without resuming execution yet.

        Returns False, recording nothing, when the same response was received before.
        """
        self._check_open("receive_client_response")
        if self._is_duplicate(response):
            return False
        session, _ = self._suspended_session("receive_client_response", response.call_id)
        self._record_response(session, response, now or utc_now())
        return True

    def _record_response(self, session: Session, response: ClientResponse, now: datetime) -> None:
        self._record(
            ClientResponseReceived(
                occurred_at=now, session_id=session.session_id, response=response
            ),
            derived_event_id(self.id, "client-response", response.call_id),
        )

    def resume_execution(
        self, response: ClientResponse, *, now: datetime | None = None
    ) -> ExecutionState:
        """Resume with ``response`` to the pending call; returns the saved ``ExecutionState``.

        Records the response (unless received before) and ``agent.execution.resumed.v1``, whose
        event id derives from the call id. Resuming again with the same response records nothing
        and returns the same state.
        """
        self._check_open("resume_execution")
        duplicate = self._is_duplicate(response)
        if duplicate and self._state.last_resumed_call_id == response.call_id:
            self._active_session("resume_execution")
            return _saved_state(self._state)
        session, call_id = self._suspended_session("resume_execution", response.call_id)
        moment = now or utc_now()
        if not duplicate:
            self._record_response(session, response, moment)
        self._record(
            ExecutionResumed(occurred_at=moment, session_id=session.session_id, call_id=call_id),
            derived_event_id(self.id, "execution-resumed", call_id),
        )
        return _saved_state(self._state)

    def complete_session(
        self, summary: str | None = None, *, now: datetime | None = None
    ) -> Session:
        """End the active session successfully; it moves into the (capped) history.

        Refused while execution is suspended: resume it, or terminate the session.
        """
        session = self._active_session("complete_session")
        if self._state.pending_call_id is not None:
            raise SessionSuspendedError(self.id, session.session_id, self._state.pending_call_id)
        self._record(
            _build(
                SessionCompleted,
                "complete_session",
                occurred_at=now or utc_now(),
                session_id=session.session_id,
                summary=summary,
            )
        )
        return self._state.session_history[-1]

    def terminate_session(self, reason: str, *, now: datetime | None = None) -> Session:
        """End the active session unsuccessfully, dropping any suspended execution."""
        session = self._active_session("terminate_session")
        self._record(
            _build(
                SessionTerminated,
                "terminate_session",
                occurred_at=now or utc_now(),
                session_id=session.session_id,
                reason=reason,
            )
        )
        return self._state.session_history[-1]

    def update_preferences(
        self,
        changes: Mapping[str, JsonValue] | None = None,
        *,
        remove: Sequence[str] = (),
        system_prompt_override: str | Keep | None = KEEP,
        now: datetime | None = None,
    ) -> bool:
        """Merge ``changes`` into the preferences, drop the keys in ``remove``, and optionally set
        the system prompt override (``None`` clears it). Returns False, recording nothing, when
        nothing would change."""
        self._check_open("update_preferences")
        if isinstance(remove, str):
            raise InvalidCommandError("update_preferences", ["remove: must be a list of keys"])
        preferences = dict(self._state.preferences)
        preferences.update(changes or {})
        for key in remove:
            preferences.pop(key, None)
        override = (
            self._state.system_prompt_override
            if isinstance(system_prompt_override, Keep)
            else system_prompt_override
        )
        event = _build(
            PreferencesUpdated,
            "update_preferences",
            occurred_at=now or utc_now(),
            preferences=preferences,
            system_prompt_override=override,
        )
        if (
            event.preferences == self._state.preferences
            and event.system_prompt_override == self._state.system_prompt_override
        ):
            return False
        self._record(event)
        return True

    def assign_user(
        self,
        user_id: str,
        role: AssignmentRole | str,
        assigned_by: str,
        *,
        now: datetime | None = None,
    ) -> None:
        """Give ``user_id`` a role on this agent; a user is assigned at most once."""
        self._check_open("assign_user")
        role = _choice(AssignmentRole, role, InvalidAssignmentRoleError, "role")
        if user_id == self._state.owner_user_id:
            raise OwnerAssignmentError(self.id, user_id)
        for assignment in self._state.assignments:
            if assignment.user_id == user_id:
                raise DuplicateAssignmentError(self.id, user_id, assignment.role.value)
        self._record(
            _build(
                UserAssigned,
                "assign_user",
                occurred_at=now or utc_now(),
                user_id=user_id,
                role=role,
                assigned_by=assigned_by,
            )
        )

    def archive(self, reason: str, *, now: datetime | None = None) -> None:
        """Archive the agent; refused while a session is active. After it, only reads work."""
        self._check_open("archive")
        if self._state.active_session is not None:
            raise SessionStillActiveError(self.id, self._state.active_session.session_id)
        self._record(_build(AgentArchived, "archive", occurred_at=now or utc_now(), reason=reason))

    def __repr__(self) -> str:
        pending = len(self._pending)
        return f"AgentAggregate(id={self.id!r}, version={self._version}, pending={pending})"


def _session_of(state: AgentState) -> Session:
    if state.active_session is None:  # pragma: no cover - start_session just set it
        raise AssertionError("no active session after start_session")
    return state.active_session


def _saved_state(state: AgentState) -> ExecutionState:
    if state.execution_state is None:  # pragma: no cover - kept until the session ends
        raise AssertionError("a resumed session lost its execution state")
    return state.execution_state


__all__ = ["KEEP", "AgentAggregate", "Keep"]
