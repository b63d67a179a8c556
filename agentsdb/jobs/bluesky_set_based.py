"""The ``bluesky-profiles`` batch decided and written with set-based SQL, on a target whose TEMP
tables persist between calls (``Database.temp_tables_persist``: SQLite).

Row by row (``ExecuteMany`` of each target table, decisions in Python against sets read from the
target) the job runs at a third of the speed of an ``INSERT ... SELECT``. Here each batch is
copied once into a TEMP table (one ``ExecuteMany``), the target-dependent decisions (agent
already there, handle taken, bio already there, counters unchanged / changed) are made with
``UPDATE`` statements on that table, the report is one ``GROUP BY``, and the writes are
``INSERT ... SELECT``. What depends on the source row alone (handle normalization, name, clock
format, bio choice, counts) is still computed in Python, with the very functions the row-by-row
step uses, so both steps decide every row alike. Everything runs in the batch's program, inside
the transaction that saves the checkpoint; a dry run makes the same decisions and skips the
writes. The SQL is portable; what it needs from the target is that the batch table and the dry
run's table outlive one call, which only a Database that is one connection promises.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from agentsdb.db.base import Execute, ExecuteMany, FetchAll, Program, Row
from agentsdb.jobs.bluesky_plain import (
    AGENTS,
    BIOS,
    COUNTS,
    INVALID_HANDLE,
    LEGACY_MODEL,
    METADATA,
    ProfilesStep,
    choose_bio,
    handle_of,
    non_blank,
)
from agentsdb.jobs.convert import to_clock
from agentsdb.jobs.profile_rows import profile_refusal
from agentsdb.jobs.report import JobReport
from agentsdb.rules.timestamps import Clock, format_timestamp, utc_now

_BATCH = "agentsdb_bluesky_batch"
# A dry run writes no agents, so later batches could not see the handles earlier ones would
# have taken: it keeps them here (connection-private, never written to the database file).
_DRY_CREATED = "agentsdb_bluesky_dry_created"
_CREATE_DRY_CREATED = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_DRY_CREATED} (handle TEXT PRIMARY KEY, did TEXT NOT NULL)"
)
_REMEMBER_DRY_CREATED = (
    f"INSERT INTO {_DRY_CREATED} (handle, did) "
    f"SELECT handle, did FROM {_BATCH} WHERE agent = 'created' ON CONFLICT (handle) DO NOTHING"
)

_CREATE = f"""CREATE TEMP TABLE IF NOT EXISTS {_BATCH} (
    pos INTEGER PRIMARY KEY,
    did TEXT NOT NULL,
    handle TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT,
    created_at TEXT NOT NULL,
    bio TEXT,
    bio_source TEXT,
    followers_count INTEGER,
    follows_count INTEGER,
    posts_count INTEGER,
    negative TEXT,
    skip TEXT,
    agent TEXT,
    twin INTEGER NOT NULL,
    bio_action TEXT,
    metadata_action TEXT
)"""

_COLUMNS = (
    "pos",
    "did",
    "handle",
    "name",
    "display_name",
    "created_at",
    "bio",
    "bio_source",
    *COUNTS,
    "negative",
    "skip",
    "twin",
)

_LOAD = (
    f"INSERT INTO {_BATCH} ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)

# 1. Agents already there are unchanged, whatever the rest of the row says; then the reason
# decided from the source row alone; then the rest are created unless their handle belongs to an
# agent, or to an earlier row of the batch that is itself no skip and no agent already there.
_DECIDE_AGENTS = f"""UPDATE {_BATCH} SET agent = CASE
    WHEN EXISTS (SELECT 1 FROM agents a WHERE a.id = {_BATCH}.did) THEN 'unchanged'
    WHEN skip IS NOT NULL THEN skip
    WHEN EXISTS (SELECT 1 FROM agents a WHERE a.handle = {_BATCH}.handle)
        OR EXISTS (SELECT 1 FROM {_DRY_CREATED} d WHERE d.handle = {_BATCH}.handle)
        OR twin AND EXISTS (SELECT 1 FROM {_BATCH} e
            WHERE e.handle = {_BATCH}.handle AND e.pos < {_BATCH}.pos AND e.skip IS NULL
                AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.id = e.did))
    THEN 'handle belongs to another agent' ELSE 'created' END"""

# 2. Bio and counters of every row whose agent is there or created (those of a skipped agent
# are not written), against the state before this batch writes anything.
_DECIDE_CHILDREN = f"""UPDATE {_BATCH} SET
    bio_action = CASE
        WHEN agent NOT IN ('unchanged', 'created') THEN NULL
        WHEN bio IS NULL THEN 'no bio in the source'
        WHEN agent = 'unchanged' AND EXISTS
            (SELECT 1 FROM agent_persona_bios b WHERE b.agent_id = {_BATCH}.did)
            THEN 'unchanged'
        ELSE 'created' END,
    metadata_action = CASE
        WHEN agent NOT IN ('unchanged', 'created') THEN 'agent skipped'
        WHEN negative IS NOT NULL THEN negative
        WHEN agent = 'created' THEN 'created'
        WHEN EXISTS (SELECT 1 FROM user_agent_profile_metadata m
            WHERE m.agent_id = {_BATCH}.did
                AND m.followers_count = {_BATCH}.followers_count
                AND m.follows_count = {_BATCH}.follows_count
                AND m.posts_count = {_BATCH}.posts_count)
            THEN 'unchanged'
        WHEN EXISTS (SELECT 1 FROM user_agent_profile_metadata m
            WHERE m.agent_id = {_BATCH}.did)
            THEN 'updated'
        ELSE 'created' END"""

_TALLY = f"""SELECT agent, bio_action, metadata_action, COUNT(*) AS n
FROM {_BATCH} GROUP BY agent, bio_action, metadata_action"""

_WRITE_AGENTS = f"""INSERT INTO agents
    (id, name, model, handle, display_name, persona_source, created_at, updated_at)
