"""Warehouse tables: the single source of truth for names, column types and descriptions.

The ingestion assets create their tables from these definitions, the asset metadata
(`dagster/column_schema`) is derived from them, and the semantic layer's YAML model is
validated against them. All timestamps are stored as DuckDB ``TIMESTAMP`` holding UTC
(naive on purpose: truncation to day/week/month must not depend on a session time zone).

>>> TABLES["bugs"].primary_key
('bug_id',)
>>> "status" in TABLES["bugs"].column_names
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp

from semantic.answer.materialised import LOG_COLUMNS, LOG_TABLE, SCHEMA
from testio_assets.warehouse.sql import DIALECT, data_type, identifier, render
from testio_assets.warehouse.sql import table as sql_table


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    schema: str | None = None  # None: the default schema (main)

    @property
    def qualified_name(self) -> str:
        """``metrics.bugs_per_test_by_month``; ``bugs`` in the default schema (as ``_table_loads`` names it)."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def sql_name(self) -> str:
        """The table in SQL, quoted: ``"metrics"."bugs_per_test_by_month"``, ``"bugs"``."""
        return render(self.relation())

    def relation(self, alias: str | None = None) -> exp.Table:
        """The table as a sqlglot relation (in its schema, optionally aliased)."""
        return sql_table(self.name, alias, schema=self.schema)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name!r}")


def _pk(name: str, type_: str, description: str) -> Column:
    return Column(name, type_, description, nullable=False)


PRODUCTS = Table(
    name="products",
    description="The customer's products, one row per product (GET products).",
    primary_key=("product_id",),
    columns=(
        _pk("product_id", "BIGINT", "TestIO product id."),
        Column("name", "VARCHAR", "Product name."),
        Column("description", "VARCHAR", "Product description (may be null)."),
        Column("product_type", "VARCHAR", "website, mobile_app_ios, mobile_app_android, mobile_app_windows, streaming_app or gaming."),
        Column("default_section_id", "BIGINT", "Id of the product's default section."),
        Column("has_sections", "BOOLEAN", "True when features are listed per section (the plain features endpoint answers 422)."),
        Column("section_ids", "BIGINT[]", "Ids of the product's sections (empty for products without sections)."),
        Column("section_names", "VARCHAR[]", "Names of the product's sections, in the order of section_ids."),
    ),
)

FEATURES = Table(
    name="features",
    description=(
        "The feature catalogue of every product, de-duplicated by feature id across sections, "
        "plus inferred members: features that test features name but the catalogue no longer "
        "lists (retired, or not returned yet), kept so every feature id resolves. An inferred "
        "row carries what the newest test feature naming it says (title, description, how to "
        "find, user stories) and that test's product; the catalogue's row replaces it when the "
        "catalogue lists the feature again."
    ),
    primary_key=("feature_id",),
    columns=(
        _pk("feature_id", "BIGINT", "Catalogue feature id (global)."),
        Column("product_id", "BIGINT", "Product the feature belongs to (inferred: the product of the test naming it)."),
        Column("title", "VARCHAR", "Feature title (inferred: the title the newest test feature carries)."),
        Column("description", "VARCHAR", "Feature description (may be null)."),
        Column("howtofind", "VARCHAR", "How to find the feature (may be null)."),
        Column("user_stories", "VARCHAR[]", "User-story titles embedded in the feature payload."),
        Column("section_ids", "BIGINT[]", "Sections listing this feature (empty for products without sections, and for inferred features)."),
        Column("inferred", "BOOLEAN", "True for a feature the catalogue does not list, inferred from the test features naming it; false for catalogue features."),
    ),
)

TESTS = Table(
    name="tests",
    description="Exploratory tests (test cycles). Timestamps normalised to UTC; test_environment credentials are never stored.",
    primary_key=("test_id",),
    columns=(
        _pk("test_id", "BIGINT", "Exploratory test id."),
        Column("product_id", "BIGINT", "Product under test."),
        Column("section_id", "BIGINT", "Section under test (null when the product has no sections)."),
        Column("title", "VARCHAR", "Test title."),
        Column("status", "VARCHAR", "initialized, running, locked, customer_finalized, archived, cancelled or waiting."),
        Column("review_status", "VARCHAR", "TestIO review status."),
        Column("testing_type", "VARCHAR", "coverage, focused, rapid, usability (custom is legacy)."),
        Column("goal_text", "VARCHAR", "Goal of the test."),
        Column("instructions_text", "VARCHAR", "Instructions to testers."),
        Column("out_of_scope_text", "VARCHAR", "What is out of scope."),
        Column("start_at", "TIMESTAMP", "Start of testing, UTC."),
        Column("end_at", "TIMESTAMP", "End of testing, UTC (the time axis of the semantic layer)."),
        Column("enable_low", "BOOLEAN", "Low-severity bugs accepted."),
        Column("enable_high", "BOOLEAN", "High-severity bugs accepted."),
        Column("enable_critical", "BOOLEAN", "Critical bugs accepted."),
        Column("created_by", "VARCHAR", "Customer user who created the test (null when unknown)."),
        Column("submitted_by", "VARCHAR", "Customer user who submitted the test (null when not submitted)."),
        Column("test_environment_id", "BIGINT", "Test environment id (credentials are dropped)."),
        Column("test_environment_title", "VARCHAR", "Test environment title."),
    ),
)

