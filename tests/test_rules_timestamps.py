"""The one timestamp rule (agentsdb.rules.timestamps): the stored format, legacy values, clocks."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentsdb.clock import utc_now_text
from agentsdb.models import Conversation
from agentsdb.rules.timestamps import (
    TIMESTAMP_FORMAT,
    StrictClock,
    format_timestamp,
    legacy_timestamp_text,
    parse_legacy_timestamp,
    parse_timestamp,
)


def moments() -> list[datetime]:
    rng = random.Random(11)
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
    start = datetime(1, 1, 2, tzinfo=UTC)
    span = (datetime(9999, 12, 30, tzinfo=UTC) - start).total_seconds()
    out = [datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)]
    for _ in range(2000):
        moment = start + timedelta(seconds=rng.uniform(0, span), microseconds=rng.randrange(10**6))
        out.append(moment.astimezone(rng.choice(zones)))
    return out


def test_the_fast_format_gives_exactly_the_strftime_text_of_the_utc_moment() -> None:
    for moment in moments():
        expected = moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
        # strftime pads years below 1000 on glibc only with %Y as written: compare by value.
        assert format_timestamp(moment) == expected.rjust(len("2024-01-01T00:00:00.000000Z"), "0")
        assert parse_timestamp(format_timestamp(moment)) == moment


def test_moments_of_one_second_and_its_neighbours_keep_their_own_text() -> None:
    # The text up to the seconds is reused while the second stays the same: moments within one
    # second, across a year's last second, back again, and at the same minute and second of
    # another hour, day or year must each get their own text.
    edge = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    steps = [0, 1, 999_999, 1_000_000, 1_000_001, 999_998, 0, 2_000_000, 1]
    hour, day = timedelta(hours=1), timedelta(days=1)
    later = [edge + hour, edge + day, edge + 365 * day, edge - 31 * day, edge]
    for moment in [*(edge + timedelta(microseconds=step) for step in steps), *later]:
        assert format_timestamp(moment) == moment.strftime(TIMESTAMP_FORMAT)


def test_threads_formatting_different_seconds_never_mix_their_texts() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    wrong: list[str] = []

    def format_many(offset_seconds: int) -> None:
        for index in range(3000):
            moment = base + timedelta(seconds=offset_seconds + index % 3, microseconds=index)
            if format_timestamp(moment) != moment.strftime(TIMESTAMP_FORMAT):
                wrong.append(format_timestamp(moment))

    threads = [threading.Thread(target=format_many, args=(10 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_naive_moment_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2024, 1, 1))


def test_stored_texts_sort_in_time_order() -> None:
    ordered = sorted(moments())
    texts = [format_timestamp(m) for m in ordered]
    assert texts == sorted(texts)


@pytest.mark.parametrize(
    ("legacy", "stored"),
    [
        ("2024-02-01 10:00:00", "2024-02-01T10:00:00.000000Z"),
        (" 2024-02-01T10:00:00Z ", "2024-02-01T10:00:00.000000Z"),
        ("2024-02-01T12:00:00+02:00", "2024-02-01T10:00:00.000000Z"),
        ("2024-02-01", "2024-02-01T00:00:00.000000Z"),
        (datetime(2024, 2, 1, 10), "2024-02-01T10:00:00.000000Z"),
        (
            datetime(2024, 2, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            "2024-02-01T10:00:00.000000Z",
        ),
    ],
)
def test_legacy_times_are_read_naive_as_utc(legacy: object, stored: str) -> None:
    assert legacy_timestamp_text(legacy, "default") == stored


@pytest.mark.parametrize(
    "legacy", [None, "", "  ", "not a time", "2024-13-45", "2024\x00", 17, b"x"]
)
def test_unreadable_legacy_times_give_the_default(legacy: object) -> None:
    assert parse_legacy_timestamp(legacy) is None
    assert legacy_timestamp_text(legacy, "default") == "default"


def test_a_strict_clock_never_repeats_or_goes_back_even_when_its_source_does() -> None:
    readings = iter([datetime(2024, 1, 1, tzinfo=UTC)] * 3 + [datetime(2023, 1, 1, tzinfo=UTC)])
    clock = StrictClock(lambda: next(readings))
    got = [clock() for _ in range(4)]
    step = timedelta(microseconds=1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert got == [start, start + step, start + 2 * step, start + 3 * step]


def test_two_strict_clocks_share_no_state() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert StrictClock(lambda: moment)() == StrictClock(lambda: moment)() == moment


def test_the_text_clock_and_the_models_write_the_one_format() -> None:
    moment = datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert utc_now_text(lambda: moment) == "2024-01-01T10:00:00.000000Z"
    conversation = Conversation(agent_id="a", created_at=moment)
    assert conversation.to_params()["created_at"] == "2024-01-01T10:00:00.000000Z"
