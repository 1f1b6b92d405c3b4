"""The golden dataset of issue 3 and the zero-row cases, checked on both the compiler and the reference."""

from __future__ import annotations

import math
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from reference import METRICS, assert_frames_match, load_tables, reference_query
from semantic import query_metrics
from semantic.plan.dates import resolve_date_range
from warehouse_fixtures import build_warehouse, golden_rows


TODAY = date(2025, 3, 15)
GOLDEN = {
    "test_count": 4, "bug_count": 10, "bugs_per_test": 2.5, "active_acceptance_rate": 0.4,
    "auto_acceptance_rate": 1 / 3, "overall_acceptance_rate": 0.6, "rejection_rate": 0.3, "review_rate": 0.7,
}


@pytest.fixture
def golden():
    with duckdb.connect() as con:
        build_warehouse(con, **golden_rows())
        yield con


def both(con, metrics, dimensions=(), filters=None, start_date=None, end_date=None):
    """The compiled answer and the reference answer of one query."""
    actual = query_metrics(metrics, dimensions, filters, start_date, end_date, warehouse=con, today=TODAY).df
    date_range = resolve_date_range(start_date, end_date, today=TODAY)
    expected = reference_query(load_tables(con), metrics, dimensions, filters, date_range)
    assert_frames_match(actual, expected, context=f"{metrics} by {dimensions} where {filters}")
    return actual


@pytest.mark.parametrize("side", ["compiler", "reference"])
def test_golden_numbers_of_the_issue(golden, side):
    metrics = list(GOLDEN)
    if side == "compiler":
        row = query_metrics(metrics, warehouse=golden, today=TODAY).df.iloc[0]
    else:
        row = reference_query(load_tables(golden), metrics).iloc[0]
    for metric, value in GOLDEN.items():
        assert math.isclose(row[metric], value, rel_tol=1e-12), metric


@pytest.mark.parametrize(
    ("dimensions", "filters"),
    [((), None), (("feature",), None), (("severity", "bug_status"), None), (("month", "customer"), None),
     (("submitted_by", "created_by"), None), (("customer",), {"customer": "bob"}),
     (("tester",), {"severity": ["low", "high"]}), (("week",), {"bug_status": "rejected"}),
     ((), {"severity": "critical"}), (("rejection_reason", "known_bug"), None)],
)
def test_golden_dataset_agrees_with_the_reference(golden, dimensions, filters):
    bug_grain = {"severity", "bug_status", "tester", "rejection_reason", "known_bug"} & set(dimensions)
    metrics = [m for m in METRICS if not bug_grain or m not in
               {"test_count", "tests_created", "tests_submitted", "features_tested", "bugs_per_test"}]
    both(golden, metrics, dimensions, filters)


