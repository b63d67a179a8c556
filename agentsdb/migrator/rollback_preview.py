"""What a rollback would delete, counted before it runs (``agentsdb rollback --dry-run``).

The counts come from the down statements' text, read one statement at a time with simple rules,
and from one ``COUNT(*)`` query per finding, run against the database as it is now:

* ``DROP TABLE [IF EXISTS] t`` deletes every row of ``t``: ``SELECT COUNT(*) FROM t``.
  When an earlier statement of the same down copied ``t``'s rows into another table
  (``INSERT INTO n ... SELECT ... FROM t``, a table rebuild), the rows survive in the copy;
  what is lost are the values of the columns the copy leaves out, which are not counted, so
  every row of ``t`` is counted as at risk instead.
* ``ALTER TABLE t DROP [COLUMN] c`` (one or several) deletes the values of ``c``:
  ``SELECT COUNT(*) FROM t WHERE c IS NOT NULL``. A column an earlier step of the same rollback
  added (``ADD COLUMN``) counts as empty.
* ``DELETE FROM t ...`` deletes what ``SELECT COUNT(*) FROM t ...`` counts; ``TRUNCATE t``
  every row of ``t``.

Not counted, and listed as such: rows removed by ``ON DELETE CASCADE`` or by triggers, values an
``UPDATE`` overwrites, statements that start with ``WITH``, a ``DELETE`` with ``RETURNING``, and
a ``TRUNCATE`` of several tables. Each step is counted against the database as it is before the
rollback, so a later step's count does not see what an earlier step will delete. A count that
fails (say, the table does not exist) is reported as unknown, and an unknown count makes the
rollback ask for confirmation just as a positive one does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from agentsdb.db.base import Database
from agentsdb.errors import DatabaseError
from agentsdb.migration import Migration

LossKind = Literal["table", "column", "rows", "rebuild"]

_SHOWN = 80
# An identifier as SQL writes it: plain, "quoted", `quoted` or [quoted], optionally schema.name.
_PART = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*)'
_NAME = rf"{_PART}(?:\s*\.\s*{_PART})?"
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>{_NAME})\s*$", re.I)
_ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_NAME})\s+(?P<rest>.*)$",
    re.I | re.S,
)
# DROP [COLUMN] [IF EXISTS] c, but not DROP CONSTRAINT/DEFAULT/NOT NULL/... of PostgreSQL.
_DROP_COLUMN = re.compile(
    r"\bDROP\s+(?!(?:CONSTRAINT|DEFAULT|NOT|IDENTITY|EXPRESSION)\b)"
    rf"(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(?P<column>{_PART})",
    re.I,
)
_ADD_COLUMN = re.compile(
    rf"\bADD\s+(?!(?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b)(?:COLUMN\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<column>{_PART})",
    re.I,
)
_DELETE = re.compile(rf"^DELETE\s+FROM\s+(?P<table>{_NAME})(?P<rest>.*)$", re.I | re.S)
_TRUNCATE = re.compile(
    rf"^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(?P<table>{_NAME})(?P<rest>[^,]*)$", re.I | re.S
)
_COPY = re.compile(
    rf"^(?:INSERT|REPLACE)\s+(?:OR\s+\w+\s+)?INTO\s+{_NAME}.*?\bSELECT\b.*?\bFROM\s+(?P<source>{_NAME})",
    re.I | re.S,
)
_REBUILD_NOTE = (
    "the rows are kept; values in the columns the rebuild leaves out are lost, uncounted"
)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
_UNCOUNTED = re.compile(r"^(?:UPDATE|WITH|DELETE|TRUNCATE)\b", re.I)


def _key(name: str) -> str:
    """An identifier compared as SQL compares it: unquoted, case-folded."""
    return re.sub(r'["`\[\]\s]', "", name).lower()


def _shown(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


@dataclass(frozen=True, slots=True)
class Loss:
    """What one down statement deletes, and the query that counts it.

    ``kind``: ``table`` (every row of a dropped table), ``column`` (the values of a dropped
    column), ``rows`` (a DELETE or TRUNCATE) or ``rebuild`` (a table rebuilt without some of its
    columns: every row is at risk). ``rows`` is None when the count failed; ``note`` says why.
    """

    statement: str
    kind: LossKind
    table: str
    column: str | None
    count_sql: str | None
    rows: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StepPreview:
    """One migration's down: what it deletes and the statements whose effect is not counted."""

    migration: Migration
    losses: tuple[Loss, ...]
    not_counted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RollbackPreview:
    """The rollback's steps (newest first), each with its counts."""

    steps: tuple[StepPreview, ...] = field(default_factory=tuple)

    @property
    def rows_at_risk(self) -> int | None:
        """The rows and values the steps would delete, summed; None when a count is unknown."""
        counts = [loss.rows for step in self.steps for loss in step.losses]
        if any(count is None for count in counts):
            return None
        return sum(count for count in counts if count is not None)

    @property
    def needs_confirmation(self) -> bool:
        """True when some step deletes data (or may: a count is unknown)."""
        return any(
            loss.rows is None or loss.rows > 0 for step in self.steps for loss in step.losses
        )


