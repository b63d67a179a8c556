"""Job 1, bluesky-profiles: mapping, bios, counts, dry run, re-runs, from a legacy SQLite file
into every backend that takes a job's writes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import WriteWithoutForeignKeys
from jobs_support import (
    BLUESKY_DDL,
    JOB_TARGETS,
    ORPHAN_TARGETS,
    bluesky_state,
    make_bluesky_source,
    profile,
    rows,
)
from sqld_server import SqldServer

import agentsdb
from agentsdb.db.base import Database
from agentsdb.jobs import (
    BlueskyProfilesJob,
    MissingSourceError,
    TargetNotMigratedError,
    run_job,
    validate_job,
)
from agentsdb.jobs.bluesky_profiles import choose_bio


@pytest.fixture
def source_path(tmp_path: Path) -> Path:
    return tmp_path / "legacy.db"


@pytest.fixture
async def source(source_path: Path) -> AsyncIterator[Database]:
    make_bluesky_source(
        source_path,
        [
            profile("alice", bio="own words", display_name="Alice"),
            profile("bob", bio="bob's bio", counts=(None, None, None)),
            profile("carol", counts=(5, -1, 3)),
            profile("dave", bio="   "),
        ],
        [
            (1, "alice", "older generated", "2024-01-01T00:00:00"),
            (2, "alice", "newest generated", "2024-03-01T00:00:00"),
            (3, "alice", "undated generated", None),
            (4, "carol", "carol generated", "2024-02-01T00:00:00"),
            (5, "ghost", "bio of a missing profile", "2024-02-01T00:00:00"),
        ],
    )
    async with agentsdb.connect(str(source_path)) as database:
        yield database


@JOB_TARGETS
async def test_each_profile_becomes_a_sync_bluesky_agent_keyed_by_did(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert await rows(
        migrated_any_db,
        "SELECT id, name, handle, display_name, persona_source FROM agents ORDER BY id",
    ) == [
        ("did:plc:alice", "Alice", "alice", "Alice", "sync_bluesky"),
        ("did:plc:bob", "bob", "bob", None, "sync_bluesky"),
        ("did:plc:carol", "carol", "carol", None, "sync_bluesky"),
        ("did:plc:dave", "dave", "dave", None, "sync_bluesky"),
    ]
    assert BlueskyProfilesJob().summary(report) == "Migrated 4 agents."
    assert report.rows_read == 4


@JOB_TARGETS
async def test_bio_comes_from_newest_generated_then_profile_then_none(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert await rows(
        migrated_any_db,
        "SELECT agent_id, persona_bio, persona_bio_source FROM agent_persona_bios"
        " ORDER BY agent_id",
    ) == [
        ("did:plc:alice", "newest generated", "ai_generated"),
        ("did:plc:bob", "bob's bio", "user_provided"),
        ("did:plc:carol", "carol generated", "ai_generated"),
    ]
    assert report.tables["agent_persona_bios"].skipped == {"no bio in the source": 1}


@JOB_TARGETS
async def test_an_agent_that_already_has_a_bio_gets_no_new_one(
    source: Database, migrated_any_db: Database
) -> None:
    await migrated_any_db.execute(
        "INSERT INTO agents (id, name, model, handle, created_at, updated_at)"
        " VALUES ('did:plc:alice', 'Alice', 'm', 'alice', 't', 't')"
    )
    await migrated_any_db.execute(
        "INSERT INTO agent_persona_bios (agent_id, persona_bio, persona_bio_source,"
        " created_at, updated_at) VALUES ('did:plc:alice', 'kept', 'user_provided', 't', 't')"
    )

    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert await rows(
        migrated_any_db,
        "SELECT persona_bio FROM agent_persona_bios WHERE agent_id = 'did:plc:alice'",
    ) == [("kept",)]
    assert report.tables["agent_persona_bios"].unchanged == 1
    assert report.tables["agents"].unchanged == 1


def test_choose_bio_prefers_non_blank_generated_then_profile() -> None:
    assert choose_bio("gen", "own") == ("gen", "ai_generated")
    assert choose_bio("  ", "own") == ("own", "user_provided")
    assert choose_bio(None, "\n") is None


@JOB_TARGETS
async def test_null_counts_become_zero_and_negative_counts_are_skipped_and_reported(
    source: Database, migrated_any_db: Database
) -> None:
    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    metadata = await rows(
        migrated_any_db,
        "SELECT agent_id, followers_count, follows_count, posts_count"
        " FROM user_agent_profile_metadata ORDER BY agent_id",
    )
    assert ("did:plc:bob", 0, 0, 0) in metadata
    assert all(agent != "did:plc:carol" for agent, *_ in metadata)
    assert report.tables["user_agent_profile_metadata"].skipped == {"negative follows_count": 1}
    assert "skipped 1 user_agent_profile_metadata: negative follows_count" in report.format()


@JOB_TARGETS
async def test_rerunning_changes_nothing_not_even_timestamps(
    source: Database, migrated_any_db: Database
) -> None:
    first = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)
    before = await bluesky_state(migrated_any_db, with_times=True)

    again = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert await bluesky_state(migrated_any_db, with_times=True) == before
    assert again.tables["agents"].created == 0
    assert again.tables["agents"].unchanged == first.tables["agents"].created
    assert again.tables["user_agent_profile_metadata"].created == 0
    assert BlueskyProfilesJob().summary(again) == "Migrated 0 agents."


@JOB_TARGETS
async def test_changed_counts_are_updated_on_a_rerun(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)
    await source.execute("UPDATE bluesky_profiles SET posts_count = 99 WHERE handle = 'alice'")

    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert report.tables["user_agent_profile_metadata"].updated == 1
    assert await rows(
        migrated_any_db,
        "SELECT posts_count FROM user_agent_profile_metadata WHERE agent_id = 'did:plc:alice'",
    ) == [(99,)]


@JOB_TARGETS
async def test_dry_run_writes_nothing_and_reports_what_the_real_run_does(
    source: Database, migrated_any_db: Database
) -> None:
    empty = await bluesky_state(migrated_any_db, with_times=True)

    dry = await run_job(BlueskyProfilesJob(), source, migrated_any_db, dry_run=True, batch_size=2)

    assert await bluesky_state(migrated_any_db, with_times=True) == empty
    assert await rows(migrated_any_db, "SELECT * FROM agentsdb_job_runs") == []
    real = await run_job(
        BlueskyProfilesJob(), source, migrated_any_db, batch_size=2, progress=False
    )
    assert dry.counts() == real.counts()
    assert dry.dry_run
    assert not real.dry_run


@JOB_TARGETS
async def test_a_pre_existing_agent_holding_the_handle_skips_the_profile(
    source: Database, migrated_any_db: Database
) -> None:
    await migrated_any_db.execute(
        "INSERT INTO agents (id, name, model, handle, created_at, updated_at)"
        " VALUES ('someone-else', 'B', 'm', 'bob', 't', 't')"
    )

    dry = await run_job(BlueskyProfilesJob(), source, migrated_any_db, dry_run=True)
    report = await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert report.tables["agents"].skipped == {"handle belongs to another agent": 1}
    assert await rows(migrated_any_db, "SELECT id FROM agents WHERE handle = 'bob'") == [
        ("someone-else",)
    ]
    assert dry.counts() == report.counts()


@JOB_TARGETS
async def test_batches_of_one_give_the_same_result_as_one_batch(
    source: Database, migrated_any_db: Database, tmp_path: Path
) -> None:
    small = await run_job(
        BlueskyProfilesJob(), source, migrated_any_db, batch_size=1, progress=False
    )
    # The whole run in one batch into a SQLite file: the same rows, whatever the target.
    async with agentsdb.connect(str(tmp_path / "other.db")) as other:
        await agentsdb.Migrator(other).migrate()
        large = await run_job(BlueskyProfilesJob(), source, other, batch_size=1000, progress=False)
        assert small.counts() == large.counts()
        assert await bluesky_state(migrated_any_db) == await bluesky_state(other)


@JOB_TARGETS
async def test_a_run_into_any_target_matches_its_dry_run_reruns_unchanged_and_is_recorded(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.db"
    make_bluesky_source(
        path,
        [profile("ann", bio="hi"), profile("bo", counts=(-1, 0, 0)), profile("cy")],
        [(1, "cy", "generated", None), (2, "cy", "newer", "2024-01-01")],
    )
    target = migrated_any_db
    async with agentsdb.connect(str(path)) as source:
        dry = await run_job(BlueskyProfilesJob(), source, target, dry_run=True, batch_size=2)
        real = await run_job(BlueskyProfilesJob(), source, target, batch_size=2, progress=False)
        again = await run_job(BlueskyProfilesJob(), source, target, progress=False)
        valid = await validate_job(BlueskyProfilesJob(), source, target)

    assert dry.counts() == real.counts()
    assert real.tables["agents"].created == 3
    assert again.tables["agents"].unchanged == 3
    assert valid.ok, valid.format()
    bios = await target.fetch_all(
        "SELECT agent_id, persona_bio FROM agent_persona_bios ORDER BY agent_id"
    )
    assert [(r["agent_id"], r["persona_bio"]) for r in bios] == [
        ("did:plc:ann", "hi"),
        ("did:plc:cy", "newer"),
    ]
    # The report as JSON text on every backend (JSONB on PostgreSQL, text elsewhere).
    run = await target.fetch_one(
        "SELECT status, CAST(report AS TEXT) AS report FROM agentsdb_job_runs"
    )
    assert run is not None
    assert run["status"] == "completed"
    assert json.loads(run["report"])["tables"]["agents"]["unchanged"] == 3


@JOB_TARGETS
async def test_source_and_target_may_be_the_same_database(migrated_any_db: Database) -> None:
    for ddl in BLUESKY_DDL:
        await migrated_any_db.execute(ddl)
    await migrated_any_db.execute(
        "INSERT INTO bluesky_profiles"
        " VALUES ('erin', 'did:plc:erin', 'Erin', 'hi', 1, NULL, 2, NULL)"
    )

    report = await run_job(BlueskyProfilesJob(), migrated_any_db, migrated_any_db, progress=False)

    assert report.tables["agents"].created == 1
    assert BlueskyProfilesJob().summary(report) == "Migrated 1 agents."
    bios = await migrated_any_db.fetch_all("SELECT persona_bio FROM agent_persona_bios")
    assert bios == [{"persona_bio": "hi"}]


@ORPHAN_TARGETS
async def test_validation_passes_after_a_run_and_catches_a_planted_orphan(
    source: Database,
    migrated_any_db: Database,
    write_without_foreign_keys: WriteWithoutForeignKeys,
) -> None:
    await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)
    await source.execute("DELETE FROM agent_bios WHERE handle = 'ghost'")
    clean = await validate_job(BlueskyProfilesJob(), source, migrated_any_db)
    assert clean.ok, clean.format()

    await write_without_foreign_keys(
        migrated_any_db,
        "INSERT INTO user_agent_profile_metadata (agent_id, created_at, updated_at)"
        " VALUES ('did:plc:nobody', 't', 't')",
    )
    found = await validate_job(BlueskyProfilesJob(), source, migrated_any_db)

    assert not found.ok
    orphans = {o.check: o.rows for o in found.orphans}
    assert orphans["user_agent_profile_metadata without an agent"] == 1
    assert "INVALID" in found.format()


@JOB_TARGETS
async def test_validation_reports_a_parity_gap_left_by_a_deleted_agent(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)
    await migrated_any_db.execute("DELETE FROM agents WHERE id = 'did:plc:dave'")

    found = await validate_job(BlueskyProfilesJob(), source, migrated_any_db)

    parity = {p.table: p for p in found.parity}
    assert not parity["agents"].ok
    assert (parity["agents"].source_rows, parity["agents"].target_rows) == (4, 3)


@pytest.mark.parametrize(
    ("ddl", "missing"),
    [
        (["CREATE TABLE agent_bios (id, handle, generated_bio, created_at)"], "'bluesky_profiles'"),
        (
            [
                "CREATE TABLE bluesky_profiles (handle, did, display_name, bio,"
                " followers_count, follows_count, created_at)",
                "CREATE TABLE agent_bios (id, handle, generated_bio, created_at)",
            ],
            "bluesky_profiles.posts_count",
        ),
    ],
)
@JOB_TARGETS
async def test_a_missing_source_table_or_column_is_named_and_nothing_is_written(
    migrated_any_db: Database, tmp_path: Path, ddl: list[str], missing: str
) -> None:
    async with agentsdb.connect(str(tmp_path / "partial.db")) as partial:
        for statement in ddl:
            await partial.execute(statement)
        with pytest.raises(MissingSourceError, match=missing.replace(".", r"\.")):
            await run_job(BlueskyProfilesJob(), partial, migrated_any_db, progress=False)
    assert await rows(migrated_any_db, "SELECT COUNT(*) FROM agents") == [(0,)]
    assert await rows(migrated_any_db, "SELECT COUNT(*) FROM agentsdb_job_runs") == [(0,)]


@JOB_TARGETS
async def test_an_unmigrated_target_is_refused(source: Database, any_db: Database) -> None:
    with pytest.raises(TargetNotMigratedError, match="agentsdb migrate"):
        await run_job(BlueskyProfilesJob(), source, any_db, progress=False)
    assert await any_db.table_columns("agents") == ()


@JOB_TARGETS
async def test_a_finished_run_is_recorded_as_completed_with_its_report(
    source: Database, migrated_any_db: Database
) -> None:
    await run_job(BlueskyProfilesJob(), source, migrated_any_db, batch_size=3, progress=False)

    [(status, last_key, batches)] = await rows(
        migrated_any_db, "SELECT status, last_key, batches FROM agentsdb_job_runs"
    )
    assert (status, last_key, batches) == ("completed", None, 2)


@JOB_TARGETS
async def test_bios_dated_alike_go_to_the_later_row_and_blank_generated_bios_are_ignored(
    migrated_any_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "ties.db"
    make_bluesky_source(
        path,
        [profile("tie"), profile("blank", bio="fallback")],
        [
            (10, "tie", "written second", "2024-01-01T00:00:00"),
            (3, "tie", "written first", "2024-01-01T00:00:00"),
            (4, "blank", "   ", "2025-01-01T00:00:00"),
        ],
    )
    async with agentsdb.connect(str(path)) as source:
        await run_job(BlueskyProfilesJob(), source, migrated_any_db, progress=False)

    assert await rows(
        migrated_any_db,
        "SELECT agent_id, persona_bio, persona_bio_source FROM agent_persona_bios"
        " ORDER BY agent_id",
    ) == [
        ("did:plc:blank", "fallback", "user_provided"),
        ("did:plc:tie", "written second", "ai_generated"),
    ]


@pytest.fixture
async def case_twins(tmp_path: Path) -> AsyncIterator[Database]:
    """Two profiles whose handles differ only in case: both normalize to 'alice'."""
    path = tmp_path / "legacy.db"
    make_bluesky_source(path, [profile("Alice"), profile("alice")])
    async with agentsdb.connect(str(path)) as database:
        yield database


@JOB_TARGETS
async def test_dry_run_report_equals_real_run_when_handle_twins_fall_in_different_batches(
    case_twins: Database, migrated_any_db: Database
) -> None:
    dry = await run_job(
        BlueskyProfilesJob(),
        case_twins,
        migrated_any_db,
        dry_run=True,
        batch_size=1,
        progress=False,
    )
    real = await run_job(
        BlueskyProfilesJob(), case_twins, migrated_any_db, batch_size=1, progress=False
    )

    assert real.tables["agents"].skipped == {"handle belongs to another agent": 1}
    assert dry.counts() == real.counts()


async def test_a_libsql_http_target_is_refused_at_its_first_batch_and_keeps_nothing(
    source: Database, sqld: SqldServer
) -> None:
    async with agentsdb.connect(sqld.http_url) as target:
        await agentsdb.Migrator(target).migrate()
        with pytest.raises(agentsdb.UnsupportedOperationError, match="ws://"):
            await run_job(BlueskyProfilesJob(), source, target, progress=False)
        assert await target.fetch_all("SELECT id FROM agents") == []
