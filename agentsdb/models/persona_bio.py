"""Persona bios: an agent's bio history, the latest one wins."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from agentsdb.models._record import Key, Text, Timestamp, now
from agentsdb.models._timestamped import Timestamped


class PersonaBioSource(StrEnum):
    """Who wrote a persona bio."""

    AI_GENERATED = "ai_generated"
    USER_PROVIDED = "user_provided"


class PersonaBio(Timestamped):
    """One version of an agent's bio. ``id`` is assigned by the database when stored."""

    id: Annotated[int, Field(ge=1)] | None = None
    agent_id: Key
    persona_bio: Text
    persona_bio_source: PersonaBioSource
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


__all__ = ["PersonaBio", "PersonaBioSource"]
