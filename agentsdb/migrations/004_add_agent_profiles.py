"""Agent identity and lifecycle columns, persona bio history and profile counters.

The new agent columns are added with ALTER TABLE; ``archived_at`` carries a named CHECK that it is
set exactly when the status is 'archived'. An owner's deletion leaves the agent ownerless; an
agent's deletion removes its bios and counters.

Going down on SQLite has to rebuild ``agents`` (it cannot drop a column that has a foreign key),
so the migration runs with foreign keys switched off and the engine checks them before it
commits. PostgreSQL drops the columns (with their indexes and constraints) instead; there
``foreign_keys=False`` changes nothing.
"""

from agentsdb.migration import Migration

_SQLITE_UP = [
    """
        ALTER TABLE agents ADD COLUMN handle TEXT CONSTRAINT agents_handle_format
            CHECK (handle IS NULL OR (length(handle) BETWEEN 1 AND 253 AND handle = lower(handle)))
        """,
    "ALTER TABLE agents ADD COLUMN display_name TEXT",
    """
        ALTER TABLE agents ADD COLUMN persona_source TEXT NOT NULL DEFAULT 'user_generated'
            CONSTRAINT agents_persona_source_valid
            CHECK (persona_source IN ('user_generated', 'sync_bluesky'))
        """,
    """
        ALTER TABLE agents ADD COLUMN owner_user_id TEXT
            REFERENCES users (id) ON DELETE SET NULL
        """,
    """
        ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
            CONSTRAINT agents_status_valid CHECK (status IN ('active', 'archived'))
        """,
    """
        ALTER TABLE agents ADD COLUMN archived_at TEXT CONSTRAINT agents_archived_at_matches_status
            CHECK ((archived_at IS NOT NULL) = (status = 'archived'))
        """,
    "ALTER TABLE agents ADD COLUMN archive_reason TEXT",
    "CREATE UNIQUE INDEX agents_handle ON agents (handle)",
    "CREATE INDEX agents_owner_user_id ON agents (owner_user_id)",
    "CREATE INDEX agents_status_id ON agents (status, id)",
    """
        CREATE TABLE agent_persona_bios (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
            persona_bio TEXT NOT NULL CHECK (length(persona_bio) > 0),
            persona_bio_source TEXT NOT NULL CONSTRAINT agent_persona_bios_source_valid
                CHECK (persona_bio_source IN ('ai_generated', 'user_provided')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    # The id breaks ties between bios with the same created_at: the later insert wins.
    """
        CREATE INDEX agent_persona_bios_latest
            ON agent_persona_bios (agent_id, created_at DESC, id DESC)
        """,
    """
        CREATE TABLE user_agent_profile_metadata (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id TEXT NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE,
            followers_count INTEGER NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
            follows_count INTEGER NOT NULL DEFAULT 0 CHECK (follows_count >= 0),
            posts_count INTEGER NOT NULL DEFAULT 0 CHECK (posts_count >= 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
]

_SQLITE_DOWN = [
    "DROP TABLE user_agent_profile_metadata",
    "DROP TABLE agent_persona_bios",
    # The agents table exactly as 001 made it, then the rows, then the swap.
    """
        CREATE TABLE agents_before_004 (
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
    """
        INSERT INTO agents_before_004 (
            id, type, name, description, avatar, instructions, model, plan_model, small_model,
            built_in_tools, mcps, knowledges, configuration, accessible_paths, permission_mode,
            max_steps, created_at, updated_at
        )
        SELECT
            id, type, name, description, avatar, instructions, model, plan_model, small_model,
            built_in_tools, mcps, knowledges, configuration, accessible_paths, permission_mode,
            max_steps, created_at, updated_at
        FROM agents
        """,
    "DROP TABLE agents",
    "ALTER TABLE agents_before_004 RENAME TO agents",
    "CREATE INDEX agents_name ON agents (name)",
    "CREATE INDEX agents_type ON agents (type)",
]

_POSTGRESQL_UP = [
    """
    ALTER TABLE agents ADD COLUMN handle TEXT CONSTRAINT agents_handle_format
        CHECK (handle IS NULL OR (length(handle) BETWEEN 1 AND 253 AND handle = lower(handle)))
    """,
    "ALTER TABLE agents ADD COLUMN display_name TEXT",
    """
    ALTER TABLE agents ADD COLUMN persona_source TEXT NOT NULL DEFAULT 'user_generated'
        CONSTRAINT agents_persona_source_valid
        CHECK (persona_source IN ('user_generated', 'sync_bluesky'))
    """,
    """
    ALTER TABLE agents ADD COLUMN owner_user_id TEXT COLLATE "C"
        REFERENCES users (id) ON DELETE SET NULL
    """,
    """
    ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
        CONSTRAINT agents_status_valid CHECK (status IN ('active', 'archived'))
    """,
    # A CHECK over two columns is a table constraint on PostgreSQL.
    """
    ALTER TABLE agents ADD COLUMN archived_at TEXT COLLATE "C",
        ADD CONSTRAINT agents_archived_at_matches_status
        CHECK ((archived_at IS NOT NULL) = (status = 'archived'))
    """,
    "ALTER TABLE agents ADD COLUMN archive_reason TEXT",
    "CREATE UNIQUE INDEX agents_handle ON agents (handle)",
    "CREATE INDEX agents_owner_user_id ON agents (owner_user_id)",
    "CREATE INDEX agents_status_id ON agents (status, id)",
    """
    CREATE TABLE agent_persona_bios (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        persona_bio TEXT NOT NULL CHECK (length(persona_bio) > 0),
        persona_bio_source TEXT NOT NULL CONSTRAINT agent_persona_bios_source_valid
            CHECK (persona_bio_source IN ('ai_generated', 'user_provided')),
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    )
    """,
    """
    CREATE INDEX agent_persona_bios_latest
        ON agent_persona_bios (agent_id, created_at DESC, id DESC)
    """,
    """
    CREATE TABLE user_agent_profile_metadata (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        agent_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE,
        followers_count BIGINT NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
        follows_count BIGINT NOT NULL DEFAULT 0 CHECK (follows_count >= 0),
        posts_count BIGINT NOT NULL DEFAULT 0 CHECK (posts_count >= 0),
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    )
    """,
]

_POSTGRESQL_DOWN = [
    "DROP TABLE user_agent_profile_metadata",
    "DROP TABLE agent_persona_bios",
    # Dropping a column drops its indexes and constraints too.
    """
    ALTER TABLE agents
        DROP COLUMN archive_reason,
        DROP COLUMN archived_at,
        DROP COLUMN status,
        DROP COLUMN owner_user_id,
        DROP COLUMN persona_source,
        DROP COLUMN display_name,
        DROP COLUMN handle
    """,
]

migration = Migration(
    id="004",
    description="add agent profiles",
    created_at="2026-11-22",
    foreign_keys=False,
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
