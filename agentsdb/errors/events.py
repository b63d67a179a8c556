"""The errors of the event store: refused arguments, a failed expected version, a reused id."""

from __future__ import annotations

from agentsdb.errors.base import AgentsDBError


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: messages never repeat a whole large input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class InvalidEventError(AgentsDBError, ValueError):
    """An argument given to the event store was refused before any SQL ran.

    ``argument`` names it (``"stream_id"``, ``"events[2].data"``...) and ``problem`` says what is
    wrong; the message quotes at most a short prefix of the value.
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


class ConcurrencyError(AgentsDBError):
    """An append's expected version did not hold: another writer appended (or deleted) first.

    ``expected`` is what the caller passed (a number or a ``StreamState``), ``actual`` the
    stream's version read after the failure (0 when it holds no event). Reload the stream,
    decide again, and append with the new version.

    ``reason`` says why when the versions alone do not: a stream deleted and written again up
    to the expected version (``actual`` then equals ``expected``), or an append that lost the
    race for the next version too many times in a row.
    """

    def __init__(
        self, stream_id: str, expected: object, actual: int, *, reason: str | None = None
    ) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        self.reason = reason
        name = getattr(expected, "name", None)
        wanted = name if isinstance(name, str) else f"version {expected}"
        why = reason if reason is not None else f"the stream is at version {actual}"
        super().__init__(
            f"stream {_short(stream_id)}: expected {wanted}, but {why}; reload it and retry"
        )


class EventIdConflictError(AgentsDBError):
    """An append reused an event id already stored with other content (or in another place).

    A retry of an append must send the same events (type, data, metadata, schema version) to
    the same stream; anything else with the same id is a different event and needs a new id.
    """

    def __init__(self, event_id: str, reason: str) -> None:
        self.event_id = event_id
        self.reason = reason
        super().__init__(f"event id {_short(event_id)} is already stored: {reason}")
