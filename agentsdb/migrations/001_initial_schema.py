"""The agents table: identity, model choices and the default configuration sessions inherit."""

from agentsdb.migration import Migration

_SQLITE_UP = [
    """
        CREATE TABLE agents (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL DEFAULT 'custom' CHECK (length(type) > 0),
            name TEXT NOT NULL CHECK (length(name) > 0),
            description TEXT,
            avatar TEXT,
            instructions TEXT,
            model TEXT NOT NULL CHECK (length(model) > 0),
            plan_model TEXT,
            small_model TEXT,
            built_in_tools TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(built_in_tools)),
            mcps TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(mcps)),
            knowledges TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(knowledges)),
            configuration TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(configuration)),
            accessible_paths TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(accessible_paths)),
            permission_mode TEXT NOT NULL DEFAULT 'default'
                CHECK (permission_mode IN ('default', 'acceptEdits', 'bypassPermissions', 'plan')),
            max_steps INTEGER NOT NULL DEFAULT 10 CHECK (max_steps >= 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    "CREATE INDEX agents_name ON agents (name)",
    "CREATE INDEX agents_type ON agents (type)",
]

_SQLITE_DOWN = [
    "DROP TABLE agents",
]

_POSTGRESQL_UP = [
    """
    CREATE TABLE agents (
        id TEXT COLLATE "C" PRIMARY KEY,
        type TEXT NOT NULL DEFAULT 'custom' CHECK (length(type) > 0),
        name TEXT NOT NULL CHECK (length(name) > 0),
        description TEXT,
        avatar TEXT,
        instructions TEXT,
        model TEXT NOT NULL CHECK (length(model) > 0),
        plan_model TEXT,
        small_model TEXT,
        built_in_tools JSONB NOT NULL DEFAULT '[]',
        mcps JSONB NOT NULL DEFAULT '[]',
        knowledges JSONB NOT NULL DEFAULT '[]',
        configuration JSONB NOT NULL DEFAULT '{}',
        accessible_paths JSONB NOT NULL DEFAULT '[]',
        permission_mode TEXT NOT NULL DEFAULT 'default'
            CHECK (permission_mode IN ('default', 'acceptEdits', 'bypassPermissions', 'plan')),
        max_steps INTEGER NOT NULL DEFAULT 10 CHECK (max_steps >= 0),
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    )
    """,
    "CREATE INDEX agents_name ON agents (name)",
    "CREATE INDEX agents_type ON agents (type)",
]

_POSTGRESQL_DOWN = [
    "DROP TABLE agents",
]

migration = Migration(
    id="001",
    description="initial schema",
    created_at="2026-11-22",
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
