"""Migration sets on every backend (sqlite, postgresql, libsql over ws and http): an
application's own set beside agentsdb's, numbered on its own, recorded as ``SET:NNN`` in the one
tracking table, applied in an order honouring ``requires``; a later agentsdb upgrade applies on a
database that has application migrations; rollbacks and repair per set; the cutover set."""

from __future__ import annotations

import pytest

from agentsdb import ConfigurationError, Database, Migration, Migrator
from agentsdb.errors import MigrationDefinitionError
from agentsdb.migration_set import MigrationSet
from agentsdb.migrations import builtin_migrations, builtin_set, cutover_migrations, cutover_set
from agentsdb.migrator.plan import order_migrations

TRACKING = "agentsdb_migrations"


def app_table(migration_id: str, *, requires: tuple[str, ...] = ()) -> Migration:
    """Creates table app_t<id>; its down drops it."""
    return Migration(
        id=migration_id,
        description=f"create app_t{migration_id}",
        up=[f"CREATE TABLE app_t{migration_id} (id INTEGER PRIMARY KEY, v TEXT)"],
        down=[f"DROP TABLE app_t{migration_id}"],
        requires=requires,
    )


def session_notes(migration_id: str = "001") -> Migration:
    """An application table with a foreign key to agentsdb's ``sessions`` (migration 002)."""
    return Migration(
        id=migration_id,
        description="session notes",
        up=[
            "CREATE TABLE session_notes (id INTEGER PRIMARY KEY, "
            "session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE, body TEXT)"
        ],
        down=["DROP TABLE session_notes"],
        requires=["agentsdb:002"],
    )


def builtin_up_to(last: str) -> MigrationSet:
    return MigrationSet("agentsdb", [m for m in builtin_migrations() if m.id <= last])


async def recorded_ids(db: Database) -> list[str]:
    rows = await db.fetch_all(f"SELECT id FROM {TRACKING} ORDER BY seq")
    return [str(row["id"]) for row in rows]


async def test_an_application_set_is_numbered_on_its_own_and_recorded_by_set(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes(), app_table("002")])
    results = await Migrator(any_db, sets=[builtin_up_to("002"), app]).migrate()
    assert [r.migration.id for r in results] == ["001", "002", "myapp:001", "myapp:002"]
    assert await recorded_ids(any_db) == ["001", "002", "myapp:001", "myapp:002"]
    again = Migrator(any_db, sets=[builtin_up_to("002"), app])
    assert await again.migrate() == []
    assert (await again.validate_migrations()).is_valid


async def test_a_migration_that_requires_another_sets_waits_for_it(any_db: Database) -> None:
    # Registered first, the application set would go first but for its requirement.
    app = MigrationSet("myapp", [app_table("001"), session_notes("002")])
    results = await Migrator(any_db, sets=[app, builtin_up_to("003")]).migrate()
    order = [r.migration.id for r in results]
    assert order.index("myapp:002") > order.index("002")
    assert order == ["myapp:001", "001", "002", "myapp:002", "003"]


async def test_an_agentsdb_upgrade_applies_on_a_database_with_application_migrations(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes()])
    await Migrator(any_db, sets=[builtin_up_to("005"), app]).migrate()
    upgraded = Migrator(any_db, sets=[builtin_up_to("007"), app])
    results = await upgraded.migrate()
    assert [r.migration.id for r in results] == ["006", "007"]
    assert (await upgraded.validate_migrations()).is_valid
    assert await upgraded.migrate() == []


async def test_rolling_back_a_required_builtin_migration_is_refused_until_the_dependant_is(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes()])
    migrator = Migrator(any_db, sets=[builtin_up_to("002"), app])
    await migrator.migrate()
    with pytest.raises(ConfigurationError, match=r"myapp:001 requires agentsdb:002"):
        await migrator.rollback_to("001")
    assert await recorded_ids(any_db) == ["001", "002", "myapp:001"]
    rolled = await migrator.rollback_to("myapp:0")
    assert [r.migration.id for r in rolled] == ["myapp:001"]
    assert [r.migration.id for r in await migrator.rollback_to("001")] == ["002"]
    assert await recorded_ids(any_db) == ["001"]


async def test_a_set_rollback_behind_a_later_migration_of_another_set_is_refused(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes()])
    await Migrator(any_db, sets=[builtin_up_to("002"), app]).migrate()
    upgraded = Migrator(any_db, sets=[builtin_up_to("003"), app])
    await upgraded.migrate()
    with pytest.raises(ConfigurationError, match=r"migration 003 was applied after"):
        await upgraded.rollback_to("myapp:0")
    assert await recorded_ids(any_db) == ["001", "002", "myapp:001", "003"]
    assert [r.migration.id for r in await upgraded.rollback_to("002")] == ["003"]
    assert [r.migration.id for r in await upgraded.rollback_to("myapp:0")] == ["myapp:001"]


async def test_rolling_back_the_newest_row_of_an_unregistered_set_is_refused(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes()])
    await Migrator(any_db, sets=[builtin_up_to("002"), app]).migrate()
    with pytest.raises(ConfigurationError, match=r"myapp:001 belongs to a set not registered"):
        await Migrator(any_db, sets=[builtin_up_to("002")]).rollback_last()
    assert await recorded_ids(any_db) == ["001", "002", "myapp:001"]


async def test_a_migrator_without_an_application_set_leaves_its_rows_alone(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [session_notes()])
    await Migrator(any_db, sets=[builtin_up_to("002"), app]).migrate()
    builtin_only = Migrator(any_db, sets=[builtin_up_to("002")])
    assert await builtin_only.migrate() == []
    assert (await builtin_only.validate_migrations()).is_valid


