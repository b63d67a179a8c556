"""Session logs: append (with group commit), page, tree, update and delete."""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.base import (
    Atomic,
    CommitOrder,
    Database,
    FetchOne,
    GroupCommitter,
    Params,
    Program,
)
from agentsdb.errors import (
    AgentsDBError,
    ConnectionClosedError,
    DatabaseBusyError,
    NotFoundError,
    ValidationError,
)
from agentsdb.models.session_log import SessionLog, SessionLogNode, SessionLogUpdate
from agentsdb.queries.session_logs import SessionLogQueries
from agentsdb.repositories._base import (
    FIRST_INT_KEY,
    Repository,
    check_limit,
)
from agentsdb.rules.text import check_key, check_row_id
from agentsdb.rules.timestamps import Clock, now

#: The commit-order channel of session-log inserts: ids commit in the order they are taken, so a
#: reader paging by id never skips a row that commits late (see CommitOrder).
SESSION_LOGS_CHANNEL = "agentsdb.session_logs"
_ORDER = CommitOrder(SESSION_LOGS_CHANNEL)


def _insert_rows(db: Database, params: list[Params]) -> Program[list[int]]:
    """Insert rows as one atomic unit (one batch on libSQL) and return their ids, in order.

    How many statements that takes and how the ids come back is the backend's to say
    (``Database.insert_rows``); the commit-order step comes first in the same unit.
    """
    return (
        yield from db.insert_rows(
            "session_logs", SessionLogQueries.inserted, params, before=(_ORDER,)
        )
    )


def _append_each(db: Database, params: list[Params]) -> Program[list[int | AgentsDBError]]:
    """Rows queued by separate callers: each gets the outcome it would have had alone.

    First all of them as one atomic unit. If the database refuses a row (a constraint, or a
    value it cannot store), nothing of that unit remains and each row is written as a unit of
    its own, still in this program, so the bad row fails alone and the others commit; from then
    on every row's outcome is its own, whatever the error. An error that is not about a row
    (busy, closed) during the shared unit fails the whole batch, and then none of it is stored.
    """
    try:
        ids = yield from _insert_rows(db, params)
    except (DatabaseBusyError, ConnectionClosedError):
        raise
    except AgentsDBError as error:
        # A constraint or a value the database refuses (PostgreSQL's JSONB refuses \u0000, for
        # one) belongs to one row: retry each row alone so only that row's call fails.
        if len(params) == 1:
            return [error]
    else:
        return list(ids)
    outcomes: list[int | AgentsDBError] = []
    for one in params:
        try:
            _, row = yield Atomic((_ORDER, FetchOne(SessionLogQueries.insert, one)))
        except AgentsDBError as error:
            outcomes.append(error)
        else:
            outcomes.append(int(row["id"]))
    return outcomes


def _committer_for(db: Database) -> GroupCommitter[int]:
    """One group-commit queue per database (the database owns it and closes it), shared by all
    its session log repositories."""

    def write(params: list[Params]) -> Program[Sequence[int | BaseException]]:
        return _append_each(db, params)

    return db.group_commit(SESSION_LOGS_CHANNEL, write)


def _unsaved(log: SessionLog) -> None:
    if log.id is not None:
        raise ValidationError.refuse(
            "SessionLogRepository.append",
            "id",
            log.id,
            "is already stored; append a new SessionLog",
        )


