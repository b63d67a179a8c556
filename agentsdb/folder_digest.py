"""The head digest of a folder of migration modules, cached by the folder's listing, so that a
no-op ``agentsdb migrate --dir D`` need not import every module of ``D``.

A no-op start compares the database's newest tracking row with the digest and the number of
the registered migrations (:func:`agentsdb.migrator.plan.all_applied`). Computing that digest means
importing each module and checksumming its statements: with 1,000 migrations, several times the
cost of the query itself. This module keeps the answer in ``D/__pycache__/agentsdb-digest``
(beside Python's own bytecode cache, and like it written only when ``sys.dont_write_bytecode``
is off), keyed by a fingerprint of the folder's listing:

* every file and folder under ``D`` (``__pycache__`` excepted), each with its size, its
  modification and status-change times in nanoseconds and its inode, so any edit, rename,
  replacement, addition or removal (of a module, or of a SQL file a module reads beside it)
  changes the key; the status-change time cannot be set back by a tool, unlike the modification
  time;
* the cache's format and the checksum algorithm.

The key is computed *before* the modules are loaded, so a file edited while they load leaves a
key that no longer matches the next listing. A cached digest is used only to prove a no-op: when
it does not match the database, the full command loads the modules and decides. Not covered:
a module whose statements depend on something outside ``D`` (another package's code, the
environment); such a folder is still checked in full by every command but the no-op migrate.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from agentsdb.migration import CHECKSUM_ALGORITHM, Migration

CACHE_FOLDER = "__pycache__"
CACHE_NAME = "agentsdb-digest"
_FORMAT = f"agentsdb-migrations-digest 1 {CHECKSUM_ALGORITHM}"


class FolderDigest(NamedTuple):
    """What a no-op start needs to know of a folder's registered migrations."""

    chain: str | None
    total: int
    newest: str | None


def listing_key(folder: str) -> str:
    """A fingerprint of everything under ``folder`` but ``__pycache__`` (see the module)."""
    digest = hashlib.sha256(_FORMAT.encode("utf-8"))
    _add_listing(digest, folder, "")
    return digest.hexdigest()


def _add_listing(digest: hashlib._Hash, folder: str, prefix: str) -> None:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name == CACHE_FOLDER:
            continue
        about = entry.stat(follow_symlinks=True)
        digest.update(
            f"{prefix}{entry.name}\0{about.st_size}\0{about.st_mtime_ns}\0{about.st_ctime_ns}"
            f"\0{about.st_ino}\n".encode()
        )
        if entry.is_dir():
            _add_listing(digest, entry.path, f"{prefix}{entry.name}/")


def _read(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return {}
    lines = text.splitlines()
    if not lines or lines[0] != _FORMAT:
        return {}
    return dict(line.split(" ", 1) for line in lines[1:] if " " in line)


def _write(path: str, fields: dict[str, str]) -> None:
    if sys.dont_write_bytecode:
        return
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("\n".join([_FORMAT, *(f"{k} {v}" for k, v in fields.items())]) + "\n")
        os.replace(temporary, path)  # readers see the old file or the new one, never half
    except OSError as error:
        # A read-only folder only costs the next start the full load, as for Python's bytecode.
        import logging

        logging.getLogger("agentsdb.migrations").debug(
            "could not write the migrations digest cache %s: %s", path, error
        )


def folder_digest(
    folder: str, dialect: str, load: Callable[[str], Sequence[Migration]]
) -> FolderDigest:
    """The digest, number and newest id of the migrations ``load(folder)`` registers, for
    ``dialect``: from the cache when the folder's listing is unchanged, else by loading them
    (which raises what loading raises) and caching the answer."""
    from agentsdb.migrator.plan import chain_of

    key = listing_key(folder)
    path = os.path.join(folder, CACHE_FOLDER, CACHE_NAME)
    cached = _read(path)
    chain = cached.get(f"chain.{dialect}")
    if cached.get("key") == key and chain is not None:
        newest = cached["newest"]
        return FolderDigest(
            None if chain == "-" else chain, int(cached["count"]), None if newest == "-" else newest
        )
    migrations = load(folder)
    digest = FolderDigest(
        chain_of(migrations, dialect),
        len(migrations),
        migrations[-1].id if migrations else None,
    )
    fields = cached if cached.get("key") == key else {"key": key}
    fields.update(
        {
            "count": str(digest.total),
            "newest": digest.newest or "-",
            f"chain.{dialect}": digest.chain or "-",
        }
    )
    _write(path, fields)
    return digest


__all__ = ["CACHE_NAME", "FolderDigest", "folder_digest", "listing_key"]
