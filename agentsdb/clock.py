"""The one timestamp format agentsdb writes: UTC ISO-8601 with microseconds and a ``Z``.

The rule lives in :mod:`agentsdb.rules.timestamps`; this module keeps the import path.
"""

from __future__ import annotations

from agentsdb.rules.timestamps import (
    TIMESTAMP_FORMAT,
    Clock,
    format_timestamp,
    parse_timestamp,
    utc_now,
)


def utc_now_text(clock: Clock = utc_now) -> str:
    """The time ``clock`` tells (default: now) in the stored format."""
    return format_timestamp(clock())


__all__ = [
    "TIMESTAMP_FORMAT",
    "Clock",
    "format_timestamp",
    "parse_timestamp",
    "utc_now",
    "utc_now_text",
]
