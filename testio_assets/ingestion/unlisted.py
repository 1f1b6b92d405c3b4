"""Tests a listing walk could not read: kept as stored, and remembered until they are read.

A listing range that keeps failing hides the tests in it. A full refresh must not take their
absence for deletion: stored tests whose ids sit inside a range this walk could not read (see
:meth:`UnrecoverableRange.holds`) keep their stored rows, with their test features and
platforms. And the record of the range (``_fetch_issues``) outlives the run: it goes only when
a later walk of that product reads past it (a walk reaching the end of the listing, or down to
the test just after the range). Until then the unrecoverable-pages check stays red.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlglot import exp

from testio_assets.client.stats import UnrecoverableRange
from testio_assets.ingestion.fetch import TestListings
from testio_assets.warehouse.arrow import arrow_schema, arrow_table
from testio_assets.warehouse.schema import FETCH_ISSUES, TABLES
from testio_assets.warehouse.sql import column, render, table, table_exists


_KEPT_TESTS = "_kept_tests"


@dataclass(frozen=True)
class OpenRange:
    """An unread listing range and the run that first recorded it as it stands."""

    range: UnrecoverableRange
    run_id: str | None


def stored_ranges(con: duckdb.DuckDBPyConnection) -> list[OpenRange]:
    """The ranges ``_fetch_issues`` holds (a table written before the neighbour columns
    existed gives ranges without neighbours: only a walk to the end clears those)."""
    if not table_exists(con, FETCH_ISSUES.name):
        return []
    cursor = con.execute(render(exp.select("*").from_(table(FETCH_ISSUES.name))))
    names = [d[0] for d in cursor.description]
    ranges = []
    for row in cursor.fetchall():
        r = dict(zip(names, row))
        ranges.append(OpenRange(
            UnrecoverableRange(
                r["product_id"], r["first_offset"], r["last_offset"], r["per_page_tried"],
                r["http_status"], r["message"], r.get("newer_test_id"), r.get("older_test_id"),
            ),
            r["run_id"],
        ))
    return ranges


def _walked_past(r: UnrecoverableRange, listings: TestListings) -> bool:
    if r.product_id in listings.complete:
        return True  # whatever of it is still unread is among this walk's own ranges
    oldest = listings.oldest_walked.get(r.product_id)
    return oldest is not None and r.older_test_id is not None and oldest <= r.older_test_id


def open_ranges(
    stored: Iterable[OpenRange], listings: TestListings, product_ids: Collection[int], run_id: str
) -> list[OpenRange]:
    """The ranges still unread after this walk: its own, and the stored ones it did not pass
    (ranges of products no longer listed go with them)."""
    kept = {
        (o.range.product_id, o.range.first_offset): o
        for o in stored
        if o.range.product_id in product_ids and not _walked_past(o.range, listings)
    }
    kept.update({(r.product_id, r.first_offset): OpenRange(r, run_id) for r in listings.unrecoverable})
    return sorted(kept.values(), key=lambda o: (o.range.product_id, o.range.first_offset))


def tests_in_ranges(
    con: duckdb.DuckDBPyConnection, ranges: Sequence[UnrecoverableRange], listed_ids: Collection[int]
) -> list[int]:
    """Stored tests this walk did not list whose ids sit inside an unread range of their product."""
    if not ranges or not table_exists(con, "tests"):
        return []
    listed = set(listed_ids)
    by_product: dict[int, list[UnrecoverableRange]] = {}
    for r in ranges:
        by_product.setdefault(r.product_id, []).append(r)
    rows = con.execute("SELECT product_id, test_id FROM tests ORDER BY test_id").fetchall()
    return [
        test_id for product_id, test_id in rows
        if test_id not in listed and any(r.holds(test_id) for r in by_product.get(product_id, ()))
    ]


def with_stored_rows(
    con: duckdb.DuckDBPyConnection, table_name: str, data: pa.Table, test_ids: Sequence[int]
) -> pa.Table:
    """``data`` plus the stored rows of ``table_name`` belonging to ``test_ids``."""
    if not test_ids:
        return data
    contract = TABLES[table_name]
    kept = exp.select(column("test_id")).from_(table(_KEPT_TESTS))
    stored_rows = (
        exp.select(*(column(name) for name in contract.column_names))
        .from_(table(table_name))
        .where(column("test_id").isin(query=kept))
    )
    con.register(_KEPT_TESTS, pa.table({"test_id": pa.array(list(test_ids), pa.int64())}))
    try:
        stored = con.sql(render(stored_rows)).to_arrow_table()
    finally:
        con.unregister(_KEPT_TESTS)
    return pa.concat_tables([data, stored.cast(arrow_schema(contract))])


def fetch_issues_table(ranges: Sequence[OpenRange]) -> pa.Table:
    """``_fetch_issues`` rows for the ranges still open."""
    return arrow_table(
        FETCH_ISSUES.name,
        {
            "product_id": [o.range.product_id for o in ranges],
            "first_offset": [o.range.first_offset for o in ranges],
            "last_offset": [o.range.last_offset for o in ranges],
            "per_page_tried": [o.range.per_page_tried for o in ranges],
            "http_status": [o.range.status for o in ranges],
            "message": [o.range.message for o in ranges],
            "run_id": [o.run_id for o in ranges],
            "newer_test_id": [o.range.newer_test_id for o in ranges],
            "older_test_id": [o.range.older_test_id for o in ranges],
        },
    )