TEST_FEATURES = Table(
    name="test_features",
    description="Features under test in each test (the snapshot embedded in the test); bugs point at these ids.",
    primary_key=("test_feature_id",),
    columns=(
        _pk("test_feature_id", "BIGINT", "Test-feature id (what a bug's test_feature.id refers to)."),
        Column("test_id", "BIGINT", "Test this feature snapshot belongs to."),
        Column("feature_id", "BIGINT", "Catalogue feature id; always in features, as an inferred member when the catalogue does not list it."),
        Column("title", "VARCHAR", "Feature title at the time of the test."),
        Column("description", "VARCHAR", "Feature description at the time of the test."),
        Column("howtofind", "VARCHAR", "How to find the feature."),
        Column("location", "VARCHAR", "Where the feature is."),
        Column("enable_default", "BOOLEAN", "Functional bugs in scope."),
        Column("enable_content", "BOOLEAN", "Content bugs in scope."),
        Column("enable_visual", "BOOLEAN", "Visual bugs in scope."),
        Column("user_stories", "VARCHAR[]", "User-story titles in scope."),
    ),
)

TEST_PLATFORMS = Table(
    name="test_platforms",
    description="Platforms required by each test: one row per test and operating system.",
    primary_key=("test_id", "operating_system_id"),
    columns=(
        _pk("test_id", "BIGINT", "Test id."),
        _pk("operating_system_id", "BIGINT", "Operating system id."),
        Column("operating_system_key", "VARCHAR", "Operating system key (windows, macos, ios, android, ...)."),
        Column("operating_system_name", "VARCHAR", "Operating system name (the platform dimension)."),
        Column("category_id", "BIGINT", "Device category id."),
        Column("category_key", "VARCHAR", "Device category key (computer, smartphone, tablet, ...)."),
        Column("category_name", "VARCHAR", "Device category name."),
        Column("browsers", "VARCHAR[]", "Browser names required on this platform."),
    ),
)

BUGS = Table(
    name="bugs",
    description="Bugs reported in tests, with the enriched status (auto_accepted as its own value) and the feature each resolves to.",
    primary_key=("bug_id",),
    columns=(
        _pk("bug_id", "BIGINT", "Bug id."),
        Column("test_id", "BIGINT", "Test the bug was reported in."),
        Column("test_feature_id", "BIGINT", "Test feature the bug was found in; null when unattributed."),
        Column("feature_id", "BIGINT", "Catalogue feature the bug resolves to (via its test feature); null when unattributed."),
        Column("title", "VARCHAR", "Bug title."),
        Column("severity", "VARCHAR", "critical, high, low, visual, content or custom."),
        Column("status", "VARCHAR", "Enriched status: accepted, auto_accepted, rejected or forwarded."),
        Column("api_status", "VARCHAR", "Status as the API sent it (accepted, rejected, forwarded)."),
        Column("auto_accepted", "BOOLEAN", "Accepted automatically after 10 days without review."),
        Column("rejection_reason", "VARCHAR", "Reason of a rejected bug: the reason whose TestIO default rejection text the latest comment carrying one contains (case and whitespace ignored). Null for bugs not rejected, and for rejections in the reviewer's own words or without a comment."),
        Column("known", "BOOLEAN", "Marked as a known bug."),
        Column("language", "VARCHAR", "Language of the report."),
        Column("location", "VARCHAR", "Where the bug was found (URL or screen)."),
        Column("author_name", "VARCHAR", "Tester who reported the bug."),
        Column("reported_at", "TIMESTAMP", "When the bug was reported, UTC."),
        Column("actual_result", "VARCHAR", "Actual result."),
        Column("expected_result", "VARCHAR", "Expected result."),
        Column("steps", "VARCHAR[]", "Steps to reproduce."),
        Column("device_os_names", "VARCHAR[]", "Operating systems of the devices the bug was seen on."),
    ),
)

USERS = Table(
    name="users",
    description="People seen in the data: testers (bug authors) and customer users (test creators and submitters), as separate identities.",
    primary_key=("user_id",),
    columns=(
        _pk("user_id", "VARCHAR", "Stable identity: '<role>:<name>' (a name can be both a tester and a customer)."),
        Column("role", "VARCHAR", "tester or customer."),
        Column("name", "VARCHAR", "User name as the API sends it."),
        Column("first_seen_at", "TIMESTAMP", "Earliest bug report (testers) or test start (customers), UTC."),
        Column("last_seen_at", "TIMESTAMP", "Latest bug report (testers) or test end (customers), UTC."),
        Column("bugs_reported", "BIGINT", "Bugs reported (testers; 0 for customers)."),
        Column("tests_created", "BIGINT", "Tests created (customers; 0 for testers)."),
        Column("tests_submitted", "BIGINT", "Tests submitted (customers; 0 for testers)."),
    ),
)

