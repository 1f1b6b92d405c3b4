"""A notebook querying in a loop while a run materialises: no errors, no blocked run.

The reader is a second real process using the semantic layer exactly as a notebook does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from testio_assets.definitions import build_definitions
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource

pytestmark = pytest.mark.slow  # a reader process during a real run

READER = """
import json, os, sys, time
from semantic import query_metrics

warehouse, ready_file, stop_file = sys.argv[1:4]
ok, errors, messages, totals, answered_at = 0, 0, [], set(), []
deadline = time.monotonic() + 300
while not os.path.exists(stop_file) and time.monotonic() < deadline:
    try:
        answer = query_metrics(["bug_count", "test_count"], warehouse=warehouse)
        totals.add(int(answer.df["bug_count"].iloc[0]))
        ok += 1
        answered_at.append(time.time())
        if ok == 3:
            open(ready_file, "w").close()
        time.sleep(0.02)  # a tight loop, as a notebook cell's, without taking a whole core from the run
    except Exception as exc:
        errors += 1
        messages.append(f"{type(exc).__name__}: {exc}"[:300])
print(json.dumps({"ok": ok, "errors": errors, "messages": messages[:5], "totals": sorted(totals), "answered_at": answered_at}))
"""


def _wait_for(path: Path, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the reader never answered a query"
        time.sleep(0.05)


def test_reader_process_sees_no_errors_while_a_run_writes(tmp_path):
    database = tmp_path / "testio.duckdb"
    simulator = Simulator(SimulatorConfig.preset("tiny", seed=11))
    defs = build_definitions(
        api=SimulatorApiResource.serving(simulator),
        warehouse=WarehouseResource(database=str(database), connect_timeout_s=20),
    )
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(instance=instance).success  # the warehouse exists

        ready, stop = tmp_path / "ready", tmp_path / "stop"
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(database), str(ready), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(ready, reader)
            writes_started = time.time()
            results = [job.execute_in_process(instance=instance) for _ in range(2)]
            writes_ended = time.time()
        finally:
            stop.touch()
            out, err = reader.communicate(timeout=120)

    assert all(result.success for result in results)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == 0, report["messages"]
    # The reader really ran while the runs were writing, not only before or after them.
    assert any(writes_started <= t <= writes_ended for t in report["answered_at"])
    # Every answer was a complete, consistent warehouse: the same customer, the same bug total.
    assert len(report["totals"]) == 1
