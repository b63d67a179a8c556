"""The one id rule (agentsdb.rules.text.key_problem) and the id generator (agentsdb.rules.ids)."""

from __future__ import annotations

import os
import sys
import uuid

import pytest
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from agentsdb.errors import ValidationError
from agentsdb.models import Conversation, Key
from agentsdb.rules.ids import UuidV7Generator
from agentsdb.rules.text import MAX_KEY_LENGTH, check_key, key_problem


def test_the_models_key_type_accepts_exactly_the_characters_the_rule_accepts() -> None:
    key = TypeAdapter(Key)
    disagree = []
    for code_point in range(sys.maxunicode + 1):
        value = f"a{chr(code_point)}"
        try:
            key.validate_python(value)
            accepted = True
        except PydanticValidationError:
            accepted = False
        if accepted != (key_problem(value) is None):
            disagree.append(hex(code_point))
    assert disagree == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        ("a b", "whitespace"),
        ("a\u00a0b", "whitespace"),
        ("a\x1fb", "whitespace"),
        ("a\x00", "NUL"),
        ("a\ud800", "lone surrogate"),
        ("x" * (MAX_KEY_LENGTH + 1), f"at most {MAX_KEY_LENGTH}"),
    ],
)
def test_a_value_that_is_no_id_is_refused_by_the_rule_the_model_and_the_argument_check(
    value: str, problem: str
) -> None:
    assert problem in (key_problem(value) or "")
    with pytest.raises(ValidationError, match="id"):
        Conversation(id=value, agent_id="a")
    with pytest.raises(ValidationError, match="agent_id"):
        check_key("AgentRepository.get", "agent_id", value)


@pytest.mark.parametrize("value", ["a", "did:plc:abc", "\uff50\uff18", "x" * MAX_KEY_LENGTH, "P1"])
def test_ids_are_any_storable_text_without_whitespace(value: str) -> None:
    assert key_problem(value) is None
    assert TypeAdapter(Key).validate_python(value) == value


def test_a_generator_with_a_fixed_clock_counts_within_the_millisecond_then_moves_on() -> None:
    generate = UuidV7Generator(
        clock_ns=lambda: 1_700_000_000_000 * 1_000_000, random_bits=lambda: 0
    )
    ids = [generate() for _ in range(0x1001)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 7 for p in parsed)
    assert parsed[0].int >> 80 == 1_700_000_000_000
    assert parsed[-1].int >> 80 == 1_700_000_000_001  # the 4097th id spills into the next ms


@pytest.mark.parametrize("random_bits", [0, 1, 0x3FFF_FFFF_FFFF_FFFF, 0x1234_5678_9ABC_DEF0])
def test_an_id_is_the_canonical_text_of_its_uuid(random_bits: int) -> None:
    made = UuidV7Generator(lambda: 0xFFFF_FFFF_FFFF * 1_000_000, lambda: random_bits)()
    assert made == str(uuid.UUID(made))
    assert uuid.UUID(made).int & 0x3FFF_FFFF_FFFF_FFFF == random_bits


def test_a_forked_child_never_reuses_its_parents_unread_random_bits() -> None:
    generate = UuidV7Generator(clock_ns=lambda: 1_700_000_000_000 * 1_000_000)
    generate()  # reads a chunk of random bytes, most of it still unread
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through the pipe
        os.write(write_end, generate().encode())
        os._exit(0)
    os.close(write_end)
    in_child = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(child, 0)
    in_parent = generate()
    # The same millisecond and counter (the first 19 characters): only the random bits differ.
    assert in_child[:19] == in_parent[:19]
    assert in_child != in_parent


def test_two_generators_share_no_state() -> None:
    def clock() -> int:
        return 5 * 1_000_000

    assert UuidV7Generator(clock, lambda: 1)() == UuidV7Generator(clock, lambda: 1)()


def test_a_clock_stepping_back_never_makes_a_smaller_id() -> None:
    times = iter([10, 10, 3, 2])
    generate = UuidV7Generator(clock_ns=lambda: next(times) * 1_000_000)
    ids = [generate() for _ in range(4)]
    assert ids == sorted(ids)
