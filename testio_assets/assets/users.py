"""Users: testers and customer users, derived in SQL from the tests and bugs tables."""

import dagster as dg

from testio_assets.assets.bugs import bugs
from testio_assets.assets.metadata import asset_spec_kwargs, table_metadata
from testio_assets.ingestion.users import USERS_QUERY
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource


@dg.asset(deps=["tests", bugs], pool=WRITER_POOL, **asset_spec_kwargs("users"))
def users(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.writer(context.run_id) as writer:
        rows = writer.replace("users", USERS_QUERY)
        roles = dict(
            writer.connection.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall()
        )
        metadata = table_metadata(
            writer.connection, "users", rows,
            extra={"testers": roles.get("tester", 0), "customers": roles.get("customer", 0)},
        )
    context.log.info("users: %d rows written", rows)
    return dg.MaterializeResult(metadata=metadata)
