"""Agent-scoped conversations: agents remember the legacy persona they replace, conversations and
messages keep a ``persona_id`` beside their agent columns for the dual-write window, and legacy
memory vectors move into ``embeddings``.

``agents.persona_id`` is unique (one agent per persona). An embedding whose conversation is gone
keeps its agent and loses the conversation. ``source`` says where a vector came from: 'legacy'
marks one whose conversation was unknown when it was moved. Migration 010 (not applied by default)
drops the persona columns of conversations and messages after cutover.
"""

from agentsdb.migration import Migration

_COMMON = [
    """
    ALTER TABLE agents ADD COLUMN persona_id TEXT CONSTRAINT agents_persona_id_not_empty
        CHECK (persona_id IS NULL OR length(persona_id) > 0)
    """,
    "ALTER TABLE agents ADD COLUMN memory_root_id TEXT",
    "CREATE UNIQUE INDEX agents_persona_id ON agents (persona_id)",
    "ALTER TABLE conversations ADD COLUMN persona_id TEXT",
    "CREATE INDEX conversations_persona_id_id ON conversations (persona_id, id)",
    "ALTER TABLE messages ADD COLUMN persona_id TEXT",
]

_EMBEDDINGS = """
    CREATE TABLE embeddings (
        id TEXT PRIMARY KEY CHECK (length(id) > 0),
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
        content TEXT NOT NULL,
        content_hash TEXT NOT NULL CHECK (length(content_hash) > 0),
        embedding {blob},
        source TEXT NOT NULL DEFAULT 'agentsdb' CONSTRAINT embeddings_source_valid
            CHECK (source IN ('agentsdb', 'legacy')),
        created_at TEXT NOT NULL
    )
"""

_INDEXES = [
    "CREATE INDEX embeddings_conversation_id_id ON embeddings (conversation_id, id)",
    "CREATE INDEX embeddings_agent_id_id ON embeddings (agent_id, id)",
]

migration = Migration(
    id="009",
    description="add agent scope",
    created_at="2026-11-22",
    up={
        "sqlite": [*_COMMON, _EMBEDDINGS.format(blob="BLOB"), *_INDEXES],
        "postgresql": [*_COMMON, _EMBEDDINGS.format(blob="BYTEA"), *_INDEXES],
    },
    down={
        "sqlite": [
            "DROP TABLE embeddings",
            "DROP INDEX conversations_persona_id_id",
            "ALTER TABLE messages DROP COLUMN persona_id",
            "ALTER TABLE conversations DROP COLUMN persona_id",
            "DROP INDEX agents_persona_id",
            "ALTER TABLE agents DROP COLUMN memory_root_id",
            "ALTER TABLE agents DROP COLUMN persona_id",
        ],
        "postgresql": [
            "DROP TABLE embeddings",
            "DROP INDEX conversations_persona_id_id",
            "ALTER TABLE messages DROP COLUMN persona_id",
            "ALTER TABLE conversations DROP COLUMN persona_id",
            "DROP INDEX agents_persona_id",
            "ALTER TABLE agents DROP COLUMN memory_root_id",
            "ALTER TABLE agents DROP COLUMN persona_id",
        ],
    },
)
