"""Ingestion into a real PostgreSQL (TESTIO_WAREHOUSE_URL): every asset and check materialised
by real Dagster from the simulator over HTTP, table for table equal to the DuckDB load of the
same simulated customer; and the same guarantees as on DuckDB (guards, audit, rollback)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pyarrow as pa
import pytest
from ingestion_support import DATA_TABLES, check_results, make_sim, materialize, table_rows
from postgres_ingestion_support import postgres_loads, postgres_rows

from semantic.errors import WarehouseDatabaseMissingError, WarehouseLoginError, WarehouseServerUnreachableError
from testio_assets.assets import ingestion_assets
from testio_assets.checks import ingestion_checks
from testio_assets.ops_summary import step_errors
from testio_assets.simulator import FaultConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.arrow import arrow_table
from testio_assets.warehouse.errors import WarehouseAuditError
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import PRODUCTS

pytestmark = pytest.mark.slow  # a real PostgreSQL server


def _materialize_into_postgres(url, sim, instance=None, **kwargs) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets, *ingestion_checks],
        resources={"testio_api": SimulatorApiResource.serving(sim, **kwargs.pop("api", {})),
                   "warehouse": WarehouseResource(url=url)},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def duckdb_load(tmp_path_factory):
    database = tmp_path_factory.mktemp("duckdb") / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(make_sim()), database).success
    return table_rows(database)


@pytest.fixture(scope="module")
def loaded(postgres_server):
    """A database loaded once from the tiny simulator (the tests below only read it)."""
    name = postgres_server.create_database("loaded")
    url = postgres_server.url(name)
    with dg.instance_for_test() as instance:
        result = _materialize_into_postgres(url, make_sim(), instance)
        events = [repr(entry) for entry in instance.all_logs(result.run_id)]
    yield url, result, events, postgres_server.password
    postgres_server.drop_database(name)


def test_every_table_equals_the_duckdb_load_row_for_row(loaded, duckdb_load):
    url, result, _, _ = loaded
    assert result.success
    assert postgres_rows(url) == duckdb_load
    assert all(duckdb_load[name] for name in DATA_TABLES)


def test_every_check_ran_and_passed_on_postgres(loaded):
    _, result, _, _ = loaded
    evaluations = check_results(result)
    assert len(evaluations) == sum(len(list(c.check_keys)) for c in ingestion_checks)
    failed = {name: e.metadata for name, e in evaluations.items() if not e.passed}
    assert failed == {}


def test_the_load_log_records_every_table_with_its_row_count(loaded, duckdb_load):
    url, result, _, _ = loaded
    loads = postgres_loads(url)
    for name in DATA_TABLES:
        loaded_at, run_id, row_count = loads[name]
        assert run_id == result.run_id
        assert row_count == len(duckdb_load[name])


def test_the_password_is_in_no_event_and_no_table(loaded):
    url, _, events, password = loaded
    assert events and not [e for e in events if password in e]
    tables = postgres_rows(url, (*DATA_TABLES, "_table_loads", "_fetch_issues", "_bug_fetches"))
    assert password not in repr(tables)


def test_the_shrink_guard_refuses_an_empty_products_answer_and_keeps_the_tables(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    assert _materialize_into_postgres(url, make_sim()).success
    before = postgres_rows(url)
    result = _materialize_into_postgres(
        url, make_sim(FaultConfig(wrong_bodies={"products": "empty"})), api={"max_attempts": 1})
    assert not result.success
    error = step_errors(result)["products"]
    assert error.cls_name == "DataLossError"
    assert "lacks 4 of the 4 stored" in error.message
    assert postgres_rows(url) == before


def _products(ids: list[int]) -> pa.Table:
    return arrow_table("products", {
        "product_id": ids, "name": [f"product {i}" for i in ids], "description": [None] * len(ids),
        "product_type": ["website"] * len(ids), "default_section_id": [None] * len(ids),
        "has_sections": [False] * len(ids), "section_ids": [[]] * len(ids), "section_names": [[]] * len(ids),
    })


def _features(product_ids: list[int]) -> pa.Table:
    n = len(product_ids)
    return arrow_table("features", {
        "feature_id": list(range(1, n + 1)), "product_id": product_ids, "title": ["f"] * n,
        "description": [None] * n, "howtofind": [None] * n, "user_stories": [[]] * n,
        "section_ids": [[]] * n, "inferred": [False] * n,
    })


def test_a_version_failing_a_blocking_check_is_rolled_back(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("first") as writer:
        writer.replace(PRODUCTS, _products([1, 2]))
        writer.replace("features", _features([1, 2]))
    before = postgres_rows(url, ("products", "features")), postgres_loads(url)
    with pytest.raises(WarehouseAuditError, match=r"features_product_id_in_products \(1 violations\)"):
        with warehouse.writer("second") as writer:
            writer.replace("features", _features([1, 2, 99]))  # product 99 does not exist
    assert (postgres_rows(url, ("products", "features")), postgres_loads(url)) == before


def test_a_failure_inside_a_block_rolls_back_every_table_of_it(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with pytest.raises(RuntimeError, match="the step failed"):
        with warehouse.writer("run") as writer:
            writer.replace(PRODUCTS, _products([1]))
            raise RuntimeError("the step failed after its first table")
    assert postgres_rows(url, ("products",)) == {"products": None}


def test_an_unreachable_server_a_wrong_password_and_a_missing_database_are_typed(postgres_server):
    wrong_password = postgres_server.url().replace(postgres_server.password, "not-the-password")
    with pytest.raises(WarehouseLoginError, match="refused the login") as login:
        with WarehouseResource(url=wrong_password).reader():
            pass
    assert "not-the-password" not in str(login.value)
    with pytest.raises(WarehouseDatabaseMissingError, match="CREATE DATABASE") as missing:
        with WarehouseResource(url=postgres_server.url("no_such_database")).reader():
            pass
    assert postgres_server.password not in str(missing.value)
    closed = postgres_server.url().replace(f":{postgres_server.port}/", ":1/")
    with pytest.raises(WarehouseServerUnreachableError, match="is running and listening"):
        with WarehouseResource(url=closed, connect_timeout_s=1).writer():
            pass


def test_an_incremental_refresh_on_postgres_equals_the_same_refresh_on_duckdb(postgres_server, postgres_database, tmp_path):
    url, database = postgres_server.url(postgres_database), tmp_path / "testio.duckdb"
    into_postgres, into_duckdb = make_sim(), make_sim()
    assert _materialize_into_postgres(url, into_postgres).success
    assert materialize(SimulatorApiResource.serving(into_duckdb), database).success
    first = postgres_rows(url)
    for sim in (into_postgres, into_duckdb):
        sim.advance(timedelta(days=3))
    refreshed = _materialize_into_postgres(url, into_postgres)
    assert refreshed.success
    assert materialize(SimulatorApiResource.serving(into_duckdb), database).success
    modes = {m.asset_key.to_user_string(): m.metadata["refresh_mode"].value
             for m in refreshed.asset_materializations_for_node("exploratory_tests") + refreshed.asset_materializations_for_node("bugs")}
    assert set(modes.values()) == {"incremental"}
    after = postgres_rows(url)
    assert after == table_rows(database)
    assert after["tests"] != first["tests"]  # three days brought new or changed tests
