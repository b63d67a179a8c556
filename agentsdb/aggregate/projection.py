"""The Agent read models as projections: the rows a batch of an agent's events leaves behind.

One function, :func:`projection_steps`, computes the writes for a batch of one agent's events from
the agent's state after the batch. The inline projection (``AgentStore.save``, in the same atomic
unit as the append) and the catch-up projector (:class:`AgentProjection`, over ``read_all``) both
call it, so they cannot disagree:

* the summary row is the state after the batch, stamped with the batch's last version;
* a session row is written for every session an event of the batch names, stamped with the
  version of the last event that named it;
* a user row is written for the owner (by ``agent.created``) and each assigned user (by
  ``agent.user.assigned``), stamped with that event's version.

So each row's version depends only on the events, never on how they were grouped into batches,
and every upsert replaces only a row of a lower version: whichever path writes a row first, the
rows end up identical, and replaying a batch changes nothing.

A session that leaves the capped history within the batch that ends it (more sessions end in one
batch than ``max_history_size``, as in an import) is no longer in the state: its row comes from
the batch's events instead — whole when the batch also started it, else as an update of the row an
earlier batch wrote (status, end, and the responses added to its interaction count).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from agentsdb.aggregate.agent import AgentAggregate
from agentsdb.aggregate.events import (
    EVENT_TYPES,
    AgentCreated,
    ClientResponseReceived,
    SessionCompleted,
    SessionStarted,
    SessionTerminated,
    UserAssigned,
)
from agentsdb.aggregate.identity import agent_id_from_stream
from agentsdb.aggregate.values import Session
from agentsdb.db.base import Database, Execute, Step
from agentsdb.events.projector import Projection, Projector, UnknownProjectionError
from agentsdb.events.store import EventStore
from agentsdb.events.types import RecordedEvent
from agentsdb.models._record import format_ts
from agentsdb.queries.agent_read_models import AgentReadModelQueries

#: The name of the Agent read models' catch-up projector (``agentsdb events rebuild agents``).
AGENT_READ_MODEL: Final = "agents"

#: How many agents the catch-up projector keeps in memory between pages.
_CACHE_SIZE: Final = 1024


@dataclass(frozen=True, slots=True)
class ProjectedEvent:
    """What a projection needs of an event: its version in the stream, type and data."""

    version: int
    type: str
    data: Mapping[str, Any]


def _ts(moment: Any) -> str | None:
    return None if moment is None else format_ts(moment)


def _summary_params(agent: AgentAggregate, version: int) -> dict[str, Any]:
    state = agent.state
    active = state.active_session
    return {
        "agent_id": state.agent_id,
        "owner_user_id": state.owner_user_id,
        "agent_type": str(state.agent_type),
        "status": str(state.status),
        "name": state.name,
        "has_active_session": 0 if active is None else 1,
        "active_session_id": None if active is None else active.session_id,
        "is_suspended": 1 if state.is_suspended else 0,
        "total_sessions": state.total_sessions,
        "total_interactions": state.total_interactions,
        "successful_completions": state.successful_completions,
        "assignments": json.dumps(
            [
                {
                    "user_id": assignment.user_id,
                    "role": str(assignment.role),
                    "assigned_by": assignment.assigned_by,
                    "assigned_at": _ts(assignment.assigned_at),
                }
                for assignment in state.assignments
            ],
            separators=(",", ":"),
        ),
        "created_at": _ts(state.created_at),
        "updated_at": _ts(state.updated_at),
        "last_interaction_at": _ts(state.last_interaction_at),
        "archived_at": _ts(state.archived_at),
        "version": version,
    }


def _sessions_by_seq(agent: AgentAggregate) -> dict[str, tuple[int, Session]]:
    """The sessions the state still holds, each with its number among the agent's sessions.

    Sessions are numbered 1, 2, 3 … in the order they started: the active one is the newest,
    and the history holds the ones before it, oldest first.
    """
    state = agent.state
    newest_first: list[Session] = []
    if state.active_session is not None:
        newest_first.append(state.active_session)
    newest_first.extend(reversed(state.session_history))
    return {
        session.session_id: (state.total_sessions - offset, session)
        for offset, session in enumerate(newest_first)
    }


def _session_params(agent_id: str, seq: int, session: Session, version: int) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "session_id": session.session_id,
        "seq": seq,
        "conversation_id": session.conversation_id,
        "status": str(session.status),
        "started_at": _ts(session.started_at),
        "ended_at": _ts(session.ended_at),
        "summary": session.summary,
        "end_reason": session.termination_reason,
        "interactions": session.interaction_count,
        "version": version,
    }


@dataclass(slots=True)
class _SessionTrace:
    """What the events of one batch say about one session."""

    version: int = 0
    start: int | None = None  # its index among the batch's session starts
    conversation_id: str | None = None
    started_at: str | None = None
    responses: int = 0
    status: str | None = None
    ended_at: str | None = None
    summary: str | None = None
    end_reason: str | None = None

    def add(self, event: ProjectedEvent, starts: int) -> None:
        self.version = event.version
        data = event.data
        if event.type == SessionStarted.TYPE:
            self.start = starts
            self.conversation_id = data["conversation_id"]
            self.started_at = data["occurred_at"]
        elif event.type == ClientResponseReceived.TYPE:
            self.responses += 1
        elif event.type in (SessionCompleted.TYPE, SessionTerminated.TYPE):
            completed = event.type == SessionCompleted.TYPE
            self.status = "completed" if completed else "terminated"
            self.ended_at = data["occurred_at"]
            self.summary = data.get("summary") if completed else None
            self.end_reason = None if completed else data.get("reason")


def _ended_session_step(
    agent: AgentAggregate, session_id: str, trace: _SessionTrace, starts: int
) -> Step | None:
    """The row of a session that ended and left the capped history within the batch, from the
    batch's events alone: a new row when it also started in the batch, else an update of the
    row an earlier batch wrote."""
    if trace.status is None:
        return None
    ended = {
        "agent_id": agent.state.agent_id,
        "session_id": session_id,
        "status": trace.status,
        "ended_at": trace.ended_at,
        "summary": trace.summary,
        "end_reason": trace.end_reason,
        "version": trace.version,
    }
    if trace.start is None:
        return Execute(
            AgentReadModelQueries.end_session, {**ended, "added_interactions": trace.responses}
        )
    # Every session started after this one started in this batch too.
    seq = agent.state.total_sessions - (starts - 1 - trace.start)
    return Execute(
        AgentReadModelQueries.upsert_session,
        {
            **ended,
            "seq": seq,
            "conversation_id": trace.conversation_id,
            "started_at": trace.started_at,
            "interactions": trace.responses,
        },
    )


def projection_steps(agent: AgentAggregate, events: Iterable[ProjectedEvent]) -> list[Step]:
    """The read-model writes for ``events`` of one agent, given its state after them."""
    agent_id = agent.state.agent_id
    traces: dict[str, _SessionTrace] = {}
    starts = 0
    user_rows: dict[str, tuple[str, int]] = {}
    last_version = 0
    for event in events:
        last_version = event.version
        session_id = event.data.get("session_id")
        if isinstance(session_id, str):
            traces.setdefault(session_id, _SessionTrace()).add(event, starts)
            if event.type == SessionStarted.TYPE:
                starts += 1
        if event.type == AgentCreated.TYPE:
            user_rows[str(event.data["owner_user_id"])] = ("owner", event.version)
        elif event.type == UserAssigned.TYPE:
            user_rows[str(event.data["user_id"])] = (str(event.data["role"]), event.version)
    if last_version == 0:
        return []
    steps: list[Step] = []
    sessions = _sessions_by_seq(agent)
    for session_id, trace in traces.items():
        found = sessions.get(session_id)
        if found is None:
            step = _ended_session_step(agent, session_id, trace, starts)
            if step is not None:
                steps.append(step)
            continue
        seq, session = found
        steps.append(
            Execute(
                AgentReadModelQueries.upsert_session,
                _session_params(agent_id, seq, session, trace.version),
            )
        )
    for user_id, (role, version) in user_rows.items():
        steps.append(
            Execute(
                AgentReadModelQueries.upsert_user,
                {"user_id": user_id, "agent_id": agent_id, "role": role, "version": version},
            )
        )
    steps.append(
        Execute(AgentReadModelQueries.upsert_summary, _summary_params(agent, last_version))
    )
    return steps


def erase_steps(agent_id: str) -> list[Step]:
    """The statements that remove every read-model row of one agent."""
    params = {"agent_id": agent_id}
    return [
        Execute(AgentReadModelQueries.delete_sessions, params),
        Execute(AgentReadModelQueries.delete_users, params),
        Execute(AgentReadModelQueries.delete_summary, params),
    ]


class AgentProjection:
    """The Agent read models for the catch-up projector (:class:`agentsdb.events.Projector`).

    For each agent in a page it replays that agent's events of the page on top of its state just
    before them (kept in memory from the previous page, or rebuilt from the stream) and writes
    :func:`projection_steps`. The page's unit then drops the rows of an agent whose stream was
    erased after the page was read, so an erasure racing the projector leaves no rows behind
    (on PostgreSQL, an erasure whose transaction overlaps the page's can still leave them until
    the next rebuild: it cannot see the page's uncommitted rows, nor the page its deletion).
    """

    def __init__(self, events: EventStore) -> None:
        self._events = events
        self._cache: OrderedDict[str, AgentAggregate] = OrderedDict()

    @property
    def name(self) -> str:
        """``agents``."""
        return AGENT_READ_MODEL

    @property
    def types(self) -> Sequence[str]:
        """The Agent's event types."""
        return tuple(EVENT_TYPES)

    async def steps_for(self, events: Sequence[RecordedEvent]) -> Sequence[Step]:
        """The writes of a page: one batch per agent, in the order the agents appear."""
        groups: dict[str, list[RecordedEvent]] = {}
        for event in events:
            groups.setdefault(event.stream_id, []).append(event)
        steps: list[Step] = []
        for stream_id, group in groups.items():
            agent = await self._advance(stream_id, group)
            steps.extend(
                projection_steps(agent, (ProjectedEvent(e.version, e.type, e.data) for e in group))
            )
            key = {"agent_id": agent.id, "stream_id": stream_id}
            steps.extend(
                Execute(sql, key)
                for sql in (
                    AgentReadModelQueries.drop_sessions_if_erased,
                    AgentReadModelQueries.drop_users_if_erased,
                    AgentReadModelQueries.drop_summary_if_erased,
                )
            )
        return steps

    def reset_steps(self) -> Sequence[Step]:
        """Empty the three read-model tables."""
        return [
            Execute(AgentReadModelQueries.truncate_sessions),
            Execute(AgentReadModelQueries.truncate_users),
            Execute(AgentReadModelQueries.truncate_summaries),
        ]

    async def _advance(self, stream_id: str, group: list[RecordedEvent]) -> AgentAggregate:
        first = group[0].version
        cached = self._cache.pop(stream_id, None)
        if cached is not None and cached.version == first - 1:
            agent = AgentAggregate.replay(group, snapshot=(cached.version, cached.to_snapshot()))
        else:
            agent_id_from_stream(stream_id)
            before = (
                await self._events.read_stream(stream_id, to_version=first - 1) if first > 1 else []
            )
            agent = AgentAggregate.replay([*before, *group])
        self._cache[stream_id] = agent
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return agent


#: The read models ``agentsdb events rebuild NAME`` knows, by name.
READ_MODELS: Final[Mapping[str, Callable[[EventStore], Projection]]] = {
    AGENT_READ_MODEL: AgentProjection,
}


def read_model_projector(db: Database, name: str) -> Projector:
    """The catch-up projector of the read model called ``name`` on ``db``."""
    factory = READ_MODELS.get(name)
    if factory is None:
        raise UnknownProjectionError(name, sorted(READ_MODELS))
    events = EventStore(db)
    return Projector(db, events, factory(events))


__all__ = [
    "AGENT_READ_MODEL",
    "READ_MODELS",
    "AgentProjection",
    "ProjectedEvent",
    "erase_steps",
    "projection_steps",
    "read_model_projector",
]
