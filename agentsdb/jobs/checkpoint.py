"""The checkpoint row of a job in ``agentsdb_job_runs``: where to resume and the counts so far."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentsdb.db.base import Atomic, Database, Execute, Program
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import table_columns

_GET = "SELECT job, status, last_key, report, batches FROM agentsdb_job_runs WHERE job = :job"

# The JSON columns take JSON text on every backend (TEXT on SQLite, JSONB on PostgreSQL, where
# the parameters' type comes from the columns they are inserted into).
_SAVE = """INSERT INTO agentsdb_job_runs
    (job, status, last_key, report, batches, started_at, updated_at)
VALUES (:job, 'running', :last_key, :report, 1, :now, :now)
ON CONFLICT (job) DO UPDATE SET
    status = 'running',
    last_key = excluded.last_key,
    report = excluded.report,
    batches = CASE WHEN agentsdb_job_runs.status = 'running'
        THEN agentsdb_job_runs.batches + 1 ELSE 1 END,
    started_at = CASE WHEN agentsdb_job_runs.status = 'running'
        THEN agentsdb_job_runs.started_at ELSE excluded.started_at END,
    updated_at = excluded.updated_at,
    finished_at = NULL"""

_FINISH = """INSERT INTO agentsdb_job_runs
    (job, status, last_key, report, batches, started_at, updated_at, finished_at)
VALUES (:job, 'completed', NULL, :report, 0, :now, :now, :now)
ON CONFLICT (job) DO UPDATE SET
    status = 'completed', last_key = NULL, report = excluded.report,
    updated_at = excluded.updated_at, finished_at = excluded.finished_at"""


@dataclass(frozen=True)
class Checkpoint:
    """A job's stored progress. ``last_key`` is ``{"step": name, "key": [...]}`` while running."""

    job: str
    status: str
    last_key: dict[str, Any] | None
    report: JobReport
    batches: int

    @property
    def running(self) -> bool:
        """True when a run stopped before it finished: the next run resumes it."""
        return self.status == "running"


def _decode(value: object, decoded: bool) -> Any:
    return value if decoded or value is None else json.loads(str(value))


async def load_checkpoint(db: Database, job: str) -> Checkpoint | None:
    """The job's checkpoint, or None when it never ran."""
    row = await db.fetch_one(_GET, {"job": job})
    if row is None:
        return None
    return Checkpoint(
        job=job,
        status=str(row["status"]),
        last_key=_decode(row["last_key"], db.json_decoded),
        report=JobReport.from_json(job, _decode(row["report"], db.json_decoded)),
        batches=int(row["batches"]),
    )


async def has_job_runs_table(db: Database) -> bool:
    """True when the database has ``agentsdb_job_runs`` (it is migrated far enough).

    Asks the catalog, so a failure to ask (a closed database: ConnectionClosedError; a lost
    connection) raises instead of reading as "not migrated".
    """
    return bool(await table_columns(db, "agentsdb_job_runs"))


def save_checkpoint(job: str, last_key: dict[str, Any], report: JobReport, now: str) -> Execute:
    """The statement that records a batch's checkpoint, for the batch's own transaction."""
    return Execute(
        _SAVE,
        {"job": job, "last_key": json.dumps(last_key), "report": report.to_json_text(), "now": now},
    )


def finish_program(job: str, report: JobReport, now: str) -> Program[None]:
    """Mark the job completed with its final report; the next run starts from the beginning.

    One atomic statement, so it runs on every backend (libSQL over HTTP too)."""
    yield Atomic((Execute(_FINISH, {"job": job, "report": report.to_json_text(), "now": now}),))


__all__ = [
    "Checkpoint",
    "finish_program",
    "has_job_runs_table",
    "load_checkpoint",
    "save_checkpoint",
]
