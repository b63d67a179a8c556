"""Migrations 003-007: they apply after 002, roll back to it without losing agents, sessions or
logs, and their constraints refuse bad rows by name, on every backend.
"""

from __future__ import annotations

import pytest

import agentsdb
from agentsdb.db.base import Database
from agentsdb.errors import CheckViolationError, IntegrityError, UniqueViolationError
from agentsdb.migrations import BUILTIN_MODULES, builtin_migrations

ENTITY_TABLES = {
    "users",
    "agent_persona_bios",
    "user_agent_profile_metadata",
    "memories",
    "conversations",
    "messages",
}


AGENT_ROW = (
    "INSERT INTO agents (id, name, model, created_at, updated_at) VALUES ('a', 'n', 'm', 't', 't')"
)


def test_the_entity_migrations_follow_002_in_order() -> None:
    ids = [migration.id for migration in builtin_migrations()]
    assert ids[:2] == ["001", "002"]
    assert ids[2:7] == ["003", "004", "005", "006", "007"]
    assert [name.split("_", 1)[0] for name in BUILTIN_MODULES] == ids
    assert all(migration.reversible for migration in builtin_migrations())


# --- every backend: the same schema from per-dialect statements ----------------------------------

#: The SQLite checksums of 001-007 as they shipped: adding PostgreSQL statements changed none.
SHIPPED_SQLITE_CHECKSUMS = {
    "001": "sha256-v1:fa488a5b3eff5a07c136b052f1f51294e5a3064418bf5e5a873adeb130a42a49",
    "002": "sha256-v1:e3c46ec08ebc5e10e6e683d8c3c7e154a2c23cd0956c37e75cba2d261d0d2bf3",
    "003": "sha256-v1:361fb89cca53dd2f2ba6414fdc8d24d2e913f0dbae8d51402661dbeed10130f7",
    "004": "sha256-v1:b0a59dc188d86f51b045bdaf97cd8db2c6fa72087481a21d8324edd1537e1cd5",
    "005": "sha256-v1:c40658bf3ce9cc4e13495be82cc265567ec045df0c6316a4b0a1413d0fc69c62",
    "006": "sha256-v1:14e7f2303df774b3d6953120d45c504fdf0a96bff054fe771c3ad8ee5d110300",
    "007": "sha256-v1:cc00b8a0475eb19cf0a111c738088586976d87d908592bbd9af00a65239e6952",
}


def test_the_sqlite_checksums_of_the_shipped_migrations_never_change() -> None:
    shipped = {m.id: m.checksum("sqlite") for m in builtin_migrations() if m.id <= "007"}
    assert shipped == SHIPPED_SQLITE_CHECKSUMS


def test_every_builtin_migration_has_up_and_down_statements_for_sqlite_and_postgresql() -> None:
    for migration in builtin_migrations():
        for dialect in ("sqlite", "postgresql"):
            assert migration.up_statements(dialect), (migration.id, dialect)
            assert migration.down_statements(dialect), (migration.id, dialect)
        assert migration.up_statements("sqlite") != migration.up_statements("postgresql") or (
            migration.id > "007"
        )
        assert migration.lint() == [], migration.id


async def user_tables(db: Database) -> set[str]:
    """The tables of the database's own schema."""
    return set(await db.table_names())


async def index_names(db: Database) -> set[str]:
    """Every index ``CREATE INDEX`` made on a table of the database's own schema."""
    return {index for table in await db.table_names() for index in await db.table_indexes(table)}


#: Every index 001-007 create, by name: the same names on every backend.
ENTITY_INDEXES = {
    "agents_name",
    "agents_type",
    "agents_handle",
    "agents_owner_user_id",
    "agents_status_id",
    "sessions_main_agent_id_id",
    "sessions_status_id",
    "sessions_user_id_id",
    "sessions_external_session_id",
    "session_logs_session_id",
    "session_logs_parent_id",
    "users_email",
    "agent_persona_bios_latest",
    "memories_name_agent_user",
    "memories_agent_id_id",
    "memories_user_id_id",
    "memories_session_id",
    "conversations_agent_id_id",
    "conversations_user_id_id",
    "messages_conversation_id_id",
    "messages_from_agent_id_id",
}


