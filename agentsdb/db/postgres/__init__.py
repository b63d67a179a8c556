"""The PostgreSQL backend (asyncpg): its connection, pool, transactions and errors."""

from agentsdb.db.postgres.database import (
    PostgresDatabase,
    PostgresOptions,
    encode_json,
    parse_options,
)

__all__ = ["PostgresDatabase", "PostgresOptions", "encode_json", "parse_options"]
