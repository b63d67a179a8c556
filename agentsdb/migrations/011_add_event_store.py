"""The event store: ``events``, one row per event of every stream, and ``snapshots``.

``events.position`` is global and never reused, even after a stream is deleted (AUTOINCREMENT on
SQLite, an identity that only the database assigns on PostgreSQL). ``version`` counts a stream's
events from 1 without gaps; ``UNIQUE (stream_id, version)`` is what makes optimistic concurrency
safe. ``event_id`` is unique across streams (a retried append is recognised by it).

JSON columns (``data``, ``metadata``, ``state``) are PostgreSQL ``json``, not ``jsonb``: an event
is written once and read whole, so the text is kept as written (key order and all) and is read
back as fast as ``jsonb``; ``jsonb`` would also refuse ``\\u0000`` that SQLite stores.
"""

from agentsdb.migration import Migration

_SQLITE_UP = [
    """
    CREATE TABLE events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL CONSTRAINT events_stream_id_not_empty
            CHECK (length(stream_id) > 0),
        version INTEGER NOT NULL CONSTRAINT events_version_positive CHECK (version >= 1),
        event_id TEXT NOT NULL CONSTRAINT events_event_id_not_empty CHECK (length(event_id) > 0),
        type TEXT NOT NULL CONSTRAINT events_type_not_empty CHECK (length(type) > 0),
        schema_version INTEGER NOT NULL CONSTRAINT events_schema_version_positive
            CHECK (schema_version >= 1),
        data TEXT NOT NULL CHECK (json_valid(data)),
        metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        recorded_at TEXT NOT NULL,
        CONSTRAINT events_stream_version UNIQUE (stream_id, version),
        CONSTRAINT events_event_id UNIQUE (event_id)
    )
    """,
    "CREATE INDEX events_type_position ON events (type, position)",
    """
    CREATE TABLE snapshots (
        stream_id TEXT PRIMARY KEY CONSTRAINT snapshots_stream_id_not_empty
            CHECK (length(stream_id) > 0),
        version INTEGER NOT NULL CONSTRAINT snapshots_version_positive CHECK (version >= 1),
        schema_version INTEGER NOT NULL CONSTRAINT snapshots_schema_version_positive
            CHECK (schema_version >= 1),
        state TEXT NOT NULL CHECK (json_valid(state)),
        recorded_at TEXT NOT NULL
    )
    """,
]

_POSTGRESQL_UP = [
    """
    CREATE TABLE events (
        position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream_id TEXT COLLATE "C" NOT NULL CONSTRAINT events_stream_id_not_empty
            CHECK (length(stream_id) > 0),
        version BIGINT NOT NULL CONSTRAINT events_version_positive CHECK (version >= 1),
        event_id TEXT COLLATE "C" NOT NULL CONSTRAINT events_event_id_not_empty
            CHECK (length(event_id) > 0),
        type TEXT COLLATE "C" NOT NULL CONSTRAINT events_type_not_empty CHECK (length(type) > 0),
        schema_version INTEGER NOT NULL CONSTRAINT events_schema_version_positive
            CHECK (schema_version >= 1),
        data JSON NOT NULL,
        metadata JSON NOT NULL DEFAULT '{}',
        recorded_at TEXT COLLATE "C" NOT NULL,
        CONSTRAINT events_stream_version UNIQUE (stream_id, version),
        CONSTRAINT events_event_id UNIQUE (event_id)
    )
    """,
    "CREATE INDEX events_type_position ON events (type, position)",
    """
    CREATE TABLE snapshots (
        stream_id TEXT COLLATE "C" PRIMARY KEY CONSTRAINT snapshots_stream_id_not_empty
            CHECK (length(stream_id) > 0),
        version BIGINT NOT NULL CONSTRAINT snapshots_version_positive CHECK (version >= 1),
        schema_version INTEGER NOT NULL CONSTRAINT snapshots_schema_version_positive
            CHECK (schema_version >= 1),
        state JSON NOT NULL,
        recorded_at TEXT COLLATE "C" NOT NULL
    )
    """,
]

_DOWN = ["DROP TABLE snapshots", "DROP INDEX events_type_position", "DROP TABLE events"]

migration = Migration(
    id="011",
    description="add event store",
    created_at="2026-12-02",
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _DOWN, "postgresql": _DOWN},
)
