"""Credentials never appear in messages, reprs, CLI output or log lines, whatever form they
were given in: ``user:password@``, ``?password=``, ``?sslpassword=``, ``?authToken=`` /
``?auth_token=``, libpq-style ``password=...`` text, and the libSQL ``auth_token`` option."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import pytest

import agentsdb
from agentsdb import AgentsDBError
from agentsdb.db.url import credentials_of, obscure_password

SECRET = "s3cretPW"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://app:s3cretPW@db:5432/x", "postgresql://app:***@db:5432/x"),
        ("postgresql://app:s3c%40retPW@db/x", "postgresql://app:***@db/x"),
        ("postgresql://app:s3c@ret/PW@db/x", "postgresql://app:***@db/x"),
        ("postgresql://app@db/x?password=s3cretPW", "postgresql://app@db/x?password=***"),
        (
            "postgres://app@db/x?sslmode=require&sslpassword=s3cretPW&application_name=a",
            "postgres://app@db/x?sslmode=require&sslpassword=***&application_name=a",
        ),
        ("ws://h:8080?authToken=s3cretPW", "ws://h:8080?authToken=***"),
        ("libsql://h?auth_token=s3cretPW&tls=0", "libsql://h?auth_token=***&tls=0"),
        ("host=db user=app password=s3cretPW dbname=x", "host=db user=app password=*** dbname=x"),
        ("host=db password = 's3cret PW' dbname=x", "host=db password = *** dbname=x"),
        (
            "cannot open 'postgresql://app:s3cretPW@db/x': refused, see ws://h?PASSWORD=s3cretPW",
            "cannot open 'postgresql://app:***@db/x': refused, see ws://h?PASSWORD=***",
        ),
    ],
)
def test_every_credential_form_is_masked(text: str, shown: str) -> None:
    assert obscure_password(text) == shown


@pytest.mark.parametrize(
    "text",
    ["agents.db", ":memory:", "file:x.db?mode=ro", "postgresql://app@[::1]:5432/x?sslmode=require"],
)
def test_text_without_credentials_is_unchanged(text: str) -> None:
    assert obscure_password(text) == text


def test_secrets_taken_from_a_url_are_masked_wherever_a_driver_quotes_them() -> None:
    secrets = credentials_of("postgresql://app@db/x?password=s3c%40retPW")
    assert set(secrets) == {"s3c%40retPW", "s3c@retPW"}
    assert obscure_password("auth failed for s3c@retPW", secrets) == "auth failed for ***"


def postgres_forms(host_port: str) -> list[str]:
    return [
        f"postgresql://app:{SECRET}@{host_port}/x",
        f"postgresql://app@{host_port}/x?password={SECRET}",
        f"postgres://app@{host_port}/x?sslpassword={SECRET}&sslmode=disable",
    ]


async def test_postgres_connect_failures_show_no_credential_in_errors_or_logs(
    asyncpg_driver: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentsdb")
    for url in postgres_forms(f"127.0.0.1:{free_port()}"):
        with pytest.raises(AgentsDBError) as caught:
            await agentsdb.connect(url, connect_timeout=5)
        assert SECRET not in str(caught.value), url
        assert "***" in str(caught.value)
    assert SECRET not in caplog.text


def with_credentials(server_url: str, form: str) -> str:
    """The test server's URL with ``SECRET`` given in one of the credential forms (the local
    server trusts its clients, so the password is ignored and the connection opens)."""
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or "postgres"
    if form == "userinfo":
        return urlunsplit(parts._replace(netloc=f"{user}:{SECRET}@{host}"))
    return urlunsplit(parts._replace(netloc=f"{user}@{host}", query=f"{form}={SECRET}"))


@pytest.mark.parametrize("form", ["userinfo", "password"])
async def test_an_open_postgres_database_shows_no_credential_in_url_repr_errors_or_logs(
    postgres_url: str, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentsdb")
    url = with_credentials(postgres_url, form)
    async with agentsdb.connect(url) as db:
        assert SECRET not in db.url
        assert SECRET not in repr(db)
        with pytest.raises(AgentsDBError) as caught:
            await db.execute("SELECT * FROM no_such_table")
        assert SECRET not in str(caught.value)
    missing = urlunsplit(urlsplit(url)._replace(path="/agentsdb_no_such_database"))
    with pytest.raises(AgentsDBError) as caught:
        await agentsdb.connect(missing)
    assert SECRET not in str(caught.value)
    assert "agentsdb_no_such_database" in str(caught.value)
    assert SECRET not in caplog.text


async def test_libsql_connect_failures_show_neither_the_url_token_nor_the_auth_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("libsql_client")
    caplog.set_level(logging.DEBUG, logger="agentsdb")
    port = free_port()
    for url, options in [
        (f"ws://127.0.0.1:{port}?authToken={SECRET}", {}),
        (f"http://127.0.0.1:{port}?authToken={SECRET}", {}),
        (f"ws://127.0.0.1:{port}", {"auth_token": SECRET}),
    ]:
        with pytest.raises(AgentsDBError) as caught:
            await agentsdb.connect(url, **options)
        assert SECRET not in str(caught.value), url
    assert SECRET not in caplog.text


def test_cli_output_shows_no_credential_given_on_the_command_line_or_in_the_environment(
    tmp_path: Path,
) -> None:
    pytest.importorskip("asyncpg")
    port = free_port()
    for url in postgres_forms(f"127.0.0.1:{port}"):
        for args, env in [
            (["status", "--db", url], {}),
            (["migrate"], {"AGENTSDB_URL": url}),
        ]:
            result = subprocess.run(
                [sys.executable, "-m", "agentsdb", *args],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                cwd=tmp_path,
                env={**os.environ, **env},
            )
            assert result.returncode == 1, result.stderr
            assert result.stderr.startswith("error: cannot connect to PostgreSQL"), result.stderr
            assert SECRET not in result.stdout + result.stderr


async def test_a_sqlite_path_that_looks_like_a_credential_is_masked_in_errors(
    tmp_path: Path,
) -> None:
    path = tmp_path / f"password={SECRET}" / "x.db"
    with pytest.raises(AgentsDBError) as caught:
        await agentsdb.connect(str(path))
    assert SECRET not in str(caught.value)
    assert "does not exist" in str(caught.value)
