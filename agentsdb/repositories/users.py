"""Users: create, look up, list, update and delete."""

from __future__ import annotations

from agentsdb.errors import NotFoundError
from agentsdb.models.user import User, UserUpdate
from agentsdb.queries.users import UserQueries
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
)
from agentsdb.rules.identity import email_argument
from agentsdb.rules.text import check_cursor, check_key


class UserRepository(Repository):
    """The ``users`` table. Deleting a user deletes their sessions, memories and conversations;
    agents they own stay, without an owner.
    """

    async def create(self, user: User) -> User:
        """Store a new user; UniqueViolationError when the id or email is taken."""
        await self._db.execute(UserQueries.insert, user.to_params())
        return user

    async def get(self, user_id: str) -> User | None:
        """The user, or None."""
        check_key("UserRepository.get", "user_id", user_id)
        return self._model_or_none(
            User, await self._db.fetch_one(UserQueries.get_by_id, {"id": user_id})
        )

    async def get_by_email(self, email: str) -> User | None:
        """The user with this email, compared in its identity form, or None.

        ``Kate@Example.com`` finds ``kate@example.com``, and the NFC and NFD spellings of an
        address are one address (see :mod:`agentsdb.rules.identity`). ValidationError when
        ``email`` cannot be an email address.
        """
        normalized = email_argument("UserRepository.get_by_email", "email", email)
        row = await self._db.fetch_one(UserQueries.get_by_email, {"email": normalized})
        return self._model_or_none(User, row)

    async def list(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """A page of users in id order; pass the last id of a page as ``after`` for the next."""
        check_cursor("UserRepository.list", "after", after)
        params = {"after": FIRST_TEXT_KEY if after is None else after, "limit": check_limit(limit)}
        return self._models(User, await self._db.fetch_all(UserQueries.list, params))

    async def update(self, user_id: str, changes: UserUpdate) -> User:
        """Change the given fields in one statement; NotFoundError if the user is absent."""
        check_key("UserRepository.update", "user_id", user_id)
        params = changes.to_params()
        params["id"] = user_id
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(UserQueries.update, params)
        if row is None:
            raise NotFoundError("user", user_id)
        return self._model(User, row)

    async def delete(self, user_id: str) -> None:
        """Delete the user and what belongs to them; NotFoundError if absent."""
        check_key("UserRepository.delete", "user_id", user_id)
        result = await self._db.execute(UserQueries.delete, {"id": user_id})
        if result.rows_affected == 0:
            raise NotFoundError("user", user_id)

    async def count(self) -> int:
        """How many users there are."""
        row = await self._db.fetch_one(UserQueries.count)
        return int(row["total"]) if row is not None else 0


__all__ = ["UserRepository"]
