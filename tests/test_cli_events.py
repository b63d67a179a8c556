"""``agentsdb events rebuild|catch-up NAME``, run as a real subprocess."""

from __future__ import annotations

from pathlib import Path

from agent_store_support import Ticker, new_agent, read_model_rows, suspend
from test_cli import run_cli

import agentsdb
from agentsdb.aggregate import AgentStore
from agentsdb.db.base import Database


async def _agents_without_read_models(db: Database) -> int:
    """Save two agents with no inline projection; returns how many events they wrote."""
    await agentsdb.Migrator(db).migrate()
    store = AgentStore(db, project_inline=False)
    clock = Ticker()
    for owner in ("u1", "u2"):
        agent = new_agent(clock, owner)
        agent.start_session("c1", now=clock())
        suspend(agent, "t1", clock)
        await store.save(agent)
    return len(await store.events.read_all(after=0))


async def test_rebuild_projects_every_event_and_catch_up_then_finds_nothing_new(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    events = await _agents_without_read_models(db)
    last = (await AgentStore(db).events.read_all(after=0))[-1].position

    rebuilt = run_cli("events", "rebuild", "agents", "--db", str(db_path), cwd=tmp_path)
    caught_up = run_cli("events", "catch-up", "agents", "--db", str(db_path), cwd=tmp_path)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout == (
        f"Rebuilt read model agents: {events} events projected; position {last}.\n"
    )
    assert caught_up.returncode == 0, caught_up.stderr
    assert (
        caught_up.stdout == f"Caught up read model agents: 0 events projected; position {last}.\n"
    )
    rows = await read_model_rows(db)
    assert {row["owner_user_id"] for row in rows["agent_summaries"]} == {"u1", "u2"}
    assert len(rows["agent_session_history"]) == 2


async def test_an_unknown_read_model_fails_with_one_line_naming_the_known_ones(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    await agentsdb.Migrator(db).migrate()

    result = run_cli("events", "rebuild", "nope", "--db", str(db_path), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: no read model named 'nope'; known read models: agents\n"


def test_events_without_an_action_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("events", cwd=tmp_path)
    assert result.returncode == 2
    assert "{rebuild,catch-up}" in result.stderr
