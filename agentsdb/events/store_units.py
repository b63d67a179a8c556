"""The units of work and queries :class:`~agentsdb.events.store.EventStore` runs, built from
arguments it has already checked: the append unit and its result, the deletion unit, the lookup
of stored event ids that diagnoses a refused append, and ``read_all``'s filter on types."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from agentsdb.db.base import (
    Atomic,
    CommitOrder,
    Database,
    Execute,
    ExecuteMany,
    ExecuteResult,
    FetchAll,
    Row,
    Step,
)
from agentsdb.errors import ConcurrencyError, DatabaseError, IntegrityError, InvalidEventError
from agentsdb.events.appending import (
    earlier_result,
    head_bounds,
    holds,
    refuses_version,
    rewritten_stream,
)
from agentsdb.events.rows import recorded
from agentsdb.events.types import ANY, STREAM_EXISTS, AppendResult, ExpectedVersion, RecordedEvent
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


class AppendUnit(NamedTuple):
    """One append's unit of work, and how to read the rows it wrote from the unit's results."""

    unit: Atomic
    #: The position and version of each event written, oldest first, from the unit's results.
    written: Callable[[Sequence[Any]], list[Row]]


def append_unit(
    stream_id: str,
    rows: Sequence[dict[str, Any]],
    expected: ExpectedVersion,
    steps: Sequence[Step],
    head_position: int | None = None,
    *,
    keys_reported: bool = False,
) -> AppendUnit:
    """One append: the commit-order step, the inserts (the first one guarded by the expected
    version and, when given, the position of the stream's newest event), then the caller's
    steps.

    A few events are inserted one statement each. Each hands back its position: as the
    insert's key when the database reports it (``keys_reported``: ``Database.reports_insert_id``)
    and the expected version says which versions the events get, else through ``RETURNING``,
    which costs SQLite a trigger-like subprogram per row. More events take one ``executemany``
    and a read of the rows just written (on PostgreSQL each statement of a transaction is a
    round trip, ``executemany`` one).
    """
    low, high = head_bounds(expected)
    # The guard applies to the first event; the others follow it in the same unit.
    params = [
        {**row, "min_head": low, "max_head": high, "head_position": head_position}
        if index == 0
        else {**row, "min_head": 0, "max_head": NO_UPPER_BOUND, "head_position": None}
        for index, row in enumerate(rows)
    ]
    count = len(params)
    if count > RETURNING_AT_MOST:
        appended = FetchAll(EventQueries.appended, {"stream_id": stream_id, "count": count})
        unit = Atomic((_ORDER_EVENTS, ExecuteMany(EventQueries.append, params), *steps, appended))
        return AppendUnit(unit, _read_back)
    # The guard holds only at version ``low`` when the bounds are equal (a number, NO_STREAM).
    if keys_reported and low == high:
        inserts: tuple[Step, ...] = tuple(Execute(EventQueries.append, row) for row in params)

        def keyed(results: Sequence[Any]) -> list[Row]:
            # After the commit-order step, one ExecuteResult per insert.
            return [
                {"position": _key(results[index]), "version": low + index}
                for index in range(1, count + 1)
            ]

        return AppendUnit(Atomic((_ORDER_EVENTS, *inserts, *steps)), keyed)
    inserts = tuple(FetchAll(EventQueries.append_returning, row) for row in params)

    def returned(results: Sequence[Any]) -> list[Row]:
        # After the commit-order step, one single-row result per insert.
        return [results[index][0] for index in range(1, count + 1)]

    return AppendUnit(Atomic((_ORDER_EVENTS, *inserts, *steps)), returned)


def _read_back(results: Sequence[Any]) -> list[Row]:
    newest_first: list[Row] = results[-1]
    return list(reversed(newest_first))


def _key(result: ExecuteResult) -> int:
    key = result.last_insert_id
    if key is None:
        # A backend that claims reports_insert_id and breaks it: the append has committed
        # (retrying it with the same event ids returns its result).
        raise DatabaseError(
            "the append committed but the database reported no position for an event of it, "
            "although it claims to report insert keys (reports_insert_id)"
        )
    return key


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
        found_rows = await db.fetch_values(EventQueries.by_event_ids(len(chunk)), params)
        found.extend(recorded(row, None) for row in found_rows)
    return found


async def stream_version(db: Database, stream_id: str) -> int:
    """The version of the stream's newest event; 0 when it holds none (``stream_id`` checked)."""
    row = await db.fetch_one(EventQueries.current_version, {"stream_id": stream_id})
    return 0 if row is None else int(row["version"])


async def diagnose(
    db: Database,
    stream_id: str,
    rows: list[dict[str, Any]],
    expected: ExpectedVersion,
    head_position: int | None,
    error: IntegrityError,
) -> AppendResult | None:
    """After a refused append: the earlier result of a retry, or the error to raise.

    Returns None when the append should be tried again (it lost a race for a version although
    its expectation still holds).
    """
    stored = await stored_with_ids(db, [row["event_id"] for row in rows])
    if stored:
        return earlier_result(stream_id, rows, stored)
    if not refuses_version(error):
        raise error  # another constraint, such as one of the caller's with_steps
    actual = await stream_version(db, stream_id)
    if not holds(expected, actual):
        raise ConcurrencyError(stream_id, expected, actual) from error
    if expected is ANY or expected is STREAM_EXISTS:
        return None
    # The version holds again, so the versions alone would make a message that contradicts
    # itself: say what else moved. Still a lost race.
    reason = rewritten_stream(actual, head_position)
    raise ConcurrencyError(stream_id, expected, actual, reason=reason) from error


def read_all_query(types: Iterable[str] | None, params: dict[str, Any]) -> str | None:
    """``read_all``'s query keeping only ``types`` (None: every type), their parameters added
    to ``params``; None when ``types`` is empty (nothing to read)."""
    count = type_params(types, params)
    if count is None:
        return EventQueries.read_all
    return EventQueries.read_all_of_types(count) if count else None


def read_page_query(types: Iterable[str] | None, params: dict[str, Any]) -> str | None:
    """``read_page``'s query, as :func:`read_all_query` gives ``read_all``'s."""
    count = type_params(types, params)
    if count is None:
        return EventQueries.read_page(None)
    return EventQueries.read_page(count) if count else None


def type_params(types: Iterable[str] | None, params: dict[str, Any]) -> int | None:
    """How many types a read keeps, their parameters added to ``params``; None for every type.
    Refuses a str, a bad name and more than :data:`MAX_TYPES` types."""
    if types is None:
        return None
    if isinstance(types, str):
        raise InvalidEventError("types", f"must be a collection of str, got {shown(types)}")
    chosen = sorted({check_name("types", name) for name in types})
    if len(chosen) > MAX_TYPES:
        raise InvalidEventError(
            "types", f"names {len(chosen)} event types; at most {MAX_TYPES} at once"
        )
    params.update({f"type_{index}": name for index, name in enumerate(chosen)})
    return len(chosen)


__all__ = [
    "EVENTS_CHANNEL",
    "MAX_TYPES",
    "RETURNING_AT_MOST",
    "AppendUnit",
    "append_result",
    "append_unit",
    "check_decode",
    "delete_unit",
    "diagnose",
    "read_all_query",
    "read_page_query",
    "stored_with_ids",
    "stream_version",
]
