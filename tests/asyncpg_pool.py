"""asyncpg's own pool behind the interface of agentsdb's PostgreSQL pool: the plain path that
tests/test_fast_path_oracles.py and benchmarks/bench_fast_paths.py compare agentsdb's pool with."""

from __future__ import annotations

from typing import Any

from agentsdb.db.postgres.driver import install_json_codecs
from agentsdb.db.postgres.pool import Lease


class AsyncpgPool:
    """Hands out asyncpg ``Pool`` connections as agentsdb pool leases."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def create(cls, asyncpg: Any, url: str, *, max_size: int) -> AsyncpgPool:
        """A pool of up to ``max_size`` connections with agentsdb's JSON codecs."""
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, init=install_json_codecs
        )
        return cls(pool)

    @property
    def pool(self) -> Any:
        """The asyncpg pool itself."""
        return self._pool

    async def acquire(self, *, fresh: bool = False) -> Lease:
        return Lease(await self._pool.acquire(), reused=True)

    async def release(self, lease: Lease) -> None:
        # asyncpg resets every connection it takes back (and closes a broken one).
        await self._pool.release(lease.connection)

    async def close(self) -> None:
        await self._pool.close()
