"""Sessions: create, look up (with the effective configuration), list, update and finish."""

from __future__ import annotations

from agentsdb.db.base import Params
from agentsdb.errors import NotFoundError, ValidationError
from agentsdb.models.session import EffectiveSession, Session, SessionStatus, SessionUpdate
from agentsdb.queries.sessions import SessionQueries
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
)
from agentsdb.rules.text import (
    check_choice,
    check_cursor,
    check_key,
    check_name,
    check_optional_key,
)


class SessionRepository(Repository):
    """The ``sessions`` table. Deleting a session deletes its logs."""

    async def create(self, session: Session) -> Session:
        """Store a new session. Overrides left None are stored as NULL and inherit the agent's
        values; ForeignKeyViolationError when the agent (or user) does not exist.
        """
        await self._db.execute(SessionQueries.insert, session.to_params())
        return session

    async def get(self, session_id: str) -> Session | None:
        """The session as stored (overrides as set, None where inherited), or None."""
        check_key("SessionRepository.get", "session_id", session_id)
        row = await self._db.fetch_one(SessionQueries.get_by_id, {"id": session_id})
        return self._model_or_none(Session, row)

    async def get_with_agent(self, session_id: str) -> EffectiveSession | None:
        """The session with its effective configuration, or None."""
        check_key("SessionRepository.get_with_agent", "session_id", session_id)
        row = await self._db.fetch_one(SessionQueries.get_session_with_agent, {"id": session_id})
        return self._model_or_none(EffectiveSession, row)

    async def get_by_external_id(self, external_session_id: str) -> Session | None:
        """The first session (by id) with this external id, or None."""
        check_name(
            "SessionRepository.get_by_external_id", "external_session_id", external_session_id
        )
        row = await self._db.fetch_one(
            SessionQueries.get_by_external_session_id,
            {"external_session_id": external_session_id},
        )
        return self._model_or_none(Session, row)

    async def list(
        self,
        *,
        agent_id: str | None = None,
        user_id: str | None = None,
        status: SessionStatus | str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Session]:
        """A page of sessions in id order, filtered by any of agent, user and status.

        Pass the last id of a page as ``after`` for the next one.
        """
        title = "SessionRepository.list"
        check_optional_key(title, "agent_id", agent_id)
        check_optional_key(title, "user_id", user_id)
        check_cursor(title, "after", after)
        wanted = None if status is None else check_choice(title, "status", status, SessionStatus)
        if agent_id is not None:
            sql = SessionQueries.list_by_agent
        elif user_id is not None:
            sql = SessionQueries.list_by_user
        elif wanted is not None:
            sql = SessionQueries.get_by_status
        else:
            sql = SessionQueries.list_with_limit
        params = {
            "main_agent_id": agent_id,
            "user_id": user_id,
            "status": None if wanted is None else wanted.value,
            "after": FIRST_TEXT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        return self._models(Session, await self._db.fetch_all(sql, params))

    async def update(self, session_id: str, changes: SessionUpdate) -> Session:
        """Change the given fields in one statement; NotFoundError if absent."""
        check_key("SessionRepository.update", "session_id", session_id)
        params = changes.to_params()
        params["id"] = session_id
        params["updated_at"] = self._stamp()
        return await self._changed(SessionQueries.update, params, session_id)

    async def update_status(self, session_id: str, status: SessionStatus | str) -> Session:
        """Set the status; NotFoundError if absent."""
        title = "SessionRepository.update_status"
        check_key(title, "session_id", session_id)
        new = check_choice(title, "status", status, SessionStatus)
        params = {"id": session_id, "status": new.value, "updated_at": self._stamp()}
        return await self._changed(SessionQueries.update_status, params, session_id)

    async def finish(
        self, session_id: str, status: SessionStatus | str = SessionStatus.COMPLETED
    ) -> Session:
        """End the session now with a terminal status (completed, failed or stopped)."""
        title = "SessionRepository.finish"
        check_key(title, "session_id", session_id)
        final = check_choice(title, "status", status, SessionStatus)
        if not final.terminal:
            raise ValidationError.refuse(
                title, "status", status, "a session finishes as completed, failed or stopped"
            )
        moment = self._stamp()
        params = {
            "id": session_id,
            "status": final.value,
            "finished_at": moment,
            "updated_at": moment,
        }
        return await self._changed(SessionQueries.finish, params, session_id)

    async def _changed(self, sql: str, params: Params, session_id: str) -> Session:
        row = await self._db.fetch_one(sql, params)
        if row is None:
            raise NotFoundError("session", session_id)
        return self._model(Session, row)

    async def delete(self, session_id: str) -> None:
        """Delete the session and its logs; NotFoundError if absent."""
        check_key("SessionRepository.delete", "session_id", session_id)
        result = await self._db.execute(SessionQueries.delete, {"id": session_id})
        if result.rows_affected == 0:
            raise NotFoundError("session", session_id)

    async def count(self) -> int:
        """How many sessions there are."""
        row = await self._db.fetch_one(SessionQueries.count)
        return int(row["total"]) if row is not None else 0


__all__ = ["SessionRepository"]
