"""Persona bios: an agent's bio history."""

from __future__ import annotations

from agentsdb.errors import AgentsDBError, ValidationError
from agentsdb.models.persona_bio import PersonaBio
from agentsdb.queries.persona_bios import PersonaBioQueries
from agentsdb.repositories._base import Repository, check_limit
from agentsdb.rules.text import check_key


class PersonaBioRepository(Repository):
    """The ``agent_persona_bios`` table: each bio is a new row; the latest one is current."""

    async def create(self, bio: PersonaBio) -> PersonaBio:
        """Store a new bio version and return it with its id."""
        if bio.id is not None:
            raise ValidationError.refuse(
                "PersonaBioRepository.create",
                "id",
                bio.id,
                "is already stored; create a new PersonaBio",
            )
        row = await self._db.fetch_one(PersonaBioQueries.insert, bio.to_params())
        if row is None:
            raise AgentsDBError("the insert returned no id")
        return bio.stored_as(id=row["id"])

    async def get_latest(self, agent_id: str) -> PersonaBio | None:
        """The agent's current bio: newest ``created_at``, the later insert on a tie; or None."""
        check_key("PersonaBioRepository.get_latest", "agent_id", agent_id)
        row = await self._db.fetch_one(
            PersonaBioQueries.get_latest_by_agent_id, {"agent_id": agent_id}
        )
        return self._model_or_none(PersonaBio, row)

    async def list_for_agent(self, agent_id: str, *, limit: int = 100) -> list[PersonaBio]:
        """The agent's bios, newest first."""
        check_key("PersonaBioRepository.list_for_agent", "agent_id", agent_id)
        rows = await self._db.fetch_all(
            PersonaBioQueries.list_by_agent_id, {"agent_id": agent_id, "limit": check_limit(limit)}
        )
        return self._models(PersonaBio, rows)


__all__ = ["PersonaBioRepository"]
