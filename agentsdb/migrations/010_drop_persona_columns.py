"""After cutover: conversations and messages lose the legacy ``persona_id`` columns.

The one migration of the opt-in set ``agentsdb-cutover`` (recorded as ``010``, as earlier
versions recorded it); apply it on purpose once no reader uses the persona columns::

    from agentsdb.migrations import builtin_set, cutover_set
    await Migrator(db, sets=[builtin_set(), cutover_set()]).migrate()
"""

from agentsdb.migration import Migration

_UP = [
    "DROP INDEX conversations_persona_id_id",
    "ALTER TABLE messages DROP COLUMN persona_id",
    "ALTER TABLE conversations DROP COLUMN persona_id",
]
_DOWN = [
    "ALTER TABLE conversations ADD COLUMN persona_id TEXT",
    "CREATE INDEX conversations_persona_id_id ON conversations (persona_id, id)",
    "ALTER TABLE messages ADD COLUMN persona_id TEXT",
]

migration = Migration(
    id="010",
    description="drop persona columns",
    created_at="2026-11-22",
    up={"sqlite": _UP, "postgresql": _UP},
    down={"sqlite": _DOWN, "postgresql": _DOWN},
    requires=["agentsdb:009"],
    set_name="agentsdb-cutover",
)
