"""AgentStore: loads Agent aggregates from the event store and saves their new events.

* ``load`` starts from the agent's newest snapshot, if it was written under the aggregate's
  current ``STATE_SCHEMA_VERSION``, and replays the events after it. A snapshot written under
  another schema version is never trusted: the agent is replayed from its first event and a new
  snapshot is written.
* ``save`` appends the pending events with the version the agent was loaded at as expected
  version (``NO_STREAM`` for a new agent). The same atomic unit writes the agent's read-model
  rows (:mod:`agentsdb.aggregate.projection`) and, when the save crosses a multiple of
  ``snapshot_every`` events or ends a session, a snapshot of the state after the events.
* ``execute`` loads, runs a command, saves, and on a lost race (``ConcurrencyError``) does it
  all again on the fresh state, so the command's rules are checked against what is really
  stored; it gives up after ``max_retries`` retries.
* ``resume`` resumes a suspended execution exactly once: of two workers resuming the same
  suspension, one gets the execution state and the other :class:`ExecutionAlreadyResumedError`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from agentsdb.aggregate.agent import AgentAggregate
from agentsdb.aggregate.errors import DomainError
from agentsdb.aggregate.events import ExecutionResumed, SessionCompleted, SessionTerminated
from agentsdb.aggregate.identity import (
    stream_id_for,
)
from agentsdb.aggregate.projection import ProjectedEvent, projection_steps
from agentsdb.aggregate.values import ClientResponse, ExecutionState
from agentsdb.clock import utc_now
from agentsdb.db.base import Database, Step
from agentsdb.errors import AgentsDBError, ConcurrencyError, EventIdConflictError, NotFoundError
from agentsdb.events.store import EventStore
from agentsdb.events.types import NO_STREAM, AppendResult, ExpectedVersion, NewEvent
from agentsdb.ids import new_id

logger = logging.getLogger("agentsdb.aggregate.store")

T = TypeVar("T")

#: The event stores that erase the agent read models of a deleted agent stream.

#: Saves that end a session write a snapshot whatever the count.
_SESSION_ENDS = frozenset({SessionCompleted.TYPE, SessionTerminated.TYPE})


class AgentNotFoundError(NotFoundError):
    """No agent has this id: its stream holds no event (never created, or erased)."""

    def __init__(self, agent_id: str) -> None:
        super().__init__("agent", agent_id)
        self.agent_id = agent_id


class ExecutionAlreadyResumedError(DomainError):
    """The suspension was already resumed (by this worker earlier, or by another one): a
    suspended execution continues in one place only."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        self.agent_id = agent_id
        self.call_id = call_id
        super().__init__(
            f"agent {agent_id}: call {call_id!r} was already resumed, so another worker "
            "continues that execution; do not run it here"
        )


class RetriesExhaustedError(AgentsDBError):
    """``execute`` lost the race for the agent's stream on every attempt."""

    def __init__(self, agent_id: str, attempts: int) -> None:
        self.agent_id = agent_id
        self.attempts = attempts
        super().__init__(
            f"agent {agent_id}: other writers changed the agent during each of {attempts} "
            "attempts; try again later or raise max_retries"
        )


