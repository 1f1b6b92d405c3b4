"""The catalogue: products and their features (changes rarely; its own freshness policy)."""

import dagster as dg
from sqlglot import exp

from testio_assets.assets.fetching import fetch_or_fail
from testio_assets.assets.metadata import asset_spec_kwargs, table_metadata
from testio_assets.assets.run_config import GuardConfig
from testio_assets.client.resource import TestIOApiResource
from testio_assets.ingestion.fetch import fetch_features, product_stub
from testio_assets.ingestion.inferred_features import catalogue_with_inferred_query
from testio_assets.ingestion.normalize import normalize_features, normalize_products
from testio_assets.warehouse.guards import stored_ids
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource


@dg.asset(pool=WRITER_POOL, **asset_spec_kwargs("products"))
def products(
    context: dg.AssetExecutionContext,
    config: GuardConfig,
    testio_api: TestIOApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    fetched = fetch_or_fail(testio_api, context.log, lambda client: client.get_products())
    data = normalize_products(fetched.value)
    with warehouse.writer(context.run_id) as writer:
        config.guard(context.op_def.name).check_kept(
            "products", stored_ids(writer.connection, "products", "product_id"),
            data["product_id"].to_pylist(),
        )
        rows = writer.replace("products", data)
        metadata = table_metadata(
            writer.connection, "products", rows, api=testio_api, stats=fetched.stats
        )
    context.log.info("products: %d rows written", rows)
    return dg.MaterializeResult(metadata=metadata)


CATALOGUE_VIEW = "_catalogue_features"


@dg.asset(deps=[products], pool=WRITER_POOL, **asset_spec_kwargs("features"))
def features(
    context: dg.AssetExecutionContext,
    config: GuardConfig,
    testio_api: TestIOApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    with warehouse.reader() as con:
        rows = con.execute("SELECT product_id, section_ids FROM products ORDER BY product_id").fetchall()
    stubs = [product_stub(product_id, section_ids) for product_id, section_ids in rows]
    fetched = fetch_or_fail(testio_api, context.log, lambda client: fetch_features(client, stubs))
    data = normalize_features(fetched.value)
    with warehouse.writer(context.run_id) as writer:
        # The catalogue's rows against the stored catalogue (inferred members have their rule).
        config.guard(context.op_def.name).check_replace(
            writer.connection, "features", data, stored_where=exp.column("inferred").not_()
        )
        # Inferred members that test features still name stay (see ingestion.inferred_features).
        writer.connection.register(CATALOGUE_VIEW, data)
        try:
            rows_written = writer.replace(
                "features", catalogue_with_inferred_query(writer.connection, CATALOGUE_VIEW)
            )
        finally:
            writer.connection.unregister(CATALOGUE_VIEW)
        inferred = rows_written - data.num_rows
        metadata = table_metadata(
            writer.connection, "features", rows_written, api=testio_api, stats=fetched.stats,
            extra={"products_read": len(stubs), "inferred_features": inferred},
        )
    context.log.info(
        "features: %d rows written for %d products (%d inferred from test features)",
        rows_written, len(stubs), inferred,
    )
    return dg.MaterializeResult(metadata=metadata)