ROLES = ("customer", "created_by", "submitted_by")


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("role", ROLES)
def test_each_metric_by_each_role_of_a_customer_agrees_with_the_reference(golden, metric, role):
    both(golden, [metric], [role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("value", [{"": "bob"}, {"": "alice"}, {"_id": "customer:alice"}, {"": None},
                                   {"": ["bob", None]}, {"_id": ["customer:bob", "customer:nobody"]}])
def test_every_metric_filtered_by_a_role_agrees_with_the_reference(golden, role, value):
    """All metrics together, so pieces reading different roles are stitched in one answer."""
    ((suffix, wanted),) = value.items()
    filters = {f"{role}{suffix}": wanted}
    both(golden, METRICS, [role], filters)
    both(golden, METRICS, (), filters)
    both(golden, METRICS, ["product"], filters)


def test_the_golden_roles_by_hand(golden):
    """alice created the four tests; bob submitted 3003 (two rejected bugs), alice the other three."""
    def rows(metrics, dimension, **kw):
        df = both(golden, metrics, [dimension], **kw)
        return {r[dimension]: tuple(r[m] for m in metrics) for r in df.to_dict("records")}

    metrics = ["tests_submitted", "tests_created", "test_count", "bug_count"]
    assert rows(metrics, "created_by") == {"alice": (4, 4, 4, 10)}
    assert rows(metrics, "submitted_by") == {"alice": (3, 3, 3, 8), "bob": (1, 1, 1, 2)}
    # customer: the submitter for tests_submitted, the creator for every other metric
    assert rows(metrics, "customer") == {"alice": (3, 4, 4, 10), "bob": (1, 0, 0, 0)}
    filtered = both(golden, metrics, (), {"customer": "bob"}).iloc[0].tolist()
    assert filtered == [1, 0, 0, 0]
    by_id = both(golden, metrics, (), {"customer_id": "customer:alice"}).iloc[0].tolist()
    assert by_id == [3, 4, 4, 10]


def test_a_feature_tested_without_bugs_has_zero_bugs(golden):
    build_warehouse(golden, features=[{"feature_id": 2002, "product_id": 1001, "title": "Search"}],
                    test_features=[{"test_feature_id": 5005, "test_id": 3004, "feature_id": 2002, "title": "Search"}])
    df = both(golden, ["bug_count", "test_count", "bugs_per_test"], ["feature"])
    search = df[df["feature"] == "Search"].iloc[0]
    assert (search["bug_count"], search["test_count"], search["bugs_per_test"]) == (0, 1, 0.0)


def test_a_month_without_bugs_has_zero_bugs_and_null_rates(golden):
    build_warehouse(golden, tests=[{"test_id": 3005, "product_id": 1001, "status": "archived",
                                    "end_at": datetime(2025, 3, 2)}])
    df = both(golden, ["bug_count", "overall_acceptance_rate", "bugs_per_test"], ["month"])
    march = df[df["month"] == "2025-03"].iloc[0]
    assert march["bug_count"] == 0 and march["bugs_per_test"] == 0
    assert march["overall_acceptance_rate"] is None or math.isnan(march["overall_acceptance_rate"])


def test_unattributed_bugs_form_their_own_feature_group(golden):
    build_warehouse(golden, bugs=[{"bug_id": 9100, "test_id": 3004, "severity": "low", "status": "accepted"}])
    df = both(golden, ["bug_count"], ["feature"])
    assert sorted(df["bug_count"]) == [1, 10]
    assert df["feature"].isna().sum() == 1


def test_a_test_feature_without_a_feature_id_puts_its_test_in_no_null_group(golden):
    """A test belongs to the NULL feature group only when none of its test features names a
    catalogue feature: 3004 lists 2001 and a test feature without feature_id (feature 2001
    only), 3005 only one without (the NULL group). Bug 9100, found in that test feature of
    3004, is unattributed: the NULL group of bug metrics."""
    build_warehouse(
        golden,
        tests=[{"test_id": 3005, "product_id": 1001, "status": "locked", "end_at": datetime(2025, 2, 5, 12)}],
        test_features=[{"test_feature_id": 5005, "test_id": 3004, "feature_id": None, "title": "Draft"},
                       {"test_feature_id": 5006, "test_id": 3005, "feature_id": None, "title": "Draft"}],
        bugs=[{"bug_id": 9100, "test_id": 3004, "test_feature_id": 5005, "severity": "low", "status": "accepted"}],
    )

    def rows(metrics, start_date=None, end_date=None, fill_missing=None):
        if fill_missing is None:
            df = both(golden, metrics, ["feature"], start_date=start_date, end_date=end_date)
        else:  # the reference has no fill_missing: these rows are checked by hand only
            df = query_metrics(metrics, ["feature"], start_date=start_date, end_date=end_date,
                               fill_missing=fill_missing, warehouse=golden, today=TODAY).df
        return {None if pd.isna(r["feature_id"]) else int(r["feature_id"]): tuple(r[m] for m in metrics)
                for r in df.to_dict("records")}

    tested = ["test_count", "features_tested"]
    assert rows(tested) == {2001: (4, 1), None: (1, 0)}
    assert rows([*tested, "bug_count"]) == {2001: (4, 1, 10), None: (1, 0, 1)}
    # 4 February: test 3004 alone, in feature 2001 only; its unattributed bug is the NULL row
    day = {"start_date": "2025-02-04", "end_date": "2025-02-04"}
    assert rows(tested, **day) == {2001: (1, 1)}
    assert rows(["features_tested"], **day) == {2001: (1,)}
    assert rows([*tested, "bug_count"], **day) == {2001: (1, 1, 0), None: (0, 0, 1)}
    # every catalogue member is listed; NULL only where a test or a bug belongs to it
    assert rows(tested, fill_missing=True, **day) == {2001: (1, 1)}
    assert rows([*tested, "bug_count"], fill_missing=True, **day) == {2001: (1, 1, 0), None: (0, 0, 1)}
    assert rows(tested, fill_missing=True) == {2001: (4, 1), None: (1, 0)}


def test_a_feature_filter_on_bugs_selects_the_same_bugs_as_its_group_row(golden):
    # Test 3004 lists feature 2001, yet its unattributed bug belongs to no feature.
    build_warehouse(golden, bugs=[{"bug_id": 9100, "test_id": 3004, "severity": "low", "status": "accepted"}])
    grouped = both(golden, ["bug_count"], ["feature"])
    unattributed = both(golden, ["bug_count"], (), {"feature": None})
    in_feature = both(golden, ["bug_count"], (), {"feature_id": 2001})
    assert unattributed["bug_count"][0] == grouped.loc[grouped["feature"].isna(), "bug_count"].item() == 1
    assert in_feature["bug_count"][0] == grouped.loc[grouped["feature_id"] == 2001, "bug_count"].item() == 10
    # test 3004 is not in the feature = None test scope, yet its product has that bug
    by_product = both(golden, ["test_count", "bug_count"], ["product"], {"feature": None})
    assert by_product[["test_count", "bug_count"]].values.tolist() == [[0, 1]]


def test_date_bounds_are_utc_days_inclusive(golden):
    # Tests end at 12:00 on 1-4 February; 2 February as end_date includes its whole day.
    df = both(golden, ["test_count", "bug_count"], start_date="2025-02-02", end_date="2025-02-02")
    assert df.iloc[0]["test_count"] == 1 and df.iloc[0]["bug_count"] == 3
    both(golden, ["test_count"], ["day"], start_date="last month")
    both(golden, ["test_count", "bug_count"], start_date="this year", end_date="today")


def test_injection_values_are_data(golden):
    df = both(golden, ["bug_count"], ["tester"], {"tester": "x'; DROP TABLE bugs; --"})
    assert df.empty
    assert golden.execute("select count(*) from bugs").fetchone() == (10,)
