"""Checkpoints of backfill jobs: one row per job, written in the same transaction as each batch.

``last_key`` is where the next batch starts and ``report`` the counts so far (both JSON), so a job
killed at any point resumes where it stopped.
"""

from agentsdb.migration import Migration

migration = Migration(
    id="008",
    description="add job runs",
    created_at="2026-11-22",
    up={
        "sqlite": [
            """
            CREATE TABLE agentsdb_job_runs (
                job TEXT PRIMARY KEY CHECK (length(job) > 0),
                status TEXT NOT NULL CONSTRAINT agentsdb_job_runs_status_valid
                    CHECK (status IN ('running', 'completed')),
                last_key TEXT CHECK (last_key IS NULL OR json_valid(last_key)),
                report TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(report)),
                batches INTEGER NOT NULL DEFAULT 0 CHECK (batches >= 0),
                started_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )
            """,
        ],
        "postgresql": [
            """
            CREATE TABLE agentsdb_job_runs (
                job TEXT PRIMARY KEY CHECK (length(job) > 0),
                status TEXT NOT NULL CONSTRAINT agentsdb_job_runs_status_valid
                    CHECK (status IN ('running', 'completed')),
                last_key JSONB,
                report JSONB NOT NULL DEFAULT '{}',
                batches BIGINT NOT NULL DEFAULT 0 CHECK (batches >= 0),
                started_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )
            """,
        ],
    },
    down=["DROP TABLE agentsdb_job_runs"],
)
