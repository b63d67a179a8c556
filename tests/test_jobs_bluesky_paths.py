"""bluesky-profiles where TEMP tables persist (set-based batches: SQLite) decides every row like
the row-by-row path every other target takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import bluesky_state, make_bluesky_source, profile

import agentsdb
from agentsdb.db.base import Database
from agentsdb.jobs import BlueskyProfilesJob, run_job
from agentsdb.jobs.bluesky_profiles import ProfilesStep
from agentsdb.jobs.bluesky_set_based import SetBasedProfiles
from agentsdb.jobs.framework import Step


class RowByRowJob(BlueskyProfilesJob):
    """The job with the step targets without persistent TEMP tables take, forced onto SQLite."""

    def steps(self, source: Database, target: Database) -> list[Step]:
        return [ProfilesStep()]


PROFILES = [
    profile("alice", bio="own words", display_name="Alice"),
    profile("Eve", bio="upper eve", counts=(None, 4, None)),
    profile("eve", bio="lower eve"),
    profile("EVE", bio="shouting eve"),
    profile("held", bio="held bio", counts=(1, 1, 1)),
    profile("known", counts=(7, 8, 9)),
    profile("negfirst", counts=(-1, -2, 3)),
    profile("negpost", counts=(0, None, -5)),
    profile("tabbed", bio="\t", display_name="\t"),
    profile("x" * 254, bio="too long"),
    ("blank", "  ", "Blank", "blank bio", 1, 1, 1, None),
    ("dated", "did:plc:dated", None, None, 1, 1, 1, "2024-05-01T10:00:00+02:00"),
    ("junk", "did:plc:junk", "Junk", None, 1, 1, 1, "not a date"),
]

BIOS = [
    (1, "alice", "generated for alice", "2024-03-01T00:00:00"),
    (2, "tabbed", "\t", "2024-03-01T00:00:00"),
    (3, "eve", "generated for eve", None),
    (4, "known", "generated for known", "2024-01-01T00:00:00"),
]


async def plant_target(target: Database) -> None:
    """Agents already there: one holds the handle 'held', one is the 'known' profile's did."""
    await target.execute(
        "INSERT INTO agents (id, name, model, handle, created_at, updated_at)"
        " VALUES ('someone-else', 'H', 'm', 'held', 't', 't'),"
        " ('did:plc:known', 'K', 'm', 'known-elsewhere', 't', 't')"
    )
    await target.execute(
        "INSERT INTO user_agent_profile_metadata (agent_id, followers_count, follows_count,"
        " posts_count, created_at, updated_at) VALUES ('did:plc:known', 7, 8, 1, 't', 't')"
    )
    await target.execute(
        "INSERT INTO agent_persona_bios (agent_id, persona_bio, persona_bio_source,"
        " created_at, updated_at) VALUES ('did:plc:known', 'kept', 'user_provided', 't', 't')"
    )


async def run_both(tmp_path: Path, batch_size: int) -> None:
    source_path = tmp_path / "legacy.db"
    make_bluesky_source(source_path, PROFILES, BIOS)
    results = []
    for name, job in (("set", BlueskyProfilesJob()), ("rows", RowByRowJob())):
        path = tmp_path / f"{name}.db"
        async with agentsdb.connect(str(path)) as target:
            await agentsdb.Migrator(target).migrate()
            await plant_target(target)
            async with agentsdb.connect(str(source_path)) as source:
                assert isinstance(
                    job.steps(source, target)[0],
                    SetBasedProfiles if name == "set" else ProfilesStep,
                )
                dry = await run_job(job, source, target, dry_run=True, batch_size=batch_size)
                first = await run_job(job, source, target, batch_size=batch_size, progress=False)
                again = await run_job(job, source, target, batch_size=batch_size, progress=False)
            state = await bluesky_state(target)
        results.append((dry.counts(), first.counts(), again.counts(), state))
        if batch_size >= len(PROFILES):
            assert dry.counts() == first.counts()
    assert results[0] == results[1]


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
async def test_set_based_batches_report_and_write_exactly_what_row_by_row_does(
    tmp_path: Path, batch_size: int
) -> None:
    await run_both(tmp_path, batch_size)


async def test_case_twins_in_one_batch_give_the_handle_to_the_first_in_key_order(
    tmp_path: Path,
) -> None:
    source_path = tmp_path / "legacy.db"
    make_bluesky_source(source_path, PROFILES, BIOS)
    async with (
        agentsdb.connect(str(tmp_path / "t.db")) as target,
        agentsdb.connect(str(source_path)) as source,
    ):
        await agentsdb.Migrator(target).migrate()
        report = await run_job(BlueskyProfilesJob(), source, target, progress=False)
        owner = await target.fetch_one("SELECT id FROM agents WHERE handle = 'eve'")

    assert owner == {"id": "did:plc:EVE"}
    assert report.tables["agents"].skipped["handle belongs to another agent"] == 2
