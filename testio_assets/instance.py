"""The project's Dagster instance, openable from any working directory.

``DAGSTER_HOME`` names the instance when it is set (``make ui``, ``make demo`` and
:func:`project_instance` all honour it, e.g. a folder holding ``testio_assets/deploy/dagster.postgres.yaml``
as its ``dagster.yaml``); otherwise it is the project folder's ``dagster.yaml`` (the folder
:func:`semantic.project.project_root` finds: from the working directory up, else the installed
package's), whose storage
paths stay relative (``.dagster/...``) so the project works wherever it is cloned. Dagster
resolves them against the working directory; a notebook or a CLI started elsewhere opens the
same instance through :func:`project_instance`, which resolves them against the project root.

Run ``python -m testio_assets.instance`` to see which instance a command would use and to
check its ``dagster.yaml`` (``make ui`` does this before starting Dagster).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef

from semantic.project import project_root

DAGSTER_HOME_ENV = "DAGSTER_HOME"
# dagster-postgres 0.29 with SQLAlchemy 2.1: any other driver fails on the first event write.
POSTGRES_SCHEME = "postgresql+psycopg2"
_POSTGRES_STORAGE_CLASSES = {
    "DagsterPostgresStorage",
    "PostgresRunStorage",
    "PostgresEventLogStorage",
    "PostgresScheduleStorage",
}


class InstanceConfigError(ValueError):
    """A dagster.yaml that Dagster would accept but that fails later; the message says the fix."""


def project_folder() -> Path:
    """The project folder (:func:`semantic.project.project_root`); InstanceConfigError when there
    is none (a plain install used outside the project: DAGSTER_HOME must name the instance)."""
    root = project_root()
    if root is None:
        raise InstanceConfigError(
            f"no project folder (a pyproject.toml of testio-warehouse) above {Path.cwd()}, and the package is "
            f"not installed from one: run from the project folder, or set {DAGSTER_HOME_ENV} and "
            f"TESTIO_WAREHOUSE_PATH")
    return root


def dagster_home(root: Path | None = None) -> Path:
    """The folder whose dagster.yaml configures the instance: ``DAGSTER_HOME`` (unless empty),
    else ``root`` (default: the project folder).

    >>> dagster_home() == (Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else project_folder())
    True
    """
    home = os.environ.get(DAGSTER_HOME_ENV, "").strip()
    # Absolute, as Dagster requires, and stable when a command then changes directory.
    return Path(home).expanduser().absolute() if home else (root or project_folder())


def _postgres_storages(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(place in dagster.yaml, config) of every PostgreSQL storage the file configures."""
    storage = config.get("storage") or {}
    if isinstance(storage.get("postgres"), Mapping):
        yield "storage.postgres", storage["postgres"]
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        section = config.get(key) or {}
        if section.get("class") in _POSTGRES_STORAGE_CLASSES:
            yield f"{key}.config", section.get("config") or {}


def _resolve(value: Any, place: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """A config value as Dagster will read it (``{env: NAME}`` resolved), and where it comes from."""
    if isinstance(value, Mapping) and "env" in value:
        return environ.get(value["env"]), f"{value['env']} (read by {place})"
    return (None if value is None else str(value)), place


def check_instance_config(
    config: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> None:
    """Raise :class:`InstanceConfigError` where a PostgreSQL storage would use another driver
    than psycopg2 (a plain ``postgresql://`` URL, or ``postgres_db`` without ``scheme``).

    >>> check_instance_config({"storage": {"postgres": {"postgres_url": "postgresql://u@h/db"}}})
    Traceback (most recent call last):
    testio_assets.instance.InstanceConfigError: storage.postgres.postgres_url starts with 'postgresql://': ...
    """
    for place, storage in _postgres_storages(config):
        if "postgres_url" in storage:
            url, source = _resolve(storage["postgres_url"], f"{place}.postgres_url", environ)
            if url is None:
                continue  # unset: Dagster itself names the missing variable
            scheme = url.split("://", 1)[0] if "://" in url else ""
            if scheme != POSTGRES_SCHEME:
                raise InstanceConfigError(
                    f"{source} starts with '{scheme}://': dagster-postgres works here only "
                    f"through psycopg2: write the URL as '{POSTGRES_SCHEME}://user:password@host:"
                    f"5432/database' (only the scheme changes). With another scheme SQLAlchemy "
                    "2.1 loads psycopg 3, which fails on every event write (syntax error at or "
                    "near \"$1\" in NOTIFY run_events), or no driver at all."
                )
        elif "postgres_db" in storage:
            db_place = f"{place}.postgres_db.scheme"
            scheme, source = _resolve(
                (storage["postgres_db"] or {}).get("scheme", "postgresql"), db_place, environ
            )
            if scheme is not None and scheme != POSTGRES_SCHEME:
                raise InstanceConfigError(
                    f"{source} is '{scheme}' (Dagster's default when unset): set "
                    f"`scheme: {POSTGRES_SCHEME}` under postgres_db: dagster-postgres works here "
                    "only through psycopg2, and with another scheme SQLAlchemy picks psycopg 3, "
                    "which fails on every event write (NOTIFY run_events)."
                )


def instance_config(home: Path) -> dict[str, Any]:
    """The parsed ``dagster.yaml`` of ``home`` (empty when there is none: Dagster's defaults)."""
    path = home / "dagster.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _absolute_base_dirs(config: Any, root: Path) -> Any:
    if isinstance(config, dict):
        return {
            key: str(root / value)
            if key == "base_dir" and isinstance(value, str) and not os.path.isabs(value)
            else _absolute_base_dirs(value, root)
            for key, value in config.items()
        }
    return config


def project_instance(root: Path | None = None) -> dg.DagsterInstance:
    """The instance ``make ui`` and ``make demo`` use: ``DAGSTER_HOME``'s when it is set,
    else the project's (storage under ``<root>/.dagster``). Raises InstanceConfigError for a
    PostgreSQL storage that names another driver than psycopg2."""
    root = root or project_folder()
    home = dagster_home(root)
    config = instance_config(home)
    check_instance_config(config)
    if home.resolve() != root.resolve():
        return dg.DagsterInstance.get()
    overrides = _absolute_base_dirs(config, root)
    ref = InstanceRef.from_dir(str(root), overrides=overrides)
    return dg.DagsterInstance.from_ref(ref)


def describe(home: Path, config: Mapping[str, Any]) -> str:
    """One line saying which instance is used and where it stores runs."""
    storage = config.get("storage") or {}
    if any(True for _ in _postgres_storages(config)):
        kind = "PostgreSQL storage"
    elif "sqlite" in storage:
        kind = f"SQLite storage in {storage['sqlite'].get('base_dir', 'DAGSTER_HOME')}"
    else:
        kind = "Dagster's default storage"
    source = "from DAGSTER_HOME" if os.environ.get(DAGSTER_HOME_ENV, "").strip() else "the project folder"
    return f"Dagster instance: {home / 'dagster.yaml'} ({source}; {kind})"


def main() -> int:
    home = dagster_home()
    config = instance_config(home)
    print(describe(home, config), flush=True)
    try:
        check_instance_config(config)
    except InstanceConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