class AgentStore:
    """Loads and saves :class:`AgentAggregate` objects through an :class:`EventStore`."""

    def __init__(
        self,
        db: Database,
        *,
        events: EventStore | None = None,
        snapshot_every: int = 100,
        max_retries: int = 5,
        project_inline: bool = True,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = new_id,
    ) -> None:
        """``snapshot_every``: a snapshot each time a save crosses a multiple of this many
        events (sessions that end are snapshotted too). ``project_inline=False`` leaves the read
        models to the catch-up projector. ``clock`` gives the time of the events :meth:`resume`
        records; ``id_factory`` makes the event and session ids of the aggregates it loads."""
        if isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int):
            raise ValueError(f"snapshot_every must be a whole number, not {snapshot_every!r}")
        if snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1, not {snapshot_every}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
        self._db = db
        self._events = events if events is not None else EventStore(db)
        self._snapshot_every = snapshot_every
        self._max_retries = max_retries
        self._project_inline = project_inline
        self._clock = clock
        self._id_factory = id_factory

    @property
    def events(self) -> EventStore:
        """The event store the agents' streams live in."""
        return self._events

    # --- loading -----------------------------------------------------------------------------

    async def find(self, agent_id: str) -> AgentAggregate | None:
        """The agent as stored, or ``None`` when it does not exist."""
        stream_id = stream_id_for(agent_id)
        snapshot = await self._events.load_snapshot(stream_id)
        if snapshot is not None and snapshot.schema_version == AgentAggregate.STATE_SCHEMA_VERSION:
            later = await self._events.read_stream(
                stream_id, from_version=snapshot.version + 1, decode=False
            )
            return AgentAggregate.replay(
                later, (snapshot.version, snapshot.state), id_factory=self._id_factory
            )
        # Replay validates each event's stored JSON text itself: no decoding up front.
        recorded = await self._events.read_stream(stream_id, decode=False)
        if not recorded:
            return None
        agent = AgentAggregate.replay(recorded, id_factory=self._id_factory)
        if snapshot is not None:
            # Written by another state schema: rebuilt from the events, then replaced.
            logger.info(
                "agent %s: ignoring the snapshot of state schema %s (current %s); rebuilt it",
                agent_id,
                snapshot.schema_version,
                AgentAggregate.STATE_SCHEMA_VERSION,
            )
            await self._events.save_snapshot(
                stream_id, agent.version, AgentAggregate.STATE_SCHEMA_VERSION, agent.to_snapshot()
            )
        return agent

    async def load(self, agent_id: str) -> AgentAggregate:
        """The agent as stored; :class:`AgentNotFoundError` when it does not exist."""
        agent = await self.find(agent_id)
        if agent is None:
            raise AgentNotFoundError(agent_id)
        return agent

    # --- saving ------------------------------------------------------------------------------

    async def save(
        self,
        agent: AgentAggregate,
        *,
        metadata: Mapping[str, Any] | None = None,
        with_steps: Sequence[Step] = (),
    ) -> AppendResult | None:
        """Append the agent's pending events, expecting the stream at the version it was loaded
        at; its read-model rows and (when due) a snapshot are written in the same unit.

        ``metadata`` is merged into every event's metadata (a correlation id, the worker).
        ``with_steps`` run in the same unit after the agent's own (a backfill job's checkpoint);
        they are not run when nothing is pending.
        Returns the append's result, or ``None`` when nothing was pending. Raises
        ``ConcurrencyError`` when another writer appended first, and ``EventIdConflictError``
        when another writer recorded an event with the same derived id (the same client
        response); the agent is then unchanged (reload it, or use :meth:`execute`).
        """
        pending = agent.pending_events
        if not pending:
            return None
        if metadata:
            pending = [_with_metadata(event, metadata) for event in pending]
        loaded = agent.version
        expected: ExpectedVersion = NO_STREAM if loaded == 0 else loaded
        result = await self._events.append(
            agent.stream_id,
            pending,
            expected,
            with_steps=[*self._steps_for(agent, loaded), *with_steps],
        )
        agent.mark_saved(result.last_version)
        return result

    def _steps_for(self, agent: AgentAggregate, loaded: int) -> list[Step]:
        pending = agent.pending_events
        new_version = loaded + len(pending)
        steps: list[Step] = []
        if self._project_inline:
            steps.extend(
                projection_steps(
                    agent,
                    (
                        ProjectedEvent(loaded + index, event.type, event.data)
                        for index, event in enumerate(pending, start=1)
                    ),
                )
            )
        crossed = new_version // self._snapshot_every > loaded // self._snapshot_every
        if crossed or any(event.type in _SESSION_ENDS for event in pending):
            steps.extend(
                self._events.snapshot_steps(
                    agent.stream_id,
                    new_version,
                    AgentAggregate.STATE_SCHEMA_VERSION,
                    agent.to_snapshot(),
                )
            )
        return steps

    # --- commands ----------------------------------------------------------------------------

    async def execute(
        self,
        agent_id: str,
        command: Callable[[AgentAggregate], T],
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> T:
        """Load the agent, run ``command`` on it, save what it recorded; returns its result.

        When another writer got there first (``ConcurrencyError``, or ``EventIdConflictError``:
        it recorded the same derived event, such as the same client response) the whole of it
        runs again on the freshly loaded agent, so the command's rules are checked against the
        state the other writer left (a ``DomainError`` from that attempt propagates). After
        ``max_retries`` retries it raises :class:`RetriesExhaustedError`.
        """
        attempts = self._max_retries + 1
        for attempt in range(1, attempts + 1):
            agent = await self.load(agent_id)
            result = command(agent)
            try:
                await self.save(agent, metadata=metadata)
            except (ConcurrencyError, EventIdConflictError) as error:
                logger.debug("agent %s: attempt %d lost the race: %s", agent_id, attempt, error)
                if attempt == attempts:
                    raise RetriesExhaustedError(agent_id, attempts) from error
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def resume(self, agent_id: str, response: ClientResponse) -> ExecutionState:
        """Resume the agent's suspended execution with ``response``; exactly one caller wins.

        Returns the saved execution state to continue from. A second resume with the same call
        id (delivered twice, or by a second worker) records nothing and raises
        :class:`ExecutionAlreadyResumedError`, so the execution never continues twice.
        """

        def resume(agent: AgentAggregate) -> tuple[ExecutionState, bool]:
            before = len(agent.pending_events)
            state = agent.resume_execution(response, now=self._clock())
            resumed = any(
                event.type == ExecutionResumed.TYPE for event in agent.pending_events[before:]
            )
            return state, resumed

        # A token of this call in the events' metadata: a second worker's events then differ
        # from the winner's even when their derived ids and times are equal, so its append is
        # refused rather than taken for a retry of the winner's.
        token = {"resume_token": str(uuid.uuid4())}
        state, resumed = await self.execute(agent_id, resume, metadata=token)
        if not resumed:
            raise ExecutionAlreadyResumedError(agent_id, response.call_id)
        return state

    async def delete(self, agent_id: str) -> None:
        """Erase the agent: its events, snapshots and read-model rows."""
        await self._events.delete_stream(stream_id_for(agent_id))


def _with_metadata(event: NewEvent, metadata: Mapping[str, Any]) -> NewEvent:
    return dataclasses.replace(event, metadata={**event.metadata, **metadata})


__all__ = [
    "AgentNotFoundError",
    "AgentStore",
    "ExecutionAlreadyResumedError",
    "RetriesExhaustedError",
]
