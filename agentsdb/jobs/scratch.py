"""A job's private scratch database: a SQLite file in a folder of its own, deleted at the end.

A legacy source promises its primary keys and nothing else, so a job that must look rows up by
another column (the bios of a handle, the messages already seen in a conversation) cannot ask the
source per batch: without an index every such query scans a whole table, and the job grows
quadratically. It must not index the source (a job never writes to it), a dry run must not write
to the target, and holding the lookups in memory would grow with the data. So the job copies
what it needs once, in primary-key order, into a scratch database with the index it needs, and
asks that instead: O(N log N) in all, flat in memory (SQLite keeps the pages on disk).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from agentsdb.db import connect
from agentsdb.db.base import Database


class Scratch:
    """An open scratch database (:attr:`db`) and the folder holding it."""

    def __init__(self, folder: Path, db: Database) -> None:
        self._folder = folder
        self.db = db

    @classmethod
    async def open(cls, statements: tuple[str, ...]) -> Scratch:
        """Create a new, empty scratch database and run ``statements`` (its DDL) on it."""
        folder = Path(tempfile.mkdtemp(prefix="agentsdb-job-"))
        try:
            db = await connect(str(folder / "scratch.db"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        scratch = cls(folder, db)
        try:
            for statement in statements:
                await db.execute(statement)
        except BaseException:
            await scratch.close()
            raise
        return scratch

    async def close(self) -> None:
        """Close the database and delete its folder (safe to call twice)."""
        try:
            await self.db.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


__all__ = ["Scratch"]
