"""Where the project is: its folder, its ``.env``, and the warehouse every surface reads.

One rule, used by ``query_metrics``, the CLI, the notebook helper, the MCP server, ``make demo``
and the Dagster warehouse resource's default, so that none depends on where it was started:

1. an explicit path or URL (``warehouse=``, ``--warehouse``), as given: a relative path is
   relative to the working directory, like any path typed on a command line;
2. else ``TESTIO_WAREHOUSE_URL``: ``postgresql://user:password@host:5432/db`` (a PostgreSQL
   server), ``duckdb:///relative/file.duckdb`` or ``duckdb:////absolute/file.duckdb`` (a DuckDB
   file, SQLAlchemy's form), or MotherDuck's ``md:database`` (handed to DuckDB as it is);
3. else ``TESTIO_WAREHOUSE_PATH``; a relative value (in 2 or 3) is relative to the **project
   folder** (a value in ``.env`` means the same file from every folder);
4. else ``data/testio.duckdb`` in the project folder.

The **project folder** is the nearest folder, from the working directory upwards, holding the
project's ``pyproject.toml`` (``name = "testio-warehouse"``); else the folder the installed
package comes from (an editable install: the clone holding ``pyproject.toml``). A kernel
started in ``semantic/examples/`` and a shell in ``/tmp`` both find the clone; with neither
(a plain install used outside the project), only 1 or 2 with an absolute path can say where
the warehouse is. The model is found the same way everywhere: ``model=`` / ``--models``, else
the model packaged with the code (``semantic/models``).

``.env`` in the project folder is read by the demo, the CLI, the notebook helper and the MCP
server as ``dagster dev`` reads it (python-dotenv), except that a variable already set in the
environment keeps its value.

>>> is_project_folder(project_root())
True
>>> warehouse_location("elsewhere/w.duckdb")
WarehouseLocation(path=PosixPath('elsewhere/w.duckdb'), found_by='the path given', url=None)
>>> warehouse_location("postgresql://ann:s3cret@db.internal/testio").describe()
'postgresql://ann:***@db.internal/testio (the URL given)'
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from semantic.errors import WarehouseNotFoundError, WarehouseURLError

PROJECT_NAME = "testio-warehouse"
WAREHOUSE_ENV = "TESTIO_WAREHOUSE_PATH"
WAREHOUSE_URL_ENV = "TESTIO_WAREHOUSE_URL"
# Schemes of a PostgreSQL server; SQLAlchemy's driver suffix (``+psycopg2``) is accepted and dropped.
POSTGRES_SCHEMES = ("postgresql", "postgres")
DUCKDB_SCHEME = "duckdb"
MOTHERDUCK_PREFIXES = ("md:", "motherduck:")
DEFAULT_WAREHOUSE = Path("data") / "testio.duckdb"
ENV_FILE = ".env"
# The folder holding the package ``semantic``: the clone, for an editable install.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WarehouseLocation:
    """Where the warehouse is, and which part of the rule said so (for messages).

    A DuckDB file has a ``path``; a server (PostgreSQL, MotherDuck) has a ``url`` instead, which
    may hold a password: show it only through :meth:`describe` or :func:`redact_url`.
    """

    path: Path | None
    found_by: str
    url: str | None = None

    @property
    def engine(self) -> str:
        """``duckdb`` (a local file), ``postgres`` or ``motherduck``.

        >>> warehouse_location("md:testio").engine
        'motherduck'
        """
        if self.url is None:
            return "duckdb"
        return "motherduck" if self.url.startswith(MOTHERDUCK_PREFIXES) else "postgres"

    def describe(self) -> str:
        """The file (relative to the project folder when inside it) or the URL without its
        password, and how it was found.

        >>> WarehouseLocation(Path("/w.duckdb"), "the path given").describe()
        '/w.duckdb (the path given)'
        """
        if self.url is not None:
            return f"{redact_url(self.url)} ({self.found_by})"
        root = project_root()
        shown = self.path.relative_to(root) if root and self.path.is_relative_to(root) else self.path
        return f"{shown} ({self.found_by})"


# Query parameters libpq reads a secret from (postgresql://host/db?password=...).
_SECRET_PARAMETERS = re.compile(r"(?P<key>(?:^|&)(?:password|sslpassword)=)(?P<value>[^&]*)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host and database stay readable),
    wherever the URL carries it: after the user, or as a ``password=`` query parameter.

    >>> redact_url("postgresql://ann:p%40ss@localhost:5433/testio?sslmode=require")
    'postgresql://ann:***@localhost:5433/testio?sslmode=require'
    >>> redact_url("postgresql://ann@localhost/testio?sslmode=require&password=s3cret")
    'postgresql://ann@localhost/testio?sslmode=require&password=***'
    >>> redact_url("md:testio?motherduck_token=abc")
    'md:testio?motherduck_token=***'
    """
    if url.startswith(MOTHERDUCK_PREFIXES):
        head, sep, _ = url.partition("motherduck_token=")
        return f"{head}{sep}***" if sep else url
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(query=_SECRET_PARAMETERS.sub(r"\g<key>***", parts.query)))


def without_secrets(text: str, url: str | None) -> str:
    """``text`` (a driver's message, say) with every secret of ``url`` in it replaced by ``***``.

    >>> without_secrets('password "p@ss" refused', "postgresql://ann:p%40ss@db/testio")
    'password "***" refused'
    """
    if not url:
        return text
    parts = urlsplit(url)
    values = [parts.password or "", *(m.group("value") for m in _SECRET_PARAMETERS.finditer(parts.query))]
    if url.startswith(MOTHERDUCK_PREFIXES):
        values.append(url.partition("motherduck_token=")[2].partition("&")[0])
    secrets = {form for value in values for form in (value, unquote(value))}  # as written and as decoded
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@functools.lru_cache(maxsize=64)
def _declares_project(pyproject: str, mtime_ns: int) -> bool:
    try:
        with open(pyproject, "rb") as f:
            return tomllib.load(f).get("project", {}).get("name") == PROJECT_NAME
    except (OSError, tomllib.TOMLDecodeError):
        return False


