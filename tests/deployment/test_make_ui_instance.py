"""`make ui` as a platform engineer runs it: with DAGSTER_HOME exported to a folder holding
testio_assets/deploy/dagster.postgres.yaml, the webserver and every daemon run on PostgreSQL; without it,
the project folder's instance as before."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
import pytest

from deployment_support import PROJECT_ROOT

pytestmark = pytest.mark.slow  # `make ui` as a process

START_TIMEOUT_S = 120
INSTANCE_QUERY = "{ instance { info daemonHealth { allDaemonStatuses { daemonType healthy } } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_members(session: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == session:
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            pass
    return members


@contextmanager
def _make_ui(env: dict, log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`make ui` on a free port in its own session; everything it started is stopped after,
    by process id (SIGTERM, then SIGKILL for what is still running 30 s later)."""
    port = _free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["make", "-C", str(PROJECT_ROOT), "ui", f"PORT={port}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process, port
    finally:
        members = _session_members(process.pid)
        for member in members:
            with suppress(psutil.NoSuchProcess):  # make's shell may go with make
                member.terminate()
        _, alive = psutil.wait_procs(members, timeout=30)
        for member in alive:
            with suppress(psutil.NoSuchProcess):
                member.kill()
        process.wait(30)


def _wait_for_instance(port: int, process: subprocess.Popen, log) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"make ui exited early:\n{log.read_text()[-3000:]}"
        try:
            answer = httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": INSTANCE_QUERY}, timeout=5
            )
            if answer.status_code == 200:
                return answer.json()["data"]["instance"]
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"the webserver did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def _instigator_count(postgres_server, database: str) -> int:
    """Sensors and schedules the daemon has registered in the instance's database."""
    if postgres_server.query("SELECT to_regclass('instigators') IS NULL", database)[0][0]:
        return 0
    return postgres_server.query("SELECT count(*) FROM instigators", database)[0][0]


def test_make_ui_runs_on_the_postgres_instance_dagster_home_names(
    postgres_home, postgres_server, postgres_database, tmp_path
):
    log = tmp_path / "make-ui.log"
    env = {**os.environ, "DAGSTER_HOME": str(postgres_home),
           "TESTIO_WAREHOUSE_PATH": str(tmp_path / "testio.duckdb")}  # fmt: skip
    env.pop("TESTIO_CUSTOMER_API_TOKEN", None)
    with _make_ui(env, log) as (process, port):
        instance = _wait_for_instance(port, process, log)
        for line in ("run_storage: PostgresRunStorage", "event_log_storage: PostgresEventLogStorage",
                     "schedule_storage: PostgresScheduleStorage", "max_concurrent_runs: 1",
                     "free_slots_after_run_end_seconds: 30"):  # fmt: skip
            assert line in instance["info"]
        daemons = {d["daemonType"] for d in instance["daemonHealth"]["allDaemonStatuses"]}
        assert {"SENSOR", "FRESHNESS_DAEMON", "MONITORING"} <= daemons
        # The daemon registers the project's sensors in PostgreSQL on its first ticks.
        deadline = time.monotonic() + 60
        while _instigator_count(postgres_server, postgres_database) < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
    assert (
        f"Dagster instance: {postgres_home / 'dagster.yaml'} (from DAGSTER_HOME; PostgreSQL storage)"
        in log.read_text()
    )


def test_make_ui_stops_before_dagster_on_a_url_without_psycopg2(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("storage:\n  postgres:\n    postgres_url: {env: DAGSTER_PG_URL}\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": "postgresql://u:pw@127.0.0.1:1/d"}
    log = tmp_path / "make-ui.log"
    with _make_ui(env, log) as (process, _):
        returncode = process.wait(120)
    output = log.read_text()
    assert returncode != 0
    assert "error: DAGSTER_PG_URL (read by storage.postgres.postgres_url) starts with 'postgresql://'" in output
    assert "dagster dev" not in output


def test_make_ui_uses_the_project_folder_when_dagster_home_is_unset_or_empty():
    for dagster_home in (None, ""):
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        if dagster_home is not None:
            env["DAGSTER_HOME"] = dagster_home
        planned = subprocess.run(
            ["make", "-n", "-C", str(PROJECT_ROOT), "ui"], env=env, capture_output=True, text=True
        ).stdout
        assert f'DAGSTER_HOME="{PROJECT_ROOT}" .venv/bin/dagster dev' in planned
