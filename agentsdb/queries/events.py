"""SQL for the event store's ``events`` and ``snapshots`` tables (migration 011).

Portable: the same text runs on SQLite, libSQL and PostgreSQL. Positions and versions are
integers; ``data``, ``metadata`` and ``state`` take JSON text, and events are read with them cast
to text, so every backend hands back the text as stored (PostgreSQL's ``json`` keeps it verbatim)
and the event store decides when to decode it.
"""

from __future__ import annotations

from functools import lru_cache

from agentsdb.queries._sql import column_list

#: The columns every read of events selects, in this order: the event store reads its rows by
#: position (:mod:`agentsdb.events.rows`).
EVENT_FIELDS = (
    "position",
    "stream_id",
    "version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
)

#: The columns ``read_from_snapshot`` selects after :data:`EVENT_FIELDS`.
SNAPSHOT_ON_EVENT_FIELDS = ("snapshot_schema_version", "snapshot_state", "snapshot_recorded_at")

# JSON columns are read as text on every backend (see above).
_JSON_FIELDS = frozenset({"data", "metadata"})


def _event_columns(table: str) -> str:
    """The select list of :data:`EVENT_FIELDS` from ``table`` (a name or an alias)."""
    return column_list(
        f"CAST({table}.{name} AS TEXT) AS {name}"
        if name in _JSON_FIELDS
        else f"{table}.{name} AS {name}"
        for name in EVENT_FIELDS
    )


_EVENT_COLUMNS = _event_columns("events")

# The same columns of the events table aliased ``e``.
_EVENT_COLUMNS_OF_E = _event_columns("e")

# The page's columns, as read_page's subquery named them.
_PAGE_COLUMNS = column_list(f"page.{name} AS {name}" for name in EVENT_FIELDS)


def _type_params(count: int) -> str:
    """``:type_0, :type_1, ...``: the event types a read keeps."""
    return ", ".join(f":type_{index}" for index in range(count))


#: Above every version and position a table can hold, as a bound that means "no bound".
NO_UPPER_BOUND = 2**62


