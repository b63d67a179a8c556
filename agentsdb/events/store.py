"""The event store: append with an expected version, read a stream or everything, delete a stream.

Every write is one :class:`~agentsdb.db.base.Atomic` unit, so it runs the same way on every
backend, including libSQL over HTTP (one batch, no interactive transaction):

* **append**: a ``CommitOrder`` step on the ``events`` channel (so positions commit in order and
  catch-up readers never skip one; see :class:`~agentsdb.db.base.CommitOrder`), one insert per
  event whose version is computed by the insert itself and is NULL — refused by the NOT NULL
  constraint, undoing the whole unit — unless the expected version holds, the caller's extra
  steps (``with_steps``), and a read of the positions just written. A failure is diagnosed after
  the unit has been rolled back: reused event ids (an idempotent retry, or a conflict), then the
  stream's version re-read for a ConcurrencyError; anything else propagates unchanged.
* **delete_stream**: the events, the snapshot and the erasers' steps, together.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agentsdb.db.base import (
    Atomic,
    Database,
    Execute,
    ExecuteResult,
    Program,
    Row,
    Step,
)
from agentsdb.errors import (
    ConcurrencyError,
    IntegrityError,
    InvalidEventError,
)
from agentsdb.events.appending import (
    check_head_position,
    check_steps,
    event_rows,
    lost_every_race,
)
from agentsdb.events.erasure import built_in_erasure
from agentsdb.events.rows import event_page, recorded, snapshot, stream_from_snapshot
from agentsdb.events.store_units import (
    EVENTS_CHANNEL,
    MAX_TYPES,
    append_result,
    append_unit,
    check_decode,
    delete_unit,
    diagnose,
    read_all_query,
    read_page_query,
    stream_version,
)
from agentsdb.events.types import (
    AppendResult,
    DeletionListener,
    EventPage,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamFromSnapshot,
)
from agentsdb.events.upcasting import Upcasters
from agentsdb.events.validation import (
    check_expected,
    check_limit,
    check_name,
    check_position,
    check_positive,
    json_text,
    shown,
)
from agentsdb.queries.events import NO_UPPER_BOUND, EventQueries
from agentsdb.rules.timestamps import Clock, format_timestamp, utc_now

#: Supplies the statements that erase a deleted stream's projected rows.
Eraser = Callable[[str], Iterable[Step]]

# How many times an append with ANY or STREAM_EXISTS is tried again after losing a race for a
# version: the expectation still holds, so the append itself is still right.
_RETRIES_WITHOUT_EXPECTATION = 5


class EventStore:
    """Streams of events on a migrated database (migration 011).

    ``upcasters`` turns stored events of old schema versions into the current shape on read.
    ``delete_stream`` always removes the built-in read models' rows of the stream
    (:mod:`agentsdb.events.erasure`); ``erasers`` (or :meth:`register_eraser`) supply the
    statements that delete the rows of read models of your own, in the same unit. ``clock``
    tells the time stored as the events' and snapshots' ``recorded_at`` (default: now).
    """

    def __init__(
        self,
        db: Database,
        *,
        upcasters: Upcasters | None = None,
        erasers: Iterable[Eraser] = (),
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._keys_reported = db.reports_insert_id
        self._clock = clock
        self._upcasters = upcasters
        self._erasers: list[Eraser] = list(erasers)
        self._listeners: weakref.WeakSet[DeletionListener] = weakref.WeakSet()

    @property
    def db(self) -> Database:
        """The database the events live in."""
        return self._db

    def register_eraser(self, eraser: Eraser) -> None:
        """Add a function from a stream id to the statements erasing its projected rows."""
        if not callable(eraser):
            raise InvalidEventError("eraser", f"must be callable, got {type(eraser).__name__}")
        self._erasers.append(eraser)

    def add_deletion_listener(self, listener: DeletionListener) -> None:
        """Call ``listener.stream_deleted(stream_id)`` after each :meth:`delete_stream` of this
        store, once the deletion has committed or failed. Held weakly: a listener nobody else
        holds stops listening."""
        if not callable(getattr(listener, "stream_deleted", None)):
            raise InvalidEventError(
                "listener", f"has no stream_deleted method: {type(listener).__name__}"
            )
        self._listeners.add(listener)

    def _upcasting(self) -> Upcasters | None:
        # Upcasters registered after the store was built count too.
        upcasters = self._upcasters
        return upcasters if upcasters else None

    # --- writing ----------------------------------------------------------------------------

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
        *,
        with_steps: Sequence[Step] = (),
        expected_position: int | None = None,
    ) -> AppendResult:
        """Append ``events`` to the stream if ``expected_version`` holds, as one atomic unit.

        ``expected_version``: ``NO_STREAM`` (the stream holds no event), ``STREAM_EXISTS``,
        ``ANY``, or the version of the stream's newest event. When it does not hold — also
        because another writer appended first — nothing is written and ConcurrencyError says
        the stream's actual version. ``expected_position`` (with a numeric expected version)
        also requires the stream's newest event to be the one at that position: positions are
        never reused, so a stream deleted and appended again up to the same version since the
        caller read it is refused the same way. ``with_steps`` run after the inserts in the same
        unit (an inline projection's upserts, :meth:`snapshot_steps`); when one fails, nothing
        is written and its error propagates.

        Appending the same event ids again with the same content to the same stream (a retry
        after a lost reply) writes nothing and returns the first append's result; the same ids
        with other content raise EventIdConflictError.
        """
        stream_id = check_name("stream_id", stream_id)
        expected = check_expected(expected_version)
        rows = event_rows(stream_id, events, format_timestamp(self._clock()))
        steps = check_steps(with_steps)
        head_position = (
            None if expected_position is None else check_head_position(expected, expected_position)
        )
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._append_once(stream_id, rows, expected, steps, head_position)
            except IntegrityError as error:
                result = await diagnose(self._db, stream_id, rows, expected, head_position, error)
                if result is not None:
                    return result
                if attempts >= _RETRIES_WITHOUT_EXPECTATION:
                    actual = await self.current_version(stream_id)
                    reason = lost_every_race(attempts, actual)
                    raise ConcurrencyError(stream_id, expected, actual, reason=reason) from error

    async def _append_once(
        self,
        stream_id: str,
        rows: list[dict[str, Any]],
        expected: ExpectedVersion,
        steps: tuple[Step, ...],
        head_position: int | None,
    ) -> AppendResult:
        unit, written = append_unit(
            stream_id, rows, expected, steps, head_position, keys_reported=self._keys_reported
        )

        def program() -> Program[list[Row]]:
            results: list[Any] = yield unit
            return written(results)

        return append_result(stream_id, await self._db.run(program()))

    async def delete_stream(self, stream_id: str) -> int:
        """Delete the stream's events, its snapshot and (through the erasers) its projected
        rows, in one unit. Returns how many events were deleted.

        Positions are never reused: events appended later, to any stream, get positions above
        every earlier one. The stream then holds no event, so ``NO_STREAM`` accepts it again
        and its versions start over at 1.
        """
        stream_id = check_name("stream_id", stream_id)
        erasing: list[Step] = built_in_erasure(stream_id)
        for eraser in self._erasers:
            erasing.extend(eraser(stream_id))
        unit = delete_unit(stream_id, erasing)

        def program() -> Program[int]:
            results: list[Any] = yield unit
            deleted_events: ExecuteResult = results[-1]
            return deleted_events.rows_affected

        try:
            deleted = await self._db.run(program())
        finally:
            for listener in list(self._listeners):
                listener.stream_deleted(stream_id)
        return deleted

    # --- snapshots --------------------------------------------------------------------------

    def snapshot_steps(
        self, stream_id: str, version: int, schema_version: int, state: Mapping[str, Any]
    ) -> tuple[Step, ...]:
        """The steps that save a snapshot; pass them as ``append(..., with_steps=...)`` to save
        it with the events it covers. A snapshot older than the stored one changes nothing."""
        params = {
            "stream_id": check_name("stream_id", stream_id),
            "version": check_positive("version", version),
            "schema_version": check_positive("schema_version", schema_version),
            "state": json_text("state", state),
            "recorded_at": format_timestamp(self._clock()),
        }
        return (Execute(EventQueries.save_snapshot, params),)

    async def save_snapshot(
        self, stream_id: str, version: int, schema_version: int, state: Mapping[str, Any]
    ) -> None:
        """Save the stream's state as of ``version`` (which the stream must hold)."""
        steps = self.snapshot_steps(stream_id, version, schema_version, state)
        current = await self.current_version(stream_id)
        if version > current:
            raise InvalidEventError(
                "version",
                f"stream {shown(stream_id)} is at version {current}; no snapshot of version "
                f"{version} can exist",
            )

        def program() -> Program[None]:
            yield Atomic(steps)

        await self._db.run(program())

    async def load_snapshot(self, stream_id: str) -> Snapshot | None:
        """The stream's newest snapshot, or None."""
        stream_id = check_name("stream_id", stream_id)
        row = await self._db.fetch_one(EventQueries.load_snapshot, {"stream_id": stream_id})
        return None if row is None else snapshot(row)

    async def read_from_snapshot(
        self, stream_id: str, schema_version: int, *, decode: bool = True
    ) -> StreamFromSnapshot:
        """The stream's snapshot of state schema ``schema_version`` and the events after it
        (every event when it has none such), read by one statement: one consistent view of
        both, in one round trip. ``decode`` as in :meth:`read_stream`.

        A stream that holds no event, or whose snapshot is of a version it does not hold, takes
        a second statement (and a third for the latter, to report the snapshot it ignored).
        """
        decode = check_decode(decode)
        params = {
            "stream_id": check_name("stream_id", stream_id),
            "schema_version": check_positive("schema_version", schema_version),
        }
        rows = await self._db.fetch_values(EventQueries.read_from_snapshot, params)
        upcasters = self._upcasting()
        found = stream_from_snapshot(rows, schema_version, upcasters, decode)
        if found is not None:
            return found
        events = await self.read_stream(stream_id, decode=decode)
        if not events:
            return StreamFromSnapshot(None, [], 0, None)
        stored = await self.load_snapshot(stream_id)
        ignored = None if stored is None else (stored.version, stored.schema_version)
        return StreamFromSnapshot(None, events, events[-1].position, ignored)

    # --- reading ----------------------------------------------------------------------------

    async def current_version(self, stream_id: str) -> int:
        """The version of the stream's newest event; 0 when it holds none."""
        return await stream_version(self._db, check_name("stream_id", stream_id))

    async def read_stream(
        self,
        stream_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        decode: bool = True,
    ) -> list[RecordedEvent]:
        """The stream's events from ``from_version`` to ``to_version`` (both included; None:
        to the end), oldest first, upcast to their newest schema version.

        ``decode=False`` leaves each event's ``data`` and ``metadata`` to be decoded on first
        access, for a reader that validates ``data_json`` itself (as ``AgentStore`` does) or
        uses few of the events: the same events, without the cost of decoding up front.
        """
        decode = check_decode(decode)
        params = {
            "stream_id": check_name("stream_id", stream_id),
            "from_version": check_position("from_version", from_version),
            "to_version": (
                NO_UPPER_BOUND if to_version is None else check_position("to_version", to_version)
            ),
        }
        rows = await self._db.fetch_values(EventQueries.read_stream, params)
        upcasters = self._upcasting()
        return [recorded(row, upcasters, decode) for row in rows]

    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        types: Iterable[str] | None = None,
        decode: bool = True,
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events of every stream with a position above ``after``, in position
        order; ``types`` keeps only events of those types. ``decode`` as in :meth:`read_stream`.

        Gap-safe: positions commit in increasing order on every backend, so a reader that pages
        with ``after=`` the last position it saw never skips an event, whenever it commits.
        """
        decode = check_decode(decode)
        params: dict[str, Any] = {
            "after": check_position("after", after),
            "limit": check_limit(limit),
        }
        sql = read_all_query(types, params)
        if sql is None:
            return []
        rows = await self._db.fetch_values(sql, params)
        upcasters = self._upcasting()
        return [recorded(row, upcasters, decode) for row in rows]

    async def read_page(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        types: Iterable[str] | None = None,
        decode: bool = True,
    ) -> EventPage:
        """:meth:`read_all`'s events, and how far the read went: resume from the page's
        ``scanned_to`` (see :class:`~agentsdb.events.types.EventPage`), not from its last event,
        and a reader that keeps few types reads each other event once.

        Gap-safe as ``read_all`` is: the newest position a read sees is committed with every
        position below it (positions commit in increasing order on every backend), so no event
        up to ``scanned_to`` can commit later.
        """
        decode = check_decode(decode)
        after = check_position("after", after)
        limit = check_limit(limit)
        params: dict[str, Any] = {"after": after, "limit": limit}
        sql = read_page_query(types, params)
        if sql is None:
            return EventPage([], after)
        rows = await self._db.fetch_values(sql, params)
        return event_page(rows, after, limit, self._upcasting(), decode)


__all__ = ["EVENTS_CHANNEL", "MAX_TYPES", "Eraser", "EventStore"]
