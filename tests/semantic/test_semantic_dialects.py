"""Generated SQL per dialect: snapshots (as parsed trees), parse-back, and faithful refusals.

A missing snapshot fails the test. Write (or regenerate) the snapshots on purpose with
``SEMANTIC_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/semantic/test_semantic_dialects.py``,
then review the diff of ``tests/semantic/fixtures/sql/`` before committing it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot

from semantic import UnsupportedDialectError, explain
from semantic.sql.compiler import DIALECTS
from semantic.model.loader import load_model
from semantic.plan.planner import plan_query
from semantic.sql.render import render_plan
from semantic_query_set import BASE, QUERIES, WEEKLY, name
from warehouse_fixtures import build_warehouse, golden_rows

SNAPSHOTS = Path(__file__).parent / "fixtures" / "sql"
UPDATE = os.environ.get("SEMANTIC_UPDATE_SNAPSHOTS") == "1"
TODAY = date(2025, 3, 15)
SNAPSHOT_QUERIES = [0, 3, 11, 13, 19, 20, 25, 27, 30, 33, 38]


def sql_for(query: dict, dialect: str) -> str:
    return explain(**query, dialect=dialect, today=TODAY).sql


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("index", range(len(BASE)))
def test_every_dialect_renders_and_parses_back(dialect, index):
    sql = sql_for(BASE[index], dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.find(sqlglot.exp.Select) is not None
    for literal in tree.find_all(sqlglot.exp.Literal):
        assert "DROP TABLE" not in literal.this or literal.is_string


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "duckdb"])
@pytest.mark.parametrize("query", WEEKLY)
def test_iso_week_is_refused_where_it_cannot_be_kept(dialect, query):
    if "dimensions" not in query:  # a week *filter* is a timestamp range: every dialect keeps it
        sqlglot.parse_one(sql_for(query, dialect), read=dialect)
        return
    with pytest.raises(UnsupportedDialectError, match="ISO week"):
        sql_for(query, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("index", SNAPSHOT_QUERIES)
def test_snapshot(dialect, index):
    query = QUERIES[index]
    path = SNAPSHOTS / dialect / f"{name(index, query)}.sql"
    sql = sqlglot.parse_one(sql_for(query, dialect), read=dialect).sql(dialect=dialect, pretty=True)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n")
    elif not path.exists():
        pytest.fail(f"no snapshot {path.relative_to(SNAPSHOTS.parent.parent)}: a snapshot is never written "
                    f"silently; run SEMANTIC_UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name} to create it, "
                    f"then review and commit it")
    expected = sqlglot.parse_one(path.read_text(), read=dialect)
    assert sqlglot.parse_one(sql, read=dialect) == expected, f"SQL changed for {path}; regenerate if intended"


def test_null_safe_stitching_and_ratio_guard_in_tree():
    tree = sqlglot.parse_one(sql_for(dict(metrics=["bugs_per_test"], dimensions=["feature"]), "duckdb"), read="duckdb")
    assert tree.find(sqlglot.exp.NullSafeEQ) is not None
    case = tree.find(sqlglot.exp.Case)
    assert case is not None and case.find(sqlglot.exp.Null) is not None
    assert tree.find(sqlglot.exp.Coalesce) is not None


def test_user_values_are_literals_not_sql():
    evil = "x'; DROP TABLE bugs; --"
    tree = sqlglot.parse_one(sql_for(dict(metrics=["bug_count"], filters={"tester": evil}), "duckdb"), read="duckdb")
    assert any(lit.this == evil for lit in tree.find_all(sqlglot.exp.Literal))
    assert not list(tree.find_all(sqlglot.exp.Drop))


STITCHED = [  # two pieces (one FULL JOIN) and three (a UNION spine and LEFT JOINs), NULL keys in each
    dict(metrics=["bugs_per_test"], dimensions=["feature", "month"]),
    dict(metrics=["bugs_per_test", "features_tested"], dimensions=["feature", "customer"]),
    dict(metrics=["bug_count", "test_count"], dimensions=["customer"], filters={"feature": None}),
]


def _stitching_conditions(tree):
    for join in tree.find_all(sqlglot.exp.Join):
        if join.side in ("FULL", "LEFT") and join.this.name.startswith(("agg_", "scope_keys")):
            yield join.args["on"]


def _conjuncts(condition):
    condition = condition.unnest()
    if isinstance(condition, sqlglot.exp.And):
        return [part for side in (condition.this, condition.expression) for part in _conjuncts(side)]
    return [condition]


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "duckdb"])
@pytest.mark.parametrize("query", STITCHED)
def test_outer_joins_outside_duckdb_stitch_on_equalities_only(dialect, query):
    tree = sqlglot.parse_one(sql_for(query, dialect), read=dialect)
    conditions = list(_stitching_conditions(tree))
    assert conditions and not any(c.find(sqlglot.exp.NullSafeEQ) for c in conditions)
    assert all(isinstance(part, sqlglot.exp.EQ) for c in conditions for part in _conjuncts(c))


def test_equality_stitching_keeps_the_null_safe_meaning():
    # keys equal to the sentinels (feature 0, customer '') next to NULL keys of the same columns
    rows = golden_rows()
    rows["tests"].append({"test_id": 3005, "product_id": 1001, "status": "locked", "created_by": ""})
    rows["tests"].append({"test_id": 3006, "product_id": 1001, "status": "locked"})
    rows["features"].append({"feature_id": 0, "product_id": 1001, "title": "Zero"})
    rows["test_features"].append({"test_feature_id": 5005, "test_id": 3005, "feature_id": 0})
    rows["bugs"] += [{"bug_id": 9100, "test_id": 3004, "status": "accepted"},
                     {"bug_id": 9101, "test_id": 3005, "feature_id": 0, "status": "accepted"},
                     {"bug_id": 9102, "test_id": 3006, "status": "rejected"}]
    con = build_warehouse(duckdb.connect(), **rows)
    model = load_model()
    for query in STITCHED:
        plan = plan_query(model, query["metrics"], query["dimensions"], query.get("filters"))
        native, equalities = (con.execute(render_plan(model, plan, equality_joins=eq).sql("duckdb")).fetchall()
                              for eq in (False, True))
        assert sorted(map(repr, native)) == sorted(map(repr, equalities)), query
        assert any(None in row for row in native)  # the NULL group is there
