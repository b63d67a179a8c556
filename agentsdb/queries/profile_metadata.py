"""SQL for the ``user_agent_profile_metadata`` table (one row per agent)."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, excluded_list, param_list

_COUNTS = ("followers_count", "follows_count", "posts_count")
_INSERTED = ("agent_id", *_COUNTS, "created_at", "updated_at")
_COLUMNS = column_list(("id", *_INSERTED))


class ProfileMetadataQueries:
    """SQL for an agent's profile counters."""

    columns = _COLUMNS

    #: Inserts the agent's row or replaces its counts; ``created_at`` keeps the first value.
    upsert = f"""INSERT INTO user_agent_profile_metadata ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})
ON CONFLICT (agent_id) DO UPDATE SET
    {excluded_list(_COUNTS)},
    updated_at = excluded.updated_at
RETURNING {_COLUMNS}"""

    get_by_agent_id = (
        f"SELECT {_COLUMNS} FROM user_agent_profile_metadata WHERE agent_id = :agent_id"
    )

    delete_by_agent_id = "DELETE FROM user_agent_profile_metadata WHERE agent_id = :agent_id"


__all__ = ["ProfileMetadataQueries"]
