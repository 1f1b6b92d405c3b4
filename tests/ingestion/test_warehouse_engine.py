"""Which warehouse the resource writes and which pool its steps take, by TESTIO_WAREHOUSE_URL."""

from __future__ import annotations

from testio_assets.warehouse.resource import DUCKDB_WRITER_POOL, WarehouseResource, writer_pool

URL = "postgresql://ann:s3cret@db.internal:5432/testio"


def test_a_server_url_in_the_environment_makes_the_resource_write_postgres(monkeypatch):
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", URL)
    warehouse = WarehouseResource()
    assert warehouse.database == ""
    assert warehouse.engine == "postgres"
    assert warehouse.describe() == "postgresql://ann:***@db.internal:5432/testio (TESTIO_WAREHOUSE_URL)"
    assert writer_pool() is None  # many writers: PostgreSQL's transactions, no single-writer slot


def test_an_explicit_file_wins_over_the_environment_and_keeps_the_writer_pool(monkeypatch, tmp_path):
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", URL)
    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    assert (warehouse.engine, warehouse.path) == ("duckdb", tmp_path / "w.duckdb")
    monkeypatch.delenv("TESTIO_WAREHOUSE_URL")
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    assert writer_pool() == DUCKDB_WRITER_POOL
    assert WarehouseResource(url=URL).engine == "postgres"
