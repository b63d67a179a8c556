"""libSQL: the Hrana test server in ``tests/``, in this process; no raw baseline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from backend_bench.common import Backend


class LibsqlBackend(Backend):
    name = "libsql-ws"
    has_baseline = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        from hrana_server import HranaServer

        with HranaServer(self.folder / f"{uuid.uuid4().hex[:12]}-remote.db") as server:
            yield server.ws_url
