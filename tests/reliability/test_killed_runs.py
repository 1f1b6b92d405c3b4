"""A crash never wedges the pipeline: `make demo` killed with SIGKILL inside the bugs step, then
run again, completes (it frees the dead run's writer slot and says so) instead of waiting
forever on "Step blocked by limit for pool duckdb_writer"."""

from __future__ import annotations

import os
import signal
import socket
import time

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.dagster_run import DagsterRun
import pytest

from reliability_support import PROJECT_ROOT, demo_environment, make_sim, run_demo, start_demo

from testio_assets.dead_runs import (
    WORKER_TAG,
    dead_run_sweeper,
    sweep_dead_runs,
    worker_alive,
    worker_tags,
)
from testio_assets.simulator import FaultConfig

pytestmark = pytest.mark.slow  # demo processes killed with SIGKILL

TOKEN = "kill-test-token"


def _instance(home) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _wait_for(condition, process, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the demo never reached the bugs step"
        time.sleep(0.05)


def test_a_demo_killed_inside_the_bugs_step_does_not_wedge_the_next_one(tmp_path):
    sim = make_sim(token=TOKEN)
    with sim.serve() as base_url:
        env = demo_environment(
            tmp_path, TESTIO_CUSTOMER_API_TOKEN=TOKEN, TESTIO_CUSTOMER_API_BASE_URL=base_url
        )
        # The bugs endpoint never answers: the kill lands while the bugs step holds the slot.
        sim.faults = FaultConfig(hang_endpoints={"bugs"})
        demo = start_demo(env)
        try:
            _wait_for(lambda: sim.hung_requests > 0, demo)
        finally:
            os.kill(demo.pid, signal.SIGKILL)
            demo.communicate()
        sim.faults = FaultConfig()

        with _instance(tmp_path) as instance:
            [killed] = instance.get_runs()
            assert killed.status == dg.DagsterRunStatus.STARTED
            assert killed.run_id in instance.event_log_storage.get_concurrency_run_ids()

        # Without the sweep this run waits forever for the slot: the timeout fails the test.
        completed = run_demo(env, timeout=180)

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert f"Earlier run {killed.run_id}" in completed.stdout
    assert f"(PID {demo.pid}) is gone: marked failed, pool slots freed" in completed.stdout
    assert "succeeded" in completed.stdout
    with _instance(tmp_path) as instance:
        statuses = {run.run_id: run.status for run in instance.get_runs()}
        assert statuses.pop(killed.run_id) == dg.DagsterRunStatus.FAILURE
        assert list(statuses.values()) == [dg.DagsterRunStatus.SUCCESS]
        assert not instance.event_log_storage.get_concurrency_run_ids()


def test_live_workers_are_left_alone_and_reused_pids_are_not_mistaken_for_them():
    mine = worker_tags()[WORKER_TAG]
    assert worker_alive(mine) is True
    host, pid, started = mine.split("|")
    assert worker_alive(f"{host}|{pid}|{float(started) - 3600:.2f}") is False  # PID reused
    assert worker_alive(f"{host}|99999999|{started}") is False
    assert worker_alive(f"another-host|{pid}|{started}") is None
    assert worker_alive(None) is None
    with dg.instance_for_test() as instance:
        assert sweep_dead_runs(instance) == []


def test_make_ui_frees_slots_of_ended_runs():
    """The project's dagster.yaml turns run monitoring on (Dagster validates these keys)."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    with dg.instance_for_test(overrides={"run_monitoring": config["run_monitoring"]}) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.run_monitoring_max_runtime_seconds > 0


def test_the_sweeper_sensor_fails_dead_runs_frees_ended_ones_and_spares_live_ones():
    dead_worker = f"{socket.gethostname()}|99999999|0.00"
    runs = {
        "dead": (dg.DagsterRunStatus.STARTED, {WORKER_TAG: dead_worker}),
        "ended": (dg.DagsterRunStatus.FAILURE, {WORKER_TAG: dead_worker}),
        "live": (dg.DagsterRunStatus.STARTED, dict(worker_tags())),
        "elsewhere": (dg.DagsterRunStatus.STARTED, {WORKER_TAG: "another-host|1|0.00"}),
    }
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("duckdb_writer", len(runs))
        for run_id, (status, tags) in runs.items():
            instance.add_run(DagsterRun(job_name="__ASSET_JOB", run_id=run_id, status=status, tags=tags))
            storage.claim_concurrency_slot("duckdb_writer", run_id, "bugs")
        skip = dead_run_sweeper(dg.build_sensor_context(instance=instance))
        assert "run dead:" in skip.skip_message and "run ended:" in skip.skip_message
        assert instance.get_run_by_id("dead").status == dg.DagsterRunStatus.FAILURE
        assert storage.get_concurrency_run_ids() == {"live", "elsewhere"}
        assert instance.get_run_by_id("live").status == dg.DagsterRunStatus.STARTED
        left = {s.run_id: s.action for s in sweep_dead_runs(instance)}
        assert left == {"live": "running", "elsewhere": "unknown"}
