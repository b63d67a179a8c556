"""Integrity checks of a SQLite (or libSQL) database file: ``Database.check_integrity``.

``PRAGMA integrity_check`` walks every b-tree page of the file and checks that each index
matches its table; ``PRAGMA quick_check`` does the walk without the index comparison (O(N)
instead of O(N log N)). Both answer one row ``ok`` for a sound file, else up to 100 rows that
each describe one problem. On a badly damaged file SQLite may instead fail the check itself with
SQLITE_CORRUPT ("database disk image is malformed"); that failure is the check's finding, so it is
reported as a problem rather than raised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

INTEGRITY_CHECK = "PRAGMA integrity_check"
QUICK_CHECK = "PRAGMA quick_check"

_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def check_sql(*, quick: bool) -> str:
    """The PRAGMA that runs the check."""
    return QUICK_CHECK if quick else INTEGRITY_CHECK


def problems_of(values: Sequence[object]) -> list[str]:
    """The problems the PRAGMA's rows (its one column) describe; empty when it said ``ok``."""
    found = [str(value) for value in values]
    return [] if found == ["ok"] else found


def check_file(conn: sqlite3.Connection, quick: bool) -> list[str]:
    """Run the check on a sqlite3 connection (on aiosqlite's worker thread)."""
    try:
        rows = conn.execute(check_sql(quick=quick)).fetchall()
    except sqlite3.DatabaseError as error:
        code = getattr(error, "sqlite_errorcode", None)
        if code is None or (code & 0xFF) not in _DAMAGE_CODES:
            raise
        return [f"SQLite could not finish the check: {error}"]
    return problems_of([row[0] for row in rows])


__all__ = ["INTEGRITY_CHECK", "QUICK_CHECK", "check_file", "check_sql", "problems_of"]
