"""Backfill jobs: move legacy data into the agentsdb schema in resumable, validated batches.

Run one from Python::

    from agentsdb.jobs import BlueskyProfilesJob, run_job, validate_job
    report = await run_job(BlueskyProfilesJob(), source_db, target_db, dry_run=True)
    print(report.format())

or from the command line: ``agentsdb backfill bluesky-profiles --source URL --db URL``.
"""

from __future__ import annotations

from agentsdb.jobs.agent_scope import AgentScopeJob
from agentsdb.jobs.bluesky_profiles import BlueskyProfilesJob
from agentsdb.jobs.errors import (
    JobError,
    MissingSourceError,
    TargetNotMigratedError,
    UnknownJobError,
)
from agentsdb.jobs.framework import DEFAULT_BATCH_SIZE, Job, Step, run_job, validate_job
from agentsdb.jobs.report import JobReport, TableCounts
from agentsdb.jobs.sessions_to_agents import SessionsToAgentsJob
from agentsdb.jobs.validation import ValidationReport

#: The jobs the command line knows, by name.
JOBS: dict[str, type[Job]] = {
    BlueskyProfilesJob.name: BlueskyProfilesJob,
    AgentScopeJob.name: AgentScopeJob,
    SessionsToAgentsJob.name: SessionsToAgentsJob,
}


def get_job(name: str) -> Job:
    """A new instance of the job called ``name``; UnknownJobError otherwise."""
    if name not in JOBS:
        raise UnknownJobError(name, sorted(JOBS))
    return JOBS[name]()


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "JOBS",
    "AgentScopeJob",
    "BlueskyProfilesJob",
    "Job",
    "JobError",
    "JobReport",
    "MissingSourceError",
    "SessionsToAgentsJob",
    "Step",
    "TableCounts",
    "TargetNotMigratedError",
    "UnknownJobError",
    "ValidationReport",
    "get_job",
    "run_job",
    "validate_job",
]
