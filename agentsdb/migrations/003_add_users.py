"""Users: the people agents talk to. ``email`` is unique and stored in lower case."""

from agentsdb.migration import Migration

_SQLITE_UP = [
    """
        CREATE TABLE users (
            id TEXT PRIMARY KEY CHECK (length(id) > 0),
            email TEXT CONSTRAINT users_email_format
                CHECK (email IS NULL OR (email = lower(email) AND email LIKE '%_@_%')),
            phone_number TEXT,
            user_data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(user_data)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    "CREATE UNIQUE INDEX users_email ON users (email)",
]

_SQLITE_DOWN = [
    "DROP TABLE users",
]

_POSTGRESQL_UP = [
    """
    CREATE TABLE users (
        id TEXT COLLATE "C" PRIMARY KEY CHECK (length(id) > 0),
        email TEXT CONSTRAINT users_email_format
            CHECK (email IS NULL OR (email = lower(email) AND email LIKE '%_@_%')),
        phone_number TEXT,
        user_data JSONB NOT NULL DEFAULT '{}',
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX users_email ON users (email)",
]

_POSTGRESQL_DOWN = [
    "DROP TABLE users",
]

migration = Migration(
    id="003",
    description="add users",
    created_at="2026-11-22",
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
