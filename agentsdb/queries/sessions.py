"""SQL for the ``sessions`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list, patch_list

_OVERRIDES = (
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
)
_ALL = (
    "id",
    "name",
    "main_agent_id",
    "sub_agent_ids",
    "user_goal",
    "status",
    "external_session_id",
    *_OVERRIDES,
    "user_id",
    "platform",
    "finished_at",
    "created_at",
    "updated_at",
)
_CHANGEABLE = (
    "name",
    "sub_agent_ids",
    "user_goal",
    "status",
    "external_session_id",
    *_OVERRIDES,
    "user_id",
    "platform",
)
_COLUMNS = column_list(_ALL)
_EFFECTIVE = ",\n    ".join(
    [
        *(
            f"s.{name}"
            for name in _ALL
            if name not in _OVERRIDES and name not in ("created_at", "updated_at")
        ),
        *(f"COALESCE(s.{name}, a.{name}) AS {name}" for name in _OVERRIDES),
        "s.created_at",
        "s.updated_at",
        "a.name AS agent_name",
    ]
)
# The optional filters of the listings: a NULL parameter means "any". The CAST gives PostgreSQL
# the parameter's type, which `:x IS NULL` alone does not.
_OPTIONAL_FILTERS = """(CAST(:main_agent_id AS TEXT) IS NULL
        OR main_agent_id = :main_agent_id)
    AND (CAST(:user_id AS TEXT) IS NULL OR user_id = :user_id)
    AND (CAST(:status AS TEXT) IS NULL OR status = :status)"""


def _page(leading: str) -> str:
    return f"""SELECT {_COLUMNS} FROM sessions
WHERE {leading}id > :after
    AND {_OPTIONAL_FILTERS}
ORDER BY id
LIMIT :limit"""


class SessionQueries:
    """SQL for ``sessions``.

    A NULL override column means "use the agent's value"; ``get_session_with_agent`` resolves
    them. The listings are keyset pages ordered by id: pass the last id seen as ``:after`` (''
    for the first page) and ``:main_agent_id``, ``:user_id``, ``:status`` (NULL for "any").
    ``list_by_agent``, ``list_by_user`` and ``get_by_status`` each walk their own index.
    """

    columns = _COLUMNS

    insert = f"INSERT INTO sessions ({_COLUMNS}) VALUES ({param_list(_ALL)})"

    update = f"""UPDATE sessions SET
    {patch_list(_CHANGEABLE)},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    update_status = f"""UPDATE sessions SET status = :status, updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    finish = f"""UPDATE sessions SET
    status = :status,
    finished_at = :finished_at,
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    get_by_id = f"SELECT {_COLUMNS} FROM sessions WHERE id = :id"

    #: Sessions share external ids: the first one by id.
    get_by_external_session_id = f"""SELECT {_COLUMNS} FROM sessions
WHERE external_session_id = :external_session_id
ORDER BY id
LIMIT 1"""

    #: The session with each override resolved: the session's value, else the agent's.
    get_session_with_agent = f"""SELECT
    {_EFFECTIVE}
FROM sessions AS s
JOIN agents AS a ON a.id = s.main_agent_id
WHERE s.id = :id"""

    #: Every session, by id. Unbounded: prefer ``list_with_limit``.
    list = f"SELECT {_COLUMNS} FROM sessions ORDER BY id"

    list_with_limit = _page("")

    list_by_agent = _page("main_agent_id = :main_agent_id AND ")

    list_by_user = _page("user_id = :user_id AND ")

    get_by_status = _page("status = :status AND ")

    delete = "DELETE FROM sessions WHERE id = :id"

    count = "SELECT COUNT(*) AS total FROM sessions"


__all__ = ["SessionQueries"]
