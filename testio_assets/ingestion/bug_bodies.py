"""Raw ``{"bugs": [...]}`` response bodies -> the ``bugs`` table, set-based in DuckDB.

A large customer's bugs arrive as hundreds of bodies of a few hundred kilobytes each.
Decoding them with the stdlib and normalising bug by bug in Python held the GIL for seconds
and starved the event loop; here DuckDB parses many bodies per query (``json_transform``
into typed structs) and computes every column in SQL, releasing the GIL, so chunks can be
decoded in worker threads while requests are still in flight.

The rules are those of the contract (``shared/testio-api.md``): ``auto_accepted`` as its own
status, the rejection reason recognised from the default comments, offset timestamps in UTC,
``feature_id`` resolved through ``test_features`` when the bug's test feature omits it, and a
bug without a test feature kept as unattributed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from testio_assets.client.errors import TestIOResponseError
from testio_assets.ingestion.rejections import rejection_reason_sql
from testio_assets.warehouse.arrow import arrow_schema
from testio_assets.warehouse.schema import TABLES

# What json_transform extracts from each bug; absent keys and unconvertible values become NULL.
_BUG_STRUCTURE = {
    "id": "BIGINT", "title": "VARCHAR", "severity": "VARCHAR", "status": "VARCHAR",
    "auto_accepted": "BOOLEAN", "known": "BOOLEAN", "language": "VARCHAR",
    "location": "VARCHAR", "author": {"name": "VARCHAR"}, "test": {"id": "BIGINT"},
    "test_feature": {"id": "BIGINT", "feature_id": "BIGINT"}, "steps": ["VARCHAR"],
    "actual_result": "VARCHAR", "expected_result": "VARCHAR", "reported_at": "VARCHAR",
    "devices": [{"operating_system": {"name": "VARCHAR"}}], "comments": ["JSON"],
}

# The query's fixed text; the two parts built elsewhere enter its parsed tree as expressions
# in place of :document and :rejection_reason (nothing is formatted into the text).
_BUGS_TEMPLATE = """
WITH bugs AS (
    SELECT body_no, unnest(doc.bugs) AS bug, generate_subscripts(doc.bugs, 1) AS pos
    FROM (SELECT body_no, json_transform(body, :document) AS doc FROM bodies)
), shaped AS (
    SELECT body_no, pos, bug,
        CASE WHEN bug.status = 'accepted' AND bug.auto_accepted THEN 'auto_accepted'
             ELSE bug.status END AS status,
        list_transform(bug.devices, lambda d: d.operating_system.name) AS os_names
    FROM bugs
)
SELECT
    bug.id AS bug_id,
    bug.test.id AS test_id,
    bug.test_feature.id AS test_feature_id,
    coalesce(bug.test_feature.feature_id, tfm.feature_id) AS feature_id,
    bug.title AS title,
    bug.severity AS severity,
    status,
    bug.status AS api_status,
    coalesce(bug.auto_accepted, false) AS auto_accepted,
    CASE WHEN status = 'rejected' THEN :rejection_reason END AS rejection_reason,
    bug.known AS known,
    bug.language AS language,
    bug.location AS location,
    bug.author.name AS author_name,
    CAST(CAST(nullif(bug.reported_at, '') AS TIMESTAMPTZ) AS TIMESTAMP) AS reported_at,
    bug.actual_result AS actual_result,
    bug.expected_result AS expected_result,
    coalesce(bug.steps, []) AS steps,
    -- distinct names in order of first appearance, without nulls
    coalesce(list_filter(os_names, lambda name, i: name IS NOT NULL
                         AND list_position(os_names, name) = i), []) AS device_os_names
FROM shaped
LEFT JOIN test_feature_map AS tfm ON tfm.test_feature_id = bug.test_feature.id
ORDER BY body_no, pos
"""

_BUGS_SQL = exp.replace_placeholders(
    sqlglot.parse_one(_BUGS_TEMPLATE, read="duckdb"),
    document=exp.Literal.string(json.dumps({"bugs": [_BUG_STRUCTURE]})),
    rejection_reason=rejection_reason_sql(exp.column("comments", table="bug")),
).sql("duckdb")


class BugBodyDecoder:
    """Decodes chunks of bug response bodies into ``bugs`` rows; safe to call from threads.

    ``feature_by_test_feature`` (test_feature_id -> feature_id, from ``test_features``)
    resolves bugs whose ``test_feature`` omits ``feature_id``. Use as a context manager.
    """

    def __init__(self, feature_by_test_feature: Mapping[int, int | None]) -> None:
        self._schema = arrow_schema(TABLES["bugs"])
        # One thread per query: decoding overlaps the fetch, and a second DuckDB thread would
        # take the core the event loop needs to keep requests flowing.
        self._con = duckdb.connect(":memory:", config={"threads": 1})
        # Timestamps without an offset are UTC, as everywhere in the warehouse.
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        pairs = pa.table(
            {
                "test_feature_id": pa.array(list(feature_by_test_feature), pa.int64()),
                "feature_id": pa.array(list(feature_by_test_feature.values()), pa.int64()),
            }
        )
        self._con.register("pairs", pairs)
        self._con.execute("CREATE TABLE test_feature_map AS SELECT * FROM pairs")
        self._con.unregister("pairs")

    def __enter__(self) -> BugBodyDecoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._con.close()

    def table(self, bodies: Sequence[str]) -> pa.Table:
        """The bugs of ``bodies`` (each a checked ``{"bugs": [...]}`` envelope), in body order.

        Raises TestIOResponseError when an item of a ``bugs`` list is not a bug with an id.
        """
        cursor = self._con.cursor()  # one connection per call: threads never share one
        try:
            numbered = {
                "body_no": pa.array(range(len(bodies)), pa.int64()),
                "body": pa.array(bodies, pa.string()),
            }
            cursor.register("bodies", pa.table(numbered))
            table = cursor.sql(_BUGS_SQL).to_arrow_table()
        finally:
            cursor.close()
        missing_ids = table.num_rows - pc.count(table["bug_id"]).as_py()
        if missing_ids:
            raise TestIOResponseError(
                f"the API sent {missing_ids} item(s) without an id in a 'bugs' list "
                "(each item should be a bug object)",
                endpoint="bugs",
            )
        return table.cast(self._schema)


def first_occurrences(table: pa.Table) -> pa.Table:
    """``table`` with only the first row of each ``bug_id`` (a bug listed under two tests)."""
    if pc.count_distinct(table["bug_id"]).as_py() == table.num_rows:
        return table
    rows = table.select(["bug_id"]).append_column("row", pa.array(range(table.num_rows)))
    first = rows.group_by("bug_id", use_threads=False).aggregate([("row", "min")])["row_min"]
    return table.take(pc.sort_indices(first))
