"""Inferred members of ``features``: catalogue features that tests name but the catalogue omits.

A test feature embeds the catalogue ``feature_id`` it snapshots, but the catalogue endpoints
list only current features, so a retired feature (or one the catalogue fetch has not returned
yet) would leave test features and bugs pointing at nothing. As in the late-arriving
dimension pattern, such an id becomes an *inferred* member of ``features`` (``inferred`` is
true): title, description, how-to-find and user stories of the newest test feature naming it
(the highest test-feature id), the product of that test feature's test, and no sections.

Two writers keep the rule, so neither order of the catalogue and the tests in a run leaves a
dangling id:

- the tests multi-asset calls :func:`sync_inferred_features` after writing ``test_features``;
- the ``features`` refresh writes :func:`catalogue_with_inferred_query`: the catalogue plus the
  inferred members still needed, so it never drops one that test features reference, and a
  feature the catalogue lists again is a catalogue row once more.

>>> print(inferred_features_query(exp.to_table("features")).sql("duckdb")[:62])
SELECT tf.feature_id AS feature_id, t.product_id AS product_id
"""

from __future__ import annotations

import contextlib

import duckdb
from sqlglot import exp

from testio_assets.warehouse.errors import SQL_ERRORS
from testio_assets.warehouse.schema import FEATURES, create_table_sql
from testio_assets.warehouse.sql import add_missing_columns, table_exists

_FROM_TEST_FEATURE = ("title", "description", "howtofind", "user_stories")


def inferred_features_query(catalogue: exp.Table) -> exp.Select:
    """Rows of ``features`` (its columns, in order) for every feature id of ``test_features``
    that ``catalogue`` (a relation with a ``feature_id`` column) lacks."""
    feature_id = exp.column("feature_id", "tf")
    values = {
        "feature_id": feature_id,
        "product_id": exp.column("product_id", "t"),
        **{name: exp.column(name, "tf") for name in _FROM_TEST_FEATURE},
        "section_ids": exp.cast(exp.Array(expressions=[]), exp.DataType.build("BIGINT[]", dialect="duckdb")),
        "inferred": exp.true(),
    }
    listed = (
        exp.select(exp.Literal.number(1))
        .from_(catalogue.as_("c"))
        .where(exp.column("feature_id", "c").eq(feature_id))
    )
    newest = exp.Window(
        this=exp.RowNumber(),
        partition_by=[feature_id.copy()],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("test_feature_id", "tf"), desc=True)]),
    )
    return (
        exp.select(*(values[name].as_(name) for name in FEATURES.column_names))
        .from_(exp.to_table("test_features").as_("tf"))
        .join(
            exp.to_table("tests").as_("t"),
            on=exp.column("test_id", "t").eq(exp.column("test_id", "tf")),
            join_type="left",
        )
        .where(feature_id.copy().is_(exp.null()).not_())
        .where(exp.Exists(this=listed).not_())
        .qualify(newest.eq(1))
    )


def catalogue_with_inferred_query(con: duckdb.DuckDBPyConnection, catalogue: str) -> exp.Query:
    """A query of the whole new ``features`` table: the rows of the relation ``catalogue``
    (normalised catalogue features) plus the inferred members test features still need."""
    rows = exp.select("*").from_(exp.to_table(catalogue))
    if table_exists(con, "test_features") and table_exists(con, "tests"):
        rows = exp.union(rows, inferred_features_query(exp.to_table(catalogue)), distinct=False)
    return rows


def sync_inferred_features(con: duckdb.DuckDBPyConnection) -> int:
    """Make the inferred members of ``features`` exactly those ``test_features`` needs (adding,
    retitling and dropping), in one transaction; returns how many there are.

    Creates ``features`` if the catalogue has never been written, and gives a table written
    before inferred members existed its ``inferred`` column.
    """
    features = exp.to_table(FEATURES.name)
    inferred = exp.column("inferred")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(create_table_sql(FEATURES))
        add_missing_columns(con, FEATURES.relation(), [FEATURES.column("inferred")])
        con.execute(exp.delete(features, where=inferred).sql("duckdb"))
        con.execute(
            exp.insert(inferred_features_query(features), features, columns=list(FEATURES.column_names)).sql("duckdb")
        )
        count = con.execute(
            exp.select(exp.func("count", exp.Star())).from_(features).where(inferred).sql("duckdb")
        ).fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (a full disk) has ended the transaction already: a ROLLBACK error
        # would hide the real cause.
        with contextlib.suppress(*SQL_ERRORS):
            con.execute("ROLLBACK")
        raise
    return count
