"""Bugs of every test in the warehouse, resolved to the catalogue feature they concern."""

import dagster as dg

from testio_assets.assets.metadata import (
    WRITER_POOL,
    RefreshConfig,
    asset_spec_kwargs,
    table_metadata,
)
from testio_assets.client.resource import TestIOApiResource
from testio_assets.ingestion.fetch import fetch_bugs_table, run_fetch
from testio_assets.warehouse.resource import WarehouseResource


@dg.asset(
    deps=["tests", "test_features"],
    pool=WRITER_POOL,
    **asset_spec_kwargs("bugs"),
)
def bugs(
    context: dg.AssetExecutionContext,
    config: RefreshConfig,
    testio_api: TestIOApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    if not config.full_refresh:
        raise dg.Failure("incremental refresh of bugs is not available yet: run with full_refresh")
    with warehouse.reader() as con:
        test_ids = [row[0] for row in con.execute("SELECT test_id FROM tests ORDER BY test_id").fetchall()]
        feature_by_test_feature = dict(
            con.execute("SELECT test_feature_id, feature_id FROM test_features").fetchall()
        )
    fetched = run_fetch(
        testio_api,
        context.log,
        lambda client: fetch_bugs_table(client, test_ids, feature_by_test_feature, context.log),
    )
    data = fetched.value
    with warehouse.writer(context.run_id) as writer:
        rows = writer.replace("bugs", data)
        attributed = writer.connection.execute(
            "SELECT count(feature_id) FROM bugs"
        ).fetchone()[0]
        metadata = table_metadata(
            writer.connection, "bugs", rows, api=testio_api, stats=fetched.stats,
            extra={"tests_read": len(test_ids), "attributed_bugs": attributed},
        )
    context.log.info("bugs: %d rows written for %d tests", rows, len(test_ids))
    return dg.MaterializeResult(metadata=metadata)
