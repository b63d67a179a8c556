"""Conversations and their messages.

A message is stored once per (conversation, content hash): appending the same message again is
a no-op. Message ids increase with every append, so a conversation pages by id. Deleting the
agent or the user removes the conversation and its messages; deleting the agent a message came
from keeps the message.
"""

from agentsdb.migration import Migration

migration = Migration(
    id="007",
    description="add conversations",
    created_at="2026-11-22",
    up=[
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY CHECK (length(id) > 0),
            agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
            user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
            title TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX conversations_agent_id_id ON conversations (agent_id, id)",
        "CREATE INDEX conversations_user_id_id ON conversations (user_id, id)",
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            from_agent_id TEXT REFERENCES agents (id) ON DELETE SET NULL,
            role TEXT NOT NULL CONSTRAINT messages_role_valid
                CHECK (role IN ('user', 'assistant', 'system', 'tool')),
            content TEXT NOT NULL,
            content_hash TEXT NOT NULL CHECK (length(content_hash) > 0),
            tool_calls TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tool_calls)),
            created_at TEXT NOT NULL,
            CONSTRAINT messages_conversation_content_hash UNIQUE (conversation_id, content_hash)
        )
        """,
        "CREATE INDEX messages_conversation_id_id ON messages (conversation_id, id)",
        "CREATE INDEX messages_from_agent_id_id ON messages (from_agent_id, id)",
    ],
    down=[
        "DROP TABLE messages",
        "DROP TABLE conversations",
    ],
)
