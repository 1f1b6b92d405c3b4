"""Errors a person can act on: a lock held by another process, a damaged or foreign file, a
missing warehouse, a full disk. Each is typed, names the cause and the next step, and loses
nothing already stored."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb
import pytest
from reliability_support import (
    FULL_REFRESH,
    failures,
    make_sim,
    materialize,
    ops_config,
    run_python,
    table_rows,
)

from semantic import query_metrics
from semantic.errors import (
    SemanticError,
    WarehouseCorruptError,
    WarehouseLockedError,
    WarehouseNotFoundError,
)
from semantic.answer.warehouse import open_warehouse
from testio_assets.assets import ingestion_assets
from testio_assets.ops_summary import step_failures
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource

pytestmark = pytest.mark.slow  # lock holders and full disks in other processes

HOLD_LOCK = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse (and its read copy) built by the real assets, copied fresh by each test."""
    database = tmp_path_factory.mktemp("built") / "testio.duckdb"
    assert materialize(SimulatorApiResource.serving(make_sim()), database).success
    return database


@pytest.fixture
def warehouse(built, tmp_path):
    database = tmp_path / "testio.duckdb"
    database.write_bytes(built.read_bytes())
    WarehouseResource(database=str(database)).read_copy.write_bytes(
        WarehouseResource(database=str(built)).read_copy.read_bytes()
    )
    return database


def _hold_lock(path, mode="ro") -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_lock_held_by_a_notebook_fails_the_write_naming_the_process(warehouse):
    before = table_rows(warehouse)
    holder = _hold_lock(warehouse)  # a notebook that opened the main file, read-only
    try:
        result = materialize(
            SimulatorApiResource.serving(make_sim()), warehouse,
            selection=[a for a in ingestion_assets if "products" in {k.path[-1] for k in a.keys}],
            warehouse={"connect_timeout_s": 0.5},
        )
    finally:
        _release(holder)
    assert not result.success
    error, message = failures(result)["products"]
    assert error == "WarehouseLockedError"
    assert f"PID {holder.pid}" in message and "-c" in message  # the holder's command line
    assert "testio.read.duckdb" in message and "run again" in message
    assert table_rows(warehouse) == before
    # make demo's summary shows the same error, without Dagster's wrapper around it.
    assert dict(step_failures(result))["products"].startswith("WarehouseLockedError: ")


def test_the_writer_gives_up_on_a_lock_within_seconds_by_default():
    assert WarehouseResource().connect_timeout_s <= 10


def test_readers_report_a_lock_as_busy_only_when_it_is_one(warehouse, tmp_path):
    copy = WarehouseResource(database=str(warehouse)).read_copy
    copy.unlink()  # no published copy: readers open the main file, which a writer holds
    holder = _hold_lock(warehouse, mode="rw")
    try:
        with pytest.raises(WarehouseLockedError, match="busy") as caught:
            with open_warehouse(str(warehouse), retry_for_s=0.2):
                pass
    finally:
        _release(holder)
    assert caught.value.holder_pid == holder.pid

    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(WarehouseCorruptError) as caught:
        query_metrics(["bug_count"], warehouse=str(empty))
    assert "busy" not in str(caught.value) and "make demo" in str(caught.value)


def test_a_foreign_file_fails_the_write_with_the_way_back(warehouse):
    good_copy = WarehouseResource(database=str(warehouse)).read_copy.read_bytes()
    warehouse.write_text("product_id,name\n1,not a database\n")
    result = materialize(SimulatorApiResource.serving(make_sim()), warehouse)
    assert not result.success
    error, message = failures(result)["products"]
    assert error == "WarehouseCorruptError"
    assert "not a readable DuckDB database" in message
    assert f"cp {warehouse.with_name('testio.read.duckdb')} {warehouse}" in message
    assert "make demo" in message
    # Readers keep the last published copy, untouched.
    assert WarehouseResource(database=str(warehouse)).read_copy.read_bytes() == good_copy
    assert query_metrics(["bug_count"], warehouse=str(warehouse)).df["bug_count"][0] > 0


