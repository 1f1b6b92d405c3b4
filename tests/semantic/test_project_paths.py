"""The one rule for finding the warehouse (semantic.project), and the CLI run as its users run it:
from another folder, with no path variable, inside a project or outside any.

Every project here is a copy in tmp_path (its pyproject.toml and a small warehouse in data/):
nothing reads or writes the real project's data/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from semantic.answer.warehouse import warehouse_path
from semantic.errors import WarehouseNotFoundError, WarehouseUnavailableError
from semantic.project import load_project_env, project_root, warehouse_location
from warehouse_fixtures import build_warehouse, golden_rows

ROOT = Path(__file__).resolve().parents[2]


def make_project(folder: Path, *, with_package: bool = False) -> Path:
    """A project folder: the project's pyproject.toml, data/testio.duckdb holding the golden
    rows, and, ``with_package``, a copy of the ``semantic`` package (an install from there)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    (folder / "data").mkdir(exist_ok=True)
    build_warehouse(folder / "data" / "testio.duckdb", **golden_rows())
    if with_package:
        shutil.copytree(ROOT / "semantic", folder / "semantic",
                        ignore=shutil.ignore_patterns("__pycache__", "examples"))
    return folder


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TESTIO_WAREHOUSE_PATH", "PYTHONPATH")}
    return {**env, **extra}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "semantic", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env or clean_env())


def test_the_project_folder_is_found_from_any_folder_inside_it(tmp_path, monkeypatch):
    project = make_project(tmp_path / "proj")
    inside = project / "semantic" / "examples"
    inside.mkdir(parents=True)
    monkeypatch.delenv("TESTIO_WAREHOUSE_PATH", raising=False)
    monkeypatch.chdir(inside)
    assert project_root() == project
    assert warehouse_location().path == project / "data" / "testio.duckdb"
    assert warehouse_location().found_by == "the project folder found from the working directory"


def test_outside_any_project_the_installed_packages_folder_is_the_project(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text('[project]\nname = "someone-elses"\n')  # not this project
    monkeypatch.delenv("TESTIO_WAREHOUSE_PATH", raising=False)
    monkeypatch.chdir(elsewhere)
    assert project_root() == ROOT  # this checkout is installed in editable mode
    assert warehouse_location().path == ROOT / "data" / "testio.duckdb"
    assert warehouse_location().found_by == "the installed package's project folder"


def test_the_variable_wins_and_a_relative_value_is_read_from_the_project_folder(tmp_path, monkeypatch):
    project = make_project(tmp_path / "proj")
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", "other/w.duckdb")
    assert warehouse_location().path == project / "other" / "w.duckdb"
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", str(tmp_path / "abs.duckdb"))
    assert warehouse_location().path == tmp_path / "abs.duckdb"
    assert warehouse_location("given.duckdb").path == Path("given.duckdb")  # an explicit path: as given


def test_without_a_project_a_relative_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("semantic.project._PACKAGE_PARENT", tmp_path / "site-packages")  # a plain install
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", "w.duckdb")
    with pytest.raises(WarehouseNotFoundError, match="is relative and there is no project folder"):
        warehouse_location()
    monkeypatch.delenv("TESTIO_WAREHOUSE_PATH")
    with pytest.raises(WarehouseNotFoundError, match="no warehouse configured: set TESTIO_WAREHOUSE_PATH"):
        warehouse_location()


def test_dotenv_fills_only_what_the_environment_lacks(tmp_path, monkeypatch):
    project = make_project(tmp_path / "proj")
    (project / ".env").write_text("TESTIO_TEST_FROM_DOTENV=dotenv\nTESTIO_TEST_ALREADY_SET=dotenv\n")
    monkeypatch.setenv("TESTIO_TEST_ALREADY_SET", "shell")
    monkeypatch.delenv("TESTIO_TEST_FROM_DOTENV", raising=False)
    monkeypatch.chdir(project)
    assert load_project_env() == ["TESTIO_TEST_FROM_DOTENV"]
    assert os.environ["TESTIO_TEST_FROM_DOTENV"] == "dotenv" and os.environ["TESTIO_TEST_ALREADY_SET"] == "shell"
    monkeypatch.delenv("TESTIO_TEST_FROM_DOTENV")


@pytest.mark.slow  # a CLI process
def test_the_cli_from_a_subfolder_of_a_project_reads_its_warehouse(tmp_path):
    project = make_project(tmp_path / "proj")
    deep = project / "notes" / "2025"
    deep.mkdir(parents=True)
    done = cli("query", "--metrics", "test_count,bug_count", "--output", "json", cwd=deep)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"test_count": 4, "bug_count": 10}]
    validated = cli("validate", cwd=deep)
    assert validated.returncode == 0, validated.stderr
    assert f"model and warehouse {project / 'data' / 'testio.duckdb'}" in validated.stdout


