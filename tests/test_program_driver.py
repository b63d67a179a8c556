"""The shared program driver's synchronous runner (agentsdb.db.program.run_to_completion), which
SQLite uses to run a whole program on its worker thread in one hop."""

from __future__ import annotations

import asyncio

import pytest

from agentsdb.db.program import run_to_completion


async def straight_through(value: int) -> int:
    async def step(n: int) -> int:
        return n + 1

    return await step(await step(value))


def test_a_coroutine_that_never_suspends_runs_to_its_result_without_an_event_loop() -> None:
    assert run_to_completion(straight_through(1)) == 3


def test_a_coroutine_that_suspends_is_closed_and_refused_instead_of_blocking() -> None:
    cleaned_up = []

    async def suspends() -> int:
        try:
            await asyncio.sleep(0)
            return 1
        finally:
            cleaned_up.append(True)

    with pytest.raises(RuntimeError, match="suspended"):
        run_to_completion(suspends())
    assert cleaned_up == [True]
