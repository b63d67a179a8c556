"""The ``bluesky-profiles`` decisions and its plain path, the step every target can run.

For each profile: an agent (``id`` = did, handle, display name, ``persona_source`` =
'sync_bluesky'); a persona bio from the newest non-blank ``agent_bios`` row for the handle
('ai_generated'), else the profile's own bio ('user_provided'), else none, and never a new bio for
an agent that has one; profile metadata with the three counts (NULL is 0, a negative count skips
the row and is reported). The job itself (which path it takes) is in
:mod:`agentsdb.jobs.bluesky_profiles`.
"""

from __future__ import annotations

from typing import Any

from agentsdb.db.base import Database, ExecuteMany, FetchAll, Program, Row
from agentsdb.jobs.checked import LEGACY_MODEL
from agentsdb.jobs.convert import in_list, in_params, to_clock
from agentsdb.jobs.framework import Step
from agentsdb.jobs.profile_rows import profile_refusal
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.scratch import Scratch
from agentsdb.rules.identity import normalize_handle
from agentsdb.rules.text import key_problem
from agentsdb.rules.timestamps import Clock, format_timestamp, utc_now

AGENTS = "agents"
BIOS = "agent_persona_bios"
METADATA = "user_agent_profile_metadata"
COUNTS = ("followers_count", "follows_count", "posts_count")

# Profiles are read in primary-key order. The newest bio of each handle comes from the job's
# scratch copy of agent_bios (indexed there by handle): asking the source per batch would scan
# agent_bios once per profile when the source has no index on agent_bios.handle.
_PROFILE = """SELECT p.handle, p.did, p.display_name, p.bio,
    p.followers_count, p.follows_count, p.posts_count, p.created_at
FROM bluesky_profiles p
{where}ORDER BY p.handle
LIMIT :limit"""

#: A page of the non-blank generated bios, in primary-key order (cheap with no other index).
_BIOS_PAGE = """SELECT id, handle, generated_bio, created_at FROM agent_bios
WHERE {after}length(trim(generated_bio)) > 0
ORDER BY id LIMIT :limit"""
_BIOS_PAGE_SIZE = 5000

_SCRATCH_BIOS = (
    "CREATE TABLE bios (id INTEGER NOT NULL, handle TEXT NOT NULL, generated_bio TEXT NOT NULL,"
    " created_at TEXT)",
)
_SCRATCH_LOAD = "INSERT INTO bios VALUES (:id, :handle, :generated_bio, :created_at)"
# Each handle's bios newest first: by created_at (undated rows count as oldest), then by id.
_NEWEST_FIRST = "handle, (created_at IS NULL), created_at DESC, id DESC"
_SCRATCH_INDEX = f"CREATE INDEX bios_newest ON bios ({_NEWEST_FIRST})"
# The bios of a batch's handles: one range of the index, already in order (the batch's handles
# lie between its least and its greatest, in the scratch database's binary order).
_BATCH_BIOS = f"""SELECT handle, generated_bio FROM bios
WHERE handle BETWEEN :least AND :greatest ORDER BY {_NEWEST_FIRST}"""

_KNOWN_AGENTS = """SELECT a.id,
    CASE WHEN EXISTS (SELECT 1 FROM agent_persona_bios b WHERE b.agent_id = a.id)
        THEN 1 ELSE 0 END AS has_bio,
    CASE WHEN m.agent_id IS NULL THEN 0 ELSE 1 END AS has_counts,
    m.followers_count, m.follows_count, m.posts_count
FROM agents a LEFT JOIN user_agent_profile_metadata m ON m.agent_id = a.id
WHERE a.id IN ({ids})"""

_INSERT_AGENT = """INSERT INTO agents
    (id, name, model, handle, display_name, persona_source, created_at, updated_at)
VALUES (:id, :name, :model, :handle, :display_name, 'sync_bluesky', :created_at, :updated_at)
ON CONFLICT (id) DO NOTHING"""

_INSERT_BIO = """INSERT INTO agent_persona_bios
    (agent_id, persona_bio, persona_bio_source, created_at, updated_at)
VALUES (:agent_id, :persona_bio, :persona_bio_source, :created_at, :updated_at)"""

