"""Sessions (one agent's run, with nullable configuration overrides) and their log tree.

A NULL override column means "inherit the agent's value", so the columns have no defaults.
Log entries form a tree per session: the composite foreign key (parent_id, session_id) makes a
parent from another session impossible.
"""

from agentsdb.migration import Migration

migration = Migration(
    id="002",
    description="add session tables",
    created_at="2026-11-22",
    up=[
        """
        CREATE TABLE sessions (
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
        "CREATE INDEX sessions_main_agent_id ON sessions (main_agent_id)",
        "CREATE INDEX sessions_status ON sessions (status)",
        "CREATE INDEX sessions_external_session_id ON sessions (external_session_id)",
        """
        CREATE TABLE session_logs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            parent_id INTEGER,
            role TEXT NOT NULL CHECK (role IN ('user', 'agent', 'system', 'tool')),
            type TEXT NOT NULL CHECK (type IN ('message', 'thought', 'action', 'observation')),
            content TEXT NOT NULL CHECK (json_valid(content)),
            metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (id, session_id),
            FOREIGN KEY (parent_id, session_id)
                REFERENCES session_logs (id, session_id) ON DELETE CASCADE
        )
        """,
        "CREATE INDEX session_logs_session_id ON session_logs (session_id, id)",
        "CREATE INDEX session_logs_parent_id ON session_logs (parent_id)",
    ],
    down=[
        "DROP TABLE session_logs",
        "DROP TABLE sessions",
    ],
)
