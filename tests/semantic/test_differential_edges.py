"""Hand-picked edge queries on one small warehouse, compiler against reference.

Each case names the rule of semantic/README.md it exercises; the hypothesis tests cover the
same ground at random, these keep the known-tricky combinations in every run.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from reference import assert_frames_match, load_tables, reference_query
from semantic import query_metrics
from semantic.plan.dates import resolve_date_range
from warehouse_fixtures import build_warehouse


TODAY = datetime(2025, 3, 15).date()


@pytest.fixture(scope="module")
def con():
    """Test 1 lists features 10 and 11 (and 13, uncatalogued, and a test feature without a feature
    id: no NULL group for test 1); test 2 none; test 5 only one without a feature id (the NULL
    group); bug 1 is unattributed (its test feature has no feature id)."""
    with duckdb.connect() as con:
        build_warehouse(
            con,
            products=[{"product_id": 1, "name": "P"}],
            features=[{"feature_id": 10, "title": "F10"}, {"feature_id": 11, "title": "F11"}],
            tests=[
                {"test_id": 1, "product_id": 1, "status": "locked", "end_at": datetime(2025, 2, 28, 23, 59, 59)},
                {"test_id": 2, "product_id": 1, "status": "archived", "end_at": datetime(2025, 3, 1)},
                {"test_id": 3, "product_id": 1, "status": "cancelled", "end_at": datetime(2025, 3, 1)},
                {"test_id": 4, "product_id": 1, "status": "running", "end_at": None},
                {"test_id": 5, "product_id": 1, "status": "locked", "end_at": datetime(2025, 3, 2)},
            ],
            test_features=[
                {"test_feature_id": 100, "test_id": 1, "feature_id": 10, "title": "x"},
                {"test_feature_id": 101, "test_id": 1, "feature_id": 11, "title": "y"},
                {"test_feature_id": 102, "test_id": 1, "feature_id": 13, "title": "Snapshot 13"},
                {"test_feature_id": 103, "test_id": 3, "feature_id": 10, "title": "x"},
                {"test_feature_id": 104, "test_id": 1, "feature_id": None, "title": "Snapshot None"},
                {"test_feature_id": 105, "test_id": 5, "feature_id": None, "title": "Snapshot None"},
            ],
            test_platforms=[
                {"test_id": 1, "operating_system_id": 1, "operating_system_name": "Windows"},
                {"test_id": 1, "operating_system_id": 2, "operating_system_name": "macOS"},
            ],
            bugs=[
                {"bug_id": 1, "test_id": 1, "test_feature_id": 104, "status": "accepted", "severity": "critical",
                 "author_name": "tina"},
                {"bug_id": 2, "test_id": 1, "test_feature_id": 100, "feature_id": 10, "status": "auto_accepted",
                 "severity": "low"},
                {"bug_id": 3, "test_id": 1, "test_feature_id": 102, "feature_id": 13, "status": "rejected",
                 "severity": "high", "rejection_reason": "not_reproducible", "author_name": "tom"},
                {"bug_id": 4, "test_id": 2, "status": "forwarded", "severity": None, "author_name": "tom"},
                {"bug_id": 5, "test_id": 3, "status": "accepted", "severity": "critical"},
                {"bug_id": 6, "test_id": 99, "status": "accepted", "severity": "critical"},
            ],
        )
        yield con


CASES = [
    pytest.param(["test_count", "bug_count", "bugs_per_test"], ["feature"], None, id="unattributed-null-group"),
    pytest.param(["test_count", "bug_count"], ["platform"], None, id="bugs-once-per-platform"),
    pytest.param(["test_count", "bug_count"], ["feature"], {"feature": "F10"}, id="filter-on-grouped-m2m"),
    pytest.param(["test_count", "bug_count"], [], {"feature": None}, id="feature-null-filter"),
    pytest.param(["test_count", "bug_count"], ["platform"], {"feature": None}, id="bug-groups-beyond-test-scope"),
    pytest.param(["bug_count"], ["feature"], {"feature_id": [10, 13]}, id="filter-on-id-list"),
    pytest.param(["test_count", "bug_count"], ["test_status"], {"test_status": ["cancelled", "locked"]},
                 id="status-filter-replaces-default"),
    pytest.param(["test_count"], ["month"], {"test_status": None}, id="status-null-filter"),
    pytest.param(["bug_severity_score", "active_testers"], ["tester"], None, id="null-tester-and-severity"),
    pytest.param(["bugs_per_test", "overall_acceptance_rate"], ["day"], {"severity": "critical"},
                 id="bug-filter-not-on-tests"),
    pytest.param(["features_tested"], ["platform"], None, id="features-tested-by-platform"),
    pytest.param(["features_tested"], [], {"feature": "F10"}, id="features-tested-feature-filter"),
    pytest.param(["features_tested"], ["feature"], None, id="features-tested-by-feature"),
    pytest.param(["test_count", "features_tested"], ["feature"], None, id="null-feature-id-adds-no-null-group"),
    pytest.param(["features_tested", "test_count"], ["platform", "feature"], None,
                 id="null-feature-id-adds-no-null-group-per-platform"),
    pytest.param(["features_tested", "bugs_per_test"], ["feature"], {"feature_id": [10, None]},
                 id="null-feature-id-filtered-to-null-or-a-feature"),
    pytest.param(["features_tested"], ["feature"], {"feature": "F10"}, id="features-tested-by-filtered-feature"),
    pytest.param(["features_tested", "test_count"], ["feature"], {"feature_id": 10},
                 id="features-tested-by-filtered-feature-id"),
    pytest.param(["features_tested", "bug_count"], ["feature"], {"feature": ["F10", None]},
                 id="features-tested-by-feature-or-null"),
    pytest.param(["auto_acceptance_rate", "review_rate"], ["rejection_reason", "known_bug"], None,
                 id="bug-grain-only-bug-rows"),
]


@pytest.mark.parametrize(("metrics", "dimensions", "filters"), CASES)
@pytest.mark.parametrize(("start", "end"), [(None, None), ("2025-02-28", "2025-02-28"), ("this month", None)])
def test_edge_query_agrees_with_the_reference(con, metrics, dimensions, filters, start, end):
    actual = query_metrics(metrics, dimensions, filters, start, end, warehouse=con, today=TODAY).df
    expected = reference_query(load_tables(con), metrics, dimensions, filters,
                               resolve_date_range(start, end, today=TODAY))
    assert_frames_match(actual, expected, context=f"{metrics} by {dimensions} where {filters} [{start}, {end}]")
