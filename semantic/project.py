"""Where the project is: its folder, its ``.env``, and the warehouse every surface reads.

One rule, used by ``query_metrics``, the CLI, the notebook helper, the MCP server, ``make demo``
and the Dagster warehouse resource's default, so that none depends on where it was started:

1. an explicit path (``warehouse=``, ``--warehouse``), as given: a relative one is relative to
   the working directory, like any path typed on a command line;
2. else ``TESTIO_WAREHOUSE_PATH``; a relative value is relative to the **project folder** (a
   value in ``.env`` means the same file from every folder);
3. else ``data/testio.duckdb`` in the project folder.

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
WarehouseLocation(path=PosixPath('elsewhere/w.duckdb'), found_by='the path given')
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from semantic.errors import WarehouseNotFoundError

PROJECT_NAME = "testio-warehouse"
WAREHOUSE_ENV = "TESTIO_WAREHOUSE_PATH"
DEFAULT_WAREHOUSE = Path("data") / "testio.duckdb"
ENV_FILE = ".env"
# The folder holding the package ``semantic``: the clone, for an editable install.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WarehouseLocation:
    """Where the warehouse is, and which part of the rule said so (for messages)."""

    path: Path
    found_by: str

    def describe(self) -> str:
        """The file (relative to the project folder when inside it) and how it was found.

        >>> WarehouseLocation(Path("/w.duckdb"), "the path given").describe()
        '/w.duckdb (the path given)'
        """
        root = project_root()
        shown = self.path.relative_to(root) if root and self.path.is_relative_to(root) else self.path
        return f"{shown} ({self.found_by})"


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


def warehouse_location(explicit: str | os.PathLike | None = None) -> WarehouseLocation:
    """The warehouse by the rule above. Raises :class:`WarehouseNotFoundError` when nothing
    says where it is (no explicit path, no variable, no project folder)."""
    if explicit is not None and str(explicit) != "":
        return WarehouseLocation(Path(explicit).expanduser(), "the path given")
    root, how = _find_root() or (None, "")
    configured = os.environ.get(WAREHOUSE_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if path.is_absolute():
            return WarehouseLocation(path, WAREHOUSE_ENV)
        if root is None:
            raise WarehouseNotFoundError(
                f"{WAREHOUSE_ENV}={configured} is relative and there is no project folder to read it from "
                f"(none above {Path.cwd()}, and the package is not installed from one): give an absolute path")
        return WarehouseLocation(root / path, f"{WAREHOUSE_ENV}, relative to the project folder {root}")
    if root is None:
        raise WarehouseNotFoundError(
            f"no warehouse configured: set {WAREHOUSE_ENV} (or pass warehouse=, --warehouse) to a DuckDB file; "
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
