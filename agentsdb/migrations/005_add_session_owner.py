"""Sessions get a user, a platform and a finish time, and keyset indexes for their listings.

A user's deletion removes their sessions (and so their logs). The listing indexes end in ``id``
so a page "after this id" is one index range; they replace 002's single-column indexes.

Going down on SQLite rebuilds ``sessions`` (it cannot drop a column that has a foreign key),
with foreign keys switched off and checked by the engine before it commits. PostgreSQL drops the
columns instead; there ``foreign_keys=False`` changes nothing.
"""

from agentsdb.migration import Migration

_SQLITE_UP = [
    "ALTER TABLE sessions ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE CASCADE",
    """
        ALTER TABLE sessions ADD COLUMN platform TEXT
            CHECK (platform IS NULL OR length(platform) > 0)
        """,
    "ALTER TABLE sessions ADD COLUMN finished_at TEXT",
    "DROP INDEX sessions_main_agent_id",
    "DROP INDEX sessions_status",
    "CREATE INDEX sessions_main_agent_id_id ON sessions (main_agent_id, id)",
    "CREATE INDEX sessions_status_id ON sessions (status, id)",
    "CREATE INDEX sessions_user_id_id ON sessions (user_id, id)",
]

_SQLITE_DOWN = [
    """
        CREATE TABLE sessions_before_005 (
            id TEXT PRIMARY KEY,
            name TEXT,
            main_agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
            sub_agent_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sub_agent_ids)),
            user_goal TEXT,
            status TEXT NOT NULL DEFAULT 'idle'
                CHECK (status IN ('idle', 'running', 'completed', 'failed', 'stopped')),
            external_session_id TEXT,
            instructions TEXT,
            model TEXT,
            plan_model TEXT,
            small_model TEXT,
            built_in_tools TEXT CHECK (built_in_tools IS NULL OR json_valid(built_in_tools)),
            mcps TEXT CHECK (mcps IS NULL OR json_valid(mcps)),
            knowledges TEXT CHECK (knowledges IS NULL OR json_valid(knowledges)),
            configuration TEXT CHECK (configuration IS NULL OR json_valid(configuration)),
            accessible_paths TEXT CHECK (accessible_paths IS NULL OR json_valid(accessible_paths)),
            permission_mode TEXT CHECK (
                permission_mode IS NULL
                OR permission_mode IN ('default', 'acceptEdits', 'bypassPermissions', 'plan')
            ),
            max_steps INTEGER CHECK (max_steps IS NULL OR max_steps >= 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    """
        INSERT INTO sessions_before_005 (
            id, name, main_agent_id, sub_agent_ids, user_goal, status, external_session_id,
            instructions, model, plan_model, small_model, built_in_tools, mcps, knowledges,
            configuration, accessible_paths, permission_mode, max_steps, created_at, updated_at
        )
        SELECT
            id, name, main_agent_id, sub_agent_ids, user_goal, status, external_session_id,
            instructions, model, plan_model, small_model, built_in_tools, mcps, knowledges,
            configuration, accessible_paths, permission_mode, max_steps, created_at, updated_at
        FROM sessions
        """,
    "DROP TABLE sessions",
    "ALTER TABLE sessions_before_005 RENAME TO sessions",
    "CREATE INDEX sessions_main_agent_id ON sessions (main_agent_id)",
    "CREATE INDEX sessions_status ON sessions (status)",
    "CREATE INDEX sessions_external_session_id ON sessions (external_session_id)",
]

_POSTGRESQL_UP = [
    """
    ALTER TABLE sessions ADD COLUMN user_id TEXT COLLATE "C"
        REFERENCES users (id) ON DELETE CASCADE
    """,
    """
    ALTER TABLE sessions ADD COLUMN platform TEXT
        CHECK (platform IS NULL OR length(platform) > 0)
    """,
    'ALTER TABLE sessions ADD COLUMN finished_at TEXT COLLATE "C"',
    "DROP INDEX sessions_main_agent_id",
    "DROP INDEX sessions_status",
    "CREATE INDEX sessions_main_agent_id_id ON sessions (main_agent_id, id)",
    "CREATE INDEX sessions_status_id ON sessions (status, id)",
    "CREATE INDEX sessions_user_id_id ON sessions (user_id, id)",
]

_POSTGRESQL_DOWN = [
    # Dropping user_id drops sessions_user_id_id with it.
    "ALTER TABLE sessions DROP COLUMN finished_at, DROP COLUMN platform, DROP COLUMN user_id",
    "DROP INDEX sessions_main_agent_id_id",
    "DROP INDEX sessions_status_id",
    "CREATE INDEX sessions_main_agent_id ON sessions (main_agent_id)",
    "CREATE INDEX sessions_status ON sessions (status)",
]

migration = Migration(
    id="005",
    description="add session owner",
    created_at="2026-11-22",
    foreign_keys=False,
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
