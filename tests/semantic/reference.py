"""An independent reference for every metric of semantic/README.md, in plain Python and pandas.

It follows the definitions in words only: no SQL (DuckDB merely reads the raw tables into
DataFrames) and nothing from the semantic compiler. The differential tests compare it with
``query_metrics``.

>>> import duckdb
>>> from warehouse_fixtures import build_warehouse, golden_rows
>>> tables = load_tables(build_warehouse(duckdb.connect(), **golden_rows()))
>>> reference_query(tables, ["test_count", "bug_count", "bugs_per_test"]).to_dict("records")
[{'test_count': 4, 'bug_count': 10, 'bugs_per_test': 2.5}]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import product as cartesian
from typing import Any

import pandas as pd

from semantic.plan.dates import DateRange

TABLE_NAMES = ("products", "features", "tests", "test_features", "test_platforms", "bugs")
EXECUTED = ("running", "locked", "customer_finalized", "archived")

# dimension -> whether it returns a <name>_id column
TEST_DIMENSIONS = {
    "product": True, "feature": True, "platform": True, "customer": True, "created_by": True, "submitted_by": True,
    "test_status": False, "testing_type": False, "test_environment": True,
    "day": False, "week": False, "month": False, "quarter": False, "year": False,
}
BUG_DIMENSIONS = {
    "tester": True, "severity": False, "bug_status": False, "rejection_reason": False, "known_bug": False,
}
DIMENSIONS = {**TEST_DIMENSIONS, **BUG_DIMENSIONS}

TEST_METRICS = ("test_count", "tests_created", "tests_submitted", "features_tested")
BUG_METRICS = ("bug_count", "bug_severity_score", "active_testers")
# ratio -> (numerator bug statuses or metric, denominator bug statuses or metric)
RATIOS = {
    "bugs_per_test": ("bug_count", "test_count"),
    "overall_acceptance_rate": ({"accepted", "auto_accepted"}, "bug_count"),
    "active_acceptance_rate": ({"accepted"}, "bug_count"),
    "rejection_rate": ({"rejected"}, "bug_count"),
    "review_rate": ({"accepted", "rejected"}, "bug_count"),
    "auto_acceptance_rate": ({"auto_accepted"}, {"accepted", "auto_accepted"}),
}
METRICS = (*TEST_METRICS, *BUG_METRICS, *RATIOS)
NEEDS_TESTS = {*TEST_METRICS, "bugs_per_test"}
SEVERITY_WEIGHTS = {"critical": 5, "high": 3}
# Whom `customer` means: the test's submitter for tests_submitted, its creator for every other
# metric (semantic/README.md, "Roles of a customer user"); created_by / submitted_by always one role.
CREATOR, SUBMITTER = "created_by", "submitted_by"
CUSTOMER_ROLE = {"tests_submitted": SUBMITTER}


class ReferenceQueryError(Exception):
    """A query the definitions reject (unknown names, a bug dimension grouping a test metric)."""


def load_tables(con) -> dict[str, list[dict[str, Any]]]:
    """Read the raw warehouse tables as lists of row dicts of Python values (NULL as None)."""
    tables = {}
    for name in TABLE_NAMES:
        cursor = con.execute(f'SELECT * FROM "{name}"')
        columns = [d[0] for d in cursor.description]
        tables[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    return tables


def reference_query(
    tables: Mapping[str, list[dict[str, Any]]],
    metrics: Sequence[str],
    dimensions: Sequence[str] = (),
    filters: Mapping[str, Any] | None = None,
    date_range: DateRange | None = None,
) -> pd.DataFrame:
    """Metrics by dimensions, as ``query_metrics(...).df`` should hold them (row order aside)."""
    filters = dict(filters or {})
    _validate(metrics, dimensions, filters)
    world = _World.of(tables)
    allowed = _Filters(filters)
    date_range = date_range or DateRange(None, None)
    # Tests in scope when `customer` means the creator (every metric but tests_submitted), and
    # when it means the submitter (tests_submitted).
    tests = [t for t in tables["tests"] if world.test_in_scope(t, allowed, date_range, CREATOR)]
    submitted_scope = [t for t in tables["tests"] if world.test_in_scope(t, allowed, date_range, SUBMITTER)]
    in_scope = {t["test_id"] for t in tests}
    # A feature filter applies to a bug's own feature, not to the features its test lists.
    bug_tests = {
        t["test_id"] for t in tables["tests"]
        if world.test_in_scope(t, allowed.without("feature"), date_range, CREATOR)
    }
    bugs = [b for b in tables["bugs"] if b["test_id"] in bug_tests and world.bug_matches(b, allowed)]
    test_features = [
        tf for tf in tables["test_features"]
        if tf["test_id"] in in_scope and tf["feature_id"] is not None
        and allowed.accepts("feature", (world.feature_label(tf["feature_id"]), tf["feature_id"]))
    ]

    def keys(values: dict[str, list[tuple]]) -> Iterable[tuple]:
        per_dim = [[v for v in values[d] if allowed.accepts(d, v)] for d in dimensions]
        return cartesian(*per_dim)

    bug_grain = any(d in BUG_DIMENSIONS for d in dimensions)
    test_rows = {CREATOR: defaultdict(set), SUBMITTER: defaultdict(set)}  # customer's role -> key -> test ids
    for role, scoped in ((CREATOR, tests), (SUBMITTER, submitted_scope)):
        for t in scoped if not bug_grain else ():
            for key in keys(world.test_values(t, role)):
                test_rows[role][key].add(t["test_id"])
    feature_rows = defaultdict(set)  # key -> catalogue feature ids
    for tf in test_features if not bug_grain else ():
        values = world.test_values(world.tests[tf["test_id"]])
        values["feature"] = [(world.feature_label(tf["feature_id"]), tf["feature_id"])]
        for key in keys(values):
            feature_rows[key].add(tf["feature_id"])
    bug_rows = defaultdict(dict)  # key -> bug id -> bug
    for b in bugs:
        for key in keys(world.bug_values(b)):
            bug_rows[key][b["bug_id"]] = b

    if not dimensions:
        groups = [()]
    elif bug_grain:
        groups = list(bug_rows)
    else:
        # the tests in scope (customer as the creator) and each metric's own rows
        groups = set(test_rows[CREATOR])
        if "tests_submitted" in metrics:
            groups |= set(test_rows[SUBMITTER])
        if any(m not in TEST_METRICS for m in metrics):
            groups |= set(bug_rows)
        if "features_tested" in metrics:
            groups |= set(feature_rows)
    records = []
    for key in groups:
        row = {}
        for dim, value in zip(dimensions, key):
            row[dim] = value[0]
            if DIMENSIONS[dim]:
                row[f"{dim}_id"] = value[1]
        for metric in metrics:
            role = CUSTOMER_ROLE.get(metric, CREATOR)
            row[metric] = _metric(metric, test_rows[role].get(key, set()), world.tests,
                                  feature_rows.get(key, set()), list(bug_rows.get(key, {}).values()))
        records.append(row)
    columns = [c for d in dimensions for c in ((d, f"{d}_id") if DIMENSIONS[d] else (d,))] + list(metrics)
    frame = pd.DataFrame.from_records(records, columns=columns)
    for metric in metrics:
        frame[metric] = frame[metric].astype("float64" if metric in RATIOS else "int64")
    return frame


def _validate(metrics: Sequence[str], dimensions: Sequence[str], filters: Mapping[str, Any]) -> None:
    ids = {f"{d}_id" for d, has_id in DIMENSIONS.items() if has_id}
    for name in [*metrics, *dimensions, *filters]:
        if name not in METRICS and name not in DIMENSIONS and name not in ids:
            raise ReferenceQueryError(f"unknown name {name!r}")
    for metric in metrics:
        for dim in dimensions:
            if dim in BUG_DIMENSIONS and metric in NEEDS_TESTS:
                raise ReferenceQueryError(f"bug dimension {dim!r} cannot group test metric {metric!r}")


class _Filters:
    """Filters by dimension: a filter on ``x`` tests the label, one on ``x_id`` the id."""

    def __init__(self, filters: Mapping[str, Any]):
        self.by_dim = defaultdict(list)  # dimension -> [(index in the (label, id) pair, allowed values)]
        for name, value in filters.items():
            dim, index = (name[:-3], 1) if name not in DIMENSIONS else (name, 0)
            self.by_dim[dim].append((index, set(value) if isinstance(value, (list, tuple, set)) else {value}))

    def __contains__(self, dim: str) -> bool:
        return dim in self.by_dim

    def without(self, dim: str) -> "_Filters":
        """The same filters minus those on ``dim`` (label and id)."""
        rest = _Filters({})
        rest.by_dim.update({d: checks for d, checks in self.by_dim.items() if d != dim})
        return rest

    def __iter__(self):
        return iter(self.by_dim)

    def accepts(self, dim: str, value: tuple) -> bool:
        return all(value[index] in allowed for index, allowed in self.by_dim.get(dim, ()))

    def any_member_accepted(self, dim: str, members: list[tuple]) -> bool:
        """Each filter on ``dim`` (label, id) is met by some member: a test with platforms
        Windows and macOS meets both ``platform = Windows`` and ``platform_id = <macOS>``."""
        return all(any(m[index] in allowed for m in members) for index, allowed in self.by_dim.get(dim, ()))


def _metric(metric: str, test_ids: set, tests: dict, feature_ids: set, bugs: list[dict]) -> float | int | None:
    if metric == "test_count":
        return len(test_ids)
    if metric == "tests_created":
        return sum(tests[i]["created_by"] is not None for i in test_ids)
    if metric == "tests_submitted":
        return sum(tests[i]["submitted_by"] is not None for i in test_ids)
    if metric == "features_tested":
        return len(feature_ids)
    if metric == "bug_count":
        return len(bugs)
    if metric == "bug_severity_score":
        return sum(SEVERITY_WEIGHTS.get(b["severity"], 1) for b in bugs)
    if metric == "active_testers":
        return len({b["author_name"] for b in bugs if b["author_name"] is not None})
    numerator, denominator = (
        _metric(part, test_ids, tests, feature_ids, bugs) if isinstance(part, str)
        else sum(b["status"] in part for b in bugs)
        for part in RATIOS[metric]
    )
    return None if denominator == 0 else numerator / denominator


class _World:
    """Lookups over the raw rows, and each test's / bug's dimension values as (label, id) pairs."""

    _last: tuple[Mapping, tuple[int, ...], "_World"] | None = None

    @classmethod
    def of(cls, tables: Mapping[str, list[dict[str, Any]]]) -> "_World":
        """The world of ``tables``, reused while the same, unchanged tables are asked again (the
        differential tests ask many queries of one warehouse)."""
        sizes = tuple(len(tables[name]) for name in TABLE_NAMES)
        if cls._last is None or cls._last[0] is not tables or cls._last[1] != sizes:
            cls._last = (tables, sizes, cls(tables))
        return cls._last[2]

    def __init__(self, tables: Mapping[str, list[dict[str, Any]]]):
        self.tests = {t["test_id"]: t for t in tables["tests"]}
        self.products = {p["product_id"]: p for p in tables["products"]}
        self.catalogue = {f["feature_id"]: f for f in tables["features"]}
        self.features_of = defaultdict(list)
        for tf in tables["test_features"]:
            self.features_of[tf["test_id"]].append(tf)
        self.platforms_of = defaultdict(list)
        for p in tables["test_platforms"]:
            self.platforms_of[p["test_id"]].append(p)
        # The smallest title among test features naming each feature id (NULL titles aside).
        self.smallest_test_feature_title = {}
        for tf in tables["test_features"]:
            fid, title = tf["feature_id"], tf["title"]
            if title is not None and (fid not in self.smallest_test_feature_title
                                      or title < self.smallest_test_feature_title[fid]):
                self.smallest_test_feature_title[fid] = title
        self._test_values = {}  # (id of a test row, customer role) -> values; rows are never changed

    def feature_label(self, feature_id: Any) -> str | None:
        """The catalogue title, else the smallest title among test features naming the feature."""
        if feature_id is None:
            return None
        title = self.catalogue.get(feature_id, {}).get("title")
        return self.smallest_test_feature_title.get(feature_id) if title is None else title

    def test_values(self, t: dict, customer_role: str = CREATOR) -> dict[str, list[tuple]]:
        """Values of a test, ``customer`` being the user in ``customer_role`` (created_by / submitted_by);
        a new dict each call, so callers may replace entries."""
        key = (id(t), customer_role)  # the row itself: the tables outlive this world
        if key not in self._test_values:
            self._test_values[key] = self._compute_test_values(t, customer_role)
        return dict(self._test_values[key])

    def _compute_test_values(self, t: dict, customer_role: str) -> dict[str, list[tuple]]:
        end = t["end_at"]
        features = {}
        for tf in self.features_of[t["test_id"]]:
            if tf["feature_id"] is not None:
                features.setdefault(tf["feature_id"], self.feature_label(tf["feature_id"]))
        platforms = {p["operating_system_id"]: p["operating_system_name"] for p in self.platforms_of[t["test_id"]]}
        def customer(name):
            return [(name, None if name is None else f"customer:{name}")]

        return {
            "product": [(self.products.get(t["product_id"], {}).get("name"), t["product_id"])],
            "feature": [(label, fid) for fid, label in features.items()] or [(None, None)],
            "platform": [(label, pid) for pid, label in platforms.items()] or [(None, None)],
            "customer": customer(t[customer_role]),
            "created_by": customer(t["created_by"]),
            "submitted_by": customer(t["submitted_by"]),
            "test_status": [(t["status"],)],
            "testing_type": [(t["testing_type"],)],
            "test_environment": [(t["test_environment_title"], t["test_environment_id"])],
            "day": [(_fmt(end, "%Y-%m-%d"),)],
            "week": [(None if end is None else "{}-W{:02d}".format(*end.isocalendar()[:2]),)],
            "month": [(_fmt(end, "%Y-%m"),)],
            "quarter": [(None if end is None else f"{end.year}-Q{(end.month - 1) // 3 + 1}",)],
            "year": [(_fmt(end, "%Y"),)],
        }

    def bug_values(self, b: dict) -> dict[str, list[tuple]]:
        values = self.test_values(self.tests[b["test_id"]])
        author = b["author_name"]
        values.update(
            feature=[(self.feature_label(b["feature_id"]), b["feature_id"])],
            tester=[(author, None if author is None else f"tester:{author}")],
            severity=[(b["severity"],)],
            bug_status=[(b["status"],)],
            rejection_reason=[(b["rejection_reason"],)],
            known_bug=[(b["known"],)],
        )
        return values

    def test_in_scope(self, t: dict, allowed: _Filters, date_range: DateRange, customer_role: str) -> bool:
        if not date_range.contains(t["end_at"]):
            return False
        if "test_status" not in allowed and t["status"] not in EXECUTED:
            return False
        values = self.test_values(t, customer_role)
        return all(allowed.any_member_accepted(dim, values[dim]) for dim in allowed if dim in TEST_DIMENSIONS)

    def bug_matches(self, b: dict, allowed: _Filters) -> bool:
        values = self.bug_values(b)
        return all(
            allowed.accepts(dim, values[dim][0]) for dim in allowed if dim in BUG_DIMENSIONS or dim == "feature"
        )


def _fmt(moment, pattern: str) -> str | None:
    return None if moment is None else moment.strftime(pattern)


def _plain(value):
    """A cell as a comparable Python value: every NULL flavour becomes None."""
    if value is None or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and type(a) is type(b) if isinstance(a, bool) or isinstance(b, bool) else a == b


def frame_rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    rows = [tuple(_plain(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]
    return sorted(rows, key=lambda row: [(v is None, repr(v)) for v in row])


def assert_frames_match(actual: pd.DataFrame, expected: pd.DataFrame, context: str = "") -> None:
    """Same columns and, after sorting, the same rows; floats within 1e-9, NULL equal to NULL."""
    assert sorted(actual.columns) == sorted(expected.columns), f"columns differ {context}"
    columns = list(expected.columns)
    got, want = frame_rows(actual, columns), frame_rows(expected, columns)
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)} {context}\n{actual}\n{expected}"
    for g, w in zip(got, want):
        assert all(_same(a, b) for a, b in zip(g, w)), (
            f"row differs {context}\n got  {dict(zip(columns, g))}\n want {dict(zip(columns, w))}"
            f"\nactual:\n{actual.to_string()}\nexpected:\n{expected.to_string()}"
        )
