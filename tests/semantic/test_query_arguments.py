"""Every public argument of the query API is checked: the cases a notebook user hits, each a
typed error that says what is wrong and what is accepted, or the answer the user meant."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

from model_files import copy_models, edit
from semantic import DateExpressionError, capabilities, explain, load_model, query_metrics
from semantic.errors import (
    GuardrailError, InvalidArgumentError, InvalidFilterError, ModelValidationError,
    UnknownMetricError, UnsupportedDialectError, WarehouseUnavailableError,
)
from semantic.model.loader import MODELS_DIR
from semantic.notebook import ask
from warehouse_fixtures import build_warehouse, golden_rows

PLUS_3H = timezone(timedelta(hours=3))


@pytest.fixture(scope="module")
def golden():
    return build_warehouse(duckdb.connect(), **golden_rows())


def q(golden, metrics=("bug_count",), **kwargs):
    return query_metrics(metrics, warehouse=golden, today=date(2025, 3, 15), **kwargs)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(metrics=5), InvalidArgumentError,
     "metrics must be a list of names, one name, or comma-separated names in one string, not int 5"),
    (dict(metrics=[["bug_count"]]), InvalidArgumentError, "metrics must hold names (strings), not list ['bug_count']"),
    (dict(dimensions=[{}]), InvalidArgumentError, "dimensions must hold names (strings), not dict {}"),
    (dict(sort_by=5), InvalidArgumentError, "sort_by must be a list of names, one name, or comma-separated names"),
    (dict(sort_order="up"), InvalidArgumentError, "sort_order must be 'asc' or 'desc', not str 'up'"),
    (dict(limit=-1), InvalidArgumentError, "limit must be a positive whole number of rows (or None for the "
                                           "configured default), not int -1"),
    (dict(limit=True), InvalidArgumentError, "not bool True"),
    (dict(limit=1.5), InvalidArgumentError, "not float 1.5"),
    (dict(fill_missing="no"), InvalidArgumentError, "fill_missing must be True or False, not str 'no'"),
    (dict(fill_missing=1), InvalidArgumentError, "fill_missing must be True or False, not int 1"),
    (dict(dialect="oracle"), UnsupportedDialectError, "unknown dialect 'oracle'; supported: duckdb, postgres"),
    (dict(dialect=["duckdb"]), UnsupportedDialectError, "unknown dialect ['duckdb']"),
    (dict(warehouse=5), InvalidArgumentError, "warehouse must be a DuckDB file path, duckdb:///path, md:database "
                                              "(MotherDuck), postgresql://user:password@host/db, a duckdb or psycopg2 "
                                              "connection, a Spark session, or None for $TESTIO_WAREHOUSE_URL / "
                                              "$TESTIO_WAREHOUSE_PATH / the project's data/testio.duckdb; not int 5"),
    (dict(warehouse="bad\x00path"), WarehouseUnavailableError, "warehouse"),
    (dict(warehouse="x" * 5000), WarehouseUnavailableError, "cannot be used"),
    (dict(filters="severity=critical"), InvalidFilterError, "filters must be a mapping of dimension name to a value"),
    (dict(filters={5: "critical"}), InvalidFilterError, "filter names must be dimension names (strings), not int 5"),
    (dict(filters={"severity": [{"a": 1}]}), InvalidFilterError,
     "filter 'severity': a list may hold only values, not another collection; got dict {'a': 1}"),
    (dict(filters={"severity": [["critical"]]}), InvalidFilterError, "a list may hold only values"),
    (dict(filters={"severity": b"critical"}), InvalidFilterError,
     "a value must be text, a number, True/False or None; got bytes b'critical'"),
    (dict(filters={"product_id": float("nan")}), InvalidFilterError, "nan is not a value to compare with"),
    (dict(filters={"tester": "\ud800"}), InvalidFilterError, "is not valid Unicode text"),
    (dict(config=5), InvalidArgumentError, "config must be semantic.Guardrails(...) or None"),
    (dict(config={"max_row_limit": 5}), InvalidArgumentError, "config must be semantic.Guardrails(...)"),
    (dict(model=5), InvalidArgumentError, "model must be a loaded model (semantic.load_model(...)), the path of a "
                                          "model directory, or None for the packaged model; not int 5"),
    (dict(model="no/such/models"), ModelValidationError, "semantic model path no/such/models does not exist"),
    (dict(freshness=5), InvalidArgumentError, "freshness must have a table_freshness(tables) method"),
    (dict(today="yesterday"), InvalidArgumentError, "today must be a date, a datetime, an ISO date text such as "
                                                    "'2025-03-15', or a function returning one; not str 'yesterday'"),
    (dict(today="2025-02-30"), InvalidArgumentError, "today='2025-02-30' is not a valid date"),
    (dict(today=lambda: 5), InvalidArgumentError, "today must be a date"),
    (dict(today=date), InvalidArgumentError, "today must be a date"),
    (dict(today=datetime(1, 1, 1, tzinfo=PLUS_3H)), InvalidArgumentError,
     "today 0001-01-01T00:00:00+03:00 falls outside the days a UTC date can hold"),
    (dict(start_date=datetime(1, 1, 1, tzinfo=PLUS_3H)), DateExpressionError,
     "start_date: 0001-01-01T00:00:00+03:00 falls outside the days a UTC date can hold"),
    (dict(end_date=date(9999, 12, 31)), DateExpressionError, "end_date: 9999-12-31 is the last representable day"),
    (dict(start_date=5), DateExpressionError, "start_date: a date must be text or a date, not int 5"),
    (dict(dimensions="day", start_date="0001-01-01", end_date="2025-01-01", fill_missing=True), GuardrailError,
     "fill_missing would list more than 10,000 days between 0001-01-01 and 2025-01-02"),
])
def test_a_wrong_argument_says_what_is_wrong(golden, kwargs, error, message):
    kwargs = {"metrics": ["bug_count"], "warehouse": golden, **kwargs}
    with pytest.raises(error) as info:
        query_metrics(**kwargs)
    assert message in str(info.value)
    if isinstance(info.value, InvalidArgumentError):
        assert info.value.argument in str(info.value)
    if "warehouse" not in kwargs or kwargs["warehouse"] is golden:
        with pytest.raises(error):  # explain checks the same arguments, but never opens the warehouse
            explain(**{k: v for k, v in kwargs.items() if k != "warehouse"})


def test_names_may_be_one_string_of_comma_separated_names(golden):
    listed = q(golden, ["bug_count", "rejection_rate"], dimensions=["severity"], sort_by=["bug_count"])
    for metrics, dimensions, sort_by in [("bug_count, rejection_rate", "severity", "bug_count"),
                                         (("bug_count", "rejection_rate"), ("severity",), ("bug_count",))]:
        said = q(golden, metrics, dimensions=dimensions, sort_by=sort_by)
        assert said.df.equals(listed.df) and said.sql == listed.sql
    with pytest.raises(UnknownMetricError, match="no metric requested"):
        q(golden, " , ")


def test_an_iso_date_text_is_a_clock(golden):
    as_date = query_metrics("bug_count", start_date="last month", warehouse=golden, today=date(2025, 3, 15))
    as_text = query_metrics("bug_count", start_date="last month", warehouse=golden, today="2025-03-15")
    assert as_text.metadata["date_range"] == as_date.metadata["date_range"] == ["2025-02-01T00:00:00",
                                                                                  "2025-03-01T00:00:00"]
    # a datetime is read in UTC: 23:30 at UTC-3 on 28 February is already 1 March
    late = datetime(2025, 2, 28, 23, 30, tzinfo=timezone(timedelta(hours=-3)))
    assert query_metrics("bug_count", start_date="today", warehouse=golden, today=late).metadata["date_range"][0] \
        == "2025-03-01T00:00:00"


def test_sort_order_is_read_in_any_case(golden):
    assert q(golden, dimensions=["severity"], sort_order=" ASC ").sql == q(golden, dimensions=["severity"],
                                                                           sort_order="asc").sql


def test_fill_missing_true_and_false_mean_what_they_say(golden):
    assert len(q(golden, dimensions=["severity"], fill_missing=True).df) == 6
    assert len(q(golden, dimensions=["severity"], fill_missing=False).df) == 3


def test_the_last_year_a_date_can_hold_ends_instead_of_overflowing(golden):
    for grain in ("day", "week", "month", "quarter", "year"):
        late = q(golden, dimensions=[grain], start_date="9999-12-01", end_date="9999-12-30", fill_missing=True)
        assert len(late.df) >= 1 and late.df["bug_count"].sum() == 0
    assert int(q(golden, filters={"year": "9999"}).df["bug_count"][0]) == 0


def test_model_and_capabilities_take_a_model_or_its_folder(golden, tmp_path):
    assert q(golden, model=str(MODELS_DIR)).sql == q(golden, model=load_model()).sql
    assert capabilities(MODELS_DIR) == capabilities()
    with pytest.raises(InvalidArgumentError, match="model must be a loaded model"):
        capabilities(5)


def test_a_table_typo_found_at_query_time_names_its_file_and_line(golden, tmp_path):
    models = copy_models(tmp_path)
    edit(models / "bugs.yaml", "    table: bugs\n", "    table: bug\n")
    with pytest.raises(ModelValidationError) as info:
        q(golden, model=load_model(models))
    assert "table 'bug' of semantic model bugs is not in the warehouse; did you mean 'bugs'?" in str(info.value)
    assert info.value.line == 4 and info.value.file.endswith("bugs.yaml")


def test_ask_checks_its_own_arguments(golden):
    answer = ask("bug_count, rejection_rate", by="severity", where={"bug_status": "accepted"}, warehouse=golden,
                 today=date(2025, 3, 15), fill_missing=False)
    assert answer.metrics == ["bug_count", "rejection_rate"] and answer.dimensions == ["severity"]
    with pytest.raises(InvalidArgumentError, match="ask.. takes no argument 'dimensions'; use by="):
        ask("bug_count", dimensions=["severity"], warehouse=golden)
    with pytest.raises(InvalidArgumentError, match="no argument 'fill_mising'; did you mean 'fill_missing'"):
        ask("bug_count", fill_mising=True, warehouse=golden)
    with pytest.raises(InvalidFilterError, match="where must be a mapping"):
        ask("bug_count", where=5, warehouse=golden)
    with pytest.raises(InvalidArgumentError, match="by must hold names"):
        ask("bug_count", by=[5], warehouse=golden)
    with pytest.raises(InvalidArgumentError, match="fill_missing must be True or False"):
        ask("bug_count", fill_missing="no", warehouse=golden)
