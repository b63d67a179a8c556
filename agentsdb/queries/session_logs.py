"""SQL for the ``session_logs`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list, patch_list

_INSERTED = (
    "session_id",
    "parent_id",
    "role",
    "type",
    "content",
    "metadata",
    "created_at",
    "updated_at",
)
_COLUMNS = column_list(("id", *_INSERTED))


class SessionLogQueries:
    """SQL for session logs. Ids only increase (AUTOINCREMENT), so a session's entries page by id:
    pass the last id seen as ``:after`` (0 for the first page). A parent must be in the same
    session; the schema refuses any other.
    """

    columns = _COLUMNS

    #: Returns the new row's ``id``.
    insert = f"""INSERT INTO session_logs ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})
RETURNING id"""

    #: For ``executemany``: the same insert, returning nothing.
    insert_many = f"""INSERT INTO session_logs ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})"""

    #: The newest id. Inside a write transaction right after a multi-row insert it is that
    #: insert's last id, and the inserted ids are the ones just below it.
    last_id = "SELECT MAX(id) AS last_id FROM session_logs"

    #: The columns ``insert`` takes, for ``Database.insert_rows`` (which inserts many rows).
    inserted: tuple[str, ...] = _INSERTED

    get_by_id = f"SELECT {_COLUMNS} FROM session_logs WHERE id = :id"

    #: Every entry of a session, in append order. Unbounded: prefer the paginated form.
    get_by_session_id = (
        f"SELECT {_COLUMNS} FROM session_logs WHERE session_id = :session_id ORDER BY id"
    )

    get_by_session_id_with_pagination = f"""SELECT {_COLUMNS} FROM session_logs
WHERE session_id = :session_id AND id > :after
ORDER BY id
LIMIT :limit"""

    #: The newest ``:limit`` entries, newest first.
    get_latest_by_session_id = f"""SELECT {_COLUMNS} FROM session_logs
WHERE session_id = :session_id
ORDER BY id DESC
LIMIT :limit"""

    update = f"""UPDATE session_logs SET
    {patch_list(("content", "metadata"))},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    delete_by_session_id = "DELETE FROM session_logs WHERE session_id = :session_id"

    count_by_session_id = (
        "SELECT COUNT(*) AS total FROM session_logs WHERE session_id = :session_id"
    )


__all__ = ["SessionLogQueries"]
