"""Memories: named facts an agent keeps, for everyone or for one user.

A name is unique per (agent, user), and memories without a user share one scope: the unique
index is on ``COALESCE(user_id, '')`` (an empty user id cannot exist, see the CHECK), which
PostgreSQL accepts unchanged. Deleting the agent or the user removes the memory; deleting the
session it was learned in keeps it.
"""

from agentsdb.migration import Migration

_SQLITE_UP = [
    """
        CREATE TABLE memories (
            id TEXT PRIMARY KEY CHECK (length(id) > 0),
            name TEXT NOT NULL CHECK (length(name) > 0),
            content TEXT NOT NULL,
            description TEXT,
            agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
            user_id TEXT REFERENCES users (id) ON DELETE CASCADE
                CHECK (user_id IS NULL OR length(user_id) > 0),
            session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
            read_mode TEXT NOT NULL DEFAULT 'system_prompt' CONSTRAINT memories_read_mode_valid
                CHECK (read_mode IN ('system_prompt', 'tool')),
            access TEXT NOT NULL DEFAULT 'read' CONSTRAINT memories_access_valid
                CHECK (access IN ('read', 'write')),
            metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    """
        CREATE UNIQUE INDEX memories_name_agent_user
            ON memories (name, agent_id, (COALESCE(user_id, '')))
        """,
    "CREATE INDEX memories_agent_id_id ON memories (agent_id, id)",
    "CREATE INDEX memories_user_id_id ON memories (user_id, id)",
    "CREATE INDEX memories_session_id ON memories (session_id)",
]

_SQLITE_DOWN = [
    "DROP TABLE memories",
]

_POSTGRESQL_UP = [
    """
    CREATE TABLE memories (
        id TEXT COLLATE "C" PRIMARY KEY CHECK (length(id) > 0),
        name TEXT NOT NULL CHECK (length(name) > 0),
        content TEXT NOT NULL,
        description TEXT,
        agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE
            CHECK (user_id IS NULL OR length(user_id) > 0),
        session_id TEXT COLLATE "C" REFERENCES sessions (id) ON DELETE SET NULL,
        read_mode TEXT NOT NULL DEFAULT 'system_prompt' CONSTRAINT memories_read_mode_valid
            CHECK (read_mode IN ('system_prompt', 'tool')),
        access TEXT NOT NULL DEFAULT 'read' CONSTRAINT memories_access_valid
            CHECK (access IN ('read', 'write')),
        metadata JSONB NOT NULL DEFAULT '{}',
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    )
    """,
    """
    CREATE UNIQUE INDEX memories_name_agent_user
        ON memories (name, agent_id, (COALESCE(user_id, '')))
    """,
    "CREATE INDEX memories_agent_id_id ON memories (agent_id, id)",
    "CREATE INDEX memories_user_id_id ON memories (user_id, id)",
    "CREATE INDEX memories_session_id ON memories (session_id)",
]

_POSTGRESQL_DOWN = [
    "DROP TABLE memories",
]

migration = Migration(
    id="006",
    description="add memories",
    created_at="2026-11-22",
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
