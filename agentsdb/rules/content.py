"""The content hashes, stated once: what makes two messages, or two embedded texts, the same.

A hash is for finding and comparing content (lookups, deduplicating memory vectors); it never
decides whether a message is stored. Messages are deduplicated only by an explicit
``client_message_id`` (see :class:`agentsdb.models.Message`): two turns that say the same thing
are two messages.

* :func:`message_content_hash` — SHA-256 over a message's role, sender, content and tool calls,
  written as compact JSON with object keys sorted (so the order of a tool call's keys does not
  matter). The models, the repositories and the ``agent-scope`` backfill all use it.
* :func:`text_content_hash` — SHA-256 of a text with runs of whitespace made one space and the
  ends trimmed: the hash of an embedding's content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

# Compact, key-sorted, non-ASCII kept: for messages without tool calls this is byte for byte the
# JSON the hash was taken over before the rule moved here, so those hashes did not change.
_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def message_content_hash(
    role: str, content: str, tool_calls: Sequence[object] = (), from_agent_id: str | None = None
) -> str:
    """SHA-256 (hex) of ``[role, from_agent_id, content, tool_calls]`` as canonical JSON."""
    canonical = _CANONICAL.encode([str(role), from_agent_id, content, list(tool_calls)])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalize_whitespace(text: str) -> str:
    """``text`` with runs of whitespace made one space and the ends trimmed."""
    return " ".join(text.split())


def text_content_hash(text: str) -> str:
    """SHA-256 (hex) of the whitespace-normalized text."""
    return hashlib.sha256(normalize_whitespace(text).encode("utf-8")).hexdigest()


__all__ = ["message_content_hash", "normalize_whitespace", "text_content_hash"]
