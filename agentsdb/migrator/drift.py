"""Schema drift: the live schema against the one the tracking table recorded, kept reported
until someone accepts it.

The newest tracking row's ``schema_fingerprint`` is the fingerprint of the schema the migrations
left (:func:`agentsdb.migrator.tracking.schema_fingerprint`). When a migrate or a rollback finds
the live
schema different from it (changed outside migrations), it still records the fingerprint of the
schema it leaves, so later drift stays detectable, but followed by a note of the drift it found::

    schema-v1:<after the run> drift:<newest migration then> <recorded> <found>

The note is carried onto every later fingerprint (by migrate, rollback and repair) until
:func:`accept` records the live schema without one (``agentsdb accept-drift``). Keeping the note
inside the fingerprint column needs no new column, and an older version reading the value simply
sees a fingerprint that does not match, which it also reports as drift.

Pure functions here; the Migrator runs the programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from agentsdb.db.base import Atomic, Execute, FetchAll, FetchOne, Program, Row
from agentsdb.errors import RepairError
from agentsdb.migrator.plan import AppliedRecord
from agentsdb.migrator.tracking import TrackingSQL, schema_fingerprint

_NOTE = " drift:"

ACCEPT_HINT = (
    "inspect it (`agentsdb validate`), then fold it into a migration or undo it, or accept it "
    "as the new baseline with `agentsdb accept-drift`"
)


class Drift(NamedTuple):
    """What comparing the tracking rows with the live schema found."""

    error: str | None
    """Drift, found now or noted by an earlier run and not accepted yet."""
    warning: str | None
    """Drift cannot be checked (no fingerprint recorded after the newest migration)."""
    note: str | None
    """The note a run must keep on the fingerprint it records (None: no drift)."""


def split(value: str | None) -> tuple[str | None, str | None]:
    """A recorded ``schema_fingerprint`` as (fingerprint, drift note or None)."""
    if not value:
        return None, None
    fingerprint, found, note = value.partition(_NOTE)
    return fingerprint, (found + note).strip() if found else None


def recorded(fingerprint: str, note: str | None) -> str:
    """The ``schema_fingerprint`` value to record: the fingerprint and any unaccepted note."""
    return fingerprint if note is None else f"{fingerprint} {note}"


def _noted(note: str) -> str:
    head_id, was, found = [*note.removeprefix(_NOTE.strip()).split(" "), "?", "?"][:3]
    return (
        f"the schema was changed outside migrations after migration {head_id} "
        f"(recorded {was}, found {found}), and later runs kept that change; {ACCEPT_HINT}"
    )


def assess(applied: Sequence[AppliedRecord], live: str, live_cookie: int | None) -> Drift:
    """Compare the tracking rows (in apply order) with the live schema's fingerprint and cookie."""
    if not applied or not applied[-1].success:
        return Drift(None, None, None)
    head = applied[-1]
    fingerprint, note = split(head.schema_fingerprint)
    if fingerprint is None:
        # A run stopped before it recorded a fingerprint: an older row's note still holds.
        stamped = next((r for r in reversed(applied) if r.schema_fingerprint), None)
        note = split(stamped.schema_fingerprint)[1] if stamped is not None else None
        warning = None
        if head.schema_cookie is None or head.schema_cookie != live_cookie:
            # Without a schema counter (PostgreSQL) a change since cannot be ruled out either.
            warning = (
                f"no schema fingerprint was recorded after migration {head.id} (its run was "
                "interrupted) and the schema may have changed since, so drift cannot be checked"
            )
        return Drift(_noted(note) if note else None, warning, note)
    if fingerprint != live:
        error = (
            f"the live schema does not match the one recorded after migration {head.id}: it was "
            f"changed outside migrations (recorded {fingerprint}, live {live}); {ACCEPT_HINT}"
        )
        # The first drift stays the one named until it is accepted.
        return Drift(error, None, note or f"{_NOTE.strip()}{head.id} {fingerprint} {live}")
    return Drift(_noted(note) if note else None, None, note)


def newest_fingerprint_sql(table: str) -> str:
    """The newest recorded fingerprint (the one whose drift note, if any, still holds)."""
    return (
        f"SELECT schema_fingerprint FROM {table} WHERE schema_fingerprint IS NOT NULL "
        "ORDER BY seq DESC LIMIT 1"
    )


def kept_note(row: Row | None) -> str | None:
    """The drift note of a :func:`newest_fingerprint_sql` row, which a repair carries on."""
    return None if row is None else split(row["schema_fingerprint"])[1]


def live_schema(sql: TrackingSQL) -> Program[tuple[str, int | None]]:
    """The live schema's fingerprint and (SQLite) schema cookie."""
    rows: list[Row] = yield FetchAll(sql.schema_rows)
    cookie_row: Row | None = yield FetchOne(sql.schema_cookie)
    value = None if cookie_row is None else next(iter(cookie_row.values()))
    return schema_fingerprint(rows), None if value is None else int(value)


def accept(sql: TrackingSQL) -> Program[str | None]:
    """Record the live schema as the baseline on the newest row, dropping any drift note.

    Returns the drift accepted, or None when there was none (then nothing is written). One
    atomic write (one batch over libSQL's HTTP), guarded so that it changes nothing when another
    process recorded a newer row meanwhile.
    """
    present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
    if present is None:
        raise RepairError(f"there is no migration tracking table {sql.table!r}: nothing to accept")
    rows: list[Row] = yield FetchAll(sql.all_rows)
    applied = [AppliedRecord.from_row(row) for row in rows]
    if not applied:
        raise RepairError("no migration is recorded, so there is no schema baseline to accept")
    if not applied[-1].success:
        raise RepairError(
            f"migration {applied[-1].id} is dirty: resolve it with `agentsdb repair` first"
        )
    live, cookie = yield from live_schema(sql)
    found = assess(applied, live, cookie)
    if found.error is None and found.warning is None:
        return None
    stamp = (
        f"UPDATE {sql.table} SET schema_cookie = :schema_cookie, "
        "schema_fingerprint = :schema_fingerprint "
        f"WHERE seq = :seq AND seq = (SELECT MAX(seq) FROM {sql.table})"
    )
    params = {"schema_cookie": cookie, "schema_fingerprint": live, "seq": rows[-1]["seq"]}
    yield Atomic((Execute(stamp, params),))
    return found.error or found.warning


__all__ = [
    "ACCEPT_HINT",
    "Drift",
    "accept",
    "assess",
    "kept_note",
    "live_schema",
    "newest_fingerprint_sql",
    "recorded",
    "split",
]
