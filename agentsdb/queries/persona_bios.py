"""SQL for the ``agent_persona_bios`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list

_INSERTED = ("agent_id", "persona_bio", "persona_bio_source", "created_at", "updated_at")
_COLUMNS = column_list(("id", *_INSERTED))


class PersonaBioQueries:
    """SQL for persona bios. The latest bio is the newest ``created_at``; ties go to the higher id
    (the later insert), so "latest" is always one well-defined row.
    """

    columns = _COLUMNS

    #: Returns the new row's ``id``.
    insert = f"""INSERT INTO agent_persona_bios ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})
RETURNING id"""

    get_latest_by_agent_id = f"""SELECT {_COLUMNS} FROM agent_persona_bios
WHERE agent_id = :agent_id
ORDER BY created_at DESC, id DESC
LIMIT 1"""

    #: Newest first.
    list_by_agent_id = f"""SELECT {_COLUMNS} FROM agent_persona_bios
WHERE agent_id = :agent_id
ORDER BY created_at DESC, id DESC
LIMIT :limit"""

    delete = "DELETE FROM agent_persona_bios WHERE id = :id"


__all__ = ["PersonaBioQueries"]
