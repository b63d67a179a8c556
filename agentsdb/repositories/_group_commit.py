"""Group commit for repositories; it lives with the Database that owns and closes it
(:mod:`agentsdb.db.group_commit`)."""

from agentsdb.db.base import BatchWriter
from agentsdb.db.group_commit import GroupCommit

__all__ = ["BatchWriter", "GroupCommit"]