TABLE_LOADS = Table(
    name="_table_loads",
    description="One row per warehouse table: when it was last written, by which run, its row count and the freshness policy in force. Read by the semantic layer to report data age and state without Dagster.",
    primary_key=("table_name",),
    columns=(
        _pk("table_name", "VARCHAR", "Warehouse table name."),
        Column("loaded_at", "TIMESTAMP", "When the table was last written, UTC."),
        Column("run_id", "VARCHAR", "Dagster run id of the write (null outside Dagster)."),
        Column("row_count", "BIGINT", "Rows in the table after the write."),
        Column("warn_after_seconds", "DOUBLE", "Freshness policy when written: Warning from this age on (null without a policy)."),
        Column("fail_after_seconds", "DOUBLE", "Freshness policy when written: Failed from this age on (null without a policy)."),
    ),
)

FETCH_ISSUES = Table(
    name="_fetch_issues",
    description="Test-listing offsets that kept failing even one test per page and have not been read since (stored tests there are kept, new ones are missing). A range stays until a walk reads past it. Read by the unrecoverable-pages check.",
    primary_key=("product_id", "first_offset"),
    columns=(
        _pk("product_id", "BIGINT", "Product whose listing could not be read completely."),
        _pk("first_offset", "BIGINT", "First failing listing offset (0-based, newest first)."),
        Column("last_offset", "BIGINT", "Last failing listing offset (inclusive)."),
        Column("per_page_tried", "BIGINT", "Smallest page size tried."),
        Column("http_status", "BIGINT", "Last HTTP status (null for timeouts or malformed bodies)."),
        Column("message", "VARCHAR", "Last error, redacted."),
        Column("run_id", "VARCHAR", "Dagster run that recorded the issue."),
        Column("newer_test_id", "BIGINT", "Test listed just before the range (null at the top of the listing)."),
        Column("older_test_id", "BIGINT", "Test listed just after the range (null when none was read): the range holds the ids between the two."),
    ),
)

BUG_FETCHES = Table(
    name="_bug_fetches",
    description="Incremental state of the bugs asset: when each test's bugs were last fetched and the test's status then. A test fetched while archived or cancelled is never fetched again.",
    primary_key=("test_id",),
    columns=(
        _pk("test_id", "BIGINT", "Test whose bugs were fetched."),
        Column("fetched_at", "TIMESTAMP", "When the bugs were fetched, UTC."),
        Column("test_status_at_fetch", "VARCHAR", "Status of the test (from the tests table) when its bugs were fetched."),
    ),
)

SAVED_QUERY_LOADS = Table(
    name=LOG_TABLE,
    schema=SCHEMA,
    description="One row per materialised saved query: the day its dates were resolved on, the range they became, the SQL, and the versions of the tables it read. Written in the transaction that writes metrics.<saved_query>; the layout is the semantic layer's (semantic.answer.materialised).",
    primary_key=("saved_query",),
    columns=tuple(
        Column(name, type_, description, nullable=name != "saved_query") for name, type_, description in LOG_COLUMNS
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PRODUCTS, FEATURES, TESTS, TEST_FEATURES, TEST_PLATFORMS, BUGS, USERS,
        TABLE_LOADS, FETCH_ISSUES, BUG_FETCHES,
    )
}

FROZEN_TEST_STATUSES = ("archived", "cancelled")
BUG_STATUSES = ("accepted", "auto_accepted", "rejected", "forwarded")
SEVERITIES = ("critical", "high", "low", "visual", "content", "custom")
REJECTION_REASONS = (
    "not_reproducible",
    "intended_behavior",
    "known_bug",
    "ignored_instructions",
    "irrelevant",
    "device_not_relevant",
    "request_timeout",
)


@lru_cache(maxsize=256)  # tables are frozen and few; every write (and test warehouse) asks again
def create_table_sql(table: Table, *, replace: bool = False) -> str:
    """DDL for one table from its definition: ``CREATE TABLE IF NOT EXISTS``, or with
    ``replace`` ``CREATE OR REPLACE TABLE`` (a full refresh starts from the contract's shape).

    >>> create_table_sql(TABLE_LOADS).splitlines()[0]
    'CREATE TABLE IF NOT EXISTS "_table_loads" ('
    >>> create_table_sql(TABLE_LOADS, replace=True).splitlines()[0]
    'CREATE OR REPLACE TABLE "_table_loads" ('
    """
    not_null = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
    columns: list[exp.Expression] = [
        exp.ColumnDef(
            this=identifier(c.name), kind=data_type(c.type), constraints=[] if c.nullable else not_null
        )
        for c in table.columns
    ]
    if table.primary_key:
        columns.append(exp.PrimaryKey(expressions=[identifier(k) for k in table.primary_key]))
    create = exp.Create(
        this=exp.Schema(this=table.relation(), expressions=columns),
        kind="TABLE",
        exists=not replace,
        replace=replace,
    )
    return create.sql(DIALECT, pretty=True)