def find_losses(
    statements: Sequence[str], added: set[tuple[str, str]] | None = None
) -> tuple[list[Loss], list[str]]:
    """The losses in one down's statements (pure: no database), and what is not counted.

    ``added`` collects the (table, column) pairs that ``ADD COLUMN`` statements create, across
    the steps of one rollback; a column in it is counted as empty when a later step drops it.
    """
    added = set() if added is None else added
    copied: set[str] = set()
    losses: list[Loss] = []
    uncounted: list[str] = []
    for statement in statements:
        sql = _COMMENTS.sub(" ", statement).strip().rstrip(";").strip()
        shown = _shown(statement)
        if match := _COPY.match(sql):
            copied.add(_key(match["source"]))
        elif match := _DROP_TABLE.match(sql):
            table = match["table"]
            kind: LossKind = "rebuild" if _key(table) in copied else "table"
            losses.append(Loss(shown, kind, table, None, f"SELECT COUNT(*) AS n FROM {table}"))
        elif match := _ALTER_TABLE.match(sql):
            table = match["table"]
            for column_match in _ADD_COLUMN.finditer(match["rest"]):
                added.add((_key(table), _key(column_match["column"])))
            for column_match in _DROP_COLUMN.finditer(match["rest"]):
                column = column_match["column"]
                if (_key(table), _key(column)) in added:
                    note = "added earlier in this rollback"
                    losses.append(Loss(shown, "column", table, column, None, 0, note))
                    continue
                count = f"SELECT COUNT(*) AS n FROM {table} WHERE {column} IS NOT NULL"
                losses.append(Loss(shown, "column", table, column, count))
        elif (match := _DELETE.match(sql)) and not _RETURNING.search(sql):
            table = match["table"]
            count = f"SELECT COUNT(*) AS n FROM {table}{match['rest']}"
            losses.append(Loss(shown, "rows", table, None, count))
        elif match := _TRUNCATE.match(sql):
            table = match["table"]
            losses.append(Loss(shown, "rows", table, None, f"SELECT COUNT(*) AS n FROM {table}"))
        elif _UNCOUNTED.match(sql):
            uncounted.append(shown)
    return losses, uncounted


async def _count(db: Database, loss: Loss) -> Loss:
    if loss.count_sql is None:
        return loss
    try:
        row = await db.fetch_one(loss.count_sql)
    except DatabaseError as error:
        # The rollback itself would meet the same problem; the preview reports it and the
        # unknown count makes the command ask before going on.
        return replace(loss, note=f"not counted: {error}")
    rows = 0 if row is None else int(row["n"])
    return replace(loss, rows=rows, note=_REBUILD_NOTE if loss.kind == "rebuild" else None)


async def preview_rollback(db: Database, plan: Sequence[Migration]) -> RollbackPreview:
    """Count what undoing ``plan`` (newest first, as ``Migrator.plan_rollback`` returns it)
    would delete in ``db``, changing nothing."""
    added: set[tuple[str, str]] = set()
    steps: list[StepPreview] = []
    for migration in plan:
        statements = migration.down_statements(db.dialect) or ()
        losses, uncounted = find_losses(statements, added)
        counted = [await _count(db, loss) for loss in losses]
        steps.append(StepPreview(migration, tuple(counted), tuple(uncounted)))
    return RollbackPreview(tuple(steps))


__all__ = ["Loss", "RollbackPreview", "StepPreview", "find_losses", "preview_rollback"]