async def test_repair_removes_a_row_of_an_application_set_by_its_qualified_id(
    any_db: Database,
) -> None:
    app = MigrationSet("myapp", [app_table("001")])
    migrator = Migrator(any_db, sets=[builtin_up_to("001"), app])
    await migrator.migrate()
    await any_db.execute(f"UPDATE {TRACKING} SET success = 0 WHERE id = 'myapp:001'")
    await migrator.repair("myapp:001", mark_applied=False)
    assert await recorded_ids(any_db) == ["001"]


async def test_the_cutover_set_applies_and_later_commands_still_work(any_db: Database) -> None:
    await Migrator(any_db).migrate()
    applied = await Migrator(any_db, sets=[builtin_set(), cutover_set()]).migrate()
    assert [r.migration.id for r in applied] == ["010"]
    plain = Migrator(any_db)
    assert await plain.migrate() == []
    assert (await plain.validate_migrations()).is_valid
    assert [m.id for m in await plain.plan_rollback()] == ["010"]


async def test_a_database_that_recorded_010_the_old_way_stays_valid(any_db: Database) -> None:
    await Migrator(any_db).migrate()
    legacy = Migrator(any_db, [*builtin_migrations(), *cutover_migrations()])
    assert [r.migration.id for r in await legacy.migrate(allow_out_of_order=True)] == ["010"]
    plain = Migrator(any_db)
    assert await plain.migrate() == []
    result = await plain.validate_migrations()
    assert result.is_valid, result.errors
    later = [m.id for m in builtin_migrations() if m.version > 9]
    assert [r.migration.id for r in await plain.rollback_to("009")] == ["010", *reversed(later)]


def test_a_requirement_of_a_set_that_is_not_registered_is_refused() -> None:
    alone = MigrationSet("myapp", [session_notes()]).migrations
    with pytest.raises(MigrationDefinitionError, match="requires agentsdb:002"):
        order_migrations(alone)


def test_requirements_that_form_a_cycle_are_refused() -> None:
    a = MigrationSet("a", [app_table("001", requires=("b:001",))])
    b = MigrationSet("b", [app_table("001", requires=("a:001",))])
    with pytest.raises(MigrationDefinitionError, match="cycle"):
        order_migrations([*a.migrations, *b.migrations])


def test_a_requirement_must_name_its_set() -> None:
    with pytest.raises(MigrationDefinitionError, match="SET:NNN"):
        app_table("001", requires=("005",))


async def test_a_noop_start_with_several_sets_is_one_small_read(db: Database) -> None:
    from migrator_support import TOUCHES_TRACKING, traced

    def sets() -> list[MigrationSet]:
        app = MigrationSet("myapp", [session_notes(), *(app_table(f"{n:03d}") for n in (2, 3))])
        return [builtin_set(), app, cutover_set().with_optional(True)]

    await Migrator(db, sets=sets()).migrate()
    results, statements = await traced(db, Migrator(db, sets=sets()).migrate)
    assert results == []
    assert len([sql for sql in statements if TOUCHES_TRACKING.search(sql)]) == 1, statements
    # With the optional cutover set applied too, the start is still one read.
    await Migrator(db, sets=[builtin_set(), sets()[1], cutover_set()]).migrate()
    results, statements = await traced(db, Migrator(db, sets=sets()).migrate)
    assert results == []
    assert len([sql for sql in statements if TOUCHES_TRACKING.search(sql)]) == 1, statements


def test_out_of_order_is_judged_within_each_set() -> None:
    from agentsdb.errors import MigrationOrderError
    from agentsdb.migrator.plan import AppliedRecord, find_problems

    builtin = builtin_up_to("003").migrations
    app = MigrationSet("myapp", [app_table("001"), app_table("002"), app_table("003")]).migrations
    ordered = order_migrations([*builtin, *app])

    def applied(*ids: str) -> list[AppliedRecord]:
        known = {m.id: m for m in ordered}
        return [AppliedRecord(i, known[i].description, known[i].checksum(), True) for i in ids]

    # agentsdb's 002 and 003 pending below myapp:003 are not late: another set's numbers.
    fine = find_problems(ordered, applied("001", "myapp:001", "myapp:003"), "sqlite")
    late = [e for e in fine.errors if isinstance(e, MigrationOrderError)]
    assert [e.pending_ids for e in late] == [["myapp:002"]]
    assert late[0].newest_applied == "myapp:003"


def test_the_order_is_the_same_whatever_order_the_sets_list_their_migrations() -> None:
    app = [app_table("001"), session_notes("002"), app_table("003")]
    forward = order_migrations(
        [*builtin_up_to("004").migrations, *MigrationSet("a", app).migrations]
    )
    backward = order_migrations(
        [*builtin_up_to("004").migrations, *MigrationSet("a", app[::-1]).migrations]
    )
    assert [m.id for m in forward] == [m.id for m in backward]
    assert [m.id for m in forward] == ["001", "002", "003", "004", "a:001", "a:002", "a:003"]


def test_a_set_name_that_is_not_lower_case_letters_digits_and_dashes_is_refused() -> None:
    with pytest.raises(MigrationDefinitionError, match="a set name is lower-case"):
        MigrationSet("My App", [app_table("001")])


def test_a_migration_whose_id_names_another_set_is_refused() -> None:
    with pytest.raises(MigrationDefinitionError, match="names set 'other'"):
        MigrationSet("myapp", [app_table("other:001")])
