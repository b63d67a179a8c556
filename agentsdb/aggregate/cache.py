"""The states an AgentStore saved or loaded last, so a command can decide without reading first.

An entry is an agent's state, the version it was stored at and the position of the event at that
version: an :class:`AgentState` is an immutable value, so an entry is never changed by a command
run on it. :meth:`AgentCache.get` wraps an entry in a new aggregate each time; its pending events
and later states belong to that aggregate alone, and reach the cache only after the store has
appended them.

Staleness is caught by the store, not here: a command decided on a cached state is appended with
the cached version as expected version and the cached position as expected position, so when
another writer got there first (or deleted the stream and wrote it again up to the same version)
the append is refused and the store reloads. What this module adds is the bookkeeping that keeps
a slow writer from putting back an entry that an erasure removed meanwhile: every
:meth:`AgentCache.evict` moves the *generation* on, and :meth:`AgentCache.put` with an older
generation is ignored.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from agentsdb.aggregate.agent import AgentAggregate
from agentsdb.aggregate.state import AgentState
from agentsdb.rules.timestamps import Clock, utc_now

#: How many agents an AgentStore keeps by default.
DEFAULT_CACHE_SIZE = 1_000


class _Entry(NamedTuple):
    state: AgentState
    version: int
    position: int


class AgentCache:
    """A bounded LRU map from agent id to its last stored state and version; size 0 keeps none."""

    def __init__(self, size: int, id_factory: Callable[[], str], clock: Clock = utc_now) -> None:
        """``id_factory`` and ``clock`` go to the aggregates :meth:`get` makes."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"cache_size must be a whole number >= 0, not {size!r}")
        self._size = size
        self._id_factory = id_factory
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Moves on at every eviction; see generation().
        self._evictions = 0

    @property
    def size(self) -> int:
        """The most agents kept (0: the cache is off)."""
        return self._size

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._entries

    def generation(self) -> int:
        """A token to take before reading or writing the store and to pass to :meth:`put`:
        the put is ignored when any eviction happened in between (an erasure may have removed
        what was read or written)."""
        return self._evictions

    def get(self, agent_id: str) -> tuple[AgentAggregate, int] | None:
        """A new aggregate over the agent's cached state and the position of the event at its
        version, or None when it is not cached."""
        entry = self._entries.get(agent_id)
        if entry is None:
            return None
        self._entries.move_to_end(agent_id)
        agent = AgentAggregate(
            entry.state, entry.version, id_factory=self._id_factory, clock=self._clock
        )
        return agent, entry.position

    def put(self, agent: AgentAggregate, position: int, generation: int) -> None:
        """Keep ``agent``'s stored state, whose newest event is at ``position`` (it must have no
        pending events), unless an eviction happened since ``generation`` or a newer version of
        it is kept already."""
        if self._size == 0 or generation != self._evictions:
            return
        if agent.has_pending_events():
            raise ValueError(f"agent {agent.id}: only a stored state is cached, not pending events")
        agent_id = agent.id
        kept = self._entries.get(agent_id)
        if kept is not None and kept.version > agent.version:
            return
        self._entries[agent_id] = _Entry(agent.state, agent.version, position)
        self._entries.move_to_end(agent_id)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def evict(self, agent_id: str) -> None:
        """Forget the agent (and refuse puts of anything read or written before now)."""
        self._evictions += 1
        self._entries.pop(agent_id, None)

    def clear(self) -> None:
        """Forget every agent."""
        self._evictions += 1
        self._entries.clear()


__all__ = ["DEFAULT_CACHE_SIZE", "AgentCache"]
