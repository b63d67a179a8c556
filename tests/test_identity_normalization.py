"""Emails and handles have one identity form, used alike to store, look up and keep unique,
on every backend and in the backfill job (see agentsdb.rules.identity)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from entities_support import Repos, repos_for, stored_agent, stored_user
from jobs_support import make_bluesky_source, profile

import agentsdb
from agentsdb.db.base import Database
from agentsdb.errors import UniqueViolationError, ValidationError
from agentsdb.jobs import BlueskyProfilesJob, run_job
from agentsdb.models import Agent, User, UserUpdate
from agentsdb.rules.identity import identity_form, normalize_email, normalize_handle

KELVIN_SIGN = "\u212a"
NFC_JOSE = unicodedata.normalize("NFC", "josé@example.com")
NFD_JOSE = unicodedata.normalize("NFD", "josé@example.com")


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


def test_the_identity_form_folds_case_width_and_compatibility_spellings() -> None:
    assert NFC_JOSE != NFD_JOSE
    assert identity_form(NFD_JOSE) == identity_form(NFC_JOSE) == NFC_JOSE
    assert identity_form(f" {KELVIN_SIGN}ate@Example.COM ") == "kate@example.com"
    assert identity_form("\uff4bate@example.com") == "kate@example.com"  # fullwidth k
    assert identity_form("Straße") == "strasse"  # case folding, not lower-casing
    assert normalize_handle("@\uff21lice") == "alice"
    assert normalize_email(f"{KELVIN_SIGN}ate@example.com") == "kate@example.com"


def test_a_handle_that_is_not_one_after_normalizing_is_refused() -> None:
    for bad in ("", "@", "a b", "al!ce", "x" * 254, "é"):
        with pytest.raises(ValueError, match="must be a handle"):
            normalize_handle(bad)


async def test_the_kelvin_sign_spelling_of_an_email_is_the_same_user(repos: Repos) -> None:
    kate = await stored_user(repos, email="kate@example.com")

    assert await repos.users.get_by_email(f"{KELVIN_SIGN}ate@example.com") == kate
    assert await repos.users.get_by_email("KATE@EXAMPLE.COM") == kate
    with pytest.raises(UniqueViolationError):
        await repos.users.create(User(email=f"{KELVIN_SIGN}ATE@example.com"))


async def test_nfc_and_nfd_spellings_of_an_email_are_one_user(repos: Repos) -> None:
    jose = await stored_user(repos, email=NFD_JOSE)

    assert jose.email == NFC_JOSE
    assert await repos.users.get(jose.id) == jose
    assert await repos.users.get_by_email(NFC_JOSE) == jose
    assert await repos.users.get_by_email(NFD_JOSE) == jose
    with pytest.raises(UniqueViolationError):
        await repos.users.create(User(email=NFC_JOSE))
    other = await stored_user(repos, email="other@example.com")
    with pytest.raises(UniqueViolationError):
        await repos.users.update(other.id, UserUpdate(email=NFD_JOSE.upper()))


async def test_handle_spellings_that_normalize_alike_are_one_agent(repos: Repos) -> None:
    alice = await stored_agent(repos, handle="@Alice")

    assert alice.handle == "alice"
    for spelling in ("@Alice", "alice", " ALICE ", "@\uff21lice"):
        assert await repos.agents.get_by_handle(spelling) == alice
    with pytest.raises(UniqueViolationError):
        await repos.agents.create(Agent(name="Other", model="m", handle="\uff41lice"))


async def test_a_lookup_by_something_that_cannot_be_an_identifier_is_refused(
    repos: Repos,
) -> None:
    with pytest.raises(ValidationError, match="must be a handle"):
        await repos.agents.get_by_handle("not a handle")
    with pytest.raises(ValidationError, match="must be an email"):
        await repos.users.get_by_email("not an email")


async def test_the_backfill_stores_legacy_handles_in_the_identity_form(
    migrated_db: Database, tmp_path: Path
) -> None:
    source_path = tmp_path / "legacy.db"
    make_bluesky_source(
        source_path,
        [profile("@Alice.bsky.social"), profile("not a handle"), profile("\uff42ob")],
    )
    async with agentsdb.connect(str(source_path)) as source:
        report = await run_job(BlueskyProfilesJob(), source, migrated_db, progress=False)

    agents = repos_for(migrated_db).agents
    alice = await agents.get_by_handle("@Alice.bsky.social")
    assert alice is not None
    assert alice.handle == "alice.bsky.social"
    bob = await agents.get_by_handle("bob")
    assert bob is not None
    assert report.tables["agents"].skipped == {
        "not a valid handle (see agentsdb.rules.identity)": 1
    }
