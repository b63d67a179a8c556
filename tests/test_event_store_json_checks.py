"""The event store's JSON check: its quick walk accepts exactly what the walk that names the bad
value's path accepts, so skipping the path building when nothing is wrong weakens nothing."""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentsdb.errors import InvalidEventError
from agentsdb.events.validation import MAX_DEPTH, _check_value, _storable, json_text


class Colour(StrEnum):
    RED = "red"


class Size(IntEnum):
    BIG = 2


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from([Colour.RED, Size.BIG, b"bytes", {1, 2}, object()]),
)
keys = st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none(), st.just(Colour.RED))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=3),
        st.dictionaries(st.text(max_size=3), inner, max_size=3).map(MappingProxyType),
    ),
    max_leaves=12,
)


def path_check_accepts(value: Any) -> bool:
    try:
        _check_value("data", value, 0)
    except InvalidEventError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_quick_walk_accepts_exactly_what_the_path_naming_walk_accepts(value: Any) -> None:
    assert _storable(value, 0) is path_check_accepts(value)


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (nested(MAX_DEPTH - 1), True),
        (nested(MAX_DEPTH), False),
        ({"n": math.inf}, False),
        ({"n": [1, (2, 3)]}, False),
        ({"n": {1: "x"}}, False),
        ({"n": [Colour.RED, Size.BIG, 1.5, None, True]}, True),
    ],
)
def test_the_two_walks_agree_at_the_edges(value: dict[str, Any], accepted: bool) -> None:
    assert _storable(value, 0) is accepted
    assert path_check_accepts(value) is accepted


def test_a_refused_value_is_still_named_by_its_path() -> None:
    with pytest.raises(InvalidEventError, match=r"data\.items\[1\]: .*tuple.*use a list"):
        json_text("data", {"items": [1, (2, 3)]})
