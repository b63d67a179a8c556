"""The units of work and queries :class:`~agentsdb.events.store.EventStore` runs, built from
arguments it has already checked: the append unit and its result, the deletion unit, the lookup
of stored event ids that diagnoses a refused append, and ``read_all``'s filter on types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from agentsdb.db.base import (
    Atomic,
    CommitOrder,
    Database,
    Execute,
    ExecuteMany,
    FetchAll,
    Row,
    Step,
)
from agentsdb.errors import InvalidEventError
from agentsdb.events.appending import head_bounds
from agentsdb.events.rows import recorded
from agentsdb.events.types import AppendResult, ExpectedVersion, RecordedEvent
from agentsdb.events.validation import check_name, shown
from agentsdb.queries.events import NO_UPPER_BOUND, EventQueries

#: The commit-order channel of event appends.
EVENTS_CHANNEL = "agentsdb.events"
# The first step of every append (operations are immutable, so one serves them all).
_ORDER_EVENTS = CommitOrder(EVENTS_CHANNEL)
#: The most event types one ``read_all`` filters on (each is a query parameter).
MAX_TYPES = 500
#: Appends of at most this many events read each new row back with ``RETURNING``.
RETURNING_AT_MOST = 4
# Event ids looked up per query when diagnosing a failed append.
_IDS_PER_QUERY = 500


def check_decode(decode: object) -> bool:
    """``decode`` of the reads: True or False, nothing else."""
    if not isinstance(decode, bool):
        raise InvalidEventError("decode", f"must be True or False, got {shown(decode)}")
    return decode


def append_unit(
    stream_id: str,
    rows: Sequence[dict[str, Any]],
    expected: ExpectedVersion,
    steps: Sequence[Step],
    head_position: int | None = None,
) -> Atomic:
    """One append: the commit-order step, the inserts (the first one guarded by the expected
    version and, when given, the position of the stream's newest event), then the caller's
    steps. Read its result with :func:`appended_rows`.

    A few events are inserted one statement each, each handing back its position
    (``RETURNING``); more take one ``executemany`` and a read of the rows just written (on
    PostgreSQL each statement of a transaction is a round trip, ``executemany`` one).
    """
    low, high = head_bounds(expected)
    # The guard applies to the first event; the others follow it in the same unit.
    params = [
        {**row, "min_head": low, "max_head": high, "head_position": head_position}
        if index == 0
        else {**row, "min_head": 0, "max_head": NO_UPPER_BOUND, "head_position": None}
        for index, row in enumerate(rows)
    ]
    if len(params) <= RETURNING_AT_MOST:
        inserts: tuple[Step, ...] = tuple(
            FetchAll(EventQueries.append_returning, row) for row in params
        )
        return Atomic((_ORDER_EVENTS, *inserts, *steps))
    appended = FetchAll(EventQueries.appended, {"stream_id": stream_id, "count": len(rows)})
    return Atomic((_ORDER_EVENTS, ExecuteMany(EventQueries.append, params), *steps, appended))


def appended_rows(results: Sequence[Any], count: int) -> list[Row]:
    """The position and version of each of the ``count`` events an :func:`append_unit` wrote,
    oldest first, from the unit's results."""
    if count <= RETURNING_AT_MOST:
        # After the commit-order step, one single-row result per insert.
        return [results[index][0] for index in range(1, count + 1)]
    newest_first: list[Row] = results[-1]
    return list(reversed(newest_first))


def append_result(stream_id: str, written: Sequence[Row]) -> AppendResult:
    """The result of an append from the rows it wrote, oldest first."""
    return AppendResult(
        stream_id,
        int(written[0]["version"]),
        int(written[-1]["version"]),
        tuple(int(row["position"]) for row in written),
    )


def delete_unit(stream_id: str, erasing: Iterable[Step]) -> Atomic:
    """One deletion: the snapshot, the read models' rows (``erasing``), then the events (the
    last result, whose ``rows_affected`` counts them)."""
    key = {"stream_id": stream_id}
    return Atomic(
        (
            Execute(EventQueries.delete_snapshot, key),
            *erasing,
            Execute(EventQueries.delete_events, key),
        )
    )


async def stored_with_ids(db: Database, event_ids: Sequence[str]) -> list[RecordedEvent]:
    """The stored events with any of these ids (not decoded), a few hundred ids per query."""
    found: list[RecordedEvent] = []
    for start in range(0, len(event_ids), _IDS_PER_QUERY):
        chunk = event_ids[start : start + _IDS_PER_QUERY]
        params = {f"id_{index}": event_id for index, event_id in enumerate(chunk)}
        found_rows = await db.fetch_all(EventQueries.by_event_ids(len(chunk)), params)
        found.extend(recorded(row, None) for row in found_rows)
    return found


def read_all_query(types: Iterable[str] | None, params: dict[str, Any]) -> str | None:
    """``read_all``'s query keeping only ``types`` (None: every type), their parameters added
    to ``params``; None when ``types`` is empty (nothing to read)."""
    if types is None:
        return EventQueries.read_all
    if isinstance(types, str):
        raise InvalidEventError("types", f"must be a collection of str, got {shown(types)}")
    chosen = sorted({check_name("types", name) for name in types})
    if len(chosen) > MAX_TYPES:
        raise InvalidEventError(
            "types", f"names {len(chosen)} event types; at most {MAX_TYPES} at once"
        )
    if not chosen:
        return None
    params.update({f"type_{index}": name for index, name in enumerate(chosen)})
    return EventQueries.read_all_of_types(len(chosen))


__all__ = [
    "EVENTS_CHANNEL",
    "MAX_TYPES",
    "RETURNING_AT_MOST",
    "append_result",
    "append_unit",
    "appended_rows",
    "check_decode",
    "delete_unit",
    "read_all_query",
    "stored_with_ids",
]
