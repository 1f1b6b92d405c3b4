"""Write, audit, publish: a version failing a blocking check never reaches readers, downstream
assets do not build on it, and answers keep the last good copy with its honest age."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import duckdb
import pytest
from reliability_support import check_results, make_sim, materialize, table_rows

from semantic import query_metrics
from testio_assets.checks import CHECKS, ingestion_checks
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource

pytestmark = pytest.mark.slow  # full materialisations

ORPHAN_TEST = 424242


@pytest.fixture
def warehouse(tmp_path):
    database = tmp_path / "testio.duckdb"
    sim = make_sim()
    assert materialize(SimulatorApiResource.serving(sim), database).success
    return database, sim


def _loads(path) -> dict[str, object]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("SELECT table_name, loaded_at FROM _table_loads").fetchall())


def _messages(instance: dg.DagsterInstance, result) -> str:
    return "\n".join(e.message or "" for e in instance.all_logs(result.run_id))


def test_error_checks_are_blocking_and_warnings_are_not():
    specs = {spec.name: spec for checks in ingestion_checks for spec in checks.check_specs}
    assert specs["tests_product_id_in_products"].blocking
    assert specs["bugs_primary_key"].blocking
    assert not specs["bugs_attributed_share"].blocking
    assert not specs["tests_unrecoverable_pages"].blocking  # its tests are kept as stored
    assert {c.name for c in CHECKS} == set(specs)


def test_a_version_failing_a_blocking_check_is_not_published(warehouse):
    database, sim = warehouse
    copy = WarehouseResource(database=str(database)).read_copy
    copy_rows, copy_loads = table_rows(copy), _loads(copy)
    answer_before = query_metrics(["bug_count"], warehouse=str(database))
    # A write that got past the guards but breaks a reference: a test of an unknown product.
    with duckdb.connect(str(database)) as con:
        con.execute(
            "INSERT INTO tests (test_id, product_id, status) VALUES (?, 424242, 'running')",
            [ORPHAN_TEST],
        )
    sim.advance(timedelta(days=3))  # a run that is published would change the answers
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(SimulatorApiResource.serving(sim), database, instance=instance)

    assert not result.success
    assert not check_results(result)["tests_product_id_in_products"].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "tests" in materialized and not {"bugs", "users"} & materialized  # blocked downstream
    assert "not published" in _messages(instance, result)
    assert table_rows(copy) == copy_rows and _loads(copy) == copy_loads
    answer = query_metrics(["bug_count"], warehouse=str(database))
    assert answer.df.equals(answer_before.df)
    # The answer's age is that of the copy it read, not of the unpublished write.
    for table in ("bugs", "tests"):
        shown = datetime.fromisoformat(answer.metadata["freshness"][table]["last_loaded_at"])
        assert shown.replace(tzinfo=None) == copy_loads[table]
    assert _loads(database)["tests"] > copy_loads["tests"]  # the write did happen, unpublished

    # Once the bad row is gone, the next run passes its checks and readers get the new version.
    with duckdb.connect(str(database)) as con:
        con.execute("DELETE FROM tests WHERE test_id = ?", [ORPHAN_TEST])
    assert materialize(SimulatorApiResource.serving(sim), database).success
    assert table_rows(copy) == table_rows(database) != copy_rows
