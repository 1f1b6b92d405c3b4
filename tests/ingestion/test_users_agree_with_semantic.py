"""Two parts of the product show per-customer test counts: the ``users`` asset and the semantic
layer. Over every test status they agree, user by user, in each role (issue 8, item 2).

The ingestion assets are materialised with real Dagster from the simulator, whose customer
users often submit tests another user created."""

from __future__ import annotations

import collections

import duckdb
import pandas as pd
import pytest
from ingestion_support import make_sim, materialize

from semantic import query_metrics
from semantic.model.loader import load_model
from testio_assets.simulator.resource import SimulatorApiResource


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    database = tmp_path_factory.mktemp("roles") / "testio.duckdb"
    result = materialize(SimulatorApiResource.serving(make_sim()), database)
    assert result.success
    return database


@pytest.fixture(scope="module")
def users(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT user_id, tests_created, tests_submitted FROM users WHERE role = 'customer'").fetchall()
    assert rows, "the simulator has customer users"
    return {user_id: (created, submitted) for user_id, created, submitted in rows}


@pytest.fixture(scope="module")
def every_status(warehouse):
    """A test_status filter covering every status the model declares, and so every test."""
    statuses = list(load_model().dimensions["test_status"].allowed_values)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        total, covered = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE list_contains(?, status)) FROM tests", [statuses]).fetchone()
    assert total == covered > 0
    return {"test_status": statuses}


def _by_user(warehouse, metrics, dimension, filters, **kwargs) -> dict:
    df = query_metrics(metrics, [dimension], filters, warehouse=str(warehouse), **kwargs).df
    assert df[f"{dimension}_id"].is_unique
    return {row[f"{dimension}_id"]: tuple(row[m] for m in metrics)
            for row in df.to_dict("records") if not pd.isna(row[f"{dimension}_id"])}


def test_the_roles_differ_for_someone(users):
    assert any(created != submitted for created, submitted in users.values())


@pytest.mark.parametrize(("metric", "dimension", "column"), [
    ("tests_created", "created_by", 0), ("tests_submitted", "submitted_by", 1),
])
def test_each_role_dimension_equals_the_users_asset(warehouse, users, every_status, metric, dimension, column):
    answer = _by_user(warehouse, [metric], dimension, every_status)
    assert set(answer) <= set(users)
    # a user without tests in this role is no member of the role dimension: 0 in both
    assert {u: answer.get(u, (0,))[0] for u in users} == {u: counts[column] for u, counts in users.items()}


def test_customer_equals_the_users_asset_in_both_roles(warehouse, users, every_status):
    answer = _by_user(warehouse, ["tests_created", "tests_submitted"], "customer", every_status)
    assert answer == users  # every customer user, once, with both figures


def test_top_customers_by_tests_submitted_ranks_the_top_submitter_first(warehouse, users, every_status):
    top = query_metrics(["tests_submitted"], ["customer"], every_status, sort_by="tests_submitted", limit=3,
                        warehouse=str(warehouse)).df
    assert top["tests_submitted"].iloc[0] == max(submitted for _, submitted in users.values())
    assert users[top["customer_id"].iloc[0]][1] == top["tests_submitted"].iloc[0]
    # in the default scope (executed tests) too, against a count taken directly in Python
    with duckdb.connect(str(warehouse), read_only=True) as con:
        executed = collections.Counter(s for s, in con.execute(
            "SELECT submitted_by FROM tests WHERE status IN ('running', 'locked', 'customer_finalized', 'archived') "
            "AND submitted_by IS NOT NULL").fetchall())
    default = query_metrics(["tests_submitted", "test_count"], ["customer"], sort_by="tests_submitted",
                            warehouse=str(warehouse)).df
    assert default["customer"].iloc[0] == executed.most_common(1)[0][0]
    named = [r for r in default.to_dict("records") if not pd.isna(r["customer"])]
    assert {r["customer"]: r["tests_submitted"] for r in named} == {r["customer"]: executed[r["customer"]] for r in named}
    assert set(executed) <= {r["customer"] for r in named}
    # the earlier meaning (the creator's tests that anyone submitted) would differ for someone
    assert (default["tests_submitted"] != default["test_count"]).any()
