"""Profile counters: one row per agent."""

from __future__ import annotations

from agentsdb.errors import AgentsDBError
from agentsdb.models.profile_metadata import ProfileMetadata
from agentsdb.queries.profile_metadata import ProfileMetadataQueries
from agentsdb.repositories._base import Repository
from agentsdb.rules.text import check_key


class ProfileMetadataRepository(Repository):
    """The ``user_agent_profile_metadata`` table."""

    async def create_or_update(self, metadata: ProfileMetadata) -> ProfileMetadata:
        """Store the agent's counts, replacing any stored ones (one statement)."""
        params = metadata.to_params()
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(ProfileMetadataQueries.upsert, params)
        if row is None:
            raise AgentsDBError("the upsert returned no row")
        return self._model(ProfileMetadata, row)

    async def get_by_agent_id(self, agent_id: str) -> ProfileMetadata | None:
        """The agent's counts, or None."""
        check_key("ProfileMetadataRepository.get_by_agent_id", "agent_id", agent_id)
        row = await self._db.fetch_one(
            ProfileMetadataQueries.get_by_agent_id, {"agent_id": agent_id}
        )
        return self._model_or_none(ProfileMetadata, row)


__all__ = ["ProfileMetadataRepository"]
