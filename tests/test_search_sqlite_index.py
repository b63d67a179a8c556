"""The FTS5 index of migration 013 on SQLite holds exactly the live rows: every write, cascades
included, reaches it through the triggers, and FTS5's own integrity check passes.

(The contract tests in test_search.py prove what a search returns on every backend; a stale
index row for a deleted memory or message cannot show there, as a search joins the live rows.)
"""

from __future__ import annotations

from entities_support import count_in, repos_for, stored_agent

from agentsdb.db.base import Database
from agentsdb.models import Conversation, Memory, MemoryUpdate, Message, MessageRole


async def test_fts5_index_follows_updates_deletes_and_cascades(migrated_db: Database) -> None:
    repos = repos_for(migrated_db)
    agent = await stored_agent(repos)
    kept = await stored_agent(repos)
    memories = [
        await repos.memories.create(Memory(name=f"n{i}", content=f"w{i}", agent_id=owner.id))
        for i, owner in enumerate((agent, agent, kept))
    ]
    await repos.memories.update(memories[0].id, MemoryUpdate(content="changed"))
    await repos.memories.delete(memories[1].id)
    conversation = await repos.conversations.create(Conversation(agent_id=agent.id))
    for number in range(3):
        await repos.messages.append(
            Message(conversation_id=conversation.id, role=MessageRole.USER, content=f"m{number}")
        )
    await migrated_db.execute("UPDATE messages SET content = 'edited' WHERE id = 1")
    await migrated_db.execute("DELETE FROM messages WHERE id = 2")
    assert await count_in(migrated_db, "memories_fts") == 2
    await migrated_db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")

    await repos.agents.delete(agent.id)

    assert await count_in(migrated_db, "memories_fts") == 1
    assert await count_in(migrated_db, "memory_search_rows") == 1
    for table in ("memories_fts", "messages_fts"):
        await migrated_db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    row = await migrated_db.fetch_one(
        "SELECT COUNT(*) AS total FROM messages_fts WHERE messages_fts MATCH 'm0 OR edited'"
    )
    assert row == {"total": 0}