def is_project_folder(folder: Path) -> bool:
    """True when ``folder`` holds the project's pyproject.toml."""
    pyproject = folder / "pyproject.toml"
    try:
        return _declares_project(str(pyproject), pyproject.stat().st_mtime_ns)
    except OSError:
        return False


_FROM_CWD = "the project folder found from the working directory"
_FROM_PACKAGE = "the installed package's project folder"


def _find_root(start: Path | None = None) -> tuple[Path, str] | None:
    try:
        here = (start or Path.cwd()).resolve()
    except OSError:  # the working directory was deleted
        here = None
    for folder in ([here, *here.parents] if here else []):
        if is_project_folder(folder):
            return folder, _FROM_CWD
    return (_PACKAGE_PARENT, _FROM_PACKAGE) if is_project_folder(_PACKAGE_PARENT) else None


def project_root(start: Path | None = None) -> Path | None:
    """The project folder: the nearest one from ``start`` (the working directory) upwards, else
    the installed package's; None when there is neither."""
    found = _find_root(start)
    return found[0] if found else None


def _scheme(text: str) -> str | None:
    """The URL scheme of ``text`` (without a ``+driver`` suffix), or None for a plain path."""
    head, sep, _ = text.partition("://")
    if not sep or not head.replace("+", "").isalnum():
        return None
    return head.split("+", 1)[0].lower()


def _from_url(url: str, found_by: str, root: Path | None) -> WarehouseLocation:
    """A location from a warehouse URL; a relative ``duckdb:///`` file is relative to ``root``
    (the project folder) when the URL came from the environment."""
    if url.startswith(MOTHERDUCK_PREFIXES):
        return WarehouseLocation(None, found_by, url=url)
    scheme = _scheme(url)
    if scheme in POSTGRES_SCHEMES:
        parts = urlsplit(url)
        if not parts.hostname and "host=" not in parts.query:
            raise WarehouseURLError(
                f"the warehouse URL {redact_url(url)} ({found_by}) names no server: write "
                f"postgresql://user:password@host:5432/database")
        # One spelling for every client: libpq's, without SQLAlchemy's driver suffix.
        return WarehouseLocation(None, found_by, url=urlunsplit(parts._replace(scheme="postgresql")))
    if scheme == DUCKDB_SCHEME:
        file = url.split("://", 1)[1]
        if not file.startswith("/") or file == "/":
            raise WarehouseURLError(
                f"the warehouse URL {url} ({found_by}) names no file: write duckdb:///data/testio.duckdb "
                f"(relative to the project folder) or duckdb:////absolute/path.duckdb")
        path = Path(file[1:]).expanduser()
        return _file_location(path, found_by, root)
    raise WarehouseURLError(
        f"the warehouse URL {redact_url(url)} ({found_by}) has a scheme this project cannot use; "
        f"use postgresql://..., duckdb:///path or md:database")


def _file_location(path: Path, found_by: str, root: Path | None) -> WarehouseLocation:
    if path.is_absolute():
        return WarehouseLocation(path, found_by)
    if root is None:
        raise WarehouseNotFoundError(
            f"{found_by}: {path} is relative and there is no project folder to read it from "
            f"(none above {Path.cwd()}, and the package is not installed from one): give an absolute path")
    return WarehouseLocation(root / path, f"{found_by}, relative to the project folder {root}")


def warehouse_location(explicit: str | os.PathLike | None = None) -> WarehouseLocation:
    """The warehouse by the rule above. Raises :class:`WarehouseNotFoundError` when nothing
    says where it is (no explicit path, no variable, no project folder), and
    :class:`WarehouseUnavailableError` for a URL it cannot use."""
    if explicit is not None and str(explicit) != "":
        text = os.fspath(explicit)
        if isinstance(text, str) and (_scheme(text) or text.startswith(MOTHERDUCK_PREFIXES)):
            return _from_url(text, "the URL given", None)
        return WarehouseLocation(Path(explicit).expanduser(), "the path given")
    root, how = _find_root() or (None, "")
    url = os.environ.get(WAREHOUSE_URL_ENV, "").strip()
    if url:
        return _from_url(url, WAREHOUSE_URL_ENV, root)
    configured = os.environ.get(WAREHOUSE_ENV, "").strip()
    if configured:
        return _file_location(Path(configured).expanduser(), WAREHOUSE_ENV, root)
    if root is None:
        raise WarehouseNotFoundError(
            f"no warehouse configured: set {WAREHOUSE_ENV} to a DuckDB file or {WAREHOUSE_URL_ENV} to a server "
            f"(or pass warehouse=, --warehouse); "
            f"no project folder (a pyproject.toml of {PROJECT_NAME}) is above {Path.cwd()} and the package "
            f"is not installed from one")
    return WarehouseLocation(root / DEFAULT_WAREHOUSE, how)


def load_project_env(root: Path | None = None) -> list[str]:
    """Read ``.env`` of the project folder into the environment, keeping every variable already
    set; returns the names it set (never their values)."""
    root = root or project_root()
    path = root / ENV_FILE if root else None
    if path is None or not path.is_file():
        return []
    from dotenv import dotenv_values

    loaded = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    return loaded