async def test_the_builtins_migrate_roll_back_to_zero_and_migrate_again(
    migrated_any_db: Database, backend: str
) -> None:
    migrator = agentsdb.Migrator(migrated_any_db)
    every_id = [migration.id for migration in builtin_migrations()]
    assert await index_names(migrated_any_db) >= ENTITY_INDEXES
    tables_before = await user_tables(migrated_any_db)
    assert tables_before >= ENTITY_TABLES | {"agents", "sessions", "session_logs"}

    rolled_back = await migrator.rollback_to("0")
    assert [r.migration_id for r in rolled_back] == every_id[::-1]
    assert not (ENTITY_TABLES | {"agents", "sessions", "session_logs"}) & await user_tables(
        migrated_any_db
    )
    assert not ENTITY_INDEXES & await index_names(migrated_any_db)

    assert [r.migration_id for r in await migrator.migrate()] == every_id
    assert await user_tables(migrated_any_db) == tables_before
    assert await index_names(migrated_any_db) >= ENTITY_INDEXES
    assert (await migrator.validate_migrations()).is_valid
    assert await migrator.migrate() == []


async def test_rolling_back_to_002_keeps_rows_and_columns_on_every_backend(
    migrated_any_db: Database, backend: str
) -> None:
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    await migrator.rollback_to("002")
    columns_002 = {table: await db.table_columns(table) for table in ("agents", "sessions")}
    indexes_002 = await index_names(db)
    await migrator.migrate()
    await db.execute(
        "INSERT INTO agents (id, name, model, created_at, updated_at, handle)"
        " VALUES ('a', 'Ada', 'm', 't', 't', 'ada')"
    )
    await db.execute(
        "INSERT INTO sessions (id, main_agent_id, created_at, updated_at, platform)"
        " VALUES ('s', 'a', 't', 't', 'web')"
    )
    await db.execute(
        "INSERT INTO session_logs (session_id, role, type, content, created_at, updated_at)"
        " VALUES ('s', 'user', 'message', '\"hi\"', 't', 't')"
    )

    rolled_back = await migrator.rollback_to("002")
    assert [r.migration_id for r in rolled_back][-5:] == ["007", "006", "005", "004", "003"]
    assert not ENTITY_TABLES & await user_tables(db)
    assert {table: await db.table_columns(table) for table in columns_002} == columns_002
    assert await index_names(db) == indexes_002
    assert await db.fetch_all("SELECT id, name FROM agents") == [{"id": "a", "name": "Ada"}]
    assert await db.fetch_all("SELECT id, main_agent_id FROM sessions") == [
        {"id": "s", "main_agent_id": "a"}
    ]
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM session_logs") == {"n": 1}

    reapplied = [r.migration_id for r in await migrator.migrate()]
    assert reapplied[:5] == ["003", "004", "005", "006", "007"]
    assert (await migrator.validate_migrations()).is_valid
    assert await db.fetch_all("SELECT status, persona_source FROM agents") == [
        {"status": "active", "persona_source": "user_generated"}
    ]


#: A named UNIQUE table constraint as SQLite reports it: by its columns (PostgreSQL: by name).
UNIQUE_COLUMNS = {
    "messages_conversation_id_client_message_id": (
        "messages.conversation_id, messages.client_message_id"
    )
}


