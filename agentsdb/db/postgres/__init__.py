"""The PostgreSQL backend (asyncpg): its connection, pool, transactions and errors."""

from agentsdb.db.postgres.database import PostgresDatabase
from agentsdb.db.postgres.driver import encode_json
from agentsdb.db.postgres.options import PostgresOptions, parse_options

__all__ = ["PostgresDatabase", "PostgresOptions", "encode_json", "parse_options"]
