"""An agent's suspended execution survives SIGKILL: each step runs in a new process, and the
process that suspended (then the one that resumed) is killed before it can do anything more."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

import agentsdb
from agentsdb.aggregate import AgentReadModel, AgentStore, new_agent_id
from agentsdb.db.base import Database

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

WORKER = Path(__file__).with_name("agent_crash_worker.py")
TIMEOUT = 60


async def _start(step: str, url: str, agent_id: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        step,
        url,
        agent_id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _line(process: asyncio.subprocess.Process, step: str) -> str:
    """The worker's first line of output; the test fails with its stderr if it has none."""
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), TIMEOUT)).decode().strip()
    if not line:
        assert process.stderr is not None
        error = (await process.stderr.read()).decode()
        pytest.fail(f"the {step} worker stopped without reporting: {error}")
    return line


async def _kill_after_report(step: str, url: str, agent_id: str) -> str:
    """Run a step that reports and then sleeps; SIGKILL it once it has reported."""
    process = await _start(step, url, agent_id)
    try:
        line = await _line(process, step)
        assert process.returncode is None, f"the {step} worker exited on its own"
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return line


async def _run(step: str, url: str, agent_id: str) -> str:
    process = await _start(step, url, agent_id)
    stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode().strip()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "libsql-ws"], indirect=True)
async def test_a_suspended_execution_resumes_in_new_processes_after_sigkill(
    any_db: Database, backend_url: str
) -> None:
    await agentsdb.Migrator(any_db).migrate()
    agent_id = new_agent_id()

    assert await _kill_after_report("suspend", backend_url, agent_id) == "suspended"
    resumed = await _kill_after_report("resume", backend_url, agent_id)
    completed = await _run("complete", backend_url, agent_id)

    # The resumed run got the conversation it was suspended with.
    assert resumed == 'resumed {"messages": 2, "iteration": 2}'
    # The re-delivered resume after the crash was refused; the session completed.
    assert completed == 'completed {"refused": true, "status": "completed"}'

    async with agentsdb.connect(backend_url) as db:
        store = AgentStore(db)
        events = await store.events.read_stream(f"agent-{agent_id}")
        assert [event.type for event in events] == [
            "agent.created.v1",
            "agent.session.started.v1",
            "agent.execution.suspended.v1",
            "agent.client.action.requested.v1",
            "agent.client.response.received.v1",
            "agent.execution.resumed.v1",
            "agent.session.completed.v1",
        ]
        assert [event.version for event in events] == list(range(1, 8))
        assert len({event.event_id for event in events}) == len(events)

        agent = await store.load(agent_id)
        assert not agent.has_active_session()
        assert not agent.is_suspended()
        state = agent.state
        assert (state.total_sessions, state.total_interactions, state.successful_completions) == (
            1,
            1,
            1,
        )
        assert [(s.status, s.summary) for s in state.session_history] == [("completed", "answered")]
        snapshot = await store.events.load_snapshot(f"agent-{agent_id}")
        assert snapshot is not None
        assert snapshot.version == 7

        summary = await AgentReadModel(db).get(agent_id)
        assert (summary.total_sessions, summary.successful_completions) == (1, 1)
        assert summary.total_interactions == 1
        assert not summary.has_active_session
        assert summary.version == 7
        history = await AgentReadModel(db).session_history(agent_id)
        assert [(s.seq, s.status, s.interactions) for s in history] == [(1, "completed", 1)]
        assert summary.assignments == ()