_UPSERT_METADATA = """INSERT INTO user_agent_profile_metadata
    (agent_id, followers_count, follows_count, posts_count, created_at, updated_at)
VALUES (:agent_id, :followers_count, :follows_count, :posts_count, :created_at, :updated_at)
ON CONFLICT (agent_id) DO UPDATE SET
    followers_count = excluded.followers_count,
    follows_count = excluded.follows_count,
    posts_count = excluded.posts_count,
    updated_at = excluded.updated_at"""


#: The skip reason of a profile whose handle is not a valid handle.
INVALID_HANDLE = "not a valid handle (see agentsdb.rules.identity)"


def handle_of(raw: object) -> str:
    """A source handle in the identity form agents store (``@Alice`` is ``alice``), or ``""``
    when it is not a valid handle (the profile is then skipped with :data:`INVALID_HANDLE`).
    """
    try:
        return normalize_handle(str(raw))
    except ValueError:
        return ""


def non_blank(value: object) -> str | None:
    """The value when it is a non-blank string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def choose_bio(generated_bio: object, profile_bio: object) -> tuple[str, str] | None:
    """The bio to give a new agent and its source: the generated one, the profile's, or none."""
    generated = non_blank(generated_bio)
    if generated is not None:
        return generated, "ai_generated"
    own = non_blank(profile_bio)
    if own is not None:
        return own, "user_provided"
    return None


async def copy_bios(source: Database) -> Scratch:
    """A scratch copy of the source's non-blank generated bios, indexed by handle: one pass over
    ``agent_bios`` in primary-key order, whatever other indexes the source has."""
    scratch = await Scratch.open(_SCRATCH_BIOS)
    try:
        after: Any = None
        while True:
            params: dict[str, Any] = {"limit": _BIOS_PAGE_SIZE}
            if after is not None:
                params["after"] = after
            sql = _BIOS_PAGE.format(after="" if after is None else "id > :after AND ")
            page = await source.fetch_all(sql, params)
            if not page:
                break
            await scratch.db.execute_many(_SCRATCH_LOAD, page)
            after = page[-1]["id"]
        await scratch.db.execute(_SCRATCH_INDEX)
    except BaseException:
        await scratch.close()
        raise
    return scratch


