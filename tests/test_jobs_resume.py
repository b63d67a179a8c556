"""A job killed with SIGKILL mid-run resumes where it stopped: real subprocesses writing to every
job target, compared with an uninterrupted run into a SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    JOB_TARGETS,
    agent_scope_state,
    bluesky_state,
    decoded_json,
    kill_after_committed_batches,
    make_bluesky_source,
    make_legacy_source,
    migrated,
    profile,
    rows,
)

import agentsdb
from agentsdb.db.base import Database

# Runs a job in a child process. With a delay, every batch sleeps inside its transaction after
# its writes and before its checkpoint, so a kill can land mid-transaction.
CHILD = """
import asyncio, json, sys, time
import agentsdb
from agentsdb.db.base import Database
from agentsdb.jobs import get_job, run_job
from agentsdb.jobs.framework import Step

name, source_url, target_url, batch_size, delay = sys.argv[1:6]


class Slow(Step):
    def __init__(self, inner):
        self.inner, self.table, self.name = inner, inner.table, inner.step_name
        self.optional = inner.optional

    def count_sql(self):
        return self.inner.count_sql()

    def select(self, first):
        return self.inner.select(first)

    def key_of(self, row):
        return self.inner.key_of(row)

    async def start(self, source, key):
        await self.inner.start(source, key)

    async def fetch(self, source, first, params):
        return await self.inner.fetch(source, first, params)

    async def close(self):
        await self.inner.close()

    def apply(self, rows, report, *, write):
        yield from self.inner.apply(rows, report, write=write)
        time.sleep(float(delay))


job = get_job(name)
steps = job.steps
job.steps = lambda source, target: [Slow(step) for step in steps(source, target)]


async def main():
    async with agentsdb.connect(source_url) as source, agentsdb.connect(target_url) as target:
        report = await run_job(job, source, target, batch_size=int(batch_size), progress=False)
    print(json.dumps(report.counts()))


asyncio.run(main())
"""


def start_child(
    job: str, source: Path, target: Path | str, batch: int, delay: float
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, job, str(source), str(target), str(batch), str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_child(job: str, source: Path, target: Path | str, batch: int) -> dict[str, Any]:
    child = start_child(job, source, target, batch, 0.0)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    counts: dict[str, Any] = json.loads(out)
    return counts


@pytest.fixture
def bluesky_source(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    profiles = [
        profile(
            f"user{i:04d}",
            bio=f"bio {i}" if i % 3 else None,
            counts=(i, -1 if i % 17 == 0 else 0, None),
        )
        for i in range(300)
    ]
    bios = [
        (i, f"user{i:04d}", f"generated {i}", f"2024-01-{1 + i % 28:02d}") for i in range(0, 300, 5)
    ]
    make_bluesky_source(path, profiles, bios)
    return path


@JOB_TARGETS
async def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(
    bluesky_source: Path, backend_url: str, migrated_any_db: Database, tmp_path: Path
) -> None:
    killed = migrated_any_db
    child = start_child("bluesky-profiles", bluesky_source, backend_url, 7, 0.02)
    await kill_after_committed_batches(child, killed, 5, within=60)

    # Every committed batch is whole: its agents and its checkpoint went in together. One
    # statement reads both, so a batch the killed process sent just before it died, which a
    # server may still commit, cannot land between the two reads.
    [(status, batches, last_key, agents)] = await rows(
        killed,
        "SELECT status, batches, last_key, (SELECT COUNT(*) FROM agents) AS agents"
        " FROM agentsdb_job_runs",
    )
    assert status == "running"
    assert agents == 7 * batches
    assert decoded_json(killed, last_key)["key"] == [f"user{7 * batches - 1:04d}"]

    resumed = run_child("bluesky-profiles", bluesky_source, backend_url, 7)
    clean = await migrated(tmp_path / "clean.db")
    uninterrupted = run_child("bluesky-profiles", bluesky_source, clean, 7)

    async with agentsdb.connect(str(clean)) as oracle:
        assert await bluesky_state(killed) == await bluesky_state(oracle)
    assert await rows(killed, "SELECT status FROM agentsdb_job_runs") == [("completed",)]
    assert resumed == uninterrupted


@JOB_TARGETS
async def test_agent_scope_killed_inside_a_conversation_resumes_without_losing_or_doubling_turns(
    backend_url: str, migrated_any_db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "legacy.db"
    personas = [(f"p{i}", f"Persona {i}", 1) for i in range(5)]
    conversations = [(f"c{i:02d}", f"p{i % 5}", f"title {i}", "2024-01-01") for i in range(12)]
    messages = [
        (
            f"m{c:02d}-{j:02d}",
            f"c{c:02d}",
            f"p{c % 5}" if j % 2 else None,
            "assistant" if j % 2 else "user",
            f"text {j % 7}",
            "2024-01-01",
        )
        for c in range(12)
        for j in range(20)
    ]
    vectors = [
        (f"v{i}", f"p{i % 5}", f"c{i:02d}" if i % 4 else "gone", f"memory {i}", b"\x00\x01")
        for i in range(30)
    ]
    make_legacy_source(source, personas, conversations, messages, vectors)

    child = start_child("agent-scope", source, backend_url, 6, 0.02)
    # 1 batch of personas, 2 of conversations, then the kill lands inside a conversation.
    await kill_after_committed_batches(child, migrated_any_db, 9, within=60)
    resumed = run_child("agent-scope", source, backend_url, 6)
    clean = await migrated(tmp_path / "clean.db")
    uninterrupted = run_child("agent-scope", source, clean, 6)

    async with agentsdb.connect(str(clean)) as oracle:
        assert await agent_scope_state(migrated_any_db) == await agent_scope_state(oracle)
    assert await rows(migrated_any_db, "SELECT COUNT(*) AS n FROM messages") == [(12 * 20,)]
    assert resumed == uninterrupted
    # Every legacy message is a turn of its own, repeated texts included.
    assert uninterrupted["tables"]["messages"]["skipped"] == {}
    assert uninterrupted["tables"]["messages"]["created"] == 12 * 20
