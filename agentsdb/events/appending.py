"""What an append checks and concludes, without I/O: the rows to insert, the range the stream's
version must lie in, which refusals mean a lost race, and whether a refused append was the exact
retry of one already stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentsdb.db.base import CommitOrder, Execute, ExecuteMany, FetchAll, FetchOne, Step
from agentsdb.errors import EventIdConflictError, IntegrityError, InvalidEventError
from agentsdb.events.types import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamState,
)
from agentsdb.events.validation import check_name, check_positive, json_text, shown
from agentsdb.models._record import decode_json
from agentsdb.queries.events import NO_UPPER_BOUND


def head_bounds(expected: ExpectedVersion) -> tuple[int, int]:
    """The range the stream's current version must lie in for the append to go ahead."""
    if expected is NO_STREAM:
        return 0, 0
    if expected is ANY:
        return 0, NO_UPPER_BOUND
    if expected is STREAM_EXISTS:
        return 1, NO_UPPER_BOUND
    assert isinstance(expected, int)
    return expected, expected


def holds(expected: ExpectedVersion, actual: int) -> bool:
    """Whether a stream at version ``actual`` satisfies ``expected``."""
    low, high = head_bounds(expected)
    return low <= actual <= high


def refuses_version(error: IntegrityError) -> bool:
    """Whether the database refused an event's version: the expected-version guard (NOT NULL
    on ``events.version``) or a version another writer took (``UNIQUE (stream_id, version)``).

    SQLite and libSQL name them ``events.version`` and ``events.stream_id, events.version``;
    PostgreSQL ``events.version`` and ``events_stream_version``.
    """
    constraint = error.constraint or ""
    return constraint in _VERSION_CONSTRAINTS


def rewritten_stream(actual: int, head_position: int | None) -> str:
    """Why an append was refused although the stream is at the version it expected: the
    stream was deleted and written again (a ``ConcurrencyError``'s reason)."""
    if head_position is not None:
        return (
            f"the stream's newest event (version {actual}) is not the one at position "
            f"{head_position}: the stream was deleted and written again since it was read, or "
            "that position is not of its newest event"
        )
    return (
        f"the stream was deleted and written again while the append ran (it is at version "
        f"{actual} again, with other events)"
    )


def lost_every_race(attempts: int, actual: int) -> str:
    """Why an append whose expectation always holds (``ANY``, ``STREAM_EXISTS``) gave up."""
    return (
        f"the append lost the race for the next version {attempts} times in a row (the stream "
        f"is at version {actual})"
    )


_VERSION_CONSTRAINTS = frozenset(
    {"events.version", "events.stream_id, events.version", "events_stream_version"}
)


def event_rows(
    stream_id: str, events: Sequence[NewEvent], recorded_at: str
) -> list[dict[str, Any]]:
    """The insert parameters of each event, after checking every one of them; ``recorded_at``
    is the append's time in the stored format."""
    if type(events) is not list and (
        isinstance(events, NewEvent) or not isinstance(events, Sequence)
    ):
        raise InvalidEventError("events", f"must be a sequence of NewEvent, got {shown(events)}")
    if not events:
        raise InvalidEventError("events", "must hold at least one event")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, event in enumerate(events):
        where = f"events[{index}]"
        if not isinstance(event, NewEvent):
            raise InvalidEventError(where, f"must be a NewEvent, got {type(event).__name__}")
        event_id = check_name(f"{where}.event_id", event.event_id)
        if event_id in seen:
            raise InvalidEventError(
                f"{where}.event_id", f"repeats an earlier event's id ({shown(event_id)})"
            )
        seen.add(event_id)
        rows.append(
            {
                "stream_id": stream_id,
                "event_id": event_id,
                "type": check_name(f"{where}.type", event.type),
                "schema_version": check_positive(f"{where}.schema_version", event.schema_version),
                "data": json_text(f"{where}.data", event.data),
                "metadata": json_text(f"{where}.metadata", event.metadata),
                "recorded_at": recorded_at,
            }
        )
    return rows


def check_head_position(expected: ExpectedVersion, position: object) -> int:
    """``expected_position``, checked: a positive position, given with a numeric expected
    version (the append then also requires the stream's newest event to be at it)."""
    if isinstance(expected, StreamState) or expected < 1:
        raise InvalidEventError(
            "expected_position", f"needs a version >= 1 as expected_version, got {shown(expected)}"
        )
    return check_positive("expected_position", position)


def check_steps(steps: Sequence[Step]) -> tuple[Step, ...]:
    """``with_steps`` as a tuple, each checked to be a statement step."""
    checked = tuple(steps)
    for index, step in enumerate(checked):
        if not isinstance(step, Execute | ExecuteMany | FetchAll | FetchOne | CommitOrder):
            raise InvalidEventError(f"with_steps[{index}]", f"is not a Step: {shown(step)}")
    return checked


def earlier_result(
    stream_id: str, rows: list[dict[str, Any]], stored: list[RecordedEvent]
) -> AppendResult:
    """The result of the append that stored these events, if this one is its exact retry."""
    by_id = {event.event_id: event for event in stored}
    missing = [row["event_id"] for row in rows if row["event_id"] not in by_id]
    if missing:
        raise EventIdConflictError(
            stored[0].event_id,
            f"{len(stored)} of this append's {len(rows)} event ids are stored and "
            f"{len(missing)} are not (first new one: {shown(missing[0])}); a retry must send "
            "exactly the events of the append it repeats",
        )
    previous: RecordedEvent | None = None
    for row in rows:
        event = by_id[row["event_id"]]
        if event.stream_id != stream_id:
            raise EventIdConflictError(
                event.event_id, f"in stream {shown(event.stream_id)}, not {shown(stream_id)}"
            )
        for field in ("type", "schema_version"):
            if getattr(event, field) != row[field]:
                raise EventIdConflictError(
                    event.event_id,
                    f"with {field} {shown(getattr(event, field))}, not {shown(row[field])}",
                )
        for field in ("data", "metadata"):
            if getattr(event, field) != decode_json(row[field]):
                raise EventIdConflictError(event.event_id, f"with other {field}")
        if previous is not None and event.version != previous.version + 1:
            raise EventIdConflictError(
                event.event_id,
                f"at version {event.version}, not right after {shown(previous.event_id)}",
            )
        previous = event
    first, last = by_id[rows[0]["event_id"]], by_id[rows[-1]["event_id"]]
    return AppendResult(
        stream_id,
        first.version,
        last.version,
        tuple(by_id[row["event_id"]].position for row in rows),
    )


__all__ = [
    "check_head_position",
    "check_steps",
    "earlier_result",
    "event_rows",
    "head_bounds",
    "holds",
    "lost_every_race",
    "refuses_version",
    "rewritten_stream",
]
