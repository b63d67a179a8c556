"""Migration 014 on every backend: up keeps every stored message (ids, content, hashes, the
never-reused id counter) and adds the key; down keeps every row and restores the unique content
hash, or fails and changes nothing while a conversation holds a hash twice.
"""

from __future__ import annotations

from typing import Any

import pytest

import agentsdb
from agentsdb.db.base import Database
from agentsdb.errors import MigrationError, UniqueViolationError
from agentsdb.migrations import builtin_migrations, cutover_migrations
from agentsdb.models import Message
from agentsdb.repositories import MessageRepository

_IDS = [migration.id for migration in builtin_migrations()]
#: The migration just before 014: rolling back to it undoes 014 alone.
BEFORE_014 = _IDS[_IDS.index("014") - 1]
#: 014 and the migrations after it: what rolling back to BEFORE_014 undoes, newest first.
FROM_014 = _IDS[_IDS.index("014") :]

MESSAGE_COLUMNS = "id, conversation_id, role, content, content_hash, persona_id, created_at"


async def plant_conversation(db: Database) -> None:
    await db.execute(
        "INSERT INTO agents (id, name, model, created_at, updated_at)"
        " VALUES ('a', 'n', 'm', 't', 't')"
    )
    await db.execute(
        "INSERT INTO conversations (id, agent_id, created_at, updated_at)"
        " VALUES ('c', 'a', 't', 't')"
    )


async def insert_message(db: Database, content: str, content_hash: str) -> None:
    await db.execute(
        "INSERT INTO messages"
        " (conversation_id, role, content, content_hash, persona_id, created_at)"
        " VALUES ('c', 'user', :content, :hash, 'p', 't')",
        {"content": content, "hash": content_hash},
    )


async def messages(db: Database) -> list[dict[str, Any]]:
    return await db.fetch_all(f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY id")


async def test_up_keeps_stored_messages_without_keys_and_never_reuses_a_deleted_id(
    migrated_any_db: Database,
) -> None:
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    await migrator.rollback_to(BEFORE_014)
    await plant_conversation(db)
    for n in range(3):
        await insert_message(db, f"m{n}", f"h{n}")
    await db.execute("DELETE FROM messages WHERE id = 3")
    before = await messages(db)

    assert [r.migration_id for r in await migrator.migrate()] == FROM_014

    assert await messages(db) == before
    assert await db.fetch_all("SELECT client_message_id FROM messages") == [
        {"client_message_id": None},
        {"client_message_id": None},
    ]
    repo = MessageRepository(db)
    again = [
        await repo.append(
            Message(conversation_id="c", role="user", content="m0", content_hash="h0")
        )
        for _ in range(2)
    ]
    assert [m.id for m in again] == [4, 5]  # 3 was deleted: never handed out again
    assert (await migrator.validate_migrations()).is_valid


async def test_down_keeps_rows_with_and_without_keys_and_restores_the_unique_hash(
    migrated_any_db: Database,
) -> None:
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    await plant_conversation(db)
    repo = MessageRepository(db)
    await repo.append(
        Message(conversation_id="c", role="user", content="hi", client_message_id="k1")
    )
    await repo.append(Message(conversation_id="c", role="user", content="bye"))
    kept = await db.fetch_all(
        "SELECT id, role, content, content_hash, created_at FROM messages ORDER BY id"
    )

    assert [r.migration_id for r in await migrator.rollback_to(BEFORE_014)] == FROM_014[::-1]

    assert (
        await db.fetch_all(
            "SELECT id, role, content, content_hash, created_at FROM messages ORDER BY id"
        )
        == kept
    )
    with pytest.raises(UniqueViolationError):
        await insert_message(db, "hi again", str(kept[0]["content_hash"]))
    assert [r.migration_id for r in await migrator.migrate()] == FROM_014
    assert (await migrator.validate_migrations()).is_valid
    assert [m.id for m in await repo.page("c")] == [row["id"] for row in kept]


async def test_down_fails_and_changes_nothing_while_a_conversation_holds_a_hash_twice(
    migrated_any_db: Database,
) -> None:
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    await plant_conversation(db)
    repo = MessageRepository(db)
    for key in (None, None, "k"):
        await repo.append(
            Message(conversation_id="c", role="user", content="yes", client_message_id=key)
        )
    before = await db.fetch_all("SELECT id, client_message_id FROM messages ORDER BY id")

    with pytest.raises(MigrationError):
        await migrator.rollback_to(BEFORE_014)

    assert await db.fetch_all("SELECT id, client_message_id FROM messages ORDER BY id") == before
    assert [record.id for record in await migrator.get_applied()][-1] == "014"
    assert (await migrator.validate_migrations()).is_valid
    await repo.append(Message(conversation_id="c", role="user", content="yes"))
    assert await repo.count("c") == 4


#: The backends whose 014 rebuilds ``messages`` (SQLite's table rebuild; PostgreSQL alters it in
#: place) and whose text search index keeps itself current with triggers on it.
REBUILDING_BACKENDS = pytest.mark.parametrize(
    "backend", ["sqlite", "libsql-ws", "libsql-http"], indirect=True
)


@REBUILDING_BACKENDS
async def test_the_rebuild_keeps_the_triggers_earlier_migrations_put_on_messages(
    migrated_any_db: Database,
) -> None:
    # The rebuild drops the table's triggers: 014 must recreate every trigger the built-in
    # migrations before it define on messages (the text search index's, for one).
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    await migrator.rollback_to("006")  # before messages existed: none of it has seen 014
    await migrator.migrate(target=BEFORE_014)
    before = await db.table_triggers("messages")
    assert {"messages_search_insert", "messages_search_delete"} <= set(before)

    await migrator.migrate()
    assert await db.table_triggers("messages") == before
    await migrator.rollback_to(BEFORE_014)
    assert await db.table_triggers("messages") == before


async def test_on_sqlite_014_after_the_cutover_010_fails_and_changes_nothing(
    migrated_db: Database,
) -> None:
    # The rebuilt table has 009's persona_id, which 010 dropped: roll 010 back first.
    db = migrated_db
    await agentsdb.Migrator(db).rollback_to(BEFORE_014)
    # A database an older version migrated: 010 applied while 014 did not exist yet.
    older = [m for m in builtin_migrations() if m.version <= int(BEFORE_014)]
    await agentsdb.Migrator(db, [*older, *cutover_migrations()]).migrate(allow_out_of_order=True)
    with_cutover = agentsdb.Migrator(db, [*builtin_migrations(), *cutover_migrations()])
    await plant_conversation(db)
    await db.execute(
        "INSERT INTO messages (conversation_id, role, content, content_hash, created_at)"
        " VALUES ('c', 'user', 'kept', 'h', 't')"
    )

    with pytest.raises(MigrationError, match="persona_id"):
        await with_cutover.migrate()

    assert [record.id for record in await with_cutover.get_applied()][-1] == "010"
    assert await db.fetch_all("SELECT content FROM messages") == [{"content": "kept"}]
    await with_cutover.rollback_last()
    assert [r.migration_id for r in await agentsdb.Migrator(db).migrate()] == FROM_014
    assert [r.migration_id for r in await with_cutover.migrate(allow_out_of_order=True)] == ["010"]
    assert await db.fetch_all("SELECT content, client_message_id FROM messages") == [
        {"content": "kept", "client_message_id": None}
    ]
