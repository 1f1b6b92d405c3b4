"""The warehouse writer: modes, one transaction per table, load records, the read copy."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from testio_assets.ingestion.users import USERS_QUERY
from testio_assets.warehouse.arrow import arrow_table
from testio_assets.warehouse.resource import WarehouseResource


def _platforms(rows: list[tuple[int, int, str]]) -> pa.Table:
    return arrow_table("test_platforms", {
        "test_id": [r[0] for r in rows],
        "operating_system_id": [r[1] for r in rows],
        "operating_system_key": [r[2] for r in rows],
        "operating_system_name": [r[2].title() for r in rows],
        "category_id": [1] * len(rows),
        "category_key": ["computer"] * len(rows),
        "category_name": ["Computers"] * len(rows),
        "browsers": [["Chrome"]] * len(rows),
    })


def _content(database) -> tuple[list, list]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "SELECT test_id, operating_system_id, operating_system_key FROM test_platforms ORDER BY ALL"
        ).fetchall()
        loads = con.execute("SELECT table_name, run_id, row_count FROM _table_loads").fetchall()
        return rows, loads
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path) -> WarehouseResource:
    return WarehouseResource(database=str(tmp_path / "nested" / "testio.duckdb"))


def test_modes_and_load_records(warehouse):
    with warehouse.writer("run-1") as writer:
        assert writer.replace("test_platforms", _platforms([(1, 6, "windows"), (1, 7, "macos"), (2, 6, "windows")])) == 3
    with warehouse.writer("run-2") as writer:
        writer.upsert("test_platforms", _platforms([(1, 6, "win"), (3, 9, "ios")]))
    assert _content(warehouse.path) == (
        [(1, 6, "win"), (1, 7, "macos"), (2, 6, "windows"), (3, 9, "ios")],
        [("test_platforms", "run-2", 4)],
    )
    # The bugs-of-refetched-tests pattern: everything of tests 1 and 2 is replaced.
    with warehouse.writer("run-3") as writer:
        writer.replace_where("test_platforms", _platforms([(2, 8, "linux")]), column="test_id", keys=[1, 2])
    assert _content(warehouse.path)[0] == [(2, 8, "linux"), (3, 9, "ios")]


def test_failed_write_keeps_the_previous_version(warehouse):
    with warehouse.writer("good") as writer:
        writer.replace("test_platforms", _platforms([(1, 6, "windows")]))
    before = _content(warehouse.path)
    duplicate_keys = _platforms([(5, 6, "windows"), (5, 6, "windows")])
    with pytest.raises(duckdb.ConstraintException):
        with warehouse.writer("bad") as writer:
            writer.replace("test_platforms", duplicate_keys)
    assert _content(warehouse.path) == before


def test_read_copy_is_published_after_each_write(warehouse):
    with warehouse.writer("run-1") as writer:
        writer.replace("test_platforms", _platforms([(1, 6, "windows")]))
    assert warehouse.read_copy.name == "testio.read.duckdb"
    assert _content(warehouse.read_copy) == _content(warehouse.path)
    assert not warehouse.read_copy.with_name("testio.read.duckdb.tmp").exists()
    # A reader holding the copy open does not stop the next publication.
    reader = duckdb.connect(str(warehouse.read_copy), read_only=True)
    try:
        with warehouse.writer("run-2") as writer:
            writer.upsert("test_platforms", _platforms([(2, 6, "windows")]))
        assert reader.execute("SELECT count(*) FROM test_platforms").fetchone()[0] == 1
    finally:
        reader.close()
    assert _content(warehouse.read_copy)[0] == [(1, 6, "windows"), (2, 6, "windows")]


def test_users_are_derived_from_a_query(warehouse):
    with warehouse.writer("run-1") as writer:
        writer.connection.execute(
            "CREATE TABLE tests AS SELECT 1 AS test_id, 'ann' AS created_by, 'bob' AS submitted_by, "
            "TIMESTAMP '2025-01-01' AS start_at, TIMESTAMP '2025-01-02' AS end_at"
        )
        writer.connection.execute(
            "CREATE TABLE bugs AS SELECT 1 AS bug_id, 'ann' AS author_name, TIMESTAMP '2025-01-01 10:00' AS reported_at"
        )
        writer.replace("users", USERS_QUERY)
        rows = writer.connection.execute(
            "SELECT user_id, role, bugs_reported, tests_created, tests_submitted FROM users ORDER BY 1"
        ).fetchall()
    assert rows == [("customer:ann", "customer", 0, 1, 0), ("customer:bob", "customer", 0, 0, 1),
                    ("tester:ann", "tester", 1, 0, 0)]


def test_each_load_records_the_policy_windows_its_resource_was_given(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTIO_FRESHNESS_POLICIES", "test_platforms=2m/5m")
    from_environment = WarehouseResource(database=str(tmp_path / "a.duckdb"))
    given = WarehouseResource(database=str(tmp_path / "b.duckdb"), freshness_windows={"test_platforms": [90.0, 300.0]})
    # Read when the resource is built, not at each write.
    monkeypatch.setenv("TESTIO_FRESHNESS_POLICIES", "test_platforms=1h/2h")
    for resource, expected in ((from_environment, (120.0, 300.0)), (given, (90.0, 300.0))):
        with resource.writer("run") as writer:
            writer.replace("test_platforms", _platforms([(1, 6, "windows")]))
        with duckdb.connect(str(resource.path), read_only=True) as con:
            recorded = con.execute(
                "SELECT warn_after_seconds, fail_after_seconds FROM _table_loads WHERE table_name = 'test_platforms'"
            ).fetchone()
        assert recorded == expected
