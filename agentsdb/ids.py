"""Text keys for new rows: UUIDv7, so keys generated later sort later.

The rule and the generator live in :mod:`agentsdb.rules.ids`; this module keeps the import
path ``agentsdb.ids.new_id``.
"""

from __future__ import annotations

from agentsdb.rules.ids import IdFactory, UuidV7Generator, new_id

__all__ = ["IdFactory", "UuidV7Generator", "new_id"]
