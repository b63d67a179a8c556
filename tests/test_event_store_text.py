"""Events keep the JSON text they were stored as, on every backend of ``migrated_any_db``.

A read with ``decode=False`` yields the same events as a decoding read; ``data_json`` is the text
the append wrote (PostgreSQL's ``json`` columns give it back verbatim); an upcast event holds no
text; and an agent replayed from the stored text is the agent replayed from decoded events.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest
from aggregate_support import full_life

from agentsdb.aggregate import AgentAggregate, AgentStore
from agentsdb.db.base import Database
from agentsdb.events import NO_STREAM, EventStore, InvalidEventError, NewEvent, RecordedEvent
from agentsdb.events.upcasting import Upcasters
from agentsdb.models._record import decode_json, encode_json

AWKWARD: dict[str, Any] = {
    "z-first": 'naïve ☃ 𝄞 \u2028 "quoted" \\ back\\slash \t tab \u0001',
    "empty": "",
    "big": 2**70,
    "negative": -(2**63),
    "fractions": [0.1, 1e-7, -0.0, 1.5e300],
    "nested": [1, [2, [3, {"deep": None}]]],
    "keys": {"z": 1, "a": 2, "": 3},
    "flags": [True, False, None],
}


def events() -> list[NewEvent]:
    return [
        NewEvent("thing.happened", AWKWARD, event_id="e-1", metadata={"by": "ünïcode", "n": 1}),
        NewEvent("thing.happened", {}, event_id="e-2"),
        NewEvent("thing.changed", {"a": {"b": [{"c": "d"}]}}, event_id="e-3", schema_version=2),
    ]


def decoded(event: RecordedEvent) -> tuple[Any, ...]:
    return dataclasses.astuple(event)[:9]


async def test_a_read_without_decoding_yields_the_events_a_decoding_read_yields(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", events(), NO_STREAM)

    for eager, lazy in [
        (await store.read_stream("s"), await store.read_stream("s", decode=False)),
        (await store.read_all(), await store.read_all(decode=False)),
        (
            await store.read_all(types=["thing.happened"]),
            await store.read_all(types=["thing.happened"], decode=False),
        ),
    ]:
        assert lazy == eager
        assert [decoded(event) for event in lazy] == [decoded(event) for event in eager]
        assert [event.data_json for event in lazy] == [event.data_json for event in eager]
    stored = await store.read_stream("s", decode=False)
    assert [dict(event.data) for event in stored] == [event.data for event in events()]
    assert [dict(event.metadata) for event in stored] == [event.metadata for event in events()]


async def test_data_json_is_the_text_the_append_wrote(migrated_any_db: Database) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", events(), NO_STREAM)

    for event, new in zip(await store.read_stream("s"), events(), strict=True):
        assert event.data_json == encode_json(new.data)
        assert event.metadata_json == encode_json(new.metadata)
        assert list(json.loads(event.data_json)) == list(new.data)  # key order kept
        assert decode_json(event.data_json) == event.data


async def test_an_upcast_event_holds_no_stored_text(migrated_any_db: Database) -> None:
    upcasters = Upcasters()
    store = EventStore(migrated_any_db, upcasters=upcasters)
    await store.append("s", events(), NO_STREAM)

    @upcasters.register("thing.happened", from_version=1)
    def tagged(data: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**data, "tagged": True}

    for decode in (True, False):
        first, second, third = await store.read_stream("s", decode=decode)
        assert (first.schema_version, first.data_json) == (2, None)
        assert first.data == {**AWKWARD, "tagged": True}
        assert second.data_json is None
        assert second.data == {"tagged": True}
        assert third.data_json == encode_json(events()[2].data)  # no upcaster for its type


@pytest.mark.parametrize("decode", [None, 1, "no"])
async def test_decode_must_be_true_or_false(migrated_any_db: Database, decode: object) -> None:
    store = EventStore(migrated_any_db)
    with pytest.raises(InvalidEventError, match="decode"):
        await store.read_stream("s", decode=decode)  # type: ignore[arg-type]  # the bad input
    with pytest.raises(InvalidEventError, match="decode"):
        await store.read_all(decode=decode)  # type: ignore[arg-type]  # the bad input


async def test_an_agent_replayed_from_stored_text_is_the_agent_replayed_from_decoded_events(
    migrated_any_db: Database,
) -> None:
    log: list[RecordedEvent] = []
    built = full_life(log)
    agents = AgentStore(migrated_any_db, snapshot_every=10**6)
    for event in log:
        await agents.events.append(built.stream_id, [_new(event)], event.version - 1)

    stored = await agents.events.read_stream(built.stream_id, decode=False)
    assert all(event.data_json is not None for event in stored)
    without_text = [dataclasses.replace(event, data=dict(event.data)) for event in stored]
    assert all(event.data_json is None for event in without_text)

    from_text = AgentAggregate.replay(stored)
    from_data = AgentAggregate.replay(without_text)
    assert from_text.state == from_data.state == built.state
    assert from_text.state.model_fields_set == from_data.state.model_fields_set
    assert (await agents.load(built.id)).state == built.state


def _new(event: RecordedEvent) -> NewEvent:
    return NewEvent(
        event.type, dict(event.data), event.event_id, event.schema_version, dict(event.metadata)
    )
