"""A URL agentsdb cannot read is a ConfigurationError naming the problem, never a raw ValueError,
and the message does not repeat the URL (it may hold a password)."""

from __future__ import annotations

import pytest

import agentsdb
from agentsdb.errors import ConfigurationError


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:secret@127.0.0.1:abc/db", "port"),
        ("postgresql://u:secret@127.0.0.1:99999/db", "port"),
        ("postgresql://u:secret@[::1/db", "host"),
        ("ws://u:secret@127.0.0.1:abc", "port"),
        ("http://u:secret@[::1", "host"),
        ("https://u:secret@example.com:-1", "port"),
        ("sqlite:///a\x00b.db", "NUL"),
        ("agents\x00.db", "NUL"),
        ("file:x\x00.db?mode=ro", "NUL"),
    ],
)
async def test_a_malformed_url_is_a_configuration_error_that_hides_the_url(
    url: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        async with agentsdb.connect(url):
            pass
    assert "secret" not in str(caught.value)
