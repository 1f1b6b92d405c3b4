"""The test PostgreSQL (tests/postgres_support.py): reachable as a team server is, isolated per
test, stopped by process id, and failing loudly when it cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psutil
import psycopg2
import pytest
from postgres_support import PostgresUnavailable, running_postgres, start_postgres

pytestmark = pytest.mark.slow  # real PostgreSQL servers, started and killed

TESTS = Path(__file__).resolve().parents[1]


def _scalar(server, sql: str, database: str = "postgres"):
    return server.query(sql, database)[0][0]


def test_listens_on_loopback_tcp_with_password_authentication(postgres_server):
    assert _scalar(postgres_server, "SHOW listen_addresses") == "127.0.0.1"
    assert _scalar(postgres_server, "SELECT inet_server_addr()::text") == "127.0.0.1/32"
    assert _scalar(postgres_server, "SHOW server_version_num").startswith(str(postgres_server.version))
    assert _scalar(postgres_server, "SHOW TimeZone") == "UTC"
    wrong = postgres_server.url().replace(postgres_server.password, "not-the-password")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(wrong, connect_timeout=5)
    assert postgres_server.password not in repr(postgres_server)


def test_each_test_gets_a_fresh_database_that_is_dropped_after(postgres_server, postgres_database):
    con = postgres_server.connect(postgres_database)
    with con.cursor() as cur:
        cur.execute("CREATE TABLE t (x int)")
    other = postgres_server.create_database()
    try:
        tables = "SELECT count(*) FROM pg_tables WHERE tablename = 't'"
        assert _scalar(postgres_server, tables, postgres_database) == 1
        assert _scalar(postgres_server, tables, other) == 0
    finally:
        postgres_server.drop_database(other)
    # dropped even with a session still open on it
    assert _scalar(postgres_server, f"SELECT count(*) FROM pg_database WHERE datname = '{other}'") == 0
    con.close()


def test_stop_ends_the_postmaster_and_every_child_by_process_id():
    with running_postgres() as server:
        con = server.connect()  # a backend process, still connected at stop
        family = [server.pid, *(c.pid for c in psutil.Process(server.pid).children(recursive=True))]
        assert len(family) > 2
    assert not [pid for pid in family if psutil.pid_exists(pid)]
    assert not server.folder.exists()
    con.close()


def test_a_server_that_cannot_start_raises_with_its_log_and_leaves_nothing():
    before = set(Path(tempfile.gettempdir()).glob("testio-pg-*"))
    with pytest.raises(PostgresUnavailable) as raised:
        start_postgres(settings={"shared_buffers": "plenty"})
    message = str(raised.value)
    assert "exited with code" in message
    assert 'invalid value for parameter "shared_buffers": "plenty"' in message
    assert set(Path(tempfile.gettempdir()).glob("testio-pg-*")) <= before


def test_the_server_of_a_killed_test_process_is_stopped_by_the_next_start(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(TESTS)!r})
        from postgres_support import start_postgres
        server = start_postgres()
        print(server.pid, server.folder, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no teardown, as with kill -9 of pytest
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == -signal.SIGKILL, completed.stderr
    pid, folder = completed.stdout.split()
    assert psutil.pid_exists(int(pid))  # left running by the killed process

    with running_postgres():
        assert not psutil.pid_exists(int(pid)) or psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE
        assert not Path(folder).exists()


def test_a_test_needing_postgres_fails_rather_than_skips_when_it_cannot_start(tmp_path):
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\npytest_plugins = ['postgres_support']\n"
    )
    (tmp_path / "test_needs_postgres.py").write_text(
        "def test_uses_it(postgres_server):\n    assert postgres_server.port\n"
    )
    env = {**os.environ, "TESTIO_TEST_POSTGRES_VERSION": "9"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = completed.stdout + completed.stderr
    assert completed.returncode == 1, out
    assert "1 error" in out and "skipped" not in out
    assert "The test PostgreSQL could not be started" in out
    assert "TESTIO_TEST_POSTGRES_VERSION=9: the server package bundles PostgreSQL 16, 18" in out
