"""Messages keep every turn: an optional idempotency key replaces deduplication by content.

Until now a conversation held each content hash once (``UNIQUE (conversation_id,
content_hash)``, migration 007), so a second "yes" was silently dropped. This migration removes
that constraint and adds ``client_message_id``: a key the caller chooses (a client message id;
the legacy message id in the ``agent-scope`` backfill), unique within a conversation where it is
not NULL. A message without a key never collides with another. ``content_hash`` stays, with an
index on (conversation_id, content_hash) for lookups.

Rows already stored keep their ids, content and hashes and get no key (NULL). They were stored
once per content hash; from now on a message appended without a key is stored even when an
earlier row says the same.

On SQLite a table constraint cannot be dropped, so ``messages`` is rebuilt (create the new
table, copy the rows with their ids, keep the AUTOINCREMENT counter so a deleted id is never
reused, drop, rename, recreate the indexes) with foreign keys switched off and checked by the
engine before it commits. The rebuilt table has the columns of migration 009, ``persona_id``
included, so on a SQLite database where the cutover migration 010 is applied this migration
fails on the missing column and changes nothing: roll 010 back, apply 014, then apply 010
again. A rebuild drops the table's triggers; any a migration before this one puts on
``messages`` must be recreated here. PostgreSQL drops the constraint and adds the column in
place.

Going down restores the unique content hash, so it fails (and changes nothing) while a
conversation holds two messages with one content hash: delete or rewrite those first. The keys
are dropped with their column.
"""

from agentsdb.migration import Migration

_SQLITE_COLUMNS = """
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            from_agent_id TEXT REFERENCES agents (id) ON DELETE SET NULL,
            role TEXT NOT NULL CONSTRAINT messages_role_valid
                CHECK (role IN ('user', 'assistant', 'system', 'tool')),
            content TEXT NOT NULL,
            content_hash TEXT NOT NULL CHECK (length(content_hash) > 0),
            tool_calls TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tool_calls)),
            created_at TEXT NOT NULL,
            persona_id TEXT"""

_COPIED = (
    "id, conversation_id, from_agent_id, role, content, content_hash, tool_calls, created_at,"
    " persona_id"
)


def _swap(new_table: str) -> list[str]:
    """Copy the rows into ``new_table`` with their ids and the AUTOINCREMENT counter (so an id
    deleted before the rebuild is never handed out again), then put it in place of messages."""
    return [
        f"INSERT INTO {new_table} ({_COPIED}) SELECT {_COPIED} FROM messages",
        f"DELETE FROM sqlite_sequence WHERE name = '{new_table}'",
        f"""
        INSERT INTO sqlite_sequence (name, seq)
        SELECT '{new_table}', seq FROM sqlite_sequence WHERE name = 'messages'
        """,
        "DROP TABLE messages",
        f"ALTER TABLE {new_table} RENAME TO messages",
        "CREATE INDEX messages_conversation_id_id ON messages (conversation_id, id)",
        "CREATE INDEX messages_from_agent_id_id ON messages (from_agent_id, id)",
    ]


_KEY_CHECK = (
    "CONSTRAINT messages_client_message_id_not_empty"
    " CHECK (client_message_id IS NULL OR length(client_message_id) > 0)"
)

_INDEXES = [
    # NULLs are distinct in a unique index on both engines: messages without a key never collide.
    """
    CREATE UNIQUE INDEX messages_conversation_id_client_message_id
        ON messages (conversation_id, client_message_id)
    """,
    """
    CREATE INDEX messages_conversation_id_content_hash
        ON messages (conversation_id, content_hash)
    """,
]

# A table rebuild drops the table's triggers: 013's full-text triggers on messages are created
# again after it, in the up and in the down (a migration never imports another's statements).
_SEARCH_TRIGGERS = [
    """
    CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_search_update AFTER UPDATE OF id, content ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
    END
    """,
]

_SQLITE_UP = [
    f"""
        CREATE TABLE messages_after_014 ({_SQLITE_COLUMNS},
            client_message_id TEXT {_KEY_CHECK}
        )
        """,
    *_swap("messages_after_014"),
    *_INDEXES,
    *_SEARCH_TRIGGERS,
]

_SQLITE_DOWN = [
    f"""
        CREATE TABLE messages_before_014 ({_SQLITE_COLUMNS},
            CONSTRAINT messages_conversation_content_hash UNIQUE (conversation_id, content_hash)
        )
        """,
    *_swap("messages_before_014"),
    *_SEARCH_TRIGGERS,
]

_POSTGRESQL_UP = [
    "ALTER TABLE messages DROP CONSTRAINT messages_conversation_content_hash",
    f'ALTER TABLE messages ADD COLUMN client_message_id TEXT COLLATE "C" {_KEY_CHECK}',
    *_INDEXES,
]

_POSTGRESQL_DOWN = [
    "DROP INDEX messages_conversation_id_content_hash",
    # Dropping the column drops its unique index and its CHECK.
    "ALTER TABLE messages DROP COLUMN client_message_id",
    """
    ALTER TABLE messages ADD CONSTRAINT messages_conversation_content_hash
        UNIQUE (conversation_id, content_hash)
    """,
]

migration = Migration(
    id="014",
    description="add message keys",
    created_at="2026-12-02",
    foreign_keys=False,
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
