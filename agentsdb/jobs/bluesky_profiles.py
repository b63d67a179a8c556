"""Job ``bluesky-profiles``: legacy Bluesky profiles become agents with bios and counters.

For each profile: an agent (``id`` = did, handle, display name, ``persona_source`` =
'sync_bluesky'); a persona bio from the newest non-blank ``agent_bios`` row for the handle
('ai_generated'), else the profile's own bio ('user_provided'), else none, and never a new bio for
an agent that has one; profile metadata with the three counts (NULL is 0, a negative count skips
the row and is reported). The decisions and the plain path are in
:mod:`agentsdb.jobs.bluesky_plain`, the set-based path in :mod:`agentsdb.jobs.bluesky_set_based`.
"""

from __future__ import annotations

from agentsdb.db.base import Database
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
from agentsdb.jobs.bluesky_set_based import SetBasedProfiles
from agentsdb.jobs.framework import Job, Step
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, count, skipped_of, skips_of


class BlueskyProfilesJob(Job):
    """Legacy ``bluesky_profiles`` (and ``agent_bios``) into agents, bios and counters.

    ``BlueskyProfilesJob(clock=...)``: the clock that stamps the rows written and the
    checkpoints (default: now).
    """

    name = "bluesky-profiles"

    def source_tables(self) -> tuple[SourceTable, ...]:
        return (
            SourceTable(
                "bluesky_profiles",
                ("handle", "did", "display_name", "bio", *COUNTS, "created_at"),
            ),
            SourceTable("agent_bios", ("id", "handle", "generated_bio", "created_at")),
        )

    def steps(self, source: Database, target: Database) -> list[Step]:
        # The set-based step keeps each batch in TEMP tables between calls; it is the faster
        # path (see benchmarks/bench_backfill.py) wherever they persist.
        return [
            SetBasedProfiles(self.clock) if target.temp_tables_persist else ProfilesStep(self.clock)
        ]

    def summary(self, report: JobReport) -> str:
        return f"Migrated {report.table(AGENTS).created} agents."

    async def validate(
        self, source: Database, target: Database, report: JobReport | None
    ) -> ValidationReport:
        profiles = await count(source, "SELECT COUNT(*) AS n FROM bluesky_profiles")
        result = ValidationReport(job=self.name, skips=skips_of(report))
        result.parity.append(
            Parity(
                AGENTS,
                profiles,
                await count(
                    target, "SELECT COUNT(*) AS n FROM agents WHERE persona_source = 'sync_bluesky'"
                ),
                skipped_of(report, AGENTS),
            )
        )
        result.parity.append(
            Parity(
                METADATA,
                profiles,
                await count(
                    target,
                    "SELECT COUNT(*) AS n FROM user_agent_profile_metadata m"
                    " JOIN agents a ON a.id = m.agent_id WHERE a.persona_source = 'sync_bluesky'",
                ),
                skipped_of(report, METADATA),
            )
        )
        for table in (BIOS, METADATA):
            result.orphans.append(
                Orphans(
                    f"{table} without an agent",
                    await count(
                        target,
                        f"SELECT COUNT(*) AS n FROM {table} t"
                        " LEFT JOIN agents a ON a.id = t.agent_id WHERE a.id IS NULL",
                    ),
                )
            )
        result.orphans.append(
            Orphans(
                "agent_bios without a profile (source)",
                await count(
                    source,
                    "SELECT COUNT(*) AS n FROM agent_bios b WHERE NOT EXISTS"
                    " (SELECT 1 FROM bluesky_profiles p WHERE p.handle = b.handle)",
                ),
            )
        )
        return result


__all__ = [
    "INVALID_HANDLE",
    "LEGACY_MODEL",
    "BlueskyProfilesJob",
    "ProfilesStep",
    "choose_bio",
    "handle_of",
    "non_blank",
]
