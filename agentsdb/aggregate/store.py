"""AgentStore: loads Agent aggregates from the event store and saves their new events.

* ``load`` starts from the agent's newest snapshot, if it was written under the aggregate's
  current ``STATE_SCHEMA_VERSION``, and replays the events after it. A snapshot written under
  another schema version is never trusted: the agent is replayed from its first event and a new
  snapshot is written.
* ``save`` appends the pending events with the version the agent was loaded at as expected
  version (``NO_STREAM`` for a new agent). The same atomic unit writes the agent's read-model
  rows (:mod:`agentsdb.aggregate.projection`) and, when the save crosses a multiple of
  ``snapshot_every`` events or ends a session, a snapshot of the state after the events.
* ``execute`` runs a command on the agent and saves what it recorded. It decides on the state
  this store saved or loaded last (:mod:`agentsdb.aggregate.cache`), when it has one, and
  appends with that state's version as expected version: one unit of work, no read first. When
  the state was stale the append is refused, and so is any other lost race
  (``ConcurrencyError``): the agent is loaded afresh and the command runs again, so its rules are
  checked against what is really stored; it gives up after ``max_retries`` retries. A command
  that records nothing or raises on a cached state runs again on the loaded state too, so no
  result rests on the cache alone.
* ``resume`` resumes a suspended execution exactly once: of two workers resuming the same
  suspension, one gets the execution state and the other :class:`ExecutionAlreadyResumedError`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from agentsdb.aggregate.agent import AgentAggregate
from agentsdb.aggregate.cache import DEFAULT_CACHE_SIZE, AgentCache
from agentsdb.aggregate.errors import DomainError
from agentsdb.aggregate.events import ExecutionResumed, SessionCompleted, SessionTerminated
from agentsdb.aggregate.identity import STREAM_PREFIX, stream_id_for
from agentsdb.aggregate.projection import ProjectedEvent, projection_steps
from agentsdb.aggregate.values import ClientResponse, ExecutionState
from agentsdb.clock import Clock, utc_now
from agentsdb.db.base import Database, Step
from agentsdb.errors import AgentsDBError, ConcurrencyError, EventIdConflictError, NotFoundError
from agentsdb.events.store import EventStore
from agentsdb.events.types import NO_STREAM, AppendResult, ExpectedVersion, NewEvent
from agentsdb.ids import IdFactory
from agentsdb.ids import new_id as default_new_id

logger = logging.getLogger("agentsdb.aggregate.store")

T = TypeVar("T")

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
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Clock = utc_now,
        new_id: IdFactory = default_new_id,
        id_factory: IdFactory | None = None,
    ) -> None:
        """``snapshot_every``: a snapshot each time a save crosses a multiple of this many
        events (sessions that end are snapshotted too). ``project_inline=False`` leaves the read
        models to the catch-up projector. ``cache_size``: how many agents' last stored states
        :meth:`execute` may decide on without reading them first (least recently used go
        first; 0 turns the cache off). ``clock`` tells the time of the commands run on the
        aggregates it loads that are given no ``now`` (and of the events :meth:`resume` records),
        and of the events' ``recorded_at`` when it makes the ``EventStore`` itself; ``new_id``
        makes the event and session ids of those aggregates. ``id_factory`` is the former name
        of ``new_id`` (deprecated)."""
        if id_factory is not None:
            warnings.warn(
                "AgentStore(id_factory=...) is deprecated; pass new_id=...",
                DeprecationWarning,
                stacklevel=2,
            )
            new_id = id_factory
        if isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int):
            raise ValueError(f"snapshot_every must be a whole number, not {snapshot_every!r}")
        if snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1, not {snapshot_every}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
        self._db = db
        self._events = events if events is not None else EventStore(db, clock=clock)
        self._snapshot_every = snapshot_every
        self._max_retries = max_retries
        self._project_inline = project_inline
        self._clock = clock
        self._id_factory = new_id
        self._cache = AgentCache(cache_size, new_id, clock)
        # Erasures through this event store (by whoever calls it) evict the erased agent.
        self._events.add_deletion_listener(self)

    @property
    def events(self) -> EventStore:
        """The event store the agents' streams live in."""
        return self._events

    @property
    def cache(self) -> AgentCache:
        """The agents' last stored states that :meth:`execute` decides on."""
        return self._cache

    def stream_deleted(self, stream_id: str) -> None:
        """Forget a deleted agent stream's cached state (called by the event store)."""
        if stream_id.startswith(STREAM_PREFIX):
            self._cache.evict(stream_id.removeprefix(STREAM_PREFIX))

    # --- loading -----------------------------------------------------------------------------

    async def find(self, agent_id: str) -> AgentAggregate | None:
        """The agent as stored, or ``None`` when it does not exist. Always read from the store
        (never from the cache, which it refreshes)."""
        generation = self._cache.generation()
        found = await self._read(agent_id)
        if found is None:
            return None
        agent, position = found
        self._cache.put(agent, position, generation)
        return agent

    async def _read(self, agent_id: str) -> tuple[AgentAggregate, int] | None:
        """The agent as stored and the position of its newest event."""
        stream_id = stream_id_for(agent_id)
        # Replay validates each event's stored JSON text itself: no decoding up front.
        read = await self._events.read_from_snapshot(
            stream_id, AgentAggregate.STATE_SCHEMA_VERSION, decode=False
        )
        if read.head_position == 0:
            return None
        snapshot = read.snapshot
        agent = AgentAggregate.replay(
            read.events,
            None if snapshot is None else (snapshot.version, snapshot.state),
            id_factory=self._id_factory,
            clock=self._clock,
        )
        if read.ignored_snapshot is not None:
            # Written by another state schema (or of a version the stream does not hold):
            # rebuilt from the events, then replaced.
            version, schema_version = read.ignored_snapshot
            logger.info(
                "agent %s: ignoring the snapshot of state schema %s at version %s (current "
                "schema %s); rebuilt it",
                agent_id,
                schema_version,
                version,
                AgentAggregate.STATE_SCHEMA_VERSION,
            )
            await self._events.save_snapshot(
                stream_id, agent.version, AgentAggregate.STATE_SCHEMA_VERSION, agent.to_snapshot()
            )
        return agent, read.head_position

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
        if not agent.has_pending_events():
            return None
        return await self._save(agent, metadata, with_steps, None)

    async def _save(
        self,
        agent: AgentAggregate,
        metadata: Mapping[str, Any] | None,
        with_steps: Sequence[Step],
        head_position: int | None,
    ) -> AppendResult:
        """Append the pending events (expecting the stream's newest event at ``head_position``
        too, when given), then keep the saved state in the cache."""
        pending = agent.pending_events
        loaded = agent.version
        expected: ExpectedVersion = NO_STREAM if loaded == 0 else loaded
        steps = self._steps_for(agent, pending, loaded)
        if metadata:
            pending = [_with_metadata(event, metadata) for event in pending]
        generation = self._cache.generation()
        try:
            result = await self._events.append(
                agent.stream_id,
                pending,
                expected,
                with_steps=[*steps, *with_steps] if with_steps else steps,
                expected_position=head_position,
            )
        except BaseException:
            # Whatever the store holds now, it is not this agent's state: read it next time.
            self._cache.evict(agent.id)
            raise
        agent.mark_saved(result.last_version)
        self._cache.put(agent, result.positions[-1], generation)
        return result

    def _steps_for(self, agent: AgentAggregate, pending: list[NewEvent], loaded: int) -> list[Step]:
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
        """Run ``command`` on the agent and save what it recorded; returns its result.

        The command runs on the agent's cached state when the store has one (see the module's
        notes), saved in one unit that expects the stream unchanged since; otherwise, or when
        that state turns out stale, or the command records nothing or raises on it, on the
        agent loaded afresh. When another writer got there first (``ConcurrencyError``, or
        ``EventIdConflictError``: it recorded the same derived event, such as the same client
        response) the whole of it runs again on the freshly loaded agent, so the command's
        rules are checked against the state the other writer left (a ``DomainError`` from that
        attempt propagates). After ``max_retries`` retries it raises
        :class:`RetriesExhaustedError`; the attempt on a cached state is not counted.
        """
        cached = self._cache.get(agent_id)
        if cached is not None:
            decided = await self._execute_cached(*cached, command, metadata)
            if decided is not None:
                return decided[0]
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

    async def _execute_cached(
        self,
        agent: AgentAggregate,
        head_position: int,
        command: Callable[[AgentAggregate], T],
        metadata: Mapping[str, Any] | None,
    ) -> tuple[T] | None:
        """Run ``command`` on a cached state and save what it recorded, expecting the stream
        still at the cached version and position: ``(result,)`` when that is settled, None when
        the command must run again on freshly loaded state (a failed save evicts the agent)."""
        try:
            result = command(agent)
        except Exception as error:  # decided on a state that may be stale: decide again
            logger.debug("agent %s: command refused on the cached state: %r", agent.id, error)
            return None
        if not agent.has_pending_events():
            return None  # nothing appended, so nothing confirmed that the state was current
        try:
            await self._save(agent, metadata, (), head_position)
        except (ConcurrencyError, EventIdConflictError) as error:
            logger.debug("agent %s: the cached state was stale: %s", agent.id, error)
            return None
        return (result,)

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
        # refused rather than taken for a retry of the winner's. Random, not from ``new_id``: two
        # workers given equal deterministic generators must still differ here.
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
