"""The one timestamp format agentsdb writes: UTC ISO-8601 with microseconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """``2026-11-22T11:45:00.123456Z``: sorts as text in time order."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    # isoformat is about 3x faster than strftime(TIMESTAMP_FORMAT) and gives the same text
    # once its "+00:00" becomes "Z".
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Read a timestamp written by :func:`format_timestamp`."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def utc_now_text() -> str:
    """The current time in the stored format."""
    return format_timestamp(utc_now())
