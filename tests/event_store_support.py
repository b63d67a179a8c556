"""What the event store's contract tests share (besides conftest's ``store`` fixture): a small
event, and the whole log."""

from __future__ import annotations

from typing import Any

from agentsdb.events import EventStore, NewEvent, RecordedEvent


def ev(event_id: str, event_type: str = "thing.happened", **data: Any) -> NewEvent:
    return NewEvent(type=event_type, data=data or {"id": event_id}, event_id=event_id)


async def everything(store: EventStore) -> list[RecordedEvent]:
    return await store.read_all(limit=10_000)
