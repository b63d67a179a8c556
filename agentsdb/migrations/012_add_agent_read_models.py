"""Read models of the Agent aggregate, and the positions of catch-up projectors.

* ``agent_summaries``: one row per agent with the fields of an agent DTO (status, counters, the
  active session, assignments as a JSON list).
* ``agent_session_history``: one row per session an agent started, numbered per agent by ``seq``
  (1, 2, 3 …), the key of its keyset pages.
* ``agent_users``: who may list an agent: its owner (role ``owner``) and every assigned user.
* ``agentsdb_projector_positions``: how far each catch-up projector has read the event log.

Every projected row carries the ``version`` of the agent's stream it reflects, and a write only
replaces a row of a lower version: the inline projection and the catch-up projector can write the
same rows in any order and agree. These tables hold no foreign keys to ``events``: erasing a
stream removes its rows through the event store's erasers.
"""

from agentsdb.migration import Migration

_JSON = {
    "sqlite": "TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(assignments))",
    "postgresql": "JSONB NOT NULL DEFAULT '[]'",
}
_KEY = {"sqlite": "TEXT", "postgresql": 'TEXT COLLATE "C"'}
_INT = {"sqlite": "INTEGER", "postgresql": "BIGINT"}


def _tables(dialect: str) -> list[str]:
    key, integer = _KEY[dialect], _INT[dialect]
    return [
        f"""
        CREATE TABLE agent_summaries (
            agent_id {key} PRIMARY KEY CHECK (length(agent_id) > 0),
            owner_user_id {key} NOT NULL,
            agent_type TEXT NOT NULL,
            status TEXT NOT NULL,
            name TEXT NOT NULL,
            has_active_session {integer} NOT NULL CHECK (has_active_session IN (0, 1)),
            active_session_id {key},
            is_suspended {integer} NOT NULL CHECK (is_suspended IN (0, 1)),
            total_sessions {integer} NOT NULL CHECK (total_sessions >= 0),
            total_interactions {integer} NOT NULL CHECK (total_interactions >= 0),
            successful_completions {integer} NOT NULL CHECK (successful_completions >= 0),
            assignments {_JSON[dialect]},
            created_at {key} NOT NULL,
            updated_at {key} NOT NULL,
            last_interaction_at {key},
            archived_at {key},
            version {integer} NOT NULL CHECK (version > 0)
        )
        """,
        f"""
        CREATE TABLE agent_session_history (
            agent_id {key} NOT NULL,
            session_id {key} NOT NULL,
            seq {integer} NOT NULL CHECK (seq > 0),
            conversation_id {key},
            status TEXT NOT NULL,
            started_at {key} NOT NULL,
            ended_at {key},
            summary TEXT,
            end_reason TEXT,
            interactions {integer} NOT NULL CHECK (interactions >= 0),
            version {integer} NOT NULL CHECK (version > 0),
            PRIMARY KEY (agent_id, session_id),
            UNIQUE (agent_id, seq)
        )
        """,
        f"""
        CREATE TABLE agent_users (
            user_id {key} NOT NULL CHECK (length(user_id) > 0),
            agent_id {key} NOT NULL,
            role TEXT NOT NULL,
            version {integer} NOT NULL CHECK (version > 0),
            PRIMARY KEY (user_id, agent_id)
        )
        """,
        "CREATE INDEX agent_users_agent_id ON agent_users (agent_id)",
        f"""
        CREATE TABLE agentsdb_projector_positions (
            name {key} PRIMARY KEY CHECK (length(name) > 0),
            position {integer} NOT NULL CONSTRAINT agentsdb_projector_positions_forward
                CHECK (position >= 0),
            updated_at {key} NOT NULL
        )
        """,
    ]


_DOWN = [
    "DROP TABLE agentsdb_projector_positions",
    "DROP INDEX agent_users_agent_id",
    "DROP TABLE agent_users",
    "DROP TABLE agent_session_history",
    "DROP TABLE agent_summaries",
]

migration = Migration(
    id="012",
    description="add agent read models",
    created_at="2026-12-02",
    up={"sqlite": _tables("sqlite"), "postgresql": _tables("postgresql")},
    down={"sqlite": _DOWN, "postgresql": _DOWN},
)
