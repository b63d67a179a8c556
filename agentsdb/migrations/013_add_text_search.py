"""Full-text search over memories and messages, with each engine's own text search.

**SQLite and libSQL** (FTS5, compiled into Python's sqlite3 and into sqld): ``memories_fts``
indexes a memory's name, description and content; ``messages_fts`` a message's content.
Triggers keep both in step with every insert, update and delete (cascaded deletes included), and
the rows that exist when this migration runs are indexed by it.

* ``messages_fts`` is an external-content table over ``messages`` keyed by ``messages.id``, an
  INTEGER PRIMARY KEY that never changes.
* ``memories`` has a text key, and its hidden rowid may change (VACUUM, a table rebuild), so an
  FTS row cannot point at it. ``memory_search_rows`` gives every memory a stable integer (its
  own INTEGER PRIMARY KEY), which is the rowid of the memory's row in ``memories_fts``.
* Tokenizer ``unicode61 remove_diacritics 2``: case-folded, accents removed, any language.

**PostgreSQL**: a stored generated ``tsvector`` column, ``search_vector``, on each table, with a
GIN index. The text search configuration is ``'simple'``: words are lower-cased but not stemmed
and no stop words are dropped, so search behaves alike for every language (and like FTS5's
tokenizer). A memory's name weighs most (A), then its description (B), then its content (C).
A ``tsvector`` holds at most 1 MB, and building a larger one fails the write, so PostgreSQL
indexes the first 100,000 characters of a message, and of a memory its name, the first 20,000
characters of its description and the first 80,000 of its content: at most 7 bytes of vector per
character, so no text can make an insert fail (SQLite indexes all of the text).
"""

from agentsdb.migration import Migration

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"
_ROW_OF_OLD = "(SELECT row FROM memory_search_rows WHERE memory_id = old.id)"

_SQLITE_UP = [
    """
    CREATE TABLE memory_search_rows (
        row INTEGER PRIMARY KEY,
        memory_id TEXT NOT NULL UNIQUE
    )
    """,
    f"CREATE VIRTUAL TABLE memories_fts USING fts5(name, description, content, {_TOKENIZE})",
    "INSERT INTO memory_search_rows (memory_id) SELECT id FROM memories ORDER BY id",
    """
    INSERT INTO memories_fts (rowid, name, description, content)
    SELECT k.row, m.name, m.description, m.content
    FROM memory_search_rows AS k JOIN memories AS m ON m.id = k.memory_id
    """,
    """
    CREATE TRIGGER memories_search_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memory_search_rows (memory_id) VALUES (new.id);
        INSERT INTO memories_fts (rowid, name, description, content)
        VALUES (
            (SELECT row FROM memory_search_rows WHERE memory_id = new.id),
            new.name, new.description, new.content
        );
    END
    """,
    f"""
    CREATE TRIGGER memories_search_update AFTER UPDATE OF id, name, description, content
    ON memories BEGIN
        UPDATE memories_fts SET name = new.name, description = new.description,
            content = new.content
        WHERE rowid = {_ROW_OF_OLD};
        UPDATE memory_search_rows SET memory_id = new.id WHERE memory_id = old.id;
    END
    """,
    f"""
    CREATE TRIGGER memories_search_delete AFTER DELETE ON memories BEGIN
        DELETE FROM memories_fts WHERE rowid = {_ROW_OF_OLD};
        DELETE FROM memory_search_rows WHERE memory_id = old.id;
    END
    """,
    f"""
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content = 'messages', content_rowid = 'id', {_TOKENIZE}
    )
    """,
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
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

_SQLITE_DOWN = [
    "DROP TRIGGER messages_search_delete",
    "DROP TRIGGER messages_search_update",
    "DROP TRIGGER messages_search_insert",
    "DROP TABLE messages_fts",
    "DROP TRIGGER memories_search_delete",
    "DROP TRIGGER memories_search_update",
    "DROP TRIGGER memories_search_insert",
    "DROP TABLE memories_fts",
    "DROP TABLE memory_search_rows",
]

_POSTGRESQL_UP = [
    """
    ALTER TABLE memories ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A')
        || setweight(to_tsvector('simple', left(COALESCE(description, ''), 20000)), 'B')
        || setweight(to_tsvector('simple', left(content, 80000)), 'C')
    ) STORED
    """,
    "CREATE INDEX memories_search_vector ON memories USING GIN (search_vector)",
    """
    ALTER TABLE messages ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', left(content, 100000))) STORED
    """,
    "CREATE INDEX messages_search_vector ON messages USING GIN (search_vector)",
]

_POSTGRESQL_DOWN = [
    "DROP INDEX messages_search_vector",
    "ALTER TABLE messages DROP COLUMN search_vector",
    "DROP INDEX memories_search_vector",
    "ALTER TABLE memories DROP COLUMN search_vector",
]

migration = Migration(
    id="013",
    description="add text search",
    created_at="2026-12-02",
    up={"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP},
    down={"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN},
)