@pytest.mark.slow  # a CLI process
def test_the_cli_outside_any_project_reads_the_installed_packages_project(tmp_path):
    installed = make_project(tmp_path / "installed", with_package=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(PYTHONPATH=str(installed))  # `semantic` is imported from the installed folder
    done = cli("query", "--metrics", "bug_count", "--group-by", "severity", "--output", "json", cwd=elsewhere, env=env)
    assert done.returncode == 0, done.stderr
    assert {row["severity"]: row["bug_count"] for row in json.loads(done.stdout)} == {"low": 6, "critical": 2,
                                                                                      "high": 2}


@pytest.mark.slow  # a CLI process
def test_dotenv_of_the_project_points_the_cli_at_its_warehouse(tmp_path):
    project = make_project(tmp_path / "proj")
    (project / "data" / "testio.duckdb").rename(project / "data" / "golden.duckdb")
    (project / ".env").write_text("TESTIO_WAREHOUSE_PATH=data/golden.duckdb\n")  # relative: to the project
    (project / "sub").mkdir()
    done = cli("query", "--metrics", "test_count", "--output", "json", cwd=project / "sub")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"test_count": 4}]
    shell_wins = cli("query", "--metrics", "test_count", cwd=project / "sub",
                     env=clean_env(TESTIO_WAREHOUSE_PATH=str(tmp_path / "missing.duckdb")))
    assert shell_wins.returncode == 2 and "missing.duckdb" in shell_wins.stderr


@pytest.mark.slow  # a CLI process
def test_a_missing_warehouse_names_the_file_the_rule_chose(tmp_path):
    project = make_project(tmp_path / "proj")
    (project / "data" / "testio.duckdb").unlink()
    done = cli("query", "--metrics", "bug_count", cwd=project)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: no warehouse at {project / 'data' / 'testio.duckdb'} (the project folder found from the "
        f"working directory): run `make demo` to build it, or set TESTIO_WAREHOUSE_PATH (or pass warehouse=) to an "
        f"existing DuckDB file")


def test_the_dagster_warehouse_resource_writes_where_the_rule_reads(tmp_path, monkeypatch):
    from testio_assets.warehouse.resource import WarehouseResource

    project = make_project(tmp_path / "proj")
    (project / "sub").mkdir()
    monkeypatch.delenv("TESTIO_WAREHOUSE_PATH", raising=False)
    monkeypatch.chdir(project / "sub")
    assert WarehouseResource().path == project / "data" / "testio.duckdb" == warehouse_location().path


URL_CASES = {
    "postgres": ("postgresql://ann:s3cret@db.example:5433/testio", "postgres", None,
                 "postgresql://ann:s3cret@db.example:5433/testio"),
    "postgres with SQLAlchemy's driver": ("postgresql+psycopg2://ann:s3cret@db.example/testio", "postgres", None,
                                          "postgresql://ann:s3cret@db.example/testio"),
    "postgres short scheme": ("postgres://ann@db.example/testio", "postgres", None,
                              "postgresql://ann@db.example/testio"),
    "motherduck": ("md:testio", "motherduck", None, "md:testio"),
}


@pytest.mark.parametrize("url, engine, path, normalised", URL_CASES.values(), ids=URL_CASES.keys())
def test_a_warehouse_url_names_its_engine(url, engine, path, normalised, monkeypatch):
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", url)
    location = warehouse_location()
    assert (location.engine, location.path, location.url) == (engine, path, normalised)
    assert location.found_by == "TESTIO_WAREHOUSE_URL"
    assert warehouse_location(url).url == normalised  # given as the argument too


def test_the_url_wins_over_the_path_and_a_duckdb_url_is_a_file_of_the_project(tmp_path, monkeypatch):
    project = make_project(tmp_path / "proj")
    monkeypatch.chdir(project)
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", "data/other.duckdb")
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", "duckdb:///data/testio.duckdb")
    location = warehouse_location()
    assert (location.engine, location.path) == ("duckdb", project / "data" / "testio.duckdb")
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", f"duckdb:///{tmp_path}/elsewhere.duckdb")  # four slashes: absolute
    assert warehouse_location().path == tmp_path / "elsewhere.duckdb"


@pytest.mark.parametrize("url, says", [
    ("mysql://ann:s3cret@db.example/testio", "has a scheme this project cannot use"),
    ("postgresql:///testio", "names no server"),
    ("duckdb://", "names no file"),
])
def test_an_unusable_url_is_a_typed_error_without_its_password(url, says, monkeypatch):
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", url)
    with pytest.raises(WarehouseUnavailableError, match=says) as raised:
        warehouse_location()
    assert "s3cret" not in str(raised.value)


def test_a_server_location_never_shows_its_password_and_file_readers_refuse_it(monkeypatch):
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", "postgresql://ann:s3cret@db.example/testio")
    assert warehouse_location().describe() == "postgresql://ann:***@db.example/testio (TESTIO_WAREHOUSE_URL)"
    with pytest.raises(WarehouseUnavailableError, match="is a postgres server") as raised:
        warehouse_path()
    assert "s3cret" not in str(raised.value)