def test_readers_name_a_damaged_read_copy_and_how_to_recover(warehouse):
    copy = WarehouseResource(database=str(warehouse)).read_copy
    copy.write_bytes(b"\0" * 4096)
    with pytest.raises(WarehouseCorruptError, match="delete it") as caught:
        query_metrics(["bug_count"], warehouse=str(warehouse))
    assert str(copy) in str(caught.value)
    copy.unlink()  # as the message says: readers fall back to the main file
    assert query_metrics(["bug_count"], warehouse=str(warehouse)).df["bug_count"][0] > 0


def test_a_block_damaged_after_opening_is_reported_as_damage(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE big AS SELECT range AS id, md5(range::VARCHAR) AS title FROM range(200000)")
        con.execute("CREATE TABLE small AS SELECT 1 AS x")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xff" * 8192
    path.write_bytes(bytes(data))
    with pytest.raises(WarehouseCorruptError, match="damaged"):
        with open_warehouse(str(path)) as con:
            assert con.execute("SELECT x FROM small").fetchone() == (1,)  # opens fine
            try:
                con.execute("SELECT max(title) FROM big").fetchall()
            except duckdb.Error:
                raise SemanticError("the warehouse could not answer this query") from None


def test_a_missing_warehouse_says_to_run_make_demo(tmp_path):
    with pytest.raises(WarehouseNotFoundError, match="make demo"):
        query_metrics(["bug_count"], warehouse=str(tmp_path / "nothing.duckdb"))


FULL_DISK = """
import json, resource, signal, sys
import dagster as dg
sys.path[:0] = ["tests", "tests/reliability"]
from reliability_support import failures, make_sim, materialize, ops_config
from testio_assets.assets import ingestion_assets
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource

database, limit, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
api = SimulatorApiResource.serving(make_sim())
dg.DagsterInstance.ephemeral()  # warm up before the limit: nothing below writes but the warehouse
# Past the limit a write fails with EFBIG, as a full disk fails it with ENOSPC (both say so).
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
if what == "publish":
    try:
        WarehouseResource(database=database).publish()
        print(json.dumps({"error": None}))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
else:
    bugs = [a for a in ingestion_assets if "bugs" in {k.path[-1] for k in a.keys}]
    result = materialize(api, database, selection=bugs, run_config=ops_config(bugs={"full_refresh": True}))
    error, message = failures(result).get("bugs", (None, None))
    print(json.dumps({"success": result.success, "error": error, "message": message}))
"""


def test_a_full_disk_during_a_write_shows_the_real_cause_and_keeps_the_tables(warehouse):
    before = table_rows(warehouse)
    copy = WarehouseResource(database=str(warehouse)).read_copy
    copy_before = copy.read_bytes()
    report = run_python(FULL_DISK, str(warehouse), str(64 * 1024), "write")
    assert not report["success"]
    assert report["error"] == "WarehouseDiskFullError", report
    assert "disk is full" in report["message"] and "File too large" in report["message"]
    assert "no transaction is active" not in report["message"]
    assert table_rows(warehouse) == before
    assert copy.read_bytes() == copy_before
    assert not list(warehouse.parent.glob("*.tmp"))


def test_a_full_disk_while_publishing_leaves_no_partial_copy(warehouse):
    copy = WarehouseResource(database=str(warehouse)).read_copy
    copy_before = copy.read_bytes()
    assert warehouse.stat().st_size > 64 * 1024
    report = run_python(FULL_DISK, str(warehouse), str(64 * 1024), "publish")
    assert report["error"] == "WarehouseDiskFullError", report
    assert "publishing the read copy" in report["message"]
    assert not list(warehouse.parent.glob("*.tmp"))
    assert copy.read_bytes() == copy_before
