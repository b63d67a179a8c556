"""The recorded history of a database and the digest that proves it in one query.

Each tracking row (an :class:`AppliedRecord`) carries the head digest after its migration
(:func:`chain_next`): a sum of one term per applied migration, so the newest row's digest and
the row count prove that every registered migration is applied unchanged (:func:`all_applied`),
and a row deleted from the middle shows as a gap the missing terms make up (:func:`find_missing`).
Pure functions: nothing here touches a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agentsdb.errors import MissingMigrationRecordError
from agentsdb.migration import Migration


@dataclass(frozen=True)
class AppliedRecord:
    """One row of the tracking table."""

    id: str
    description: str
    checksum: str
    success: bool
    started_at: str | None = None
    applied_at: str | None = None
    applied_by: str | None = None
    execution_time_ms: float | None = None
    chain: str | None = None
    schema_cookie: int | None = None
    schema_fingerprint: str | None = None
    down_checksum: str | None = None

    @property
    def dirty_direction(self) -> str:
        """Which way a dirty row was going: a rollback keeps the chain its apply recorded."""
        return "down" if self.chain else "up"

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> AppliedRecord:
        """Build a record from a tracking-table row."""
        time_ms = row.get("execution_time_ms")
        cookie = row.get("schema_cookie")
        return cls(
            id=str(row["id"]),
            description=str(row["description"]),
            checksum=str(row["checksum"]),
            success=bool(row["success"]),
            started_at=_text_or_none(row.get("started_at")),
            applied_at=_text_or_none(row.get("applied_at")),
            applied_by=_text_or_none(row.get("applied_by")),
            execution_time_ms=float(time_ms) if isinstance(time_ms, int | float) else None,
            chain=_text_or_none(row.get("chain")),
            schema_cookie=int(cookie) if isinstance(cookie, int) else None,
            schema_fingerprint=_text_or_none(row.get("schema_fingerprint")),
            down_checksum=_text_or_none(row.get("down_checksum")),
        )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


_DIGEST_MODULUS = 1 << 256


def _term(migration_id: str, checksum: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{migration_id}\n{checksum}".encode()).digest(), "big")


def chain_next(previous: str | None, migration_id: str, checksum: str) -> str:
    """The head digest after one more migration: previous + H(id ‖ checksum), mod 2**256.

    A sum rather than a hash chain, so the digest names the *set* of applied migrations and
    their checksums whatever order they were applied in: a database migrated out of order still
    gets the one-query start. Removing a migration's row (a rollback) leaves the previous row's
    digest, which is again the digest of what remains. Only the ``up`` checksum is a term: a
    ``down`` does not change what is applied (and the digests recorded before down checksums
    existed stay valid); downs are checked where they run, by the rollbacks.
    """
    total = (int(previous, 16) if previous else 0) + _term(migration_id, checksum)
    return f"{total % _DIGEST_MODULUS:064x}"


def chain_without(chain: str, migration_id: str, checksum: str) -> str:
    """``chain`` with one migration's term taken out (the inverse of :func:`chain_next`)."""
    total = int(chain, 16) - _term(migration_id, checksum)
    return f"{total % _DIGEST_MODULUS:064x}"


def find_missing(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], dialect: str
) -> MissingMigrationRecordError | None:
    """The first gap in the recorded history: a row whose digest is not the previous row's plus
    its own term counts rows that are no longer there (deleted from the middle). The missing
    ids are the run of unrecorded registered migrations, in order, whose terms make up the
    difference (with the code's checksums). Rows without a digest (dirty ones) end what can be
    checked.
    """
    recorded = {record.id for record in applied}
    candidates = [m for m in migrations if m.id not in recorded]
    previous: AppliedRecord | None = None
    for record in applied:
        if not record.success or record.chain is None:
            return None
        expected = chain_next(previous.chain if previous else None, record.id, record.checksum)
        if expected != record.chain:
            gap = (int(record.chain, 16) - int(expected, 16)) % _DIGEST_MODULUS
            missing = _terms_making(gap, candidates, dialect)
            # A break no deleted migration explains is a row edited by hand (its checksum is
            # then reported as a mismatch when it differs from the code's): keep looking.
            if missing:
                return MissingMigrationRecordError(
                    missing, previous.id if previous else None, record.id
                )
        previous = record
    return None


def _terms_making(gap: int, candidates: Sequence[Migration], dialect: str) -> list[str]:
    """The consecutive run of ``candidates`` whose digest terms sum to ``gap`` (or none)."""
    terms = [_term(m.id, m.checksum(dialect)) for m in candidates]
    for start in range(len(terms)):
        total = 0
        for end in range(start, len(terms)):
            total = (total + terms[end]) % _DIGEST_MODULUS
            if total == gap:
                return [m.id for m in candidates[start : end + 1]]
    return []


def all_applied(head: Mapping[str, object] | None, code_head: str | None, count: int) -> bool:
    """Whether the tracking table's ``head`` row (:attr:`TrackingSQL.head`; None: no rows)
    proves that the ``count`` registered migrations, whose digest is ``code_head``, are all
    applied unchanged: the O(1) start."""
    if head is None:
        return count == 0
    return (
        bool(head["success"])
        and not head["dirty"]
        and head["chain"] == code_head
        and int(str(head["recorded"])) == count
    )


def chain_of(migrations: Sequence[Migration], dialect: str) -> str | None:
    """The head digest the database holds once every migration is applied."""
    head: str | None = None
    for migration in migrations:
        head = chain_next(head, migration.id, migration.checksum(dialect))
    return head


__all__ = [
    "AppliedRecord",
    "all_applied",
    "chain_next",
    "chain_of",
    "chain_without",
    "find_missing",
]
