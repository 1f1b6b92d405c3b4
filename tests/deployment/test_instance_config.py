"""Which Dagster instance the project's commands use, and the check that stops a PostgreSQL
storage from naming another driver than psycopg2 (it would load, then fail every event write)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from testio_assets import demo
from testio_assets.instance import (
    InstanceConfigError,
    check_instance_config,
    dagster_home,
    main,
    project_instance,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-pw"


def _url_storage(url) -> dict:
    return {"storage": {"postgres": {"postgres_url": url}}}


@pytest.mark.parametrize(
    "config, environ, place, fix",
    [
        (_url_storage({"env": "DAGSTER_PG_URL"}), {"DAGSTER_PG_URL": f"postgresql://u:{SECRET}@db:5432/d"},
         "DAGSTER_PG_URL (read by storage.postgres.postgres_url) starts with 'postgresql://'",
         "postgresql+psycopg2://"),
        (_url_storage({"env": "DAGSTER_PG_URL"}), {"DAGSTER_PG_URL": f"postgres://u:{SECRET}@db/d"},
         "DAGSTER_PG_URL (read by storage.postgres.postgres_url) starts with 'postgres://'",
         "postgresql+psycopg2://"),
        (_url_storage(f"postgresql+psycopg://u:{SECRET}@db/d"), {},
         "storage.postgres.postgres_url starts with 'postgresql+psycopg://'", "postgresql+psycopg2://"),
        ({"storage": {"postgres": {"postgres_db": {"hostname": "db", "password": SECRET,
                                                   "username": "u", "db_name": "d"}}}}, {},
         "storage.postgres.postgres_db.scheme is 'postgresql' (Dagster's default when unset)",
         "scheme: postgresql+psycopg2"),
        ({"run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage",
                          "config": {"postgres_url": f"postgresql://u:{SECRET}@db/d"}}}, {},
         "run_storage.config.postgres_url starts with 'postgresql://'", "postgresql+psycopg2://"),
    ],
)  # fmt: skip
def test_another_driver_than_psycopg2_is_refused_with_the_fix(config, environ, place, fix):
    with pytest.raises(InstanceConfigError) as raised:
        check_instance_config(config, environ)
    message = str(raised.value)
    assert message.startswith(place)
    assert fix in message
    assert SECRET not in message and "@db" not in message


@pytest.mark.parametrize(
    "config, environ",
    [
        (_url_storage({"env": "DAGSTER_PG_URL"}), {"DAGSTER_PG_URL": "postgresql+psycopg2://u:p@db/d"}),
        (_url_storage({"env": "DAGSTER_PG_URL"}), {}),  # unset: Dagster names the variable itself
        ({"storage": {"postgres": {"postgres_db": {"scheme": {"env": "SCHEME"}}}}},
         {"SCHEME": "postgresql+psycopg2"}),
        (yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text()), {}),
        ({}, {}),
    ],
)  # fmt: skip
def test_psycopg2_and_non_postgres_configurations_pass(config, environ):
    check_instance_config(config, environ)


def _home_with(tmp_path, config: dict):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def test_dagster_home_wins_over_the_project_folder_and_empty_means_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert dagster_home() == tmp_path
    monkeypatch.setenv("DAGSTER_HOME", "")
    assert dagster_home() == PROJECT_ROOT
    monkeypatch.delenv("DAGSTER_HOME")
    assert dagster_home() == PROJECT_ROOT
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "relative/home")
    assert dagster_home() == tmp_path / "relative" / "home"  # absolute, as Dagster requires


def test_the_instance_command_names_the_instance_and_checks_it(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main() == 0
    assert capsys.readouterr().out.strip() == (
        f"Dagster instance: {PROJECT_ROOT / 'dagster.yaml'} (the project folder; "
        "SQLite storage in .dagster/storage)"
    )
    home = _home_with(tmp_path, _url_storage({"env": "DAGSTER_PG_URL"}))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", f"postgresql://u:{SECRET}@db/d")
    assert main() == 2
    captured = capsys.readouterr()
    assert captured.out.strip() == (
        f"Dagster instance: {home / 'dagster.yaml'} (from DAGSTER_HOME; PostgreSQL storage)"
    )
    assert captured.err.startswith("error: DAGSTER_PG_URL (read by storage.postgres.postgres_url)")
    assert SECRET not in captured.out + captured.err


def test_notebooks_and_the_demo_refuse_the_wrong_driver_before_running_anything(
    monkeypatch, tmp_path, capsys
):
    home = _home_with(tmp_path, _url_storage(f"postgresql://u:{SECRET}@db/d"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(tmp_path)  # restored after the demo changes directory
    with pytest.raises(InstanceConfigError, match="postgresql\\+psycopg2://"):
        project_instance()

    assert demo.main() == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: storage.postgres.postgres_url starts with")
    assert "Materialising" not in captured.out
    assert Path.cwd() == tmp_path  # refused before changing directory or DAGSTER_HOME
    assert os.environ["DAGSTER_HOME"] == str(home)
