"""What an incremental refresh reads from the warehouse to decide what to ask the API for.

The pull model: the API has no ``updated_since``, so the warehouse itself is the state.

- Tests: each product's listing is walked newest first until the first page holding a stored
  test (plus a safety page), and never before a chosen stored test that is not frozen, so
  every test whose status can still change is listed again. Changeable tests older than that
  one (stragglers: a test locked years ago and never archived) are fetched one by one from
  ``exploratory_tests/{id}`` instead, where that costs fewer calls than walking down to them.
- Bugs: a test's bugs are fetched again until they have been fetched once while the test was
  frozen (archived or cancelled). ``_bug_fetches`` records the status each fetch saw, so a
  test that froze after its last fetch gets exactly one final fetch: a bug decision made
  between that fetch and the freeze is not lost.

It also estimates what a full refresh would have cost, from the warehouse after the write, so
each run can report its economy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
from sqlglot import exp

from testio_assets.ingestion.fetch import ListingPlan
from testio_assets.warehouse.arrow import arrow_table
from testio_assets.warehouse.schema import BUG_FETCHES, FROZEN_TEST_STATUSES
from testio_assets.warehouse.sql import column, render, table, table_exists


def listing_plans(
    con: duckdb.DuckDBPyConnection, product_ids: Sequence[int], per_page: int, safety_pages: int
) -> dict[int, ListingPlan]:
    """Per product: the stored test ids, how deep to walk and which tests to fetch one by one."""
    newest_first = (
        exp.select(column("product_id"), column("test_id"), column("status"))
        .from_(table("tests"))
        .order_by(column("product_id"), exp.Ordered(this=column("test_id"), desc=True))
    )
    stored: dict[int, tuple[list[int], list[dict]]] = {}
    for product_id, test_id, status in con.execute(render(newest_first)).fetchall():
        ids, changeable = stored.setdefault(product_id, ([], []))
        if status is None or status not in FROZEN_TEST_STATUSES:
            changeable.append({"test_id": test_id, "position": len(ids)})
        ids.append(test_id)
    plans = {}
    for product_id in product_ids:
        ids, changeable = stored.get(product_id, ([], []))
        walked, stragglers = cheapest_walk(
            [(c["test_id"], c["position"]) for c in changeable], per_page, safety_pages
        )
        plans[product_id] = ListingPlan(
            frozenset(ids), walked[-1] if walked else None, tuple(stragglers)
        )
    return plans


def cheapest_walk(
    changeable: Sequence[tuple[int, int]], per_page: int, safety_pages: int
) -> tuple[list[int], list[int]]:
    """Split a product's changeable tests ((test id, newest-first position), newest first) into
    those the walk reaches and those fetched one by one, for the fewest calls.

    Walking down to the k-th changeable test costs the pages down to it (at least the first
    page plus the safety pages); every older one costs one detail call. Positions are those of
    the stored listing: tests that arrived since shift them by a page at most, which moves the
    cost, never what is seen.
    """

    def cost(k: int) -> int:
        pages = 1 + safety_pages
        if k:
            pages = max(pages, changeable[k - 1][1] // per_page + 1)
        return pages + len(changeable) - k

    # Ties go to the walk: a page also shows tests no plan knows about.
    k = min(range(len(changeable) + 1), key=lambda k: (cost(k), -k))
    return [t for t, _ in changeable[:k]], [t for t, _ in changeable[k:]]


def stored_test_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {row[0] for row in con.execute("SELECT test_id FROM tests").fetchall()}


def tests_needing_bugs(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str | None]]:
    """(test id, current status) of stored tests whose bugs were never fetched while frozen."""
    query = exp.select(column("test_id"), column("status")).from_(table("tests")).order_by(column("test_id"))
    if table_exists(con, BUG_FETCHES.name):
        fetched_frozen = (
            exp.select(column("test_id"))
            .from_(table(BUG_FETCHES.name))
            .where(column("test_status_at_fetch").isin(*FROZEN_TEST_STATUSES))
        )
        query = query.where(column("test_id").isin(query=fetched_frozen).not_())
    return con.execute(render(query)).fetchall()


def orphaned_bug_test_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Tests that still have bugs or fetch records but are no longer in ``tests`` (a full
    refresh of the tests dropped them): their rows go with the next bugs write."""
    referencing = ["bugs", *([BUG_FETCHES.name] if table_exists(con, BUG_FETCHES.name) else [])]
    test_ids: exp.Query = functools.reduce(
        lambda above, below: exp.union(above, below, distinct=False),
        (exp.select(column("test_id")).from_(table(name)) for name in referencing),
    )
    orphaned = (
        exp.select(column("test_id"))
        .distinct()
        .from_(test_ids.subquery("referencing"))
        .where(column("test_id").isin(query=exp.select(column("test_id")).from_(table("tests"))).not_())
        .order_by(column("test_id"))
    )
    return [row[0] for row in con.execute(render(orphaned)).fetchall()]


def bug_fetches_table(tests: Sequence[tuple[int, str | None]]) -> pa.Table:
    """``_bug_fetches`` rows for (test id, status) pairs whose bugs were just fetched."""
    fetched_at = datetime.now(timezone.utc).replace(tzinfo=None)
    return arrow_table(
        BUG_FETCHES.name,
        {
            "test_id": [test_id for test_id, _ in tests],
            "fetched_at": [fetched_at] * len(tests),
            "test_status_at_fetch": [status for _, status in tests],
        },
    )


def full_listing_pages(con: duckdb.DuckDBPyConnection, per_page: int) -> int:
    """Listing pages a full walk of every product makes: it ends on the first short page."""
    tests_per_product = (
        exp.select(exp.Count(this=column("test_id", "t")))
        .from_(table("products", "p"))
        .join(table("tests", "t"), using=["product_id"], join_type="left")
        .group_by(column("product_id", "p"))
    )
    return sum(n // per_page + 1 for (n,) in con.execute(render(tests_per_product)).fetchall())


def full_bug_batches(con: duckdb.DuckDBPyConnection, batch_size: int) -> int:
    """Bug requests a full refresh makes: every stored test, ``batch_size`` ids per call."""
    tests = con.execute("SELECT count(*) FROM tests").fetchone()[0]
    return math.ceil(tests / batch_size)