class EventQueries:
    """SQL for appending and reading events and snapshots."""

    #: One event, at the version after the stream's newest. The version is NULL (so the NOT
    #: NULL constraint refuses the row, and the whole append with it) unless the stream's
    #: current version lies within ``:min_head`` .. ``:max_head`` and, when ``:head_position``
    #: is not NULL, the stream's newest event is the one at that position: that is the
    #: expected-version guard, evaluated in the same statement that writes, so no other writer
    #: can slip between the check and the insert. Positions are never reused, so the position
    #: tells a stream deleted and appended again up to the same version from the one a caller
    #: read. For ``executemany``.
    append = """INSERT INTO events
    (stream_id, version, event_id, type, schema_version, data, metadata, recorded_at)
VALUES (
    :stream_id,
    (SELECT CASE WHEN COALESCE(head.version, 0) BETWEEN :min_head AND :max_head
                 AND (CAST(:head_position AS BIGINT) IS NULL
                      OR head.position = CAST(:head_position AS BIGINT))
            THEN COALESCE(head.version, 0) + 1 END
        FROM (SELECT 1 AS one) AS anchor
        LEFT JOIN (SELECT version, position FROM events WHERE stream_id = :stream_id
                   ORDER BY version DESC LIMIT 1) AS head ON anchor.one = 1),
    :event_id, :type, :schema_version, :data, :metadata, :recorded_at)"""

    #: :attr:`append`, handing back the new event's position and version.
    append_returning = f"""{append}
RETURNING position, version"""

    #: The positions and versions of the stream's newest ``:count`` events, newest first. Read
    #: in an append's own transaction, right after its inserts, these are the appended events:
    #: a later version needs this transaction's rows, which no other transaction can see yet.
    appended = """SELECT position, version FROM events
WHERE stream_id = :stream_id ORDER BY version DESC LIMIT :count"""

    #: The stream's current version (0 when it holds no event).
    current_version = """SELECT COALESCE(MAX(version), 0) AS version FROM events
WHERE stream_id = :stream_id"""

    #: A stream's events from ``:from_version`` to ``:to_version``, in order.
    read_stream = f"""SELECT {_EVENT_COLUMNS} FROM events
WHERE stream_id = :stream_id AND version >= :from_version AND version <= :to_version
ORDER BY version"""

    #: Every stream's events after ``:after``, in position (commit) order.
    read_all = f"""SELECT {_EVENT_COLUMNS} FROM events
WHERE position > :after ORDER BY position LIMIT :limit"""

    delete_events = "DELETE FROM events WHERE stream_id = :stream_id"

    delete_snapshot = "DELETE FROM snapshots WHERE stream_id = :stream_id"

    #: Write a stream's snapshot; an older one than the stored one changes nothing.
    save_snapshot = """INSERT INTO snapshots
    (stream_id, version, schema_version, state, recorded_at)
VALUES (:stream_id, :version, :schema_version, :state, :recorded_at)
ON CONFLICT (stream_id) DO UPDATE SET
    version = excluded.version,
    schema_version = excluded.schema_version,
    state = excluded.state,
    recorded_at = excluded.recorded_at
WHERE excluded.version >= snapshots.version"""

    load_snapshot = """SELECT stream_id, version, schema_version, state, recorded_at
FROM snapshots WHERE stream_id = :stream_id"""

    #: A stream from its snapshot of state schema ``:schema_version`` on, in one statement (so
    #: one consistent view: a stream deleted and written again in between cannot pair an old
    #: snapshot with new events): the events from the snapshot's version on (from version 1
    #: without such a snapshot), the stored snapshot's schema version, state and time on the
    #: row of the event it was taken at (NULL on the others). The bound is one uncorrelated
    #: lookup, so the read starts at the snapshot's version in the ``(stream_id, version)``
    #: index.
    read_from_snapshot = f"""SELECT {_EVENT_COLUMNS_OF_E},
    s.schema_version AS snapshot_schema_version, CAST(s.state AS TEXT) AS snapshot_state,
    s.recorded_at AS snapshot_recorded_at
FROM events AS e
LEFT JOIN snapshots AS s ON s.stream_id = e.stream_id AND s.version = e.version
WHERE e.stream_id = :stream_id
    AND e.version >= COALESCE((SELECT version FROM snapshots
        WHERE stream_id = :stream_id AND schema_version = :schema_version), 1)
ORDER BY e.version"""

    @staticmethod
    @lru_cache(maxsize=64)
    def read_all_of_types(count: int) -> str:
        """``read_all`` restricted to ``count`` event types, given as ``:type_0`` ..."""
        return f"""SELECT {_EVENT_COLUMNS} FROM events
WHERE position > :after AND type IN ({_type_params(count)}) ORDER BY position LIMIT :limit"""

    @staticmethod
    @lru_cache(maxsize=64)
    def read_page(count: int | None) -> str:
        """``read_all`` (kept to ``count`` event types, given as ``:type_0`` ...; None: every
        type) with each row followed by ``head``, the newest position the same statement sees
        (0 for an empty log). One statement, so one view of both: with no event to keep it
        returns one row of NULL event columns and the head."""
        kept = "" if count is None else f" AND type IN ({_type_params(count)})"
        return f"""SELECT {_PAGE_COLUMNS}, head.position AS head
FROM (SELECT COALESCE(MAX(position), 0) AS position FROM events) AS head
LEFT JOIN (SELECT {_EVENT_COLUMNS} FROM events
    WHERE position > :after{kept} ORDER BY position LIMIT :limit) AS page ON 1 = 1
ORDER BY page.position"""

    @staticmethod
    @lru_cache(maxsize=64)
    def by_event_ids(count: int) -> str:
        """The stored events with ``count`` given ids (``:id_0`` ...), in position order."""
        names = ", ".join(f":id_{index}" for index in range(count))
        return f"""SELECT {_EVENT_COLUMNS} FROM events
WHERE event_id IN ({names}) ORDER BY position"""


__all__ = ["EVENT_FIELDS", "NO_UPPER_BOUND", "SNAPSHOT_ON_EVENT_FIELDS", "EventQueries"]
