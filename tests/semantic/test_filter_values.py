"""Filter values are checked (issue 8, item 3): a value outside a dimension's declared values is a
typed error with a did-you-mean; a dimension without declared values answers, and says when
nothing matched; an id filter works for every entity dimension, from Python and the shell."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from semantic import InvalidFilterError, InvalidFilterValueError, capabilities, query_metrics
from semantic.model.loader import load_model
from semantic.surfaces.cli import main as cli
from testio_assets.warehouse.schema import BUG_STATUSES, REJECTION_REASONS, SEVERITIES
from warehouse_fixtures import build_warehouse, golden_rows

PLATFORMS = [{"test_id": 3000 + i, "operating_system_id": os_id, "operating_system_name": name}
             for i in range(1, 5) for os_id, name in ((1, "Windows"), (3, "Android")) if i % 2 or os_id == 1]


@pytest.fixture
def golden():
    with duckdb.connect() as con:
        build_warehouse(con, **golden_rows(), test_platforms=PLATFORMS)
        yield con


def ask(con, *args, **kwargs):
    return query_metrics(*args, warehouse=con, **kwargs)


@pytest.mark.parametrize(("name", "value", "suggestion"), [
    ("severity", "critcal", "critical"), ("severity", ["high", "Critical"], "critical"),
    ("bug_status", "acepted", "accepted"), ("test_status", ["locked", "runing"], "running"),
    ("rejection_reason", "not_reproducable", "not_reproducible"), ("testing_type", "exploratory", None),
])
def test_a_value_outside_the_declared_values_is_an_error_with_a_suggestion(golden, name, value, suggestion):
    with pytest.raises(InvalidFilterValueError) as caught:
        ask(golden, ["bug_count"], filters={name: value})
    error = caught.value
    assert isinstance(error, InvalidFilterError)
    assert error.dimension == name and error.suggestion == suggestion
    assert error.allowed_values == load_model().dimensions[name].allowed_values
    message = str(error)
    assert (f"did you mean {suggestion!r}?" in message) == (suggestion is not None)
    assert "allowed values: " + ", ".join(map(str, error.allowed_values)) in message


def test_declared_values_and_null_pass(golden):
    df = ask(golden, ["bug_count"], filters={"severity": ["critical", None], "known_bug": False}).df
    assert df["bug_count"].tolist() == [2]


def test_declared_values_are_the_warehouse_vocabularies():
    dims = load_model().dimensions
    assert dims["severity"].allowed_values == SEVERITIES
    assert dims["bug_status"].allowed_values == BUG_STATUSES
    assert dims["rejection_reason"].allowed_values == REJECTION_REASONS
    assert dims["known_bug"].allowed_values == (True, False)


def test_capabilities_and_list_dimensions_show_the_declared_values(capsys):
    dims = capabilities()["dimensions"]
    assert dims["severity"]["allowed_values"] == list(SEVERITIES)
    assert dims["tester"]["allowed_values"] is None
    assert cli(["list", "dimensions", "--output", "json"]) == 0
    listed = {row["name"]: row["values"] for row in json.loads(capsys.readouterr().out)}
    assert listed["severity"] == list(SEVERITIES) and listed["known_bug"] == [True, False]
    assert listed["tester"] is None
    assert cli(["list", "dimensions"]) == 0
    table = capsys.readouterr().out
    assert "|".join(SEVERITIES) in table and "true|false" in table


@pytest.mark.parametrize(("dimensions", "rows"), [((), 1), (("product",), 1), (("severity",), 0)])
def test_an_absent_value_of_an_undeclared_dimension_answers_and_says_nothing_matched(golden, dimensions, rows):
    # a product in scope keeps its row with 0 bugs; bug-grain groups exist only where bugs do
    result = ask(golden, ["bug_count"], dimensions, filters={"tester": "nobody"})
    assert result.df["bug_count"].sum() == 0 and len(result.df) == rows
    note = "No row matched tester = 'nobody': no bugs in scope have that value"
    assert note in result.explanation and any(note in w for w in result.warnings)


def test_an_answer_with_rows_says_nothing_about_matching(golden):
    result = ask(golden, ["bug_count"], filters={"tester": "tester1"})
    assert result.df["bug_count"][0] > 0 and "No row matched" not in result.explanation


def _id_dimensions():
    return sorted(name for name, d in load_model().dimensions.items() if d.has_id)


def test_every_entity_dimension_has_an_id_filter_covered_here():
    assert set(_id_dimensions()) >= {"product", "feature", "platform", "test_environment", "tester", "customer",
                                     "created_by", "submitted_by"}


@pytest.mark.parametrize("dimension", _id_dimensions())
def test_an_id_filter_selects_the_group_of_that_id(golden, dimension):
    metrics = ["bug_count"] + ([] if dimension == "tester" else ["test_count"])
    grouped = ask(golden, metrics, [dimension]).df
    ids = [i for i in grouped[f"{dimension}_id"] if i is not None and i == i]
    assert ids, f"no {dimension} in the golden data"
    for value in ids:
        row = grouped[grouped[f"{dimension}_id"] == value].iloc[0]
        filtered = ask(golden, metrics, filters={f"{dimension}_id": value}).df.iloc[0]
        assert [int(filtered[m]) for m in metrics] == [int(row[m]) for m in metrics], (dimension, value)


def test_id_filters_from_the_shell_have_their_types(golden, tmp_path):
    grouped = {d: ask(golden, ["bug_count"], [d]).df[f"{d}_id"].dropna().iloc[0] for d in _id_dimensions()}
    filters = {f"{d}_id": value.item() if hasattr(value, "item") else value for d, value in grouped.items()}
    expected = ask(golden, ["bug_count", "test_count"], filters=filters).df.to_dict("records")
    path = tmp_path / "golden.duckdb"
    golden.execute(f"ATTACH '{path}' AS copy")
    golden.execute("COPY FROM DATABASE memory TO copy")
    golden.execute("DETACH copy")
    where = [arg for name, value in filters.items() for arg in ("--where", f"{name}={value}")]
    done = subprocess.run([sys.executable, "-m", "semantic", "query", "--metrics", "bug_count,test_count",
                           *where, "--warehouse", str(path), "--output", "json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected and expected[0]["bug_count"] > 0


def test_a_misspelt_value_on_the_command_line_exits_non_zero_with_the_suggestion(golden, tmp_path):
    path = tmp_path / "w.duckdb"
    build_warehouse(path, **golden_rows())
    done = subprocess.run([sys.executable, "-m", "semantic", "query", "--metrics", "bug_count", "--where",
                           "severity=critcal", "--warehouse", str(path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert "did you mean 'critical'?" in done.stderr and "allowed values: critical, high" in done.stderr
