"""Bugs of every test in the warehouse, resolved to the catalogue feature they concern.

A full refresh fetches the bugs of every stored test and replaces the table. An incremental
one fetches them only for tests not yet fetched while frozen (new tests, tests whose status
can still change, and tests that froze since their last fetch, once) and replaces exactly
those tests' bugs, so a bug deleted upstream disappears too. ``_bug_fetches`` is written after
``bugs``: if that second write fails, the next run fetches the same tests again, never fewer.
"""

import dagster as dg

from testio_assets.assets.fetching import fetch_or_fail
from testio_assets.assets.metadata import asset_spec_kwargs, table_metadata
from testio_assets.assets.run_config import RefreshConfig, refresh_mode
from testio_assets.client.resource import TestIOApiResource
from testio_assets.ingestion.fetch import fetch_bugs_table
from testio_assets.ingestion.incremental import (
    bug_fetches_table,
    full_bug_batches,
    orphaned_bug_test_ids,
    tests_needing_bugs,
)
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource
from testio_assets.warehouse.sql import table_exists
from testio_assets.warehouse.schema import BUG_FETCHES


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
    with warehouse.reader() as con:
        mode = refresh_mode(config, table_exists(con, "bugs"))
        incremental = mode == "incremental"
        if incremental:
            to_fetch = tests_needing_bugs(con)
            orphaned = orphaned_bug_test_ids(con)
        else:
            to_fetch = con.execute("SELECT test_id, status FROM tests ORDER BY test_id").fetchall()
            orphaned = []
        feature_by_test_feature = dict(
            con.execute("SELECT test_feature_id, feature_id FROM test_features").fetchall()
        )
    test_ids = [test_id for test_id, _ in to_fetch]
    fetched = fetch_or_fail(
        testio_api,
        context.log,
        lambda client: fetch_bugs_table(client, test_ids, feature_by_test_feature, context.log),
    )
    fetches = bug_fetches_table(to_fetch)
    guard = config.guard(context.op_def.name)
    with warehouse.writer(context.run_id) as writer:
        if incremental:
            # Orphans' bugs go on purpose (their tests left the warehouse); only re-fetched
            # tests' bugs are compared with what the API now answers.
            guard.check_replace_where(
                writer.connection, "bugs", fetched.value, column="test_id", keys=test_ids
            )
            replaced = [*test_ids, *orphaned]
            rows = writer.replace_where("bugs", fetched.value, column="test_id", keys=replaced)
            writer.replace_where(BUG_FETCHES.name, fetches, column="test_id", keys=replaced)
        else:
            guard.check_replace(writer.connection, "bugs", fetched.value)
            rows = writer.replace("bugs", fetched.value)
            writer.replace(BUG_FETCHES.name, fetches)
        attributed = writer.connection.execute(
            "SELECT count(feature_id) FROM bugs"
        ).fetchone()[0]
        metadata = table_metadata(
            writer.connection, "bugs", rows, api=testio_api, stats=fetched.stats,
            extra={
                "refresh_mode": mode,
                "bug_tests_refetched": len(test_ids),
                "bugs_fetched": fetched.value.num_rows,
                "attributed_bugs": attributed,
                "api_calls_full_refresh_estimate": full_bug_batches(
                    writer.connection, testio_api.bug_batch_size
                ),
            },
        )
    context.log.info(
        "bugs: %s refresh fetched the bugs of %d tests; %d rows in bugs", mode, len(test_ids), rows
    )
    return dg.MaterializeResult(metadata=metadata)
