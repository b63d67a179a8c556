"""Agent instance ids, their event streams, and the ids derived from them.

An agent *instance* (this aggregate) is identified by a UUID of version 4 (random, the default)
or 5 (derived by name, for imports that must be repeatable), in canonical lower-case text. Its
events live in the stream ``agent-<uuid>``.

Agent *definitions* (rows of the ``agents`` table) get UUIDv7 keys from :func:`agentsdb.ids.new_id`
or a Bluesky DID. Refusing version 7 here keeps the two id spaces apart: no id the ``agents`` table
generates can name an agent instance, so one id never means two agents.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Final

from agentsdb.aggregate.errors import InvalidAgentIdError
from agentsdb.queries.agent_read_models import AGENT_STREAM_PREFIX

#: The prefix of every agent instance's event stream.
STREAM_PREFIX: Final = AGENT_STREAM_PREFIX

#: The UUID versions an agent instance id may have: 4 (random) and 5 (derived by name).
AGENT_ID_VERSIONS: Final = frozenset({4, 5})

#: The namespace of the ids this module derives by name (uuid5). Never change it: derived agent
#: ids and the ids of client-response and resume events depend on it.
AGENT_NAMESPACE: Final = uuid.UUID("6f1c4a52-8d0e-5b9a-9a57-3c2f0e4d7b10")


def validate_agent_id(value: object) -> str:
    """``value`` as an agent instance id, or :class:`InvalidAgentIdError` saying why not."""
    if not isinstance(value, str):
        raise InvalidAgentIdError(value, "must be a string")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidAgentIdError(value, "must be a UUID such as str(uuid.uuid4())") from None
    if str(parsed) != value:
        raise InvalidAgentIdError(value, f"must be written in canonical form, {parsed}")
    if parsed.version not in AGENT_ID_VERSIONS:
        raise InvalidAgentIdError(
            value,
            f"is a version {parsed.version} UUID; agent instances use version 4 (random) or 5 "
            "(derived), so they cannot collide with the version 7 keys of the agents table",
        )
    return value


def new_agent_id() -> str:
    """A new random (version 4) agent instance id."""
    return str(uuid.uuid4())


def derived_agent_id(*parts: str) -> str:
    """A version 5 agent id derived from ``parts``: the same parts always give the same id.

    For imports that must create nothing on a rerun, e.g. ``derived_agent_id(user_id, kind)``.
    """
    if not parts:
        raise ValueError("derived_agent_id needs at least one part")
    return str(uuid.uuid5(AGENT_NAMESPACE, "\x1f".join(("agent", *parts))))


# Pure, and on every command's path (parsing the UUID is most of a cached command's own work).
@lru_cache(maxsize=4096)
def stream_id_for(agent_id: str) -> str:
    """The event stream of an agent instance: ``agent-<uuid>``."""
    return STREAM_PREFIX + validate_agent_id(agent_id)


def agent_id_from_stream(stream_id: str) -> str:
    """The agent id in an ``agent-<uuid>`` stream id; :class:`InvalidAgentIdError` otherwise."""
    if not stream_id.startswith(STREAM_PREFIX):
        raise InvalidAgentIdError(stream_id, f"an agent stream id starts with {STREAM_PREFIX!r}")
    return validate_agent_id(stream_id.removeprefix(STREAM_PREFIX))


def derived_event_id(agent_id: str, kind: str, key: str) -> str:
    """A deterministic event id for an event that must be recorded at most once per ``key``.

    A client response and a resume use it with the call id, so a duplicate delivered to another
    worker appends an event with the same id, which the event store treats as a retry.
    """
    return str(uuid.uuid5(AGENT_NAMESPACE, "\x1f".join(("event", agent_id, kind, key))))


__all__ = [
    "AGENT_ID_VERSIONS",
    "AGENT_NAMESPACE",
    "STREAM_PREFIX",
    "agent_id_from_stream",
    "derived_agent_id",
    "derived_event_id",
    "new_agent_id",
    "stream_id_for",
    "validate_agent_id",
]
