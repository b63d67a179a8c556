"""The tracking rows a run writes, and the reads that decide them (pure, or read-only programs)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentsdb.clock import format_timestamp, utc_now
from agentsdb.db.base import FetchAll, FetchOne, Program, Row
from agentsdb.db.migration_runner import Decide, MigrationRunner, Record, Statement
from agentsdb.errors import DirtyMigrationError
from agentsdb.migration import Migration
from agentsdb.migrator import drift as drift_rules
from agentsdb.migrator.plan import chain_next
from agentsdb.migrator.tracking import TrackingSQL, schema_fingerprint

log = logging.getLogger("agentsdb.migrations")

_identity: tuple[int, str] | None = None

#: Exactly the parameters of ``TrackingSQL.finish`` (a libSQL server rejects unused ones).
FINISH_PARAMETERS = (
    "id",
    "checksum",
    "down_checksum",
    "chain",
    "schema_fingerprint",
    "applied_at",
    "execution_time_ms",
)


def who() -> str:
    """``host:pid`` of this process, for the tracking rows (recomputed after a fork)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{socket.gethostname()}:{pid}")
    return _identity[1]


@dataclass(frozen=True)
class Context:
    """What every unit of a run needs: the tracking SQL, the dialect and the backend's runner."""

    sql: TrackingSQL
    dialect: str
    runner: MigrationRunner

    def row(
        self,
        migration: Migration,
        latest: Row,
        started_at: datetime,
        *,
        elapsed_ms: float | None,
        success: bool,
    ) -> dict[str, Any]:
        """The tracking row of ``migration``, applied after the row ``latest`` (or dirty)."""
        checksum = migration.checksum(self.dialect)
        return {
            "id": migration.id,
            "description": migration.description,
            "checksum": checksum,
            "down_checksum": migration.down_checksum(self.dialect),
            "chain": chain_next(latest.get("chain"), migration.id, checksum) if success else None,
            "schema_fingerprint": None,
            "started_at": format_timestamp(started_at),
            "applied_at": format_timestamp(utc_now()) if success else None,
            "execution_time_ms": elapsed_ms,
            "success": 1 if success else 0,
            "applied_by": who(),
        }

    def timing(self, migration: Migration) -> Any:
        """The statement recording ``migration``'s time after the fact (see ``transact``)."""
        sql = self.sql.set_time

        def statement(elapsed: float) -> Statement:
            return sql, {"id": migration.id, "execution_time_ms": elapsed}

        return statement

    def claim(self, migration: Migration, writes: Any) -> Decide:
        """Under the lock: None when another process already applied ``migration`` meanwhile,
        DirtyMigrationError when its row is dirty, else ``writes(latest, elapsed)`` for the
        newest row ``latest`` (an empty dict when there is none)."""
        rows: list[Row] = yield FetchAll(self.sql.claim_rows, {"id": migration.id})
        existing = next((row for row in rows if row["id"] == migration.id), None)
        if existing is not None:
            if not existing["success"]:
                raise DirtyMigrationError(
                    migration.id,
                    existing["started_at"],
                    existing["applied_by"],
                    "down" if existing["chain"] else "up",
                )
            log.info("migration %s was applied by another process meanwhile; skipped", migration.id)
            return None
        latest: Row = rows[0] if rows else {}

        def record(elapsed: float | None) -> Sequence[Statement]:
            result: Sequence[Statement] = writes(latest, elapsed)
            return result

        return record

    def stamp(self, note: str | None) -> Decide:
        """The live schema's fingerprint on the newest row, with the drift ``note`` (see
        :mod:`agentsdb.migrator.drift`), only while the schema is what that row recorded (its
        cookie)."""
        head: Row | None = yield FetchOne(self.sql.latest_row)
        cookie = yield from schema_cookie(self.sql)
        if head is None or not head["success"] or head["schema_cookie"] != cookie:
            return None
        rows: list[Row] = yield FetchAll(self.sql.schema_rows)
        params = {
            "schema_cookie": cookie,
            "schema_fingerprint": drift_rules.recorded(schema_fingerprint(rows), note),
        }
        return fixed([(self.sql.stamp_if_unchanged, params)])


def fixed(statements: Sequence[Statement]) -> Record:
    """A :data:`~agentsdb.db.migration_runner.Record` writing ``statements``."""

    def record(_elapsed: float | None) -> Sequence[Statement]:
        return statements

    return record


def writes(statements: Sequence[Statement]) -> Decide:
    """Reads nothing and writes ``statements``."""
    yield from ()
    return fixed(statements)


def schema_cookie(sql: TrackingSQL) -> Program[int | None]:
    """SQLite's schema counter; None on a dialect that has none."""
    row: Row | None = yield FetchOne(sql.schema_cookie)
    value = None if row is None else next(iter(row.values()))
    return None if value is None else int(value)


__all__ = ["FINISH_PARAMETERS", "Context", "fixed", "schema_cookie", "who", "writes"]