class SessionLogRepository(Repository):
    """The ``session_logs`` table: a tree of entries per session, ids in append order.

    ``append`` uses group commit: concurrent appends on one database share a transaction and a
    commit. Each call still returns only after its row has committed, with its own id, and an
    entry that breaks a constraint (for instance a parent in another session) fails only its
    own call. ``append_many`` is all-or-nothing.

    Appending assigns the new id to the entry passed in (as ORMs do with primary keys), so
    appending the same entry object twice is refused instead of storing it twice.
    """

    def __init__(self, db: Database, *, clock: Clock = now) -> None:
        super().__init__(db, clock=clock)
        self._committer = _committer_for(db)

    async def append(self, log: SessionLog) -> SessionLog:
        """Store one entry; the entry gets its new id and is returned.

        ForeignKeyViolationError when the session does not exist or the parent is not an entry
        of the same session.
        """
        _unsaved(log)
        log_id = await self._committer.submit(log.to_params())
        log.assign_stored(id=log_id)
        return log

    async def append_many(self, logs: Sequence[SessionLog]) -> list[SessionLog]:
        """Store entries in one transaction, in order: all of them or, on any error, none.

        Each entry gets its new id; the entries are returned in order.
        """
        if not logs:
            return []
        for log in logs:
            _unsaved(log)
        ids = await self._db.run(_insert_rows(self._db, [log.to_params() for log in logs]))
        for log, log_id in zip(logs, ids, strict=True):
            log.assign_stored(id=log_id)
        return list(logs)

    async def get(self, log_id: int) -> SessionLog | None:
        """The entry, or None."""
        check_row_id("SessionLogRepository.get", "log_id", log_id)
        row = await self._db.fetch_one(SessionLogQueries.get_by_id, {"id": log_id})
        return self._model_or_none(SessionLog, row)

    async def page(
        self, session_id: str, *, after: int | None = None, limit: int = 100
    ) -> list[SessionLog]:
        """Up to ``limit`` entries after id ``after``, in append order.

        Pass the last id of a page as ``after`` for the next one: every entry is returned
        exactly once, also while entries are being appended from other connections, on every
        backend: ids commit in the order they are taken (appends order their commits with
        ``CommitOrder``), so no lower id can commit after a page that passed it.
        """
        check_key("SessionLogRepository.page", "session_id", session_id)
        if after is not None:
            check_row_id("SessionLogRepository.page", "after", after)
        params = {
            "session_id": session_id,
            "after": FIRST_INT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        rows = await self._db.fetch_all(SessionLogQueries.get_by_session_id_with_pagination, params)
        return self._models(SessionLog, rows)

    async def latest(self, session_id: str, *, limit: int = 1) -> list[SessionLog]:
        """The newest ``limit`` entries, oldest of them first."""
        check_key("SessionLogRepository.latest", "session_id", session_id)
        rows = await self._db.fetch_all(
            SessionLogQueries.get_latest_by_session_id,
            {"session_id": session_id, "limit": check_limit(limit)},
        )
        return self._models(SessionLog, rows[::-1])

    async def tree(self, session_id: str) -> list[SessionLogNode]:
        """Every entry of the session as a forest: the roots, each with its children."""
        check_key("SessionLogRepository.tree", "session_id", session_id)
        rows = await self._db.fetch_all(
            SessionLogQueries.get_by_session_id, {"session_id": session_id}
        )
        nodes: dict[int, SessionLogNode] = {}
        roots: list[SessionLogNode] = []
        # Ids increase with every append and a parent exists before its child, so each parent
        # is already in `nodes` when its children come.
        for log in self._models(SessionLog, rows):
            node = SessionLogNode(log=log)
            assert log.id is not None  # stored rows always have an id
            nodes[log.id] = node
            parent = nodes.get(log.parent_id) if log.parent_id is not None else None
            (roots if parent is None else parent.children).append(node)
        return roots

    async def count(self, session_id: str) -> int:
        """How many entries the session has."""
        check_key("SessionLogRepository.count", "session_id", session_id)
        row = await self._db.fetch_one(
            SessionLogQueries.count_by_session_id, {"session_id": session_id}
        )
        return int(row["total"]) if row is not None else 0

    async def update(self, log_id: int, changes: SessionLogUpdate) -> SessionLog:
        """Change an entry's content and/or metadata; NotFoundError if absent."""
        check_row_id("SessionLogRepository.update", "log_id", log_id)
        params = changes.to_params()
        params["id"] = log_id
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(SessionLogQueries.update, params)
        if row is None:
            raise NotFoundError("session log", log_id)
        return self._model(SessionLog, row)

    async def delete_for_session(self, session_id: str) -> int:
        """Delete every entry of the session; returns how many were deleted."""
        check_key("SessionLogRepository.delete_for_session", "session_id", session_id)
        result = await self._db.execute(
            SessionLogQueries.delete_by_session_id, {"session_id": session_id}
        )
        return result.rows_affected


__all__ = ["SessionLogRepository"]
