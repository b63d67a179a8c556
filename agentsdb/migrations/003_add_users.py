"""Users: the people agents talk to. ``email`` is unique and stored in lower case."""

from agentsdb.migration import Migration

migration = Migration(
    id="003",
    description="add users",
    created_at="2026-11-22",
    up=[
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
    ],
    down=[
        "DROP TABLE users",
    ],
)
