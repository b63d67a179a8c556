"""What every repository shares: the database, limits, timestamps and row-to-model plumbing."""

from __future__ import annotations

from typing import TypeVar

from agentsdb.db.base import Database, Row
from agentsdb.errors import ValidationError
from agentsdb.models._record import Record
from agentsdb.rules.timestamps import Clock, format_timestamp, now

M = TypeVar("M", bound=Record)

#: The largest page a listing returns.
MAX_LIMIT = 10_000

#: The first-page cursor of tables with text keys: every key sorts after ''.
FIRST_TEXT_KEY = ""

#: The first-page cursor of tables with integer keys.
FIRST_INT_KEY = 0


def check_limit(limit: int) -> int:
    """``limit`` itself, or ValidationError when it is not an integer from 1 to MAX_LIMIT."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError.refuse(
            "page", "limit", limit, f"must be an integer from 1 to {MAX_LIMIT}"
        )
    return limit


def model_or_none(model: type[M], row: Row | None, *, json_decoded: bool = False) -> M | None:
    """The model of a row, or None for no row."""
    return None if row is None else model.from_row(row, json_decoded=json_decoded)


def models(model: type[M], rows: list[Row], *, json_decoded: bool = False) -> list[M]:
    """The models of rows, in order."""
    return [model.from_row(row, json_decoded=json_decoded) for row in rows]


class Repository:
    """Base of the repositories: holds the database they work on and reads its rows.

    ``clock`` tells the time the repository stamps on what it changes (``updated_at``, an
    archive or finish time); the default is the models' clock
    (:data:`agentsdb.rules.timestamps.now`), whose readings strictly increase. A new row keeps
    the ``created_at``/``updated_at`` of the model passed in.
    """

    def __init__(self, db: Database, *, clock: Clock = now) -> None:
        self._db = db
        self._json_decoded = db.json_decoded
        self._clock = clock

    def _stamp(self) -> str:
        """The clock's time in the stored timestamp format."""
        return format_timestamp(self._clock())

    @property
    def db(self) -> Database:
        """The database this repository reads and writes."""
        return self._db

    def _model(self, model: type[M], row: Row) -> M:
        return model.from_row(row, json_decoded=self._json_decoded)

    def _model_or_none(self, model: type[M], row: Row | None) -> M | None:
        return None if row is None else model.from_row(row, json_decoded=self._json_decoded)

    def _models(self, model: type[M], rows: list[Row]) -> list[M]:
        decoded = self._json_decoded
        return [model.from_row(row, json_decoded=decoded) for row in rows]


__all__ = [
    "FIRST_INT_KEY",
    "FIRST_TEXT_KEY",
    "MAX_LIMIT",
    "Repository",
    "check_limit",
    "model_or_none",
    "models",
]
