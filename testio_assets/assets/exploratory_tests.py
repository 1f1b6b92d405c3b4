"""Exploratory tests and what each embeds: test features and required platforms.

One walk over every product's test pages feeds three tables, so they form one multi-asset.
Listing offsets that stayed unreadable are stored in ``_fetch_issues`` for the
unrecoverable-pages check: a partial listing is reported, never silently accepted.
"""

import dagster as dg
import pyarrow as pa

from testio_assets.assets.catalogue import products
from testio_assets.assets.metadata import (
    WRITER_POOL,
    RefreshConfig,
    asset_spec_kwargs,
    table_metadata,
)
from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import UnrecoverableRange
from testio_assets.ingestion.fetch import fetch_test_listings, run_fetch
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
    if not config.full_refresh:
        raise dg.Failure("incremental refresh of tests is not available yet: run with full_refresh")
    with warehouse.reader() as con:
        product_rows = con.execute(
            "SELECT product_id, has_sections FROM products ORDER BY product_id"
        ).fetchall()
    product_ids = [product_id for product_id, _ in product_rows]
    sectioned = {product_id for product_id, has_sections in product_rows if has_sections}

    fetched = run_fetch(
        testio_api, context.log, lambda client: fetch_test_listings(client, product_ids, context.log)
    )
    listings = fetched.value
    tables = {
        "tests": normalize_tests(listings.by_product, sectioned),
        "test_features": normalize_test_features(listings.by_product),
        "test_platforms": normalize_test_platforms(listings.by_product),
    }
    issues = fetch_issues_table(listings.unrecoverable, context.run_id)
    extra = {
        "products_listed": len(product_ids),
        "test_pages_fetched": listings.pages_fetched,
        "unrecoverable_ranges": dg.MetadataValue.json(
            [r.as_dict() for r in listings.unrecoverable]
        ),
    }
    with warehouse.writer(context.run_id) as writer:
        writer.replace("_fetch_issues", issues)
        results = []
        for name, data in tables.items():
            rows = writer.replace(name, data)
            context.log.info("%s: %d rows written", name, rows)
            metadata = table_metadata(
                writer.connection, name, rows, api=testio_api, stats=fetched.stats,
                extra=extra if name == "tests" else None,
            )
            results.append(dg.MaterializeResult(asset_key=name, metadata=metadata))
    yield from results
