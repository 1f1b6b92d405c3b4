"""The notebook helper, and the example notebook executed by a real Jupyter kernel (nbclient)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import matplotlib
import pytest

from semantic.errors import SemanticError
from semantic.notebook import Answer, ask
from warehouse_fixtures import build_warehouse

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "semantic" / "examples" / "metrics_tour.ipynb"


def _read_notebook(path: Path):
    """The notebook at ``path``. nbformat is imported here, not at the top: it takes about a second
    to load, which every pytest-xdist worker would pay while collecting."""
    import nbformat

    return nbformat.read(path, as_version=4)


def _rows() -> dict[str, list[dict]]:
    """A few tests ending this quarter and in earlier months, relative to the real clock."""
    today = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    ends = [today, today, today - timedelta(days=40), today - timedelta(days=100)]
    tests = [
        {"test_id": 1 + i, "product_id": 1, "status": "locked", "end_at": end,
         "created_by": ("alice", "bob", "alice", None)[i], "submitted_by": ("alice", "bob", "alice", None)[i]}
        for i, end in enumerate(ends)
    ]
    test_features = [
        {"test_feature_id": 10 + i, "test_id": 1 + i, "feature_id": (100, 101, 100, 101)[i], "title": "x"}
        for i in range(4)
    ]
    bugs = [
        {"bug_id": 1000 + j, "test_id": test, "test_feature_id": 10 + test - 1, "feature_id": feature,
         "severity": severity, "status": "accepted", "author_name": "tina"}
        for j, (test, feature, severity) in enumerate(
            [(1, 100, "critical"), (1, 100, "critical"), (2, 101, "critical"), (3, 100, "low"), (4, 101, "high")]
        )
    ]
    return {
        "products": [{"product_id": 1, "name": "Shop"}],
        "features": [{"feature_id": 100, "product_id": 1, "title": "Checkout"},
                     {"feature_id": 101, "product_id": 1, "title": "Search"}],
        "tests": tests, "test_features": test_features, "bugs": bugs,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("notebook") / "warehouse.duckdb"
    build_warehouse(path, **_rows())
    return str(path)


def test_ask_answers_in_one_line(warehouse):
    answer = ask("bug_count, test_count", by="feature", where={"severity": "critical"}, warehouse=warehouse)
    assert isinstance(answer, Answer)
    df = answer.df.set_index("feature")
    assert df.loc["Checkout", "bug_count"] == 2 and df.loc["Search", "bug_count"] == 1
    assert "SELECT" in answer.sql.upper()
    html = answer._repr_html_()
    assert "<table" in html and "Checkout" in html
    assert any("severity" in w for w in answer.warnings)  # a bug filter does not apply to test_count


def test_ask_reads_the_warehouse_from_the_environment(warehouse, monkeypatch):
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", warehouse)
    assert ask("test_count").df["test_count"].tolist() == [4]


def test_plot_draws_lines_over_time_and_bars_for_categories(warehouse):
    over_time = ask("bugs_per_test, bug_count", by="month", warehouse=warehouse)
    ax = over_time.plot("bugs_per_test")
    assert ax.lines and not ax.patches
    months = sorted(over_time.df["month"].dropna())
    drawn = {x for line in ax.lines for x, y in line.get_xydata() if y == y}
    assert sorted(matplotlib.dates.num2date(x).strftime("%Y-%m") for x in drawn) == months
    by_feature = ask("bug_count", by="feature", warehouse=warehouse)
    ax = by_feature.plot()
    assert len(ax.patches) == len(by_feature.df) and not ax.lines
    ax = ask("bug_count, test_count", warehouse=warehouse).plot()
    assert len(ax.patches) == 2


def test_plot_without_matplotlib_says_how_to_install_it(warehouse, monkeypatch):
    answer = ask("bug_count", by="feature", warehouse=warehouse)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(SemanticError, match=r"testio-warehouse\[charts\]"):
        answer.plot()


def _outputs(notebook) -> tuple[list, list]:
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return code, [output for cell in code for output in cell.outputs]


def _html(cells) -> str:
    return "\n".join(o["data"]["text/html"] for c in cells for o in c.outputs if "text/html" in o.get("data", {}))


@pytest.mark.slow  # a Jupyter kernel process
def test_the_example_notebook_runs_in_a_real_kernel_from_its_folder_with_no_path_variable(monkeypatch, tmp_path):
    """As Jupyter runs it: a kernel started in the notebook's folder of a project (here a copy
    in tmp_path: its pyproject.toml, data/testio.duckdb, semantic/examples/), and no
    TESTIO_WAREHOUSE_PATH: the rule finds the project's warehouse from the kernel's folder."""
    project = tmp_path / "clone"
    examples = project / "semantic" / "examples"
    examples.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(NOTEBOOK, examples / NOTEBOOK.name)
    (project / "data").mkdir()
    build_warehouse(project / "data" / "testio.duckdb", **_rows())
    monkeypatch.delenv("TESTIO_WAREHOUSE_PATH", raising=False)  # the kernel inherits this environment
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from nbclient import NotebookClient  # imported here, as nbformat in _read_notebook

    notebook = _read_notebook(examples / NOTEBOOK.name)
    NotebookClient(notebook, kernel_name="python3", timeout=180,
                   resources={"metadata": {"path": str(examples)}}).execute()
    code, outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    tables = [cell for cell in code if any("<table" in o.get("data", {}).get("text/html", "") for o in cell.outputs)]
    charts = [cell for cell in code if any("image/png" in o.get("data", {}) for o in cell.outputs)]
    assert len(tables) >= 4 and len(charts) == 3
    html = _html(tables)
    assert "Checkout" in html and "alice" in html
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Reading data/testio.duckdb (the project folder found from the working directory)" in printed
    assert "SELECT" in printed.upper()
    assert str(tmp_path) not in json.dumps(notebook)  # no path of this machine in what a reader sees


def test_the_committed_notebook_shows_its_tables_and_charts_and_no_path_of_this_machine():
    notebook = _read_notebook(NOTEBOOK)
    code, outputs = _outputs(notebook)
    assert all(cell.outputs for cell in code), "execute it from semantic/examples/ with nbclient and commit it"
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    assert _html(code).count("<table") >= 4
    text = json.dumps(notebook)
    for machine_path in (str(ROOT), str(Path.home()), "/tmp/"):
        assert machine_path not in text