@pytest.mark.parametrize(
    ("statement", "error", "constraint"),
    [
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, status)"
            " VALUES ('x', 'n', 'm', 't', 't', 'archived')",
            CheckViolationError,
            "agents_archived_at_matches_status",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, status)"
            " VALUES ('x', 'n', 'm', 't', 't', 'deleted')",
            CheckViolationError,
            "agents_status_valid",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, handle)"
            " VALUES ('x', 'n', 'm', 't', 't', 'Ada')",
            CheckViolationError,
            "agents_handle_format",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, persona_source)"
            " VALUES ('x', 'n', 'm', 't', 't', 'fax')",
            CheckViolationError,
            "agents_persona_source_valid",
        ),
        (
            "INSERT INTO users (id, email, created_at, updated_at)"
            " VALUES ('u', 'Ada@Example.com', 't', 't')",
            CheckViolationError,
            "users_email_format",
        ),
        (
            "INSERT INTO agent_persona_bios"
            " (agent_id, persona_bio, persona_bio_source, created_at, updated_at)"
            " VALUES ('a', 'bio', 'ghostwriter', 't', 't')",
            CheckViolationError,
            "agent_persona_bios_source_valid",
        ),
        (
            "INSERT INTO memories (id, name, content, agent_id, access, created_at, updated_at)"
            " VALUES ('m', 'n', 'c', 'a', 'admin', 't', 't')",
            CheckViolationError,
            "memories_access_valid",
        ),
        (
            "INSERT INTO memories (id, name, content, agent_id, read_mode, created_at, updated_at)"
            " VALUES ('m', 'n', 'c', 'a', 'aloud', 't', 't')",
            CheckViolationError,
            "memories_read_mode_valid",
        ),
        (
            "INSERT INTO messages (conversation_id, role, content, content_hash, created_at)"
            " VALUES ('c', 'agent', 'x', 'h', 't')",
            CheckViolationError,
            "messages_role_valid",
        ),
        (
            "INSERT INTO memories (id, name, content, agent_id, created_at, updated_at)"
            " VALUES ('m2', 'tone', 'c', 'a', 't', 't')",
            UniqueViolationError,
            "memories_name_agent_user",
        ),
        (
            "INSERT INTO messages"
            " (conversation_id, role, content, content_hash, created_at, client_message_id)"
            " VALUES ('c', 'user', 'again', 'h2', 't', 'k1')",
            UniqueViolationError,
            "messages_conversation_id_client_message_id",
        ),
        (
            "INSERT INTO messages"
            " (conversation_id, role, content, content_hash, created_at, client_message_id)"
            " VALUES ('c', 'user', 'x', 'h', 't', '')",
            CheckViolationError,
            "messages_client_message_id_not_empty",
        ),
    ],
)
async def test_the_schema_refuses_invalid_rows_by_constraint_name_on_every_backend(
    migrated_any_db: Database,
    statement: str,
    error: type[IntegrityError],
    constraint: str,
) -> None:
    db = migrated_any_db
    await db.execute(AGENT_ROW)
    await db.execute(
        "INSERT INTO conversations (id, agent_id, created_at, updated_at)"
        " VALUES ('c', 'a', 't', 't')"
    )
    await db.execute(
        "INSERT INTO memories (id, name, content, agent_id, created_at, updated_at)"
        " VALUES ('m1', 'tone', 'c', 'a', 't', 't')"
    )
    await db.execute(
        "INSERT INTO messages"
        " (conversation_id, role, content, content_hash, created_at, client_message_id)"
        " VALUES ('c', 'user', 'x', 'h1', 't', 'k1')"
    )
    with pytest.raises(error) as caught:
        await db.execute(statement)
    named = caught.value.constraint
    assert named is not None
    assert constraint in named or UNIQUE_COLUMNS.get(constraint, constraint) in named


async def test_on_postgresql_json_is_jsonb_timestamps_are_text_and_integer_keys_are_identities(
    postgres_db: Database,
) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    rows = await postgres_db.fetch_all(
        "SELECT table_name, column_name, data_type, is_identity, collation_name"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    columns = {(row["table_name"], row["column_name"]): row for row in rows}
    for table, column in [
        ("agents", "configuration"),
        ("sessions", "mcps"),
        ("session_logs", "content"),
        ("users", "user_data"),
        ("memories", "metadata"),
        ("messages", "tool_calls"),
    ]:
        assert columns[table, column]["data_type"] == "jsonb", (table, column)
    for table in ("agents", "sessions", "session_logs", "users", "memories", "conversations"):
        stamp = columns[table, "created_at"]
        assert (stamp["data_type"], stamp["collation_name"]) == ("text", "C"), table
    for table in ("session_logs", "agent_persona_bios", "user_agent_profile_metadata", "messages"):
        key = columns[table, "id"]
        assert (key["data_type"], key["is_identity"]) == ("bigint", "YES"), table
    assert columns["agents", "id"]["collation_name"] == "C"
