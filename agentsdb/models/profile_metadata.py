"""Per-agent social profile counters (one row per agent)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agentsdb.models._record import Key, Timestamp, now
from agentsdb.models._timestamped import Timestamped
from agentsdb.models.agent import NonNegative


class ProfileMetadata(Timestamped):
    """An agent's follower, follow and post counts; none of them may be negative."""

    id: Annotated[int, Field(ge=1)] | None = None
    agent_id: Key
    followers_count: NonNegative = 0
    follows_count: NonNegative = 0
    posts_count: NonNegative = 0
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


__all__ = ["ProfileMetadata"]
