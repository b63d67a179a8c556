"""Helpers of the AgentStore tests: agents in typical states, read-model rows, racing stores."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from agentsdb.aggregate import (
    AgentAggregate,
    AgentStore,
    AgentType,
    ClientAction,
    ExecutionState,
    LlmMessageSnapshot,
    PendingToolCall,
)
from agentsdb.db.base import Atomic, Database, Program, Step

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

READ_MODEL_TABLES = {
    "agent_summaries": "agent_id",
    "agent_session_history": "agent_id, seq",
    "agent_users": "user_id, agent_id",
}


class Ticker:
    """A clock that moves one millisecond per reading, so every event time differs."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def __call__(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


def execution_state(call_id: str, *, started_at_ms: int = 1_000) -> ExecutionState:
    """An execution stopped at tool call ``call_id``."""
    return ExecutionState(
        messages=(
            LlmMessageSnapshot(role="user", content="what is 2 + 2?"),
            LlmMessageSnapshot(
                role="assistant",
                tool_calls=({"id": call_id, "type": "function", "function": {"name": "ask"}},),
            ),
        ),
        iteration=1,
        tool_calls_made=1,
        pending_tool_call=PendingToolCall(call_id=call_id, tool_name="ask", arguments={"q": 1}),
        started_at_ms=started_at_ms,
        suspended_at_ms=started_at_ms + 5,
    )


def suspend(agent: AgentAggregate, call_id: str, clock: Ticker) -> None:
    """Suspend the agent's active session on a widget call ``call_id``."""
    agent.suspend_execution(
        execution_state(call_id),
        ClientAction(call_id=call_id, kind="widget", payload={"widget": "number"}),
        now=clock(),
    )


def new_agent(
    clock: Ticker, owner: str = "u1", *, name: str = "tutor", agent_id: str | None = None
) -> AgentAggregate:
    """A new tutor agent of ``owner`` (nothing saved yet)."""
    return AgentAggregate.create(
        owner_user_id=owner,
        agent_type=AgentType.TUTOR,
        name=name,
        agent_id=agent_id,
        now=clock(),
    )


async def suspended_agent(store: AgentStore, clock: Ticker, call_id: str = "t1") -> str:
    """Save an agent whose active session waits for call ``call_id``; returns its id."""
    agent = new_agent(clock)
    agent.start_session("c1", now=clock())
    suspend(agent, call_id, clock)
    await store.save(agent)
    return agent.id


async def read_model_rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of the three read-model tables, in key order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, order in READ_MODEL_TABLES.items():
        rows[table] = await db.fetch_all(f"SELECT * FROM {table} ORDER BY {order}")
    return rows


class GatedStore(AgentStore):
    """An AgentStore whose first load waits at a barrier, so two stores load the same version
    before either saves: a race lost on purpose."""

    def __init__(self, db: Database, gate: asyncio.Barrier, **options: Any) -> None:
        super().__init__(db, **options)
        self._gate: asyncio.Barrier | None = gate

    async def load(self, agent_id: str) -> AgentAggregate:
        agent = await super().load(agent_id)
        gate, self._gate = self._gate, None
        if gate is not None:
            await gate.wait()
        return agent


def _unit(steps: Sequence[Step]) -> Program[None]:
    yield Atomic(tuple(steps))


async def run_steps(db: Database, steps: Sequence[Step]) -> None:
    """Run ``steps`` as one atomic unit."""
    await db.run(_unit(steps))
