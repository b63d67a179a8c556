"""The libSQL backend (libsql-client, ws:// and http://): its connection, leases and errors."""

from agentsdb.db.libsql.database import LibsqlDatabase

__all__ = ["LibsqlDatabase"]
