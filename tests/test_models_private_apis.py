"""The models' private paths into json and pydantic, each compared with the public path it
replaces: a Python or pydantic upgrade that changes them fails here, not in production."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from agentsdb.errors import ValidationError
from agentsdb.models import Agent, Embedding, Message, MessageRole, SessionLog, SessionLogNode
from agentsdb.models._json import decode_json, decode_json_public, encode_json, encode_json_public
from agentsdb.models._pydantic import assign, copy_with
from agentsdb.rules.content import message_content_hash, text_content_hash

VALUES: list[Any] = [
    {},
    [],
    "",
    "text",
    0,
    -1,
    2**70,
    1.5,
    -0.0,
    1e300,
    True,
    None,
    {"a": [1, 2.5, None, True, {"b": 'ü€😀\u2028"\\\n\t\x01'}], "": {}, "k": []},
    ["x" * 10_000, [[[[]]]], {"nested": {"deeper": {"deepest": [1, "2", 3.0]}}}],
    {"order": 1, "is": 2, "kept": 3},
    {1: "int keys become text", 2.5: None, False: True, None: 0},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_c_encoder_writes_the_public_encoders_text(value: Any) -> None:
    assert encode_json(value) == encode_json_public(value)


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, {"x": -math.inf}, object(), {(1,): 2}, [b"bytes"]]
)
def test_the_c_encoder_refuses_what_the_public_encoder_refuses(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)) as public:
        encode_json_public(bad)
    with pytest.raises(public.type):
        encode_json(bad)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_scanner_reads_what_json_loads_reads(value: Any) -> None:
    for text in (json.dumps(value), encode_json(value), f" {json.dumps(value)}\n"):
        assert decode_json(text) == decode_json_public(text)


@pytest.mark.parametrize(
    "bad", ["", " ", "{", "[1,]", "{} x", "nul", "NaNx", '"\\x"', "01", "1 2", "\ufeff{}"]
)
def test_the_scanner_refuses_what_json_loads_refuses(bad: str) -> None:
    with pytest.raises(json.JSONDecodeError) as public:
        decode_json_public(bad)
    with pytest.raises(json.JSONDecodeError) as fast:
        decode_json(bad)
    assert (fast.value.msg, fast.value.pos) == (public.value.msg, public.value.pos)


def test_a_derived_hash_is_what_passing_it_in_gives() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    message = Message(
        conversation_id="c",
        role=MessageRole.USER,
        content="hi",
        tool_calls=[{"a": 1}],
        created_at=moment,
    )
    expected = message_content_hash("user", "hi", [{"a": 1}], None)
    passed = Message(
        conversation_id="c",
        role="user",
        content="hi",
        tool_calls=[{"a": 1}],
        content_hash=expected,
        created_at=moment,
    )
    assert message.content_hash == expected
    assert message.model_dump() == passed.model_dump()
    assert message.model_fields_set == passed.model_fields_set - {"content_hash"}
    embedding = Embedding(id="e", agent_id="a", content=" two  words ")
    assert embedding.content_hash == text_content_hash("two words")


def test_copy_with_is_model_copy_with_an_update() -> None:
    log = SessionLog(session_id="s", role="user", type="message", content={"a": 1})
    fast = copy_with(log, id=7)
    public = log.model_copy(update={"id": 7})
    assert fast == public
    assert fast.model_dump() == public.model_dump()
    assert fast.model_fields_set == public.model_fields_set
    assert fast.__pydantic_extra__ == public.__pydantic_extra__
    assert fast.__pydantic_private__ == public.__pydantic_private__
    assert log.id is None  # the original is untouched
    fast.content = {"b": 2}  # still a validated model
    assert fast.content == {"b": 2}


def test_assign_is_model_copy_with_an_update_in_place() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    log = SessionLog(session_id="s", role="agent", type="thought", content="x", created_at=moment)
    public = log.model_copy(update={"id": 9})
    assign(log, id=9)
    assert log == public
    assert log.model_fields_set == public.model_fields_set


def test_validation_that_does_not_call_the_class_keeps_its_context() -> None:
    # A name over the limit is refused when new, read back when stored: from_stored's context
    # reaches the validator only if pydantic does not route it through the models' __init__.
    with pytest.raises(ValidationError, match="at most 255"):
        Agent(name="n" * 300, model="m")
    stored = Agent.from_stored({"id": "a", "name": "n" * 300, "model": "m"})
    assert stored.name == "n" * 300
    node = SessionLogNode.model_validate(
        {"log": {"session_id": "s", "role": "user", "type": "message", "content": "x"}}
    )
    assert isinstance(node.log, SessionLog)
