"""The text rules and the library's ValidationError, without a database."""

from __future__ import annotations

import pydantic
import pytest

import agentsdb
from agentsdb.models import Agent, SessionStatus
from agentsdb.rules.quoting import SHOWN_CHARACTERS, short_repr
from agentsdb.rules.text import check_choice, check_key, text_problem, value_problem


def test_a_long_value_is_quoted_as_a_short_prefix_that_says_how_long_it_was() -> None:
    quoted = short_repr("x" * 1_000_000)
    assert quoted == f"{'x' * SHOWN_CHARACTERS!r}… (1000000 characters)"
    assert short_repr("abc") == "'abc'"


def test_nul_and_lone_surrogates_are_found_in_text_and_nested_json() -> None:
    assert text_problem("fine é 🙂") is None
    assert "NUL" in (text_problem("a\x00") or "")
    assert "U+D800" in (text_problem("ab\ud800") or "")
    assert value_problem({"k": [1, {"deep": "\udfff"}]}) is not None
    assert value_problem({"\x00key": 1}) is not None
    assert value_problem({"k": [1, 2.5, None, True]}) is None


def test_the_library_error_is_also_pydantics_and_names_the_field() -> None:
    with pytest.raises(agentsdb.ValidationError) as caught:
        Agent(name="a\x00b", model="m")
    error = caught.value
    assert isinstance(error, agentsdb.AgentsDBError)
    assert isinstance(error, pydantic.ValidationError)
    assert isinstance(error, ValueError)
    assert [e["loc"] for e in error.errors()] == [("name",)]
    with pytest.raises(agentsdb.ValidationError) as too_long:
        Agent(name="n" * 1_000_000, model="m")
    assert len(str(too_long.value)) < 400


def test_an_unknown_choice_names_the_allowed_values() -> None:
    with pytest.raises(agentsdb.ValidationError, match="'idle', 'running'"):
        check_choice("SessionRepository.list", "status", "x" * 10_000, SessionStatus)
    assert check_choice("t", "status", "running", SessionStatus) is SessionStatus.RUNNING


def test_a_key_is_refused_when_empty_spaced_too_long_or_not_text() -> None:
    for bad in ("", "a b", "k" * 256, 5, None):
        with pytest.raises(agentsdb.ValidationError):
            check_key("t", "id", bad)
    assert check_key("t", "id", "did:plc:abc") == "did:plc:abc"


def test_length_limits_apply_to_new_values_and_rows_stored_before_them_stay_readable() -> None:
    row = {**Agent(name="Ada", model="m").model_dump(), "name": "n" * 300}
    assert Agent.from_row(row).name == "n" * 300
    with pytest.raises(agentsdb.ValidationError, match="at most 255 characters"):
        Agent(name="n" * 300, model="m")