class ProfilesStep(Step):
    """The profiles pass, row by row: decisions in Python, writes with ``ExecuteMany``."""

    table = "bluesky_profiles"
    _bios: Scratch | None = None

    async def start(self, source: Database, resume_key: list[Any] | None) -> None:
        await self.close()
        self._bios = await copy_bios(source)

    async def fetch(self, source: Database, first: bool, params: dict[str, Any]) -> list[Row]:
        """A batch of profiles, each with the newest non-blank generated bio of its handle."""
        rows = await super().fetch(source, first, params)
        if not rows or self._bios is None:
            return rows
        handles = [row["handle"] for row in rows if isinstance(row["handle"], str)]
        found = (
            await self._bios.db.fetch_all(
                _BATCH_BIOS, {"least": min(handles), "greatest": max(handles)}
            )
            if handles
            else []
        )
        newest: dict[Any, Any] = {}
        for bio in found:
            newest.setdefault(bio["handle"], bio["generated_bio"])  # the first is the newest
        return [{**row, "generated_bio": newest.get(row["handle"])} for row in rows]

    async def close(self) -> None:
        bios, self._bios = self._bios, None
        if bios is not None:
            await bios.close()

    def __init__(self, clock: Clock = utc_now) -> None:
        """``clock`` stamps the rows written (and the time a profile without one gets)."""
        self._clock = clock
        # A dry run writes no agents, so it remembers the handles its earlier batches would have
        # taken, for later batches to see them as the real run would.
        self._dry_created: dict[str, str] = {}

    def select(self, first: bool) -> str:
        return _PROFILE.format(where="" if first else "WHERE p.handle > :k0\n")

    def key_of(self, row: Row) -> list[Any]:
        return [row["handle"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        dids = [str(row["did"]) for row in rows]
        handles = [handle_of(row["handle"]) for row in rows]
        n = len(rows)
        # The agents already there, whether they have a bio, and their counters: one query.
        lookup = [did for did in dids if key_problem(did) is None] or [""]
        by_id = yield FetchAll(
            _KNOWN_AGENTS.format(ids=in_list("d", len(lookup))), in_params("d", lookup)
        )
        by_handle = yield FetchAll(
            f"SELECT id, handle FROM agents WHERE handle IN ({in_list('h', n)})",
            in_params("h", handles),
        )
        agent_ids = {str(r["id"]) for r in by_id}
        handle_owner = {str(r["handle"]): str(r["id"]) for r in by_handle}
        if not write:
            for handle in handles:
                if handle in self._dry_created:
                    handle_owner.setdefault(handle, self._dry_created[handle])
        has_bio = {str(r["id"]) for r in by_id if r["has_bio"]}
        counters = {str(r["id"]): tuple(r[c] for c in COUNTS) for r in by_id if r["has_counts"]}

        now = format_timestamp(self._clock())
        agents: list[dict[str, Any]] = []
        bios: list[dict[str, Any]] = []
        metadata: list[dict[str, Any]] = []
        for row, did, handle in zip(rows, dids, handles, strict=True):
            if did in agent_ids:
                report.unchanged(AGENTS)
            elif not did.strip():
                report.skipped(AGENTS, "empty did")
                report.skipped(METADATA, "agent skipped")
                continue
            elif not handle:
                report.skipped(AGENTS, INVALID_HANDLE)
                report.skipped(METADATA, "agent skipped")
                continue
            elif (
                refused := profile_refusal(
                    did,
                    handle,
                    non_blank(row["display_name"]) or handle,
                    row["display_name"],
                    choose_bio(row["generated_bio"], row["bio"]),
                )
            ) is not None:
                report.skipped(AGENTS, refused)
                report.skipped(METADATA, "agent skipped")
                continue
            elif handle_owner.get(handle, did) != did:
                report.skipped(AGENTS, "handle belongs to another agent")
                report.skipped(METADATA, "agent skipped")
                continue
            else:
                report.created(AGENTS)
                handle_owner[handle] = did
                if not write:
                    self._dry_created[handle] = did
                agents.append(
                    {
                        "id": did,
                        "name": non_blank(row["display_name"]) or handle,
                        "model": LEGACY_MODEL,
                        "handle": handle,
                        "display_name": row["display_name"],
                        "created_at": to_clock(row["created_at"], now),
                        "updated_at": now,
                    }
                )
            bio = choose_bio(row["generated_bio"], row["bio"])
            if bio is None:
                report.skipped(BIOS, "no bio in the source")
            elif did in has_bio:
                report.unchanged(BIOS)
            else:
                report.created(BIOS)
                bios.append(
                    {
                        "agent_id": did,
                        "persona_bio": bio[0],
                        "persona_bio_source": bio[1],
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            values = tuple(0 if row[c] is None else int(row[c]) for c in COUNTS)
            negative = [c for c, v in zip(COUNTS, values, strict=True) if v < 0]
            if negative:
                report.skipped(METADATA, f"negative {negative[0]}")
            elif did in counters and counters[did] == values:
                report.unchanged(METADATA)
            else:
                if did in counters:
                    report.updated(METADATA)
                else:
                    report.created(METADATA)
                metadata.append(
                    {
                        "agent_id": did,
                        **dict(zip(COUNTS, values, strict=True)),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if not write:
            return
        if agents:
            yield ExecuteMany(_INSERT_AGENT, agents)
        if bios:
            yield ExecuteMany(_INSERT_BIO, bios)
        if metadata:
            yield ExecuteMany(_UPSERT_METADATA, metadata)


__all__ = [
    "AGENTS",
    "BIOS",
    "COUNTS",
    "INVALID_HANDLE",
    "LEGACY_MODEL",
    "METADATA",
    "ProfilesStep",
    "choose_bio",
    "copy_bios",
    "handle_of",
    "non_blank",
]
