"""Saved queries (issue 10, item 1): declared in the model's YAML in dbt MetricFlow's words,
validated like the rest of the model (file:line, did-you-mean), answered by name through
``query_metrics``, ``explain`` and ``ask`` exactly as the question they stand for, with their
dates resolved against the clock and the resolved range shown."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from model_files import copy_models, edit
from semantic import capabilities, explain, query_metrics
from semantic.errors import InvalidArgumentError, ModelValidationError, UnknownMetricError, UnknownSavedQueryError
from semantic.model.loader import load_model
from semantic.notebook import ask
from semantic.plan.saved_queries import check_saved_queries, resolve_saved_query
from warehouse_fixtures import build_warehouse, golden_rows

SHIPPED = {
    "critical_bugs_by_feature_this_quarter", "bugs_per_test_by_month", "bug_review_rates_by_product_and_month",
    "customer_engagement_by_month", "tester_bugs_and_acceptance_by_month",
}
TODAY = date(2025, 3, 15)


@pytest.fixture(scope="module")
def golden():
    return build_warehouse(duckdb.connect(), **golden_rows())


def test_the_shipped_saved_queries_load_and_can_all_be_answered():
    model = load_model()
    assert set(model.saved_queries) == SHIPPED
    check_saved_queries(model, today=TODAY)
    engagement = model.saved_queries["customer_engagement_by_month"]
    assert engagement.metrics == ("tests_created", "tests_submitted") and engagement.group_by == ("customer", "month")
    critical = model.saved_queries["critical_bugs_by_feature_this_quarter"]
    assert critical.where == (("severity", "critical"),) and critical.sort_by == ("bug_count",)
    assert critical.sort_order == "desc" and critical.exports[0].path == "critical_bugs_by_feature_this_quarter.csv"
    assert all(sq.description for sq in model.saved_queries.values())


@pytest.mark.parametrize("saved_query, today, start, end, aligned", [
    # "this quarter" is the quarter of the day it is answered on, through the end of that day
    ("critical_bugs_by_feature_this_quarter", date(2026, 12, 2), "2026-10-01", "2026-12-03", None),
    ("critical_bugs_by_feature_this_quarter", date(2027, 1, 1), "2027-01-01", "2027-01-02", None),
    # a monthly trend starts on the first day of its first month: 12 whole months and this one so far
    ("bugs_per_test_by_month", date(2026, 12, 2), "2025-12-01", "2026-12-03", "month"),
    ("bugs_per_test_by_month", date(2026, 12, 31), "2025-12-01", "2027-01-01", "month"),
    ("bugs_per_test_by_month", date(2026, 2, 28), "2025-02-01", "2026-03-01", "month"),
    ("bugs_per_test_by_month", date(2026, 3, 1), "2025-03-01", "2026-03-02", None),  # already whole
])
def test_dates_resolve_against_the_day_they_are_answered_on(saved_query, today, start, end, aligned):
    request = resolve_saved_query(load_model(), saved_query, today=today)
    assert (request.date_range.start.date().isoformat(), request.date_range.end.date().isoformat()) == (start, end)
    assert request.aligned_to == aligned
    assert today.isoformat() in request.describe_dates()


def test_a_saved_query_answers_exactly_its_question(golden):
    saved = query_metrics(saved_query="bug_review_rates_by_product_and_month", warehouse=golden, today=TODAY)
    direct = query_metrics(["overall_acceptance_rate", "rejection_rate", "auto_acceptance_rate", "bug_count"],
                           ["product", "month"], start_date="2024-03-01", end_date="2025-03-15",
                           warehouse=golden, today=TODAY)
    pd.testing.assert_frame_equal(saved.df, direct.df)
    assert saved.sql == direct.sql and len(saved.df) == 1
    meta = saved.metadata["saved_query"]
    assert meta["name"] == "bug_review_rates_by_product_and_month" and meta["as_of"] == "2025-03-15"
    assert meta["dates"] == ("'12 months ago' .. 'today' on 2025-03-15, from the first day of its first month: "
                             "2024-03-01 00:00 UTC to 2025-03-16 00:00 UTC (exclusive)")
    assert saved.metadata["date_range"] == ["2024-03-01T00:00:00", "2025-03-16T00:00:00"]
    assert saved.explanation.startswith("Saved query bug_review_rates_by_product_and_month: Acceptance")
    assert "Dates: '12 months ago' .. 'today' on 2025-03-15" in saved.explanation


def test_the_filter_and_order_of_a_saved_query_apply(golden):
    saved = query_metrics(saved_query="critical_bugs_by_feature_this_quarter", warehouse=golden, today=TODAY)
    direct = query_metrics("bug_count", "feature", {"severity": "critical"}, "this quarter", sort_by="bug_count",
                           warehouse=golden, today=TODAY)
    pd.testing.assert_frame_equal(saved.df, direct.df)
    assert saved.df.to_dict("records") == [{"feature": "Checkout", "feature_id": 2001, "bug_count": 2}]


def test_explain_and_capabilities_know_saved_queries():
    shown = explain(saved_query="customer_engagement_by_month", today=TODAY)
    assert "tests_submitted" in shown.sql and shown.metadata["saved_query"]["name"] == "customer_engagement_by_month"
    listed = capabilities()["saved_queries"]
    assert set(listed) == SHIPPED
    assert listed["critical_bugs_by_feature_this_quarter"]["where"] == {"severity": "critical"}
    assert listed["bugs_per_test_by_month"]["table"] == "metrics.bugs_per_test_by_month"
    assert listed["bugs_per_test_by_month"]["exports"] == [
        {"name": "bugs_per_test_by_month", "format": "parquet", "path": "bugs_per_test_by_month.parquet"}]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"metrics": "bug_count"}, "takes no metrics"),
    ({"dimensions": ["product"]}, "takes no dimensions"),
    ({"filters": {"severity": "high"}}, "takes no filters"),
    ({"start_date": "last month"}, "takes no start_date"),
    ({"limit": 3, "sort_order": "asc"}, "takes no sort_order, limit"),
    ({"fill_missing": True}, "takes no fill_missing"),
])
def test_a_saved_query_is_a_whole_question(golden, kwargs, fragment):
    with pytest.raises(InvalidArgumentError) as info:
        query_metrics(saved_query="critical_bugs_by_feature_this_quarter", warehouse=golden, today=TODAY, **kwargs)
    assert info.value.argument == "saved_query" and fragment in str(info.value)
    # the message gives the question to change: it runs as written
    call = str(info.value).split("directly: query_metrics(", 1)[1].rstrip(")")
    variant = eval(f"dict({call})")  # noqa: S307 - our own message
    pd.testing.assert_frame_equal(
        query_metrics(**variant, warehouse=golden, today=TODAY).df,
        query_metrics(saved_query="critical_bugs_by_feature_this_quarter", warehouse=golden, today=TODAY).df)


def test_unknown_names_say_what_exists(golden):
    with pytest.raises(UnknownSavedQueryError, match="did you mean 'bugs_per_test_by_month'"):
        query_metrics(saved_query="bugs_per_tst_by_month", warehouse=golden)
    with pytest.raises(UnknownMetricError, match="give metrics .* or saved_query"):
        query_metrics(warehouse=golden)


def test_ask_takes_a_saved_query_by_name(golden):
    answer = ask("bugs_per_test_by_month", warehouse=golden, today=TODAY)
    pd.testing.assert_frame_equal(
        answer.df, query_metrics(saved_query="bugs_per_test_by_month", warehouse=golden, today=TODAY).df)
    assert answer.dimensions == ["month"] and answer.metadata["saved_query"]["name"] == "bugs_per_test_by_month"
    with pytest.raises(InvalidArgumentError, match="is a saved query, a whole question: .* takes no by"):
        ask("bugs_per_test_by_month", by="product", warehouse=golden)


# Each edit breaks a saved query; loading names the file, the line and the fix.
@pytest.mark.parametrize("old, new, fragment, offset", [
    ("      metrics: [bugs_per_test, bug_count, test_count]", "      metrics: [bugs_per_test, bug_cont, test_count]",
     "unknown metric 'bug_cont' in saved query bugs_per_test_by_month; did you mean 'bug_count'?", 0),
    ("      metrics: [bug_count]\n      group_by: [feature]", "      metrics:\n        - bug_count\n        - bugz\n"
     "      group_by: [feature]", "unknown metric 'bugz' in saved query critical_bugs_by_feature_this_quarter", 2),
    ("      group_by: [tester, month]", "      group_by: [tester, mnth]",
     "unknown dimension 'mnth' in group_by of saved query tester_bugs_and_acceptance_by_month; did you mean 'month'", 0),
    ("      where: {severity: critical}", "      where: {severty: critical}",
     "unknown dimension 'severty' in where of saved query critical_bugs_by_feature_this_quarter; did you mean "
     "'severity'", 0),
    ("      order_by: [-bug_count]", "      order_by: [-bug_cont]", "cannot order saved query "
     "critical_bugs_by_feature_this_quarter by 'bug_cont'; did you mean 'bug_count'?", 0),
    ("      order_by: [-bug_count]", "      order_by: [-bug_count, feature]", "sorts some keys ascending and "
     "others descending", 0),
    ("      group_by: [month]\n", "      group_bye: [month]\n", "unknown field 'group_bye' in query_params of saved "
     "query bugs_per_test_by_month; did you mean 'group_by'?", 0),
    ("        config: {format: parquet}", "        config: {format: parket}",
     "bad export format 'parket' in export bugs_per_test_by_month of saved query bugs_per_test_by_month", 0),
    ("        config: {format: parquet}", "        config: {format: parquet, path: /tmp/x.parquet}",
     "path '/tmp/x.parquet' must be relative to the exports directory", 0),
    ("        config: {format: parquet}", "        config: {format: parquet, path: ../x.parquet}",
     "must be relative to the exports directory, without '..'", 0),
    ("        config: {format: parquet}", "        config: {format: parquet, path: x.csv}",
     "path 'x.csv' does not end in .parquet, its format", 0),
    ("  - name: customer_engagement_by_month", "  - name: bug_count", "saved query bug_count has the name of a metric",
     0),
    ("      start_date: this quarter\n", "      start_date: this quarter\n      limit: 0\n",
     "query_params limit of saved query critical_bugs_by_feature_this_quarter must be at least 1, got 0", 1),
])
def test_load_errors_name_file_line_and_fix(tmp_path, old, new, fragment, offset):
    root = copy_models(tmp_path)
    line = edit(root / "saved_queries.yaml", old, new) + offset
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert fragment in str(info.value)
    assert f"saved_queries.yaml:{line}" in str(info.value)


@pytest.mark.parametrize("old, new, fragment", [
    ("where: {severity: critical}", "where: {severity: critcal}", "did you mean 'critical'?"),
    ("      start_date: this quarter", "      start_date: this quartr", "start_date: unrecognised date 'this quartr'"),
    ("      group_by: [tester, month]", "      group_by: [tester, month, product, severity]",
     "4 dimensions requested; at most 3"),
    ("      group_by: [customer, month]", "      group_by: [customer, severity]",
     "dimension 'severity' is bug-grain and cannot group metric 'tests_created'"),
])
def test_questions_that_cannot_be_answered_are_model_errors_at_their_line(tmp_path, old, new, fragment):
    root = copy_models(tmp_path)
    line = edit(root / "saved_queries.yaml", old, new)
    model = load_model(root)  # names are right: only planning finds these
    with pytest.raises(ModelValidationError) as info:
        check_saved_queries(model, today=TODAY)
    assert fragment in str(info.value)
    located = [p for p in info.value.problems if fragment in p][0]
    assert located.rsplit(":", 1)[-1].strip() in {str(line), str(line + 1)}, located
