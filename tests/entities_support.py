"""Helpers for the entity tests: a real database that records what reaches it, and factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from forwarding_database import ForwardingDatabase

from agentsdb.db.base import (
    Atomic,
    BatchWriter,
    Database,
    GroupCommitter,
    Operation,
    Params,
    Program,
    Transaction,
)
from agentsdb.errors import AgentsDBError
from agentsdb.models import Agent, Session, User
from agentsdb.repositories import (
    AgentRepository,
    ConversationRepository,
    MemoryRepository,
    MessageRepository,
    PersonaBioRepository,
    ProfileMetadataRepository,
    SessionLogRepository,
    SessionRepository,
    UserRepository,
)

T = TypeVar("T")


class RecordingDatabase(ForwardingDatabase):
    """Delegates to a real database and records every statement and program operation it gets
    (an Atomic, then each of its steps).

    Not a mock: every call really runs. Tests use it to prove that invalid input never reaches
    the database, and how many units of work an operation took.
    """

    def __init__(self, inner: Database) -> None:
        super().__init__(inner)
        self.statements: list[str] = []
        self.operations: list[Operation] = []
        self.programs = 0

    @property
    def touched(self) -> bool:
        """True once anything at all was sent to the database."""
        return bool(self.statements or self.operations or self.programs)

    def on_statement(self, sql: str, params: Params | Sequence[Params] | None) -> None:
        self.statements.append(sql)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        self.statements.append("BEGIN")
        async with self.inner.transaction() as tx:
            yield tx

    async def run(self, program: Program[T]) -> T:
        self.programs += 1
        return await self.inner.run(self._recorded(program))

    def _recorded(self, program: Program[T]) -> Program[T]:
        value: Any = None
        error: AgentsDBError | None = None
        while True:
            try:
                op = program.throw(error) if error is not None else program.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            self.operations.append(op)
            if isinstance(op, Atomic):
                self.operations.extend(op.steps)
            error = None
            try:
                value = yield op
            except AgentsDBError as failure:
                error, value = failure, None

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommitter[T]:
        """The inner database's committer, whose programs are recorded here (its own key)."""

        def recorded(params: list[Params]) -> Program[Sequence[T | BaseException]]:
            self.programs += 1
            return self._recorded(write(params))

        return self.inner.group_commit(f"{key} (recorded)", recorded)


@dataclass
class Repos:
    """Every repository on one database."""

    agents: AgentRepository
    bios: PersonaBioRepository
    profiles: ProfileMetadataRepository
    users: UserRepository
    sessions: SessionRepository
    logs: SessionLogRepository
    memories: MemoryRepository
    conversations: ConversationRepository
    messages: MessageRepository


def repos_for(db: Database) -> Repos:
    """All repositories on ``db``."""
    return Repos(
        agents=AgentRepository(db),
        bios=PersonaBioRepository(db),
        profiles=ProfileMetadataRepository(db),
        users=UserRepository(db),
        sessions=SessionRepository(db),
        logs=SessionLogRepository(db),
        memories=MemoryRepository(db),
        conversations=ConversationRepository(db),
        messages=MessageRepository(db),
    )


def make_agent(**fields: Any) -> Agent:
    """A valid agent; ``fields`` override the defaults."""
    values: dict[str, Any] = {"name": "Ada", "model": "gpt-main"}
    values.update(fields)
    return Agent(**values)


async def stored_agent(repos: Repos, **fields: Any) -> Agent:
    """A new agent, stored."""
    return await repos.agents.create(make_agent(**fields))


async def stored_session(repos: Repos, agent: Agent, **fields: Any) -> Session:
    """A new session of ``agent``, stored."""
    return await repos.sessions.create(Session(main_agent_id=agent.id, **fields))


async def stored_user(repos: Repos, **fields: Any) -> User:
    """A new user, stored."""
    return await repos.users.create(User(**fields))


async def count_in(db: Database, table: str) -> int:
    """Rows in ``table``, counted through the database itself (any backend)."""
    row = await db.fetch_one(f"SELECT COUNT(*) AS total FROM {table}")
    assert row is not None
    return int(row["total"])
