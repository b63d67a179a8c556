"""SQL constants, one class per entity, with ``:named`` parameters.

They run unchanged on Python's own ``sqlite3`` against a migrated database::

    from agentsdb.queries import AgentQueries
    row = conn.execute(AgentQueries.get_by_id, {"id": agent_id}).fetchone()

Everything here is portable SQL (``ON CONFLICT`` upserts, ``RETURNING``, ``EXISTS``,
``COALESCE``; no SQLite-only functions), so the same text serves every backend. Timestamps are
parameters in the :mod:`agentsdb.clock` format and JSON columns take JSON text. Statements
ending in ``RETURNING`` give back a row: fetch it.

On PostgreSQL every parameter needs a type the server can infer: a parameter only tested with
``IS NULL`` is written ``CAST(:x AS TEXT) IS NULL`` (portable, unlike ``::``). JSON columns
(JSONB there) come back decoded, as ``Database.json_decoded`` says;
``Record.from_row(row, json_decoded=db.json_decoded)`` reads them on every backend. Inserting
many rows and learning their ids is the backend's to do (``Database.insert_rows``), so no
backend-specific SQL lives here.
"""

from __future__ import annotations

from agentsdb.queries.agents import AgentQueries
from agentsdb.queries.conversations import ConversationQueries
from agentsdb.queries.memories import MemoryQueries
from agentsdb.queries.messages import MessageQueries
from agentsdb.queries.persona_bios import PersonaBioQueries
from agentsdb.queries.profile_metadata import ProfileMetadataQueries
from agentsdb.queries.session_logs import SessionLogQueries
from agentsdb.queries.sessions import SessionQueries
from agentsdb.queries.users import UserQueries

#: Every query class, for tools and tests that go through all constants.
ALL_QUERIES: tuple[type, ...] = (
    AgentQueries,
    PersonaBioQueries,
    ProfileMetadataQueries,
    UserQueries,
    SessionQueries,
    SessionLogQueries,
    MemoryQueries,
    ConversationQueries,
    MessageQueries,
)


def constants(queries: type) -> dict[str, str]:
    """The SQL constants of a query class, by name (``columns`` excluded)."""
    return {
        name: value
        for name, value in vars(queries).items()
        if not name.startswith("_") and name != "columns" and isinstance(value, str)
    }


__all__ = [
    "ALL_QUERIES",
    "AgentQueries",
    "ConversationQueries",
    "MemoryQueries",
    "MessageQueries",
    "PersonaBioQueries",
    "ProfileMetadataQueries",
    "SessionLogQueries",
    "SessionQueries",
    "UserQueries",
    "constants",
]
