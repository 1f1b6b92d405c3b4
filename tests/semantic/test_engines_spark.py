"""The semantic layer on a local Spark session (pyspark from the dev extra; Java 17+ needed):
answers equal DuckDB's, row for row, with plain TIMESTAMP columns and a session time zone far
from UTC. Skipped, with the reason shown by ``-ra``, where Java or pyspark is missing.
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from engine_warehouses import copy_to_spark
from semantic import explain, query_metrics
from semantic.errors import ModelValidationError
from semantic_query_set import BASE
from test_engines_postgres import assert_same_answer
from warehouse_fixtures import build_warehouse, golden_rows

pytestmark = pytest.mark.slow  # starts a JVM (about 10 s)

TODAY = date(2025, 3, 15)
FAR_ZONE = "Pacific/Kiritimati"
# Totals, entity and bridge dimensions, every time grain, date bounds, a spine, NULL filters, a limit.
QUERIES = [BASE[i] for i in (3, 11, 13, 19, 20, 21, 22, 26, 29, 37, 38, 41)]


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no Java on PATH: the Spark differential tests need a JDK 17+ (pyspark starts a JVM)")
    from pyspark.sql import SparkSession  # a dev dependency: missing, it is an error, not a skip

    session = (SparkSession.builder.master("local[1]").appName("testio-semantic-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
               .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
               # A JVM that lives for a few small queries spends more CPU compiling than running:
               # the quick (C1) compiler only, a single-threaded GC, and no code generation or
               # adaptive re-planning for tables of a few rows halve its CPU. None changes an answer.
               .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
               .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.adaptive.enabled", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def golden(spark):
    con = duckdb.connect()
    build_warehouse(con, **golden_rows())
    copy_to_spark(con, spark)
    spark.conf.set("spark.sql.session.timeZone", FAR_ZONE)  # the user's session: answers must not move
    yield con
    con.close()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(q["metrics"][:2]) + "|" + ",".join(q.get("dimensions", [])))
def test_spark_answers_equal_duckdbs_under_a_far_session_zone(spark, golden, query):
    duck = query_metrics(**query, warehouse=golden, today=TODAY)
    got = query_metrics(**query, warehouse=spark, today=TODAY)
    assert got.metadata["engine"]["engine"] == "spark" and got.sql == explain(**query, dialect="spark", today=TODAY).sql
    assert_same_answer(duck, got, repr(query))
    assert spark.conf.get("spark.sql.session.timeZone") == FAR_ZONE  # the session's own zone is back


def test_ratios_are_doubles_on_spark(spark, golden):
    got = query_metrics(["bugs_per_test", "rejection_rate"], warehouse=spark, today=TODAY)
    assert [str(t) for t in got.df.dtypes] == ["float64", "float64"]
    assert spark.sql(got.sql).schema["bugs_per_test"].dataType.simpleString() == "double"


def test_a_missing_table_is_named_at_the_model_line_that_reads_it(spark, golden):
    spark.catalog.dropTempView("bugs")
    try:
        with pytest.raises(ModelValidationError, match="table 'bugs' of semantic model bugs is not in the warehouse"):
            query_metrics(["bug_count"], warehouse=spark, today=TODAY)
    finally:
        copy_to_spark(golden, spark)
        spark.conf.set("spark.sql.session.timeZone", FAR_ZONE)
