"""How a legacy Bluesky profile is judged by the models' rules, before job ``bluesky-profiles``
writes its agent, bio and counters (both of its paths call this, so they refuse alike)."""

from __future__ import annotations

from agentsdb.jobs.checked import LEGACY_MODEL, checked
from agentsdb.models import Agent, PersonaBio, PersonaSource


def profile_refusal(
    did: str, handle: str, name: str, display_name: object, bio: tuple[str, str] | None
) -> str | None:
    """Why the profile's agent (``did``, the normalized ``handle``, ``name``, ``display_name``)
    or its chosen ``bio`` (text, source) cannot be stored, or None: the models' verdict, as
    the report's skip reason (``"invalid id"``, ``"invalid persona_bio"``...)."""
    agent = checked(
        Agent,
        {
            "id": did,
            "name": name,
            "model": LEGACY_MODEL,
            "handle": handle,
            "display_name": display_name,
            "persona_source": PersonaSource.SYNC_BLUESKY,
        },
    )
    if isinstance(agent, str):
        return agent
    if bio is not None:
        text, source = bio
        checked_bio = checked(
            PersonaBio, {"agent_id": did, "persona_bio": text, "persona_bio_source": source}
        )
        if isinstance(checked_bio, str):
            return checked_bio
    return None


__all__ = ["profile_refusal"]