SELECT did, name, :model, handle, display_name, 'sync_bluesky', created_at, :now
FROM {_BATCH} WHERE agent = 'created' ORDER BY pos
ON CONFLICT (id) DO NOTHING"""

_WRITE_BIOS = f"""INSERT INTO agent_persona_bios
    (agent_id, persona_bio, persona_bio_source, created_at, updated_at)
SELECT did, bio, bio_source, :now, :now
FROM {_BATCH} WHERE bio_action = 'created' ORDER BY pos"""

_WRITE_METADATA = f"""INSERT INTO user_agent_profile_metadata
    (agent_id, followers_count, follows_count, posts_count, created_at, updated_at)
SELECT did, followers_count, follows_count, posts_count, :now, :now
FROM {_BATCH} WHERE metadata_action IN ('created', 'updated') ORDER BY pos
ON CONFLICT (agent_id) DO UPDATE SET
    followers_count = excluded.followers_count,
    follows_count = excluded.follows_count,
    posts_count = excluded.posts_count,
    updated_at = excluded.updated_at"""

_CLEAR = f"DELETE FROM {_BATCH}"

_ACTIONS = frozenset({"created", "updated", "unchanged"})


@lru_cache(maxsize=4096)
def _clock(text: str) -> str:
    """:func:`to_clock` of a legacy timestamp, '' when it is not one (legacy dates repeat)."""
    return to_clock(text, "")


def _source_rows(rows: list[Row], now: str) -> list[dict[str, Any]]:
    """The batch-table rows of the profiles: everything decided without looking at the target.

    ``twin`` marks a row whose handle an earlier row of the batch also claims, so only those
    look for it in the batch table (which then needs no index).
    """
    claimed: set[str] = set()
    out: list[dict[str, Any]] = []
    for pos, row in enumerate(rows):
        did = str(row["did"])
        handle = handle_of(row["handle"])
        skip: str | None = None
        twin = 0
        if not did.strip():
            skip = "empty did"
        elif not handle:
            skip = INVALID_HANDLE
        elif (
            refused := profile_refusal(
                did,
                handle,
                non_blank(row["display_name"]) or handle,
                row["display_name"],
                choose_bio(row["generated_bio"], row["bio"]),
            )
        ) is not None:
            skip = refused
        elif handle in claimed:
            twin = 1
        else:
            claimed.add(handle)
        created = row["created_at"]
        bio, bio_source = choose_bio(row["generated_bio"], row["bio"]) or (None, None)
        # Spelled out rather than a loop over COUNTS: this runs for every source row.
        followers = 0 if (value := row["followers_count"]) is None else int(value)
        follows = 0 if (value := row["follows_count"]) is None else int(value)
        posts = 0 if (value := row["posts_count"]) is None else int(value)
        negative = None
        if followers < 0 or follows < 0 or posts < 0:
            first = 0 if followers < 0 else 1 if follows < 0 else 2
            negative = f"negative {COUNTS[first]}"
        out.append(
            {
                "pos": pos,
                "did": did,
                "handle": handle,
                "name": non_blank(row["display_name"]) or handle,
                "display_name": row["display_name"],
                "created_at": (_clock(created) if isinstance(created, str) else "") or now,
                "bio": bio,
                "bio_source": bio_source,
                "followers_count": followers,
                "follows_count": follows,
                "posts_count": posts,
                "negative": negative,
                "skip": skip,
                "twin": twin,
            }
        )
    return out


def _count(report: JobReport, table: str, action: str, n: int) -> None:
    if action == "created":
        report.created(table, n)
    elif action == "updated":
        report.updated(table, n)
    elif action == "unchanged":
        report.unchanged(table, n)
    else:
        report.skipped(table, action, n)


class SetBasedProfiles(ProfilesStep):
    """The profiles pass on a target whose TEMP tables persist: one TEMP-table load and set-based
    SQL per batch."""

    def __init__(self, clock: Clock = utc_now) -> None:
        """``clock`` stamps the rows written (and the time a profile without one gets)."""
        self._clock = clock
        self._started = False

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        now = format_timestamp(self._clock())
        yield Execute(_CREATE)
        yield Execute(_CREATE_DRY_CREATED)
        if not self._started:  # a new run: forget an earlier dry run's handles
            yield Execute(f"DELETE FROM {_DRY_CREATED}")
            self._started = True
        # Empty at the start too: a failed batch may have left rows behind outside a transaction.
        yield Execute(_CLEAR)
        yield ExecuteMany(_LOAD, _source_rows(rows, now))
        yield Execute(_DECIDE_AGENTS)
        yield Execute(_DECIDE_CHILDREN)
        tally = yield FetchAll(_TALLY)
        for line in tally:
            n = int(line["n"])
            agent = str(line["agent"])
            _count(report, AGENTS, agent, n)
            if agent in _ACTIONS:
                _count(report, BIOS, str(line["bio_action"]), n)
            _count(report, METADATA, str(line["metadata_action"]), n)
        if not write:
            yield Execute(_REMEMBER_DRY_CREATED)
        if write:
            yield Execute(_WRITE_AGENTS, {"model": LEGACY_MODEL, "now": now})
            yield Execute(_WRITE_BIOS, {"now": now})
            yield Execute(_WRITE_METADATA, {"now": now})
        # Empty between batches, so memory stays flat.
        yield Execute(_CLEAR)


__all__ = ["SetBasedProfiles"]
