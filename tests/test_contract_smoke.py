from agentsdb.db.base import Database

async def test_contract_fixture_opens_every_backend(any_db: Database, backend: str) -> None:
    await any_db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    await any_db.execute("INSERT INTO t (id, v) VALUES (:id, :v)", {"id": 1, "v": "x"})
    assert await any_db.fetch_all("SELECT id, v FROM t") == [{"id": 1, "v": "x"}]
    assert any_db.dialect == ("postgresql" if backend == "postgresql" else "sqlite")
