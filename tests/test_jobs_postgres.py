"""The jobs with a PostgreSQL target: legacy SQLite into PostgreSQL, and PostgreSQL to itself."""

from __future__ import annotations

from pathlib import Path

from jobs_support import BLUESKY_DDL, LEGACY_DDL, make_bluesky_source, make_legacy_source, profile

import agentsdb
from agentsdb.db.base import Database
from agentsdb.jobs import AgentScopeJob, BlueskyProfilesJob, run_job, validate_job
from agentsdb.models.embedding import Embedding
from agentsdb.repositories.embeddings import EmbeddingRepository


async def test_bluesky_profiles_from_sqlite_into_postgres_matches_its_dry_run(
    postgres_db: Database, tmp_path: Path
) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    path = tmp_path / "legacy.db"
    make_bluesky_source(
        path,
        [profile("ann", bio="hi"), profile("bo", counts=(-1, 0, 0)), profile("cy")],
        [(1, "cy", "generated", None), (2, "cy", "newer", "2024-01-01")],
    )
    async with agentsdb.connect(str(path)) as source:
        dry = await run_job(BlueskyProfilesJob(), source, postgres_db, dry_run=True, batch_size=2)
        real = await run_job(
            BlueskyProfilesJob(), source, postgres_db, batch_size=2, progress=False
        )
        again = await run_job(BlueskyProfilesJob(), source, postgres_db, progress=False)
        valid = await validate_job(BlueskyProfilesJob(), source, postgres_db)

    assert dry.counts() == real.counts()
    assert real.tables["agents"].created == 3
    assert again.tables["agents"].unchanged == 3
    assert valid.ok, valid.format()
    bios = await postgres_db.fetch_all(
        "SELECT agent_id, persona_bio FROM agent_persona_bios ORDER BY agent_id"
    )
    assert [(r["agent_id"], r["persona_bio"]) for r in bios] == [
        ("did:plc:ann", "hi"),
        ("did:plc:cy", "newer"),
    ]
    run = await postgres_db.fetch_one("SELECT status, report FROM agentsdb_job_runs")
    assert run is not None
    assert run["status"] == "completed"
    assert run["report"]["tables"]["agents"]["unchanged"] == 3


async def test_bluesky_profiles_within_one_postgres_database(postgres_db: Database) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    for ddl in BLUESKY_DDL:
        await postgres_db.execute(ddl)
    await postgres_db.execute(
        "INSERT INTO bluesky_profiles VALUES ('dee', 'did:plc:dee', 'Dee', 'bio', 1, NULL, 2, NULL)"
    )

    report = await run_job(BlueskyProfilesJob(), postgres_db, postgres_db, progress=False)

    assert BlueskyProfilesJob().summary(report) == "Migrated 1 agents."


async def test_agent_scope_into_postgres_and_scoped_reads_there(
    postgres_db: Database, tmp_path: Path
) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    path = tmp_path / "legacy.db"
    make_legacy_source(
        path,
        [("p1", "Ada", 1)],
        [("c1", "p1", "t", None)],
        [
            ("m1", "c1", None, "user", "a b", None),
            ("m2", "c1", None, "user", "a  b", None),
            ("m3", "c1", "p1", "assistant", "ok", None),
        ],
        [("v1", "p1", "c1", "x", b"\x00"), ("v2", "p1", "gone", "y", None)],
    )
    async with agentsdb.connect(str(path)) as source:
        dry = await run_job(AgentScopeJob(), source, postgres_db, dry_run=True)
        real = await run_job(AgentScopeJob(), source, postgres_db, batch_size=1, progress=False)
        valid = await validate_job(AgentScopeJob(), source, postgres_db)

    assert dry.counts() == real.counts()
    assert real.tables["messages"].created == 3
    assert valid.ok, valid.format()
    agent = await postgres_db.fetch_one("SELECT id FROM agents WHERE persona_id = 'p1'")
    assert agent is not None
    repo = EmbeddingRepository(postgres_db)
    await repo.create(Embedding(id="v0", agent_id=agent["id"], content="z"))
    scoped = await repo.list_scoped(agent_id=agent["id"], conversation_id="c1")
    assert [e.id for e in scoped] == ["v1", "v0", "v2"]
    assert scoped[0].embedding == b"\x00"


async def test_agent_scope_with_prefixed_legacy_tables_in_postgres(postgres_db: Database) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    for ddl in LEGACY_DDL:
        await postgres_db.execute(
            ddl.replace("CREATE TABLE ", "CREATE TABLE old_", 1).replace("BLOB", "BYTEA")
        )
    await postgres_db.execute("INSERT INTO old_personas VALUES ('p', 'P', 0)")
    await postgres_db.execute("INSERT INTO old_conversations VALUES ('c', 'p', NULL, NULL)")

    report = await run_job(
        AgentScopeJob(source_prefix="old_"), postgres_db, postgres_db, progress=False
    )

    assert report.tables["conversations"].created == 1
