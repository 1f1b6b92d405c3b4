"""Asset checks of the warehouse tables: keys, references, attribution, lost listing pages.

Each table gets one multi-asset check (one step, one short read-only connection) holding its
checks, so ``dagster asset materialize --select <table>`` runs them with the table. A failing
check reports how many rows violate it and a few sample keys.

Checks of ERROR severity are blocking: when one fails, the assets downstream of its table do
not run in that run. The same checks are the warehouse's audit (:func:`audit`): the writer
publishes the read copy only when every blocking check over the tables present passes, so
readers never see a version that fails one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
from sqlglot import exp

from testio_assets.warehouse.errors import SQL_ERRORS
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource
from testio_assets.warehouse.schema import TABLES
from testio_assets.warehouse.sql import column, count_star, dialect_of, render, table_exists
from testio_assets.warehouse.sql import table as sql_table

ATTRIBUTED_SHARE_TARGET = 0.95
SAMPLE_SIZE = 5

# Keyword arguments of dg.AssetCheckResult except asset_key and check_name.
CheckOutcome = dict[str, Any]
Evaluate = Callable[[duckdb.DuckDBPyConnection], CheckOutcome]


@dataclass(frozen=True)
class Check:
    table: str
    name: str
    description: str
    evaluate: Evaluate
    # Blocking: an ERROR check; a failure stops downstream assets and withholds publication.
    blocking: bool = True
    # Tables the check reads besides its own.
    requires: tuple[str, ...] = ()

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name, asset=self.table, description=self.description, blocking=self.blocking
        )

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table, *self.requires)


def _missing(table: str) -> CheckOutcome:
    return dict(
        passed=False,
        description=f"table {table} does not exist in the warehouse",
        metadata={"violations": -1},
    )


def _violations(con: duckdb.DuckDBPyConnection, violating: exp.Select) -> tuple[int, list[str]]:
    """How many rows ``violating`` returns, and the first few (in key order) as text."""
    count = con.execute(render(exp.select(count_star()).from_(violating.subquery()))).fetchone()[0]
    first = violating.order_by(*(exp.Ordered(this=c.copy()) for c in violating.selects)).limit(SAMPLE_SIZE)
    sample = [str(row[0] if len(row) == 1 else row) for row in con.execute(render(first)).fetchall()]
    return count, sample


def primary_key_check(table_name: str) -> Check:
    keys = TABLES[table_name].primary_key
    null_keys = exp.select(count_star()).from_(sql_table(table_name)).where(
        exp.or_(*(column(k).is_(exp.null()) for k in keys))
    )
    duplicated_keys = (
        exp.select(*(column(k) for k in keys))
        .from_(sql_table(table_name))
        .group_by(*(column(k) for k in keys))
        .having(count_star() > 1)
    )

    def evaluate(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
        if not table_exists(con, table_name):
            return _missing(table_name)
        nulls = con.execute(render(null_keys)).fetchone()[0]
        duplicates, sample = _violations(con, duplicated_keys)
        return dict(
            passed=nulls == 0 and duplicates == 0,
            metadata={
                "violations": nulls + duplicates,
                "null_keys": nulls,
                "duplicated_keys": duplicates,
                "sample_duplicated_keys": sample,
            },
        )

    return Check(
        table_name,
        f"{table_name}_primary_key",
        f"({', '.join(keys)}) is non-null and unique in {table_name}.",
        evaluate,
    )


def foreign_key_check(
    table_name: str,
    child_column: str,
    parent: str,
    parent_column: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    why: str = "",
) -> Check:
    orphans = (
        exp.select(column(child_column, "c"))
        .distinct()
        .from_(sql_table(table_name, alias="c"))
        .join(
            sql_table(parent, alias="p"),
            on=column(child_column, "c").eq(column(parent_column, "p")),
            join_type="anti",
        )
        .where(column(child_column, "c").is_(exp.null()).not_())
    )

    def evaluate(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
        for needed in (table_name, parent):
            if not table_exists(con, needed):
                return _missing(needed)
        count, sample = _violations(con, orphans)
        return dict(
            passed=count == 0,
            severity=severity,
            metadata={"violations": count, f"sample_{child_column}s": sample},
        )

    return Check(
        table_name,
        f"{table_name}_{child_column}_in_{parent}",
        f"Every non-null {table_name}.{child_column} exists in {parent}.{parent_column}.{why}",
        evaluate,
        blocking=severity == dg.AssetCheckSeverity.ERROR,
        requires=(parent,),
    )


def _attributed_share(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    if not table_exists(con, "bugs"):
        return _missing("bugs")
    total, attributed, with_test_feature = con.execute(
        "SELECT count(*), count(feature_id), count(test_feature_id) FROM bugs"
    ).fetchone()
    share = attributed / total if total else None
    return dict(
        passed=share is None or share >= ATTRIBUTED_SHARE_TARGET,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "attributed_share": dg.MetadataValue.float(share if share is not None else float("nan")),
            "target": ATTRIBUTED_SHARE_TARGET,
            "bugs": total,
            "attributed_bugs": attributed,
            "bugs_with_test_feature": with_test_feature,
            "violations": total - attributed,
        },
    )


def _unrecoverable_pages(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    if not table_exists(con, "_fetch_issues"):
        return _missing("_fetch_issues")
    rows = con.execute(
        "SELECT product_id, first_offset, last_offset, per_page_tried, http_status "
        "FROM _fetch_issues ORDER BY product_id, first_offset"
    ).fetchall()
    ranges = [
        {"product_id": p, "first_offset": a, "last_offset": b, "per_page_tried": size, "http_status": status}
        for p, a, b, size, status in rows
    ]
    return dict(
        passed=not ranges,
        metadata={
            "violations": len(ranges),
            "tests_not_listed": sum(r["last_offset"] - r["first_offset"] + 1 for r in ranges),
            "unrecoverable_ranges": dg.MetadataValue.json(ranges),
        },
    )


CHECKS: tuple[Check, ...] = (
    *(primary_key_check(name) for name in
      ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users")),
    foreign_key_check("features", "product_id", "products", "product_id"),
    foreign_key_check("tests", "product_id", "products", "product_id"),
    Check(
        "tests", "tests_unrecoverable_pages",
        "Every page of every product's test listing was read: offsets that kept failing even "
        "one test per page (their tests are missing) are listed in the metadata.",
        _unrecoverable_pages,
        blocking=False,  # the stored tests of those offsets are kept: the rest is still good
        requires=("_fetch_issues",),
    ),
    foreign_key_check("test_features", "test_id", "tests", "test_id"),
    foreign_key_check(
        "test_features", "feature_id", "features", "feature_id",
        why=" Features the catalogue does not list are kept in features as inferred members, "
        "so a violation means that bookkeeping failed.",
    ),
    foreign_key_check("test_platforms", "test_id", "tests", "test_id"),
    foreign_key_check("bugs", "test_id", "tests", "test_id"),
    foreign_key_check("bugs", "test_feature_id", "test_features", "test_feature_id"),
    Check(
        "bugs", "bugs_attributed_share",
        f"At least {ATTRIBUTED_SHARE_TARGET:.0%} of bugs resolve to a catalogue feature "
        "(warns below; unattributed bugs stay in the table as their own group).",
        _attributed_share,
        blocking=False,
    ),
)


def audit(
    con: duckdb.DuckDBPyConnection,
    touching: Collection[str] | None = None,
    *,
    of_tables: Collection[str] | None = None,
) -> list[str]:
    """The blocking checks that fail over the tables present (a table not written yet is not a
    bad version), each as ``name (N violations)``: empty when the version may be published.

    ``touching``: only the checks reading one of these tables (the others read exactly what an
    audited version already held); ``of_tables``: only the checks of these tables (a write on
    PostgreSQL, audited before its commit); None: every check.
    """
    failed = []
    for check in CHECKS:
        if touching is not None and not set(check.tables) & set(touching):
            continue
        if of_tables is not None and check.table not in of_tables:
            continue
        if check.blocking and all(table_exists(con, name) for name in check.tables):
            try:
                outcome = _evaluate_alone(check, con)
            except SQL_ERRORS as exc:  # a table not shaped as the contract says
                failed.append(f"{check.name} (could not run: {exc})".splitlines()[0])
                continue
            if not outcome["passed"]:
                failed.append(f"{check.name} ({outcome['metadata']['violations']} violations)")
    return failed


def _evaluate_alone(check: Check, con) -> CheckOutcome:
    """``check.evaluate(con)``; on PostgreSQL in a savepoint of its own (the connection turns a
    nested BEGIN into one), so a check that fails rolls back only itself: otherwise its error
    aborts the transaction and every later check reports "current transaction is aborted"
    instead of its own result."""
    if dialect_of(con) != "postgres":
        return check.evaluate(con)
    con.execute("BEGIN TRANSACTION")
    try:
        outcome = check.evaluate(con)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return outcome


def _table_checks(table_name: str, checks: Sequence[Check]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name=f"{table_name}_checks",
        specs=[check.spec for check in checks],
        description=f"Checks of the {table_name} table.",
        pool=WRITER_POOL,
    )
    def table_checks(warehouse: WarehouseResource):
        with warehouse.reader() as con:
            results = [
                dg.AssetCheckResult(asset_key=check.table, check_name=check.name, **check.evaluate(con))
                for check in checks
            ]
        yield from results

    return table_checks


ingestion_checks: list[dg.AssetChecksDefinition] = [
    _table_checks(name, [c for c in CHECKS if c.table == name])
    for name in dict.fromkeys(c.table for c in CHECKS)
]
