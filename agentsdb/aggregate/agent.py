"""The Agent aggregate: commands check the rules, record events, and apply them with ``evolve``.

An ``AgentAggregate`` is one per-user agent *instance*, with a UUID id (version 4 or 5) and its
own event stream ``agent-<uuid>``; rows of the ``agents`` table are agent *definitions* (personas,
profiles) with their own keys, which an instance may name as ``definition_id``. See
:mod:`agentsdb.aggregate.identity` for why the two id spaces cannot collide.

Commands take ``now`` (default: the aggregate's ``clock``, :func:`agentsdb.clock.utc_now`
unless given) and record events in
``pending_events``; a store appends them with ``version`` as the expected version and calls
``mark_saved``. A command that raises a :class:`~agentsdb.aggregate.errors.DomainError` records
nothing. Archiving refuses while a session is active (complete or terminate it first), so no
suspended run is dropped as a side effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from pydantic import JsonValue

from agentsdb.aggregate import decisions, rules
from agentsdb.aggregate.decisions import KEEP, Decision, Keep
from agentsdb.aggregate.enums import AgentType, AssignmentRole
from agentsdb.aggregate.errors import (
    InvalidAgentIdError,
    InvalidAgentTypeError,
    InvalidAssignmentRoleError,
    VersionMismatchError,
)
from agentsdb.aggregate.events import (
    DEFAULT_MAX_HISTORY_SIZE,
    AgentArchived,
    AgentCreated,
    ClientActionRequested,
    SessionCompleted,
    SessionStarted,
    SessionTerminated,
    UserAssigned,
)
from agentsdb.aggregate.identity import (
    new_agent_id,
    stream_id_for,
    validate_agent_id,
)
from agentsdb.aggregate.replay import rebuild
from agentsdb.aggregate.state import AgentState, evolve, initial_state
from agentsdb.aggregate.values import ClientAction, ClientResponse, ExecutionState, Session
from agentsdb.clock import Clock, utc_now
from agentsdb.events.types import NewEvent, RecordedEvent
from agentsdb.ids import new_id


class AgentAggregate:
    """One agent instance: its state, the events it has not saved yet, and its commands."""

    #: The version of the state schema written by :meth:`to_snapshot`. A store keeps it beside
    #: each snapshot and ignores (rebuilds) a snapshot written under another number.
    STATE_SCHEMA_VERSION: ClassVar[int] = 1

    def __init__(
        self,
        state: AgentState,
        version: int = 0,
        *,
        id_factory: Callable[[], str] = new_id,
        clock: Clock = utc_now,
    ) -> None:
        """Wrap ``state`` as loaded at ``version``; use :meth:`create` or :meth:`replay`.

        ``clock`` tells the time of a command called without ``now``."""
        self._state = state
        self._version = version
        self._pending: list[NewEvent] = []
        self._new_id = id_factory
        self._clock = clock

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
        clock: Clock = utc_now,
    ) -> AgentAggregate:
        """A new agent instance, with its ``agent.created.v1`` event pending.

        ``agent_id`` defaults to a random UUID; ``definition_id`` optionally names the ``agents``
        row it is made from; ``id_factory`` makes the ids of events and sessions (UUIDv7);
        ``clock`` tells the time when ``now`` (here or in a later command) is not given.
        """
        agent_id = new_agent_id() if agent_id is None else validate_agent_id(agent_id)
        if definition_id == agent_id:
            raise InvalidAgentIdError(agent_id, "an instance cannot share its definition's id")
        created = rules.build(
            AgentCreated,
            "create",
            occurred_at=now or clock(),
            agent_id=agent_id,
            owner_user_id=owner_user_id,
            agent_type=rules.choice(AgentType, agent_type, InvalidAgentTypeError, "agent_type"),
            name=name,
            definition_id=definition_id,
            system_prompt_override=system_prompt_override,
            preferences=dict(preferences or {}),
            max_history_size=max_history_size,
        )
        agent = cls(initial_state(created), 0, id_factory=id_factory, clock=clock)
        agent._pending.append(created.to_new_event(id_factory()))
        return agent

    @classmethod
    def replay(
        cls,
        events: Iterable[RecordedEvent],
        snapshot: tuple[int, Mapping[str, Any]] | None = None,
        *,
        id_factory: Callable[[], str] = new_id,
        clock: Clock = utc_now,
    ) -> AgentAggregate:
        """Rebuild an agent from an optional snapshot ``(version, state)`` and the later events.

        See :func:`agentsdb.aggregate.replay.rebuild` for what is checked.
        """
        state, version = rebuild(events, snapshot)
        return cls(state, version, id_factory=id_factory, clock=clock)

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

    def has_pending_events(self) -> bool:
        """True when commands recorded events that were not saved yet."""
        return bool(self._pending)

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

    # --- commands -----------------------------------------------------------------------------

    def _record(self, *decided: Decision) -> None:
        """Apply the decided events and keep them pending; all of them or, on error, none."""
        state = self._state
        for event, _ in decided:
            state = evolve(state, event)
        self._pending.extend(
            event.to_new_event(event_id or self._new_id()) for event, event_id in decided
        )
        self._state = state

    def start_session(
        self, conversation_id: str, *, session_id: str | None = None, now: datetime | None = None
    ) -> Session:
        """Start a session in ``conversation_id``; one session is active at a time."""
        rules.check_open(self._state, "start_session")
        rules.check_no_session(self._state)
        started = rules.build(
            SessionStarted,
            "start_session",
            occurred_at=now or self._clock(),
            session_id=session_id or self._new_id(),
            conversation_id=conversation_id,
        )
        self._record((started, None))
        return rules.active_session(self._state, "start_session")

    def suspend_execution(
        self, state: ExecutionState, action: ClientAction, *, now: datetime | None = None
    ) -> None:
        """Save ``state`` and wait for the client to answer ``action``.

        ``state.pending_tool_call`` must be set and ``action.call_id`` must be its call id.
        Records ``agent.execution.suspended.v1`` (with the state) and a blocking
        ``agent.client.action.requested.v1`` (with the action only, so consumers of client
        actions never receive the conversation).
        """
        self._record(*decisions.suspension(self._state, state, action, now or self._clock()))

    def request_client_action(self, action: ClientAction, *, now: datetime | None = None) -> None:
        """Ask the client to do something that execution does not wait for (non-blocking)."""
        session = rules.active_session(self._state, "request_client_action")
        rules.check_new_call_id(self._state, action.call_id)
        requested = rules.build(
            ClientActionRequested,
            "request_client_action",
            occurred_at=now or self._clock(),
            session_id=session.session_id,
            action=action,
            blocking=False,
        )
        self._record((requested, None))

    def receive_client_response(
        self, response: ClientResponse, *, now: datetime | None = None
    ) -> bool:
        """Record the client's answer to the pending call, without resuming execution yet.

        Returns False, recording nothing, when the same response was received before.
        """
        rules.check_open(self._state, "receive_client_response")
        if rules.is_duplicate_response(self._state, response):
            return False
        session = rules.suspended_session(self._state, "receive_client_response", response.call_id)
        moment = now or self._clock()
        self._record(
            decisions.response(self.id, session, response, moment, "receive_client_response")
        )
        return True

    def resume_execution(
        self, response: ClientResponse, *, now: datetime | None = None
    ) -> ExecutionState:
        """Resume with ``response`` to the pending call; returns the saved ``ExecutionState``.

        Records the response (unless received before) and ``agent.execution.resumed.v1``, whose
        event id derives from the call id. Resuming again with the same response records nothing
        and returns the same state while the session is active; a caller that must own the run
        tells the two apart by whether an ``agent.execution.resumed.v1`` event was recorded.
        """
        rules.check_open(self._state, "resume_execution")
        duplicate = rules.is_duplicate_response(self._state, response)
        if duplicate and self._state.last_resumed_call_id == response.call_id:
            rules.active_session(self._state, "resume_execution")
            return self._saved_execution()
        moment = now or self._clock()
        self._record(*decisions.resumption(self._state, response, moment, duplicate=duplicate))
        return self._saved_execution()

    def _saved_execution(self) -> ExecutionState:
        # A session keeps the state it was suspended with until it ends.
        saved = self._state.execution_state
        if saved is None:  # pragma: no cover - evolve keeps it while the session is active
            raise AssertionError(f"agent {self.id}: resumed session lost its execution state")
        return saved

    def complete_session(
        self, summary: str | None = None, *, now: datetime | None = None
    ) -> Session:
        """End the active session successfully; it moves into the (capped) history.

        Refused while execution is suspended: resume it, or terminate the session.
        """
        session = rules.completable_session(self._state)
        completed = rules.build(
            SessionCompleted,
            "complete_session",
            occurred_at=now or self._clock(),
            session_id=session.session_id,
            summary=summary,
        )
        self._record((completed, None))
        return self._state.session_history[-1]

    def terminate_session(self, reason: str, *, now: datetime | None = None) -> Session:
        """End the active session unsuccessfully, dropping any suspended execution."""
        session = rules.active_session(self._state, "terminate_session")
        terminated = rules.build(
            SessionTerminated,
            "terminate_session",
            occurred_at=now or self._clock(),
            session_id=session.session_id,
            reason=reason,
        )
        self._record((terminated, None))
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
        updated = decisions.preferences_update(
            self._state, changes, remove, system_prompt_override, now or self._clock()
        )
        if updated is None:
            return False
        self._record((updated, None))
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
        rules.check_open(self._state, "assign_user")
        role = rules.choice(AssignmentRole, role, InvalidAssignmentRoleError, "role")
        rules.check_assignable(self._state, user_id)
        assigned = rules.build(
            UserAssigned,
            "assign_user",
            occurred_at=now or self._clock(),
            user_id=user_id,
            role=role,
            assigned_by=assigned_by,
        )
        self._record((assigned, None))

    def archive(self, reason: str, *, now: datetime | None = None) -> None:
        """Archive the agent; refused while a session is active. After it, only reads work."""
        rules.check_archivable(self._state)
        archived = rules.build(
            AgentArchived, "archive", occurred_at=now or self._clock(), reason=reason
        )
        self._record((archived, None))

    def __repr__(self) -> str:
        pending = len(self._pending)
        return f"AgentAggregate(id={self.id!r}, version={self._version}, pending={pending})"


__all__ = ["KEEP", "AgentAggregate", "Keep"]
