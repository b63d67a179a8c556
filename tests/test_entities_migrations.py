"""Migrations 003-007: they apply after 002, roll back to it without losing agents, sessions or
logs, and their constraints refuse bad rows by name even when written with plain sqlite3.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import agentsdb
from agentsdb.db.base import Database
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


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return {name for (name,) in rows}


def columns(path: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_the_entity_migrations_follow_002_in_order() -> None:
    ids = [migration.id for migration in builtin_migrations()]
    assert ids[:2] == ["001", "002"]
    assert ids[2:] == ["003", "004", "005", "006", "007"]
    assert [name.split("_", 1)[0] for name in BUILTIN_MODULES] == ids
    assert all(migration.reversible for migration in builtin_migrations())


async def test_rolling_back_to_002_keeps_agents_sessions_and_logs_and_reapplying_works(
    db: Database, db_path: Path
) -> None:
    migrator = agentsdb.Migrator(db)
    await migrator.migrate(target="002")
    columns_002 = {table: columns(db_path, table) for table in ("agents", "sessions")}
    await migrator.migrate()
    assert tables(db_path) >= ENTITY_TABLES
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(
            "INSERT INTO agents (id, name, model, created_at, updated_at, handle)"
            " VALUES ('a', 'Ada', 'm', 't', 't', 'ada')"
        )
        conn.execute(
            "INSERT INTO sessions (id, main_agent_id, created_at, updated_at, platform)"
            " VALUES ('s', 'a', 't', 't', 'web')"
        )
        conn.execute(
            "INSERT INTO session_logs (session_id, role, type, content, created_at, updated_at)"
            " VALUES ('s', 'user', 'message', '\"hi\"', 't', 't')"
        )
        conn.commit()

    results = await migrator.rollback_to("002")
    assert [r.migration_id for r in results] == ["007", "006", "005", "004", "003"]
    assert not ENTITY_TABLES & tables(db_path)
    assert {table: columns(db_path, table) for table in columns_002} == columns_002
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT id, name FROM agents").fetchall() == [("a", "Ada")]
        assert conn.execute("SELECT id, main_agent_id FROM sessions").fetchall() == [("s", "a")]
        assert conn.execute("SELECT COUNT(*) FROM session_logs").fetchone() == (1,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
    assert {"sessions_main_agent_id", "sessions_status", "agents_name", "agents_type"} <= indexes

    assert [r.migration_id for r in await migrator.migrate()] == ["003", "004", "005", "006", "007"]
    assert (await migrator.validate_migrations()).is_valid
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT status, persona_source FROM agents").fetchall() == [
            ("active", "user_generated")
        ]


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, status)"
            " VALUES ('x', 'n', 'm', 't', 't', 'archived')",
            "agents_archived_at_matches_status",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, status)"
            " VALUES ('x', 'n', 'm', 't', 't', 'deleted')",
            "agents_status_valid",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, persona_source)"
            " VALUES ('x', 'n', 'm', 't', 't', 'fax')",
            "agents_persona_source_valid",
        ),
        (
            "INSERT INTO agents (id, name, model, created_at, updated_at, handle)"
            " VALUES ('x', 'n', 'm', 't', 't', 'Ada')",
            "agents_handle_format",
        ),
        (
            "INSERT INTO users (id, email, created_at, updated_at)"
            " VALUES ('u', 'Ada@Example.com', 't', 't')",
            "users_email_format",
        ),
        (
            "INSERT INTO agent_persona_bios"
            " (agent_id, persona_bio, persona_bio_source, created_at, updated_at)"
            " VALUES ('a', 'bio', 'ghostwriter', 't', 't')",
            "agent_persona_bios_source_valid",
        ),
        (
            "INSERT INTO memories (id, name, content, agent_id, read_mode, created_at, updated_at)"
            " VALUES ('m', 'n', 'c', 'a', 'aloud', 't', 't')",
            "memories_read_mode_valid",
        ),
        (
            "INSERT INTO messages (conversation_id, role, content, content_hash, created_at)"
            " VALUES ('c', 'agent', 'x', 'h', 't')",
            "messages_role_valid",
        ),
        (
            "INSERT INTO user_agent_profile_metadata"
            " (agent_id, followers_count, created_at, updated_at) VALUES ('a', -1, 't', 't')",
            "followers_count >= 0",
        ),
    ],
)
async def test_the_schema_refuses_invalid_rows_written_with_plain_sqlite3(
    migrated_db: Database, db_path: Path, statement: str, constraint: str
) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(AGENT_ROW)
        conn.execute(
            "INSERT INTO conversations (id, agent_id, created_at, updated_at)"
            " VALUES ('c', 'a', 't', 't')"
        )
        with pytest.raises(sqlite3.IntegrityError, match=constraint):
            conn.execute(statement)


async def test_memory_names_with_no_user_collide_in_the_schema_itself(
    migrated_db: Database, db_path: Path
) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(AGENT_ROW)
        insert = (
            "INSERT INTO memories (id, name, content, agent_id, user_id, created_at, updated_at)"
            " VALUES (?, 'tone', 'c', 'a', NULL, 't', 't')"
        )
        conn.execute(insert, ("m1",))
        with pytest.raises(sqlite3.IntegrityError, match="memories_name_agent_user"):
            conn.execute(insert, ("m2",))
