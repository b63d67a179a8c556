"""Catch-up projectors: read models kept up to date by reading the event log in commit order.

A :class:`Projection` turns a page of recorded events into the statements that update its read
model. A :class:`Projector` pages through ``EventStore.read_page`` from its stored position and
runs each page's statements and the new position (how far the read went) as **one atomic
unit**, so every event is projected exactly once: a crash before the commit leaves both the rows
and the position as they were, and the page is read again.

The position only moves forward, and only from the value the projector read: the write is a
compare-and-set that breaks the position row's ``CHECK (position >= 0)`` when another projector
of the same name moved it meanwhile, so the whole unit is refused and
:class:`ProjectorConflictError` says so. The compare-and-set is a plain statement, so the unit is
one batch on every backend, including libSQL over HTTP.

:meth:`Projector.rebuild` empties the read model and sets the position to 0 in one unit, then
catches up from the first event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from agentsdb.db.base import Atomic, Database, Execute, Program, Step
from agentsdb.errors import AgentsDBError, CheckViolationError
from agentsdb.events.types import EventPage, RecordedEvent
from agentsdb.rules.timestamps import Clock, format_timestamp, utc_now

logger = logging.getLogger("agentsdb.events.projector")

_ENSURE_POSITION = """INSERT INTO agentsdb_projector_positions (name, position, updated_at)
VALUES (:name, 0, :now)
ON CONFLICT (name) DO NOTHING"""

# Moves the position from :expected to :position, or breaks the CHECK (position >= 0) when the
# stored position is not :expected, which refuses the whole unit.
_ADVANCE_POSITION = """UPDATE agentsdb_projector_positions
SET position = CASE WHEN position = :expected AND :position >= :expected
        THEN :position ELSE -1 END,
    updated_at = :now
WHERE name = :name"""

_RESET_POSITION = """UPDATE agentsdb_projector_positions SET position = 0, updated_at = :now
WHERE name = :name"""

_GET_POSITION = "SELECT position FROM agentsdb_projector_positions WHERE name = :name"


class ProjectorConflictError(AgentsDBError):
    """Another projector of the same name moved the position while this one worked."""

    def __init__(self, name: str, expected: int, actual: int | None) -> None:
        self.name = name
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"projector {name!r} expected to move on from position {expected}, but it is now "
            f"at {actual}: another projector of that name is running; run one at a time"
        )


class UnknownProjectionError(AgentsDBError):
    """A projector was asked for by a name nobody registered."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        shown = name if len(name) <= 40 else f"{name[:40]}…"
        super().__init__(
            f"no read model named {shown!r}; known read models: {', '.join(known) or 'none'}"
        )


class EventReader(Protocol):
    """What a projector needs of an event store."""

    async def read_page(
        self, *, after: int = 0, limit: int = 1000, types: Iterable[str] | None = None
    ) -> EventPage:
        """Events after a position, in commit order, and how far the read went."""
        ...


class Projection(Protocol):
    """A read model that a projector keeps: its name, the events it reads, its writes."""

    @property
    def name(self) -> str:
        """Names the projector's position row (and the read model on the command line)."""
        ...

    @property
    def types(self) -> Sequence[str] | None:
        """The event types it reads, or ``None`` for every event."""
        ...

    async def steps_for(self, events: Sequence[RecordedEvent]) -> Sequence[Step]:
        """The statements that project ``events`` (in commit order).

        Applying them twice must leave the same rows as applying them once.
        """
        ...

    def reset_steps(self) -> Sequence[Step]:
        """The statements that empty the read model before a rebuild."""
        ...


class Projector:
    """Runs one projection over the event log, exactly once per event. ``clock`` tells the
    time stored beside its position (default: now)."""

    def __init__(
        self,
        db: Database,
        events: EventReader,
        projection: Projection,
        *,
        page_size: int = 500,
        clock: Clock = utc_now,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self._db = db
        self._events = events
        self._projection = projection
        self._page_size = page_size
        self._clock = clock

    @property
    def name(self) -> str:
        """The projection's name."""
        return self._projection.name

    async def position(self) -> int:
        """The position of the last event projected (0 before the first)."""
        row = await self._db.fetch_one(_GET_POSITION, {"name": self.name})
        return 0 if row is None else int(row["position"])

    async def run_once(self) -> int:
        """Project the next page of events; returns how many events it projected.

        The position moves to how far the read went (``EventPage.scanned_to``), past the events
        of other types too, so a projection of rare types reads each other event once; a page
        with none of its types moves the position alone (and returns 0).
        """
        projected, _ = await self._step()
        return projected

    async def _step(self) -> tuple[int, bool]:
        """One page: how many events it projected, and whether the position moved."""
        expected = await self.position()
        read = await self._events.read_page(
            after=expected, limit=self._page_size, types=self._projection.types
        )
        if read.scanned_to == expected:
            return 0, False
        page = read.events
        steps = await self._projection.steps_for(page) if page else ()
        now = format_timestamp(self._clock())
        unit = Atomic(
            (
                Execute(_ENSURE_POSITION, {"name": self.name, "now": now}),
                Execute(
                    _ADVANCE_POSITION,
                    {
                        "name": self.name,
                        "expected": expected,
                        "position": read.scanned_to,
                        "now": now,
                    },
                ),
                *steps,
            )
        )
        try:
            await _run_atomic(self._db, unit)
        except CheckViolationError as error:
            actual = await self.position()
            if actual != expected:
                raise ProjectorConflictError(self.name, expected, actual) from error
            raise
        logger.debug("%s projected %d events up to %d", self.name, len(page), read.scanned_to)
        return len(page), True

    async def catch_up(self) -> int:
        """Project pages until the log holds nothing new; returns how many events it projected."""
        total = 0
        while True:
            projected, moved = await self._step()
            total += projected
            if not moved:
                return total

    async def rebuild(self) -> int:
        """Empty the read model, go back to position 0, and project the whole log again."""
        now = format_timestamp(self._clock())
        await _run_atomic(
            self._db,
            Atomic(
                (
                    *self._projection.reset_steps(),
                    Execute(_ENSURE_POSITION, {"name": self.name, "now": now}),
                    Execute(_RESET_POSITION, {"name": self.name, "now": now}),
                )
            ),
        )
        return await self.catch_up()


def _unit(unit: Atomic) -> Program[None]:
    yield unit


async def _run_atomic(db: Database, unit: Atomic) -> None:
    await db.run(_unit(unit))


__all__ = [
    "EventReader",
    "Projection",
    "Projector",
    "ProjectorConflictError",
    "UnknownProjectionError",
]
