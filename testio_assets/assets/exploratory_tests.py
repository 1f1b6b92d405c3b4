"""Exploratory tests and what each embeds: test features and required platforms.

One walk over every product's test pages feeds three tables, so they form one multi-asset.
A full refresh replaces the three tables; an incremental one (see
:mod:`testio_assets.ingestion.incremental`) upserts the listed tests and replaces the test
features and platforms of those tests only.
Listing offsets that stayed unreadable are stored in ``_fetch_issues`` for the
unrecoverable-pages check until a later walk reads past them, and a full refresh keeps the
stored tests that sit in them (:mod:`testio_assets.ingestion.unlisted`): a partial listing is
reported, never silently accepted, and never taken for deletions.
Catalogue features that test features name but ``features`` lacks are added to it as inferred
members right after (:mod:`testio_assets.ingestion.inferred_features`), so every feature id
resolves whichever of the catalogue and the tests runs first.
"""

import dagster as dg

from testio_assets.assets.catalogue import products
from testio_assets.assets.fetching import fetch_or_fail
from testio_assets.assets.metadata import asset_spec_kwargs, table_metadata
from testio_assets.assets.run_config import RefreshConfig, refresh_mode
from testio_assets.client.resource import TestIOApiResource
from testio_assets.ingestion.fetch import (
    SAFETY_PAGES,
    TestListings,
    fetch_test_listings,
)
from testio_assets.ingestion.inferred_features import sync_inferred_features
from testio_assets.ingestion.incremental import (
    full_listing_pages,
    listing_plans,
    stored_test_ids,
)
from testio_assets.ingestion.normalize import (
    normalize_test_features,
    normalize_test_platforms,
    normalize_tests,
)
from testio_assets.ingestion.unlisted import (
    fetch_issues_table,
    open_ranges,
    stored_ranges,
    tests_in_ranges,
    with_stored_rows,
)
from testio_assets.warehouse.guards import ShrinkGuard
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource
from testio_assets.warehouse.sql import table_exists
from testio_assets.warehouse.schema import FETCH_ISSUES

TEST_TABLES = ("tests", "test_features", "test_platforms")


def _check_listings(guard: ShrinkGuard, con, listings: TestListings) -> None:
    """A product whose listing came back empty, though tests of it are stored and no page of
    it failed, lost its tests in the answer, not upstream: refuse to go on."""
    if not table_exists(con, "tests"):
        return
    failed = {r.product_id for r in listings.unrecoverable}
    stored = con.execute("SELECT product_id, list(test_id) FROM tests GROUP BY product_id").fetchall()
    for product_id, test_ids in stored:
        listed = listings.by_product.get(product_id)
        if listed is not None and not listed and product_id not in failed:
            guard.check_kept(f"tests of product {product_id}", test_ids, [])


@dg.multi_asset(
    name="exploratory_tests",
    specs=[dg.AssetSpec(name, deps=[products], **asset_spec_kwargs(name)) for name in TEST_TABLES],
    pool=WRITER_POOL,
)
def exploratory_tests(
    context: dg.AssetExecutionContext,
    config: RefreshConfig,
    testio_api: TestIOApiResource,
    warehouse: WarehouseResource,
):
    with warehouse.reader() as con:
        product_rows = con.execute(
            "SELECT product_id, has_sections FROM products ORDER BY product_id"
        ).fetchall()
        product_ids = [product_id for product_id, _ in product_rows]
        mode = refresh_mode(config, table_exists(con, "tests"))
        incremental = mode == "incremental"
        plans = (
            listing_plans(con, product_ids, testio_api.per_page, SAFETY_PAGES)
            if incremental else None
        )
        stored_ids = stored_test_ids(con) if incremental else set()
    sectioned = {product_id for product_id, has_sections in product_rows if has_sections}

    fetched = fetch_or_fail(
        testio_api,
        context.log,
        lambda client: fetch_test_listings(client, product_ids, context.log, plans=plans),
    )
    listings = fetched.value
    listed_ids = [test["id"] for tests in listings.by_product.values() for test in tests]
    tables = {
        "tests": normalize_tests(listings.by_product, sectioned),
        "test_features": normalize_test_features(listings.by_product),
        "test_platforms": normalize_test_platforms(listings.by_product),
    }
    guard = config.guard(context.op_def.name)
    with warehouse.writer(context.run_id) as writer:
        con = writer.connection
        unread = open_ranges(stored_ranges(con), listings, set(product_ids), context.run_id)
        # An incremental refresh leaves unlisted tests as stored anyway; a full one must not
        # take a test hidden in an unreadable range for a test deleted upstream.
        kept = [] if incremental else tests_in_ranges(con, [o.range for o in unread], listed_ids)
        if kept:
            tables = {name: with_stored_rows(con, name, data, kept) for name, data in tables.items()}
            context.log.warning(
                "tests: kept %d stored tests as they were: they sit in listing ranges that "
                "could not be read (see the tests_unrecoverable_pages check)", len(kept),
            )
        _check_listings(guard, con, listings)
        for name, data in tables.items():
            if incremental and name != "tests":
                guard.check_replace_where(
                    writer.connection, name, data, column="test_id", keys=listed_ids
                )
            elif not incremental:
                guard.check_replace(writer.connection, name, data)
        writer.replace(FETCH_ISSUES.name, fetch_issues_table(unread))
        row_counts = {}
        for name, data in tables.items():
            if not incremental:
                row_counts[name] = writer.replace(name, data)
            elif name == "tests":
                # Tests the walk did not reach are frozen: they stay as stored.
                row_counts[name] = writer.upsert(name, data)
            else:
                row_counts[name] = writer.replace_where(name, data, column="test_id", keys=listed_ids)
            context.log.info("%s: %d rows after the %s refresh", name, row_counts[name], mode)
        # Catalogue ids the catalogue omits become inferred members of features, in this run.
        inferred = sync_inferred_features(writer.connection)
        writer.wrote("features")
        context.log.info("features: %d inferred members the test features name", inferred)
        extra = {
            "refresh_mode": mode,
            "products_listed": len(product_ids),
            "test_pages_fetched": listings.pages_fetched,
            "tests_fetched_individually": listings.fetched_individually,
            "tests_listed": len(listed_ids),
            "tests_new": len(set(listed_ids) - stored_ids) if incremental else len(listed_ids),
            "api_calls_full_refresh_estimate": full_listing_pages(
                writer.connection, testio_api.per_page
            ),
            "unrecoverable_ranges": dg.MetadataValue.json(
                [r.as_dict() for r in listings.unrecoverable]
            ),
            "unread_ranges_open": len(unread),
            "tests_kept_unlisted": len(kept),
        }
        extra_by_table = {
            "tests": extra,
            "test_features": {"refresh_mode": mode, "inferred_features": inferred},
        }
        results = [
            dg.MaterializeResult(
                asset_key=name,
                metadata=table_metadata(
                    writer.connection, name, rows, api=testio_api, stats=fetched.stats,
                    extra=extra_by_table.get(name, {"refresh_mode": mode}),
                ),
            )
            for name, rows in row_counts.items()
        ]
    yield from results
