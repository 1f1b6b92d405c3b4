"""Faults: retries converge on the fault-free tables, lost pages are reported, auth fails
clearly, the token never leaks, and a failed write keeps the previous tables."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from ingestion_support import FAST_RETRIES, check_results, make_sim, materialize, table_rows

from testio_assets.assets import ingestion_assets
from testio_assets.client.resource import TestIOApiResource
from testio_assets.simulator import FaultConfig
from testio_assets.simulator.resource import SimulatorApiResource

pytestmark = pytest.mark.slow  # fault-injected full syncs and a served simulator

TOKEN = "right-secret-token-1234"
WRONG_TOKEN = "wrong-secret-token"


def _run_text(instance: dg.DagsterInstance, result: dg.ExecuteInJobResult) -> str:
    """Everything the run recorded: messages, metadata and error text of every event."""
    return "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))


def test_transient_faults_converge_on_the_fault_free_tables(tmp_path):
    clean = tmp_path / "clean.duckdb"
    assert materialize(SimulatorApiResource.serving(make_sim()), clean).success
    faults = FaultConfig(
        transient_error_probability=0.1, rate_limit_probability=0.1, retry_after_s=0,
        timeout_probability=0.05, timeout_delay_s=2.0, malformed_probability=0.1,
    )
    faulty_sim = make_sim(faults)
    faulty = tmp_path / "faulty.duckdb"
    result = materialize(SimulatorApiResource.serving(faulty_sim, **FAST_RETRIES), faulty)
    assert result.success
    assert table_rows(faulty) == table_rows(clean)
    tests_meta = next(
        e.materialization.metadata for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "tests"
    )
    assert tests_meta["api_retries"].value > 0


def test_poison_test_is_isolated_and_reported_by_a_check(tmp_path):
    sim = make_sim()
    poison = sim.pick_test_ids(1)[0]
    sim.faults = FaultConfig(poison_test_ids={poison})
    database = tmp_path / "testio.duckdb"
    result = materialize(SimulatorApiResource.serving(sim, **FAST_RETRIES), database)
    assert result.success, "a lost page fails a check, not the run"
    stored = {row[0] for row in table_rows(database)["tests"]}
    expected = {t["id"] for p in sim.products_payload() for t in sim.tests_payload(p["id"])}
    assert stored == expected - {poison}
    check = check_results(result)["tests_unrecoverable_pages"]
    assert not check.passed
    ranges = check.metadata["unrecoverable_ranges"].value
    assert len(ranges) == 1 and ranges[0]["first_offset"] == ranges[0]["last_offset"]
    assert check.metadata["tests_not_listed"].value == 1


def test_wrong_token_fails_clearly_without_leaking(tmp_path):
    sim = make_sim(token="right")
    with sim.serve() as base_url:
        api = TestIOApiResource(token=WRONG_TOKEN, base_url=base_url, **FAST_RETRIES)
        instance = dg.DagsterInstance.ephemeral()
        result = materialize(api, tmp_path / "testio.duckdb", instance=instance)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "401" in message and "TESTIO_CUSTOMER_API_TOKEN" in message
    assert WRONG_TOKEN not in _run_text(instance, result)


def test_served_api_with_token_never_leaks_it(tmp_path):
    sim = make_sim(token=TOKEN)
    instance = dg.DagsterInstance.ephemeral()
    with sim.serve() as base_url:
        api = TestIOApiResource(token=TOKEN, base_url=base_url)
        result = materialize(api, tmp_path / "testio.duckdb", instance=instance)
    assert result.success
    assert len(table_rows(tmp_path / "testio.duckdb")["bugs"]) == len(sim.bugs_payload())
    assert TOKEN not in _run_text(instance, result)
    assert any(r.path.endswith("bugs") for r in sim.request_log)


def test_failed_bug_fetch_keeps_the_previous_tables(tmp_path):
    sim = make_sim()
    database = tmp_path / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(sim), database).success
    before = table_rows(database)
    sim.advance(timedelta(days=3))  # a successful run would now change the bugs
    sim.faults = FaultConfig(malformed_probability=0.99)
    bugs_only = [a for a in ingestion_assets if "bugs" in {k.to_user_string() for k in a.keys}]
    result = materialize(
        SimulatorApiResource.serving(sim, max_attempts=2, backoff_base_s=0.01),
        database,
        selection=bugs_only,
    )
    assert not result.success
    message = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error.message
    assert "malformed" in message or "envelope" in message
    assert table_rows(database) == before
