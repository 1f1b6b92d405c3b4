"""Exploratory tests and what each embeds: test features and required platforms.

One walk over every product's test pages feeds three tables, so they form one multi-asset.
A full refresh replaces the three tables; an incremental one (see
:mod:`testio_assets.ingestion.incremental`) upserts the listed tests and replaces the test
features and platforms of those tests only.
Listing offsets that stayed unreadable are stored in ``_fetch_issues`` for the
unrecoverable-pages check: a partial listing is reported, never silently accepted.
Catalogue features that test features name but ``features`` lacks are added to it as inferred
members right after (:mod:`testio_assets.ingestion.inferred_features`), so every feature id
resolves whichever of the catalogue and the tests runs first.
"""

import dagster as dg
import pyarrow as pa

from testio_assets.assets.catalogue import products
from testio_assets.assets.metadata import (
    WRITER_POOL,
    RefreshConfig,
    asset_spec_kwargs,
    refresh_mode,
    table_metadata,
)
from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import UnrecoverableRange
from testio_assets.ingestion.fetch import SAFETY_PAGES, fetch_test_listings, run_fetch
from testio_assets.ingestion.inferred_features import sync_inferred_features
from testio_assets.ingestion.incremental import (
    full_listing_pages,
    listing_plans,
    stored_test_ids,
    table_exists,
)
from testio_assets.ingestion.normalize import (
    normalize_test_features,
    normalize_test_platforms,
    normalize_tests,
)
from testio_assets.warehouse.arrow import arrow_table
from testio_assets.warehouse.resource import WarehouseResource

TEST_TABLES = ("tests", "test_features", "test_platforms")


def fetch_issues_table(ranges: list[UnrecoverableRange], run_id: str) -> pa.Table:
    return arrow_table(
        "_fetch_issues",
        {
            "product_id": [r.product_id for r in ranges],
            "first_offset": [r.first_offset for r in ranges],
            "last_offset": [r.last_offset for r in ranges],
            "per_page_tried": [r.per_page_tried for r in ranges],
            "http_status": [r.status for r in ranges],
            "message": [r.message for r in ranges],
            "run_id": [run_id] * len(ranges),
        },
    )


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

    fetched = run_fetch(
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
    issues = fetch_issues_table(listings.unrecoverable, context.run_id)
    with warehouse.writer(context.run_id) as writer:
        writer.replace("_fetch_issues", issues)
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
