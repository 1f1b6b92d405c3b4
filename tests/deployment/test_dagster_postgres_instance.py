"""Dagster on PostgreSQL through the shipped testio_assets/deploy/dagster.postgres.yaml, with the pinned
dagster-postgres and SQLAlchemy: the project's assets materialised from the simulator, the
freshness daemon recording states, and the alert sensor's cursor kept by the sensor daemon.

The daemons' own iterations run in process (FreshnessDaemon.run_iteration and the sensor
daemon's execute_sensor_iteration over an in-process code location), at frozen times an hour
and two hours after the materialisation, so nothing waits for a policy to expire.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import dagster as dg
import yaml
import pytest

from deployment_support import POSTGRES_YAML, PROJECT_ROOT, open_instance
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.event_api import EventRecordsFilter
from dagster._core.scheduler.instigation import InstigatorType
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.freshness import FreshnessDaemon
from dagster._daemon.sensor import execute_sensor_iteration

from semantic.model.loader import load_model
from testio_assets.alerts.cursor import AlertCursor
from testio_assets.alerts.sensor import SENSOR_NAME
from testio_assets.freshness import windows_of
from testio_assets.freshness_state import evaluate_freshness
from testio_assets.instance import check_instance_config, instance_config

pytestmark = pytest.mark.slow  # a real PostgreSQL server and Dagster daemons

CODE_LOCATION = Path(__file__).with_name("postgres_code_location.py")
# The metric assets (saved queries) read hourly tables: their derived windows are hourly too.
METRICS = tuple(f"metrics/{name}" for name in sorted(load_model().saved_queries))
ASSETS = ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users", *METRICS)
HOURLY = tuple(sorted(("bugs", "test_features", "test_platforms", "tests", "users", *METRICS)))  # warn 1 h, fail 2 h
STORAGE_SECTIONS = {"storage", "run_storage", "event_log_storage", "schedule_storage",
                    "local_artifact_storage", "compute_logs"}  # fmt: skip


def test_the_postgres_yaml_keeps_every_other_setting_of_the_project_yaml():
    project = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    postgres = yaml.safe_load(POSTGRES_YAML.read_text())
    for section, value in project.items():
        if section not in STORAGE_SECTIONS:
            assert postgres.get(section) == value, f"{section} differs from dagster.yaml"
    connection = postgres["storage"]["postgres"]["postgres_db"]
    assert connection.pop("scheme") == "postgresql+psycopg2"
    # every connection setting, the password included, comes from the environment
    assert all(isinstance(value, dict) and set(value) == {"env"} for value in connection.values())


def test_the_instance_stores_everything_in_postgres_with_the_project_limits(postgres_home):
    check_instance_config(instance_config(postgres_home))
    instance = open_instance(postgres_home)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    limits = instance.get_concurrency_config()
    assert limits.run_queue_config.max_concurrent_runs == 1
    assert limits.pool_config.default_pool_limit == 1
    assert instance.run_monitoring_enabled
    expected = yaml.safe_load(POSTGRES_YAML.read_text())["run_monitoring"]
    assert {k: instance.run_monitoring_settings[k] for k in expected} == expected


def _workspace(instance: dg.DagsterInstance) -> WorkspaceProcessContext:
    origin = LoadableTargetOrigin(
        python_file=str(CODE_LOCATION), attribute="defs", working_directory=str(PROJECT_ROOT)
    )
    target = InProcessTestWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(origin, location_name="testio_assets")
    )
    return WorkspaceProcessContext(instance, target)


def _daemons_at(workspace: WorkspaceProcessContext, moment: float) -> None:
    """One freshness daemon iteration, then one sensor daemon iteration, at ``moment``."""
    with freeze_time(moment):
        list(FreshnessDaemon().run_iteration(workspace))
        list(execute_sensor_iteration(workspace, logging.getLogger("sensor_daemon"), None, None))


def _recorded(instance: dg.DagsterInstance) -> dict[str, str]:
    records = instance.get_freshness_state_records([dg.AssetKey.from_user_string(a) for a in ASSETS])
    return {key.to_user_string(): record.freshness_state.value for key, record in records.items()}


def _alert_sensor_state(instance: dg.DagsterInstance):
    (state,) = [
        s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        if s.name == SENSOR_NAME
    ]  # fmt: skip
    return state


def test_materialise_freshness_and_alert_cursor_on_postgres(
    postgres_home, postgres_server, postgres_database, receiver, tmp_path, monkeypatch
):
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", str(tmp_path / "testio.duckdb"))
    monkeypatch.setenv("TESTIO_ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.delenv("TESTIO_FRESHNESS_POLICIES", raising=False)
    import postgres_code_location

    instance = open_instance(postgres_home)
    result = postgres_code_location.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    materialized_at = time.time()

    with _workspace(instance) as workspace:
        _daemons_at(workspace, materialized_at)
        assert _recorded(instance) == dict.fromkeys(ASSETS, "PASS")
        assert receiver.bodies == []  # a first evaluation is not a transition worth a message
        first_cursor = AlertCursor.parse(_alert_sensor_state(instance).instigator_data.cursor)

        _daemons_at(workspace, materialized_at + 65 * 60)
        assert _recorded(instance) == {**dict.fromkeys(ASSETS, "PASS"), **dict.fromkeys(HOURLY, "WARN")}
        computed = evaluate_freshness(instance, ASSETS, windows_of(postgres_code_location.defs),
                                      now=materialized_at + 65 * 60)
        assert {a: s.state for a, s in computed.items()} == {
            **dict.fromkeys(ASSETS, "passing"), **dict.fromkeys(HOURLY, "warning")
        }
        assert all("recorded by the Dagster freshness daemon" in s.source for s in computed.values())
        warned = sorted(body["text"].split(".")[0] for body in receiver.bodies)
        assert warned == [f"Freshness: {a} is Warning (was Passing)" for a in HOURLY]
        second_cursor = AlertCursor.parse(_alert_sensor_state(instance).instigator_data.cursor)

        _daemons_at(workspace, materialized_at + 125 * 60)
        failed = sorted(body["text"].split(".")[0] for body in receiver.bodies[len(HOURLY):])
        assert failed == [f"Freshness: {a} is Failed (was Warning)" for a in HOURLY]

    # Another process (the webserver, a daemon on another host) sees the same state.
    other = open_instance(postgres_home)
    assert _recorded(other) == {**dict.fromkeys(ASSETS, "PASS"), **dict.fromkeys(HOURLY, "FAIL")}
    assert other.get_run_records()[0].dagster_run.status == dg.DagsterRunStatus.SUCCESS
    changes = other.event_log_storage.get_event_records(
        EventRecordsFilter(dg.DagsterEventType.FRESHNESS_STATE_CHANGE), ascending=True
    )
    new_states = [r.event_log_entry.dagster_event.event_specific_data.new_state for r in changes]
    assert new_states == [FreshnessState.PASS] * len(ASSETS) + [FreshnessState.WARN] * len(HOURLY) + \
        [FreshnessState.FAIL] * len(HOURLY)
    final_cursor = AlertCursor.parse(_alert_sensor_state(other).instigator_data.cursor)
    assert first_cursor.after < second_cursor.after < final_cursor.after == changes[-1].storage_id
    assert final_cursor.pending == ()

    # ... because it is all in PostgreSQL tables.
    assert postgres_server.query("SELECT status FROM runs", postgres_database) == [("SUCCESS",)]
    materialized = postgres_server.query(
        "SELECT count(DISTINCT asset_key) FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'",
        postgres_database,
    )
    assert materialized == [(len(ASSETS),)]
