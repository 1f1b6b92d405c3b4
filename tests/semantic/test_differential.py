"""Differential tests: ``query_metrics`` must agree exactly with the independent reference.

Hypothesis draws small warehouses rich in edge cases (every test status, NULL end_at and
creators, tests in several features and platforms, uncatalogued features, unattributed and
orphan bugs, NULL testers) and queries (metric sets, 0-3 dimensions, scalar / list / None
filters, ISO and relative date bounds); both sides answer and the frames must be equal.
HYPOTHESIS_PROFILE=thorough runs many more examples.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import (
    BUG_DIMENSIONS, DIMENSIONS, METRICS, NEEDS_TESTS, ReferenceQueryError, assert_frames_match,
    load_tables, reference_query,
)
from semantic import query_metrics
from semantic.plan.dates import resolve_date_range
from semantic.errors import SemanticError
from testio_assets.warehouse.schema import BUG_STATUSES, REJECTION_REASONS, SEVERITIES
from warehouse_fixtures import build_warehouse

pytestmark = pytest.mark.slow  # long property searches against the reference


settings.register_profile("default", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TODAY = date(2025, 3, 15)
TEST_STATUSES = ("initialized", "running", "locked", "customer_finalized", "archived", "cancelled", "waiting")
PRODUCTS = [{"product_id": i, "name": f"Product {i}"} for i in (1, 2)]
CATALOGUE = (10, 11, 12)  # feature ids 13 and 14 appear in test features only
FEATURES = [{"feature_id": f, "product_id": 1, "title": f"Feature {f}"} for f in CATALOGUE]
PLATFORMS = {1: "Windows", 2: "macOS", 3: "Android"}
CUSTOMERS = ("alice", "bob", None)
SUBMITTERS = (*CUSTOMERS, "carol")  # carol submits tests others created, and creates none
TESTERS = ("tina", "tom", "x'; DROP TABLE bugs; --", None)
ENVIRONMENTS = {7: "Staging", 8: "Production"}
# Day boundaries on purpose: midnight, the last microsecond of a day, month and year ends.
MOMENTS = (
    datetime(2024, 12, 31, 23, 59, 59, 999999), datetime(2025, 1, 1), datetime(2025, 1, 31, 12),
    datetime(2025, 2, 1), datetime(2025, 2, 28, 23, 59, 59), datetime(2025, 3, 1), datetime(2025, 3, 3, 8),
    datetime(2025, 3, 14, 23, 0), datetime(2025, 3, 15, 9),
)


@st.composite
def warehouses(draw) -> dict[str, list[dict]]:
    """Small datasets rich in NULLs, shared and uncatalogued features, and orphan bugs."""
    tests, test_features, test_platforms = [], [], []
    for i in range(draw(st.integers(0, 7))):
        test_id = 100 + i
        env = draw(st.sampled_from([7, 8, None]))
        tests.append({
            "test_id": test_id,
            "product_id": draw(st.sampled_from([1, 2])),
            "status": draw(st.sampled_from((*TEST_STATUSES, None))),
            "testing_type": draw(st.sampled_from(["coverage", "focused", "rapid", None])),
            "end_at": draw(st.sampled_from((*MOMENTS, None))),
            "created_by": draw(st.sampled_from(CUSTOMERS)),
            "submitted_by": draw(st.sampled_from(SUBMITTERS)),
            "test_environment_id": env,
            "test_environment_title": ENVIRONMENTS.get(env),
        })
        for feature_id in draw(st.lists(st.sampled_from([*CATALOGUE, 13, 14, None]), max_size=3)):
            test_features.append({
                "test_feature_id": 1000 + len(test_features), "test_id": test_id, "feature_id": feature_id,
                "title": f"Snapshot {feature_id}" + draw(st.sampled_from(["", " (renamed)"])),
            })
        for os_id in draw(st.lists(st.sampled_from(sorted(PLATFORMS)), max_size=2, unique=True)):
            test_platforms.append({"test_id": test_id, "operating_system_id": os_id,
                                   "operating_system_name": PLATFORMS[os_id]})
    bugs = []
    for j in range(draw(st.integers(0, 14))):
        test_id = draw(st.sampled_from([t["test_id"] for t in tests] + [999]))
        own = [tf for tf in test_features if tf["test_id"] == test_id]
        tf = draw(st.sampled_from([None, *own]))
        status = draw(st.sampled_from(BUG_STATUSES))
        bugs.append({
            "bug_id": 5000 + j,
            "test_id": test_id,
            "test_feature_id": tf and tf["test_feature_id"],
            "feature_id": tf and tf["feature_id"],
            "severity": draw(st.sampled_from((*SEVERITIES, None))),
            "status": status,
            "rejection_reason": draw(st.sampled_from((*REJECTION_REASONS, None))) if status == "rejected" else None,
            "known": draw(st.booleans()),
            "author_name": draw(st.sampled_from(TESTERS)),
        })
    return {"products": PRODUCTS, "features": FEATURES, "tests": tests, "test_features": test_features,
            "test_platforms": test_platforms, "bugs": bugs}


FILTER_VALUES = {
    "product": ["Product 1", "Product 2"],
    "feature": ["Feature 10", "Feature 11", "Snapshot 13", None],
    "platform": [*PLATFORMS.values(), None],
    "customer": list(SUBMITTERS),
    "created_by": list(CUSTOMERS),
    "submitted_by": list(SUBMITTERS),
    "test_status": list(TEST_STATUSES),
    "testing_type": ["coverage", "focused", None],
    "test_environment": [*ENVIRONMENTS.values(), None],
    "day": ["2025-03-01", "2025-01-01"],
    "week": ["2025-W09", "2025-W01"],
    "month": ["2025-02", "2025-03", None],
    "quarter": ["2025-Q1", "2024-Q4"],
    "year": ["2025", "2024"],
    "tester": list(TESTERS),
    "severity": [*SEVERITIES, None],
    "bug_status": list(BUG_STATUSES),
    "rejection_reason": [*REJECTION_REASONS[:2], None],
    "known_bug": [True, False],
    "product_id": [1, 2],
    "feature_id": [10, 13, None],
    "platform_id": [2, 3, None],
    "customer_id": ["customer:alice", "customer:carol", None],
    "created_by_id": ["customer:bob", None],
    "submitted_by_id": ["customer:alice", "customer:carol"],
    "tester_id": ["tester:tom", None],
}
DATES = (None, "2025-01-01", "2025-02-28", "2025-03-01", "2024-12-31", "last month", "this year", "yesterday", "YTD")


@st.composite
def filter_value(draw, dim: str):
    values = FILTER_VALUES[dim]
    if draw(st.booleans()):
        return draw(st.sampled_from(values))
    return draw(st.lists(st.sampled_from([v for v in values if v is not None]), min_size=1, max_size=3, unique=True))


@st.composite
def queries(draw, valid: bool = True) -> dict:
    """A query; with ``valid`` a bug-grain dimension never groups a metric that needs tests."""
    dimensions = draw(st.lists(st.sampled_from(sorted(DIMENSIONS)), max_size=3, unique=True))
    pool = [m for m in METRICS if not (valid and m in NEEDS_TESTS and set(dimensions) & set(BUG_DIMENSIONS))]
    metrics = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    filter_dims = draw(st.lists(st.sampled_from(sorted(FILTER_VALUES)), max_size=2, unique=True))
    if dimensions and draw(st.booleans()):  # filtering a grouped dimension is where bugs hide
        grouped = draw(st.sampled_from(dimensions))
        filter_dims.append(draw(st.sampled_from([d for d in (grouped, f"{grouped}_id") if d in FILTER_VALUES])))
        filter_dims = list(dict.fromkeys(filter_dims))
    filters = {d: draw(filter_value(d)) for d in filter_dims} or None
    return {"metrics": metrics, "dimensions": dimensions, "filters": filters,
            "start_date": draw(st.sampled_from(DATES)), "end_date": draw(st.sampled_from(DATES))}


ADDITIVE_BY = {
    "bug_count": set(DIMENSIONS) - {"platform"},
    "bug_severity_score": set(DIMENSIONS) - {"platform"},
    "test_count": set(DIMENSIONS) - set(BUG_DIMENSIONS) - {"feature", "platform"},
    "tests_created": set(DIMENSIONS) - set(BUG_DIMENSIONS) - {"feature", "platform"},
    "tests_submitted": set(DIMENSIONS) - set(BUG_DIMENSIONS) - {"feature", "platform"},
}


def _compiled(con, query: dict):
    return query_metrics(**query, warehouse=con, today=TODAY)


def _expected(tables, query: dict):
    date_range = resolve_date_range(query["start_date"], query["end_date"], today=TODAY)
    return reference_query(tables, query["metrics"], query["dimensions"], query["filters"], date_range)


def _ordered(query: dict) -> bool:
    try:
        resolve_date_range(query["start_date"], query["end_date"], today=TODAY)
    except SemanticError:
        return False
    return True


@given(data=warehouses(), query=queries())
def test_compiled_sql_agrees_with_the_reference(data, query):
    if not _ordered(query):
        return
    with duckdb.connect() as con:
        build_warehouse(con, **data)
        expected = _expected(load_tables(con), query)
        actual = _compiled(con, query).df
    assert_frames_match(actual, expected, context=repr(query))


@given(data=warehouses(), query=queries(), metric=st.sampled_from(sorted(ADDITIVE_BY)))
def test_groups_of_additive_metrics_add_up_to_the_total(data, query, metric):
    dimensions = [d for d in query["dimensions"] if d in ADDITIVE_BY[metric]]
    if metric in NEEDS_TESTS:
        dimensions = [d for d in dimensions if d not in BUG_DIMENSIONS]
    if not dimensions or not _ordered(query):
        return
    common = {**query, "metrics": [metric]}
    with duckdb.connect() as con:
        build_warehouse(con, **data)
        total = _compiled(con, {**common, "dimensions": []}).df[metric].iloc[0]
        grouped = _compiled(con, {**common, "dimensions": dimensions}).df[metric]
    assert int(grouped.sum()) == int(total), f"{metric} by {dimensions}"


@given(data=warehouses(), query=queries(valid=False))
def test_a_bug_dimension_cannot_group_a_test_metric_on_either_side(data, query):
    bad = set(query["metrics"]) & NEEDS_TESTS and set(query["dimensions"]) & set(BUG_DIMENSIONS)
    if not bad or not _ordered(query):
        return
    with duckdb.connect() as con:
        build_warehouse(con, **data)
        with pytest.raises(ReferenceQueryError):
            _expected(load_tables(con), query)
        with pytest.raises(SemanticError):
            _compiled(con, query)
