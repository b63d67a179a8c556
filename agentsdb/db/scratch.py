"""Throw-away copies of one migrated template database, per backend, for test suites.

The template is migrated once; every copy starts from it without running a migration.
SQLite copies the template's file; PostgreSQL clones it with ``CREATE DATABASE ... TEMPLATE``
on the server the URL names (its account must be allowed to create databases). A libSQL server
has no way to create a database per test, so it is refused.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from agentsdb.db.url import parse_url
from agentsdb.errors import UnsupportedOperationError


class ScratchDatabases(Protocol):
    """A template database and the copies made of it."""

    @property
    def template_url(self) -> str:
        """Where to migrate the template (it exists, empty, after :meth:`create_template`)."""
        ...

    async def create_template(self) -> None:
        """Create the empty template database."""
        ...

    async def copy(self) -> str:
        """A new database holding what the template holds; its URL."""
        ...

    async def drop(self, url: str) -> None:
        """Delete a copy (or the template)."""
        ...


class _SQLiteScratch:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._template = folder / "template.db"

    @property
    def template_url(self) -> str:
        return str(self._template)

    async def create_template(self) -> None:
        await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)

    async def copy(self) -> str:
        # The template's connection is closed, so its WAL is checkpointed into the file.
        target = self._folder / f"copy-{uuid.uuid4().hex[:12]}.db"
        await asyncio.to_thread(shutil.copyfile, self._template, target)
        return str(target)

    async def drop(self, url: str) -> None:
        await asyncio.to_thread(_delete_files, url)


def _delete_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


class _PostgresScratch:
    def __init__(self, server_url: str) -> None:
        self._server_url = server_url
        self._template = f"agentsdb_template_{uuid.uuid4().hex[:12]}"

    def _url_of(self, name: str) -> str:
        return urlunsplit(urlsplit(self._server_url)._replace(path=f"/{name}"))

    @property
    def template_url(self) -> str:
        return self._url_of(self._template)

    async def _admin(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        from agentsdb.db.postgres import errors as postgres_errors

        driver: Any = importlib.import_module("asyncpg")
        try:
            connection = await driver.connect(self._server_url, timeout=10)
        except Exception as error:
            raise postgres_errors.translate_connect_error(error, self._server_url) from error
        try:
            for sql, arguments in statements:
                await connection.execute(sql, *arguments)
        except Exception as error:
            if postgres_errors.is_driver_error(error):
                raise postgres_errors.translate(error, statements[0][0]) from error
            raise
        finally:
            await connection.close()

    async def create_template(self) -> None:
        await self._admin((f'CREATE DATABASE "{self._template}"', ()))

    async def copy(self) -> str:
        name = f"agentsdb_test_{uuid.uuid4().hex[:12]}"
        await self._admin((f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"', ()))
        return self._url_of(name)

    async def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        await self._admin(
            (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                (name,),
            ),
            (f'DROP DATABASE IF EXISTS "{name}"', ()),
        )


def scratch_databases(url: str | None, folder: Path) -> ScratchDatabases:
    """Scratch databases for ``url``: SQLite files in ``folder`` when ``url`` is None or a SQLite
    path, databases on the PostgreSQL server a ``postgresql://`` URL names."""
    if url is None:
        return _SQLiteScratch(folder)
    parsed = parse_url(url)
    if parsed.backend == "postgresql":
        return _PostgresScratch(url)
    if parsed.backend == "sqlite":
        if parsed.in_memory:
            raise UnsupportedOperationError(
                "an in-memory SQLite database cannot be copied per test; give no URL (files in "
                "a temporary folder are used) or a postgresql:// server URL"
            )
        return _SQLiteScratch(folder)
    raise UnsupportedOperationError(
        f"a {parsed.backend} server cannot create a database per test; use SQLite (the "
        "default) or a postgresql:// server URL"
    )


__all__ = ["ScratchDatabases", "scratch_databases"]
