"""The test wrappers' base forwards every member of the Database protocol."""

from __future__ import annotations

import typing

from entities_support import RecordingDatabase
from forwarding_database import ForwardingDatabase

from agentsdb.db.base import Database


def protocol_members(protocol: type) -> set[str]:
    """The names a runtime-checkable protocol checks (its own and its bases')."""
    members: set[str] = set()
    for base in protocol.__mro__:
        if base in (object, typing.Protocol, typing.Generic):
            continue
        members.update(
            name for name in vars(base) if not name.startswith("_") and name not in {"register"}
        )
    return members


def test_forwarding_database_defines_every_member_of_the_database_protocol() -> None:
    members = protocol_members(Database)
    assert {"execute", "fetch_values", "reports_insert_id", "migration_runner"} <= members
    missing = sorted(name for name in members if name not in vars(ForwardingDatabase))
    assert missing == []


async def test_a_wrapped_database_is_a_database_and_records_every_statement(
    migrated_any_db: Database,
) -> None:
    recording = RecordingDatabase(migrated_any_db)
    assert isinstance(recording, Database)

    await recording.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    await recording.execute_many("INSERT INTO notes (id, body) VALUES (:id, 'x')", [{"id": 1}])
    await recording.fetch_one("SELECT body FROM notes")
    await recording.fetch_all("SELECT id FROM notes")
    assert await recording.fetch_values("SELECT id, body FROM notes") == [(1, "x")]

    assert len(recording.statements) == 5
    assert recording.reports_insert_id == migrated_any_db.reports_insert_id
