"""Timestamps, stated once: the one stored format, reading it back, reading legacy values, and
the clocks that stamp new rows.

* **Stored format** — UTC ISO-8601 with microseconds and a ``Z``
  (``2026-11-22T11:45:00.123456Z``, :data:`TIMESTAMP_FORMAT`), on every backend, so stored
  timestamps sort as text in time order. :func:`format_timestamp` writes it,
  :func:`parse_timestamp` reads it back.
* **Legacy values** — :func:`parse_legacy_timestamp` reads what a legacy table may hold (an ISO
  text with or without ``Z`` or an offset, or a driver's ``datetime``); a value without a zone is
  UTC. Every backfill job reads legacy times through it.
* **Clocks** — a clock is a ``Callable[[], datetime]`` passed in where time is needed, with
  :func:`utc_now` as the default. :class:`StrictClock` never returns the same moment twice, so
  two rows stamped in one microsecond still get distinct, ordered timestamps; the models'
  default (:data:`now`) is one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

#: The stored format, as a ``strftime`` / ``strptime`` pattern.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

#: Something that tells the time: a timezone-aware moment in UTC.
Clock: TypeAlias = Callable[[], datetime]

_ONE_MICROSECOND = timedelta(microseconds=1)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """``2026-11-22T11:45:00.123456Z``: the stored text of an aware moment, in UTC.

    ValueError for a naive ``datetime`` (its zone is unknown).
    """
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        moment = moment.astimezone(UTC)
    # Rows written in the same second share the text up to the seconds: it is formatted once
    # (by isoformat, whose text strftime(TIMESTAMP_FORMAT) gives too, as
    # tests/test_rules_timestamps.py checks) and each call adds the microseconds: 3x faster.
    second = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    last = _LAST_SECOND.value
    if last[0] != second:
        last = (second, moment.replace(microsecond=0, tzinfo=None).isoformat())
        _LAST_SECOND.value = last
    return f"{last[1]}.{moment.microsecond:06d}Z"


class _LastSecond:
    """The second formatted last and its text (``2026-11-22T11:45:00``): one tuple, so that a
    thread never pairs one second with another thread's text."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: tuple[tuple[int, ...], str] = ((), "")


_LAST_SECOND = _LastSecond()


def parse_timestamp(text: str) -> datetime:
    """Read a timestamp written by :func:`format_timestamp`; ValueError for other text."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def parse_legacy_timestamp(value: object) -> datetime | None:
    """A legacy timestamp as an aware UTC ``datetime``, or None when it is not one.

    Accepts a ``datetime`` (naive means UTC) or ISO-8601 text (``2024-02-01 10:00:00``,
    ``2024-02-01T10:00:00Z``, ``2024-02-01T12:00:00+02:00``, ``2024-02-01``), surrounding
    whitespace ignored. Anything else (blank, unreadable, another type) is None.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or "\x00" in text:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def legacy_timestamp_text(value: object, default: str) -> str:
    """:func:`parse_legacy_timestamp` of ``value`` in the stored format, else ``default``."""
    moment = parse_legacy_timestamp(value)
    return default if moment is None else format_timestamp(moment)


class StrictClock:
    """A clock whose every reading is later than the one before (by at least a microsecond).

    ``source`` tells the time (default :func:`utc_now`); when it stands still or steps back,
    the reading moves one microsecond past the last one. Thread-safe.
    """

    def __init__(self, source: Clock = utc_now) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._last = datetime.min.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        moment = self._source()
        with self._lock:
            if moment <= self._last:
                moment = self._last + _ONE_MICROSECOND
            self._last = moment
        return moment


#: The models' default clock: the current UTC time, later than every value it returned before.
now: Clock = StrictClock()


__all__ = [
    "TIMESTAMP_FORMAT",
    "Clock",
    "StrictClock",
    "format_timestamp",
    "legacy_timestamp_text",
    "now",
    "parse_legacy_timestamp",
    "parse_timestamp",
    "utc_now",
]
