"""A worker process of the AgentStore crash tests: one step of an agent's life per run.

``python agent_crash_worker.py STEP URL AGENT_ID``, on a migrated database:

* ``suspend``: create the agent, start a session, suspend on tool call ``t1``, print
  ``suspended`` and sleep (until the test kills it);
* ``resume``: resume with the response to ``t1``, print ``resumed {json}`` and sleep;
* ``complete``: resume again (a re-delivery: it must be refused), complete the session, print
  ``completed {json}`` and exit.

Each step saves through its own AgentStore in a fresh process, so nothing survives in memory.
"""

from __future__ import annotations

import asyncio
import json
import sys

import agentsdb
from agentsdb.aggregate import (
    AgentAggregate,
    AgentStore,
    AgentType,
    ClientAction,
    ClientResponse,
    ExecutionAlreadyResumedError,
    ExecutionState,
    LlmMessageSnapshot,
    PendingToolCall,
)

RESPONSE = ClientResponse(call_id="t1", payload={"answer": 4})
ASLEEP = 3600


def _state() -> ExecutionState:
    return ExecutionState(
        messages=(
            LlmMessageSnapshot(role="user", content="what is 2 + 2?"),
            LlmMessageSnapshot(role="assistant", content="let me ask the calculator"),
        ),
        iteration=2,
        tool_calls_made=1,
        pending_tool_call=PendingToolCall(call_id="t1", tool_name="calculator", arguments={}),
        started_at_ms=1_000,
        suspended_at_ms=1_500,
    )


async def suspend(store: AgentStore, agent_id: str) -> None:
    agent = AgentAggregate.create(
        owner_user_id="u1", agent_type=AgentType.TUTOR, name="crash", agent_id=agent_id
    )
    await store.save(agent)
    await store.execute(agent_id, lambda loaded: loaded.start_session("c1"))
    await store.execute(
        agent_id,
        lambda loaded: loaded.suspend_execution(
            _state(), ClientAction(call_id="t1", kind="widget", payload={"widget": "number"})
        ),
    )
    print("suspended", flush=True)
    await asyncio.sleep(ASLEEP)


async def resume(store: AgentStore, agent_id: str) -> None:
    loaded = await store.load(agent_id)
    if not loaded.is_suspended():
        raise SystemExit(f"agent {agent_id} is not suspended after the restart")
    state = await store.resume(agent_id, RESPONSE)
    summary = {"messages": len(state.messages), "iteration": state.iteration}
    print(f"resumed {json.dumps(summary)}", flush=True)
    await asyncio.sleep(ASLEEP)


async def complete(store: AgentStore, agent_id: str) -> None:
    try:
        await store.resume(agent_id, RESPONSE)
    except ExecutionAlreadyResumedError:
        refused = True
    else:
        refused = False
    session = await store.execute(agent_id, lambda loaded: loaded.complete_session("answered"))
    print(f"completed {json.dumps({'refused': refused, 'status': session.status})}", flush=True)


STEPS = {"suspend": suspend, "resume": resume, "complete": complete}


async def main(step: str, url: str, agent_id: str) -> None:
    async with agentsdb.connect(url) as db:
        await STEPS[step](AgentStore(db, snapshot_every=3), agent_id)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
