"""SQL for the ``agents`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, excluded_list, param_list, patch_list

_ALL = (
    "id",
    "type",
    "name",
    "description",
    "avatar",
    "instructions",
    "model",
    "plan_model",
    "small_model",
    "built_in_tools",
    "mcps",
    "knowledges",
    "configuration",
    "accessible_paths",
    "permission_mode",
    "max_steps",
    "handle",
    "display_name",
    "persona_source",
    "owner_user_id",
    "status",
    "archived_at",
    "archive_reason",
    "created_at",
    "updated_at",
)
# What update and upsert may change; id and created_at never change, and the lifecycle columns
# (status, archived_at, archive_reason) change only through archive and restore.
_CHANGEABLE = (
    "type",
    "name",
    "description",
    "avatar",
    "instructions",
    "model",
    "plan_model",
    "small_model",
    "built_in_tools",
    "mcps",
    "knowledges",
    "configuration",
    "accessible_paths",
    "permission_mode",
    "max_steps",
    "handle",
    "display_name",
    "persona_source",
    "owner_user_id",
)
_COLUMNS = column_list(_ALL)


class AgentQueries:
    """SQL for ``agents``. Lists are keyset pages: ids after ``:after`` ('' for the first page).

    Statements ending in ``RETURNING`` give back the changed row: fetch it.
    """

    columns = _COLUMNS

    insert = f"INSERT INTO agents ({_COLUMNS}) VALUES ({param_list(_ALL)})"

    update = f"""UPDATE agents SET
    {patch_list(_CHANGEABLE)},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    upsert = f"""INSERT INTO agents ({_COLUMNS}) VALUES ({param_list(_ALL)})
ON CONFLICT (id) DO UPDATE SET
    {excluded_list(_CHANGEABLE)},
    updated_at = excluded.updated_at
RETURNING {_COLUMNS}"""

    archive = f"""UPDATE agents SET
    status = 'archived',
    archived_at = :archived_at,
    archive_reason = :archive_reason,
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    restore = f"""UPDATE agents SET
    status = 'active',
    archived_at = NULL,
    archive_reason = NULL,
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    get_by_id = f"SELECT {_COLUMNS} FROM agents WHERE id = :id"

    get_by_handle = f"SELECT {_COLUMNS} FROM agents WHERE handle = :handle"

    #: Names are not unique: the first agent by id (the oldest, for generated ids).
    get_by_name = f"SELECT {_COLUMNS} FROM agents WHERE name = :name ORDER BY id LIMIT 1"

    list = f"SELECT {_COLUMNS} FROM agents WHERE id > :after ORDER BY id LIMIT :limit"

    list_active = f"""SELECT {_COLUMNS} FROM agents
WHERE status = 'active' AND id > :after
ORDER BY id
LIMIT :limit"""

    delete = "DELETE FROM agents WHERE id = :id"

    count = "SELECT COUNT(*) AS total FROM agents"

    count_active = "SELECT COUNT(*) AS total FROM agents WHERE status = 'active'"

    check_exists = "SELECT EXISTS (SELECT 1 FROM agents WHERE id = :id) AS present"


__all__ = ["AgentQueries"]
