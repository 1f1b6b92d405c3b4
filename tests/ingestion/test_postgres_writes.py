"""The writer on a real PostgreSQL, statement by statement: a full refresh recreates a table
whose columns changed (and only then), a failed transaction never commits as a silent
rollback, readers are not blocked by a write in progress, a writer stuck behind another
session's lock fails with a typed error naming it, and the audit reports a check's own error."""

from __future__ import annotations

import psycopg2
import pyarrow as pa
import pytest

from testio_assets.warehouse.errors import (
    WarehouseLockTimeoutError,
    WarehouseSchemaChangeBlockedError,
    WarehouseWriteError,
)
from testio_assets.warehouse.arrow import arrow_table
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import Column, Table

pytestmark = pytest.mark.slow  # a real PostgreSQL server


def _metric_table(value_type: str) -> Table:
    """A metric table as a saved query's YAML makes it: its metric column's type follows the YAML."""
    return Table(
        name="bugs_per_test", schema="metrics", description="A saved query's answer.", primary_key=(),
        columns=(Column("month", "VARCHAR", "Month."), Column("value", value_type, "The metric.")),
    )


def _query(url: str, sql: str, parameters=None) -> list[tuple]:
    con = psycopg2.connect(url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql, parameters)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def _column_type(url: str) -> str:
    return _query(url, "SELECT data_type FROM information_schema.columns "
                       "WHERE table_schema = 'metrics' AND table_name = 'bugs_per_test' AND column_name = 'value'")[0][0]


def _oid(url: str) -> int:
    return _query(url, "SELECT 'metrics.bugs_per_test'::regclass::oid")[0][0]


def test_a_full_refresh_recreates_a_table_whose_column_type_changed(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("counts") as writer:
        writer.replace(_metric_table("BIGINT"), pa.table({"month": ["2024-01"], "value": [3]}))
    with warehouse.writer("shares") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-01", "2024-02"], "value": [0.4, 2.5]}))
    assert _column_type(url) == "double precision"
    assert _query(url, "SELECT month, value FROM metrics.bugs_per_test ORDER BY month") == [
        ("2024-01", 0.4), ("2024-02", 2.5)]


def test_a_full_refresh_with_the_same_columns_keeps_the_table_and_replaces_its_rows(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("first") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-01"], "value": [0.5]}))
    table_before = _oid(url)
    with warehouse.writer("second") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-02"], "value": [0.25]}))
    assert _oid(url) == table_before  # not dropped: views on it and readers of it are undisturbed
    assert _query(url, "SELECT month, value FROM metrics.bugs_per_test") == [("2024-02", 0.25)]


def test_a_view_on_a_table_that_must_be_recreated_stops_the_refresh_with_a_typed_error(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("counts") as writer:
        writer.replace(_metric_table("BIGINT"), pa.table({"month": ["2024-01"], "value": [3]}))
    _query(url, "CREATE VIEW analyst_view AS SELECT * FROM metrics.bugs_per_test")
    with pytest.raises(WarehouseSchemaChangeBlockedError) as blocked:
        with warehouse.writer("shares") as writer:
            writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-02"], "value": [0.4]}))
    message = str(blocked.value)
    assert "value BIGINT -> DOUBLE PRECISION" in message
    assert "view analyst_view depends on table metrics.bugs_per_test" in message
    assert "Nothing was written" in message and "DROP VIEW" in message
    assert _column_type(url) == "bigint"
    assert _query(url, "SELECT month, value FROM analyst_view") == [("2024-01", 3)]
    assert _query(url, "SELECT row_count FROM _table_loads WHERE table_name = 'metrics.bugs_per_test'") == [(1,)]


def test_a_block_that_swallows_a_failed_statement_raises_and_writes_nothing(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("first") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-01"], "value": [0.5]}))
    with pytest.raises(WarehouseWriteError, match="Nothing was written"):
        with warehouse.writer("second") as writer:
            writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-02"], "value": [0.25]}))
            try:
                writer.connection.execute("SELECT no_such_column FROM metrics.bugs_per_test")
            except psycopg2.Error:
                pass  # a step that catches an SQL error and carries on
    assert _query(url, "SELECT month, value FROM metrics.bugs_per_test") == [("2024-01", 0.5)]
    assert _query(url, "SELECT run_id FROM _table_loads") == [("first",)]


def test_a_commit_the_server_answers_with_rollback_raises(postgres_server, postgres_database):
    from testio_assets.warehouse.postgres import connect_postgres

    con = connect_postgres(postgres_server.url(postgres_database))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE lost (x BIGINT)")
        with pytest.raises(psycopg2.Error):
            con.execute("SELECT 1 / 0")
        with pytest.raises(WarehouseWriteError, match="Nothing was written"):
            con.execute("COMMIT")
    finally:
        con.close()
    assert _query(postgres_server.url(postgres_database), "SELECT to_regclass('lost')") == [(None,)]


def test_readers_keep_reading_the_previous_rows_while_a_write_is_open(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url)
    with warehouse.writer("first") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-01"], "value": [0.5]}))
    reader = psycopg2.connect(url, options="-c statement_timeout=3000")
    reader.autocommit = True
    try:
        with warehouse.writer("second") as writer:
            writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-02"], "value": [0.25]}))
            with reader.cursor() as cur:  # the write is not committed yet; a lock would time this out
                cur.execute("SELECT month, value FROM metrics.bugs_per_test")
                assert cur.fetchall() == [("2024-01", 0.5)]
                cur.execute("SELECT run_id FROM _table_loads")
                assert cur.fetchall() == [("first",)]
    finally:
        reader.close()
    assert _query(url, "SELECT month FROM metrics.bugs_per_test") == [("2024-02",)]


def test_a_writer_behind_an_idle_transaction_fails_naming_it(postgres_server, postgres_database):
    url = postgres_server.url(postgres_database)
    warehouse = WarehouseResource(url=url, lock_timeout_s=0.5)
    with warehouse.writer("first") as writer:
        writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-01"], "value": [0.5]}))
    idle = psycopg2.connect(url, application_name="a notebook")
    try:
        with idle.cursor() as cur:  # opens a transaction and leaves it idle, holding the lock
            cur.execute("LOCK TABLE metrics.bugs_per_test IN EXCLUSIVE MODE")
            cur.execute("SELECT pg_backend_pid()")
            idle_pid = cur.fetchone()[0]
        with pytest.raises(WarehouseLockTimeoutError) as timed_out:
            with warehouse.writer("second") as writer:
                writer.replace(_metric_table("DOUBLE"), pa.table({"month": ["2024-02"], "value": [0.25]}))
    finally:
        idle.close()
    message = str(timed_out.value)
    assert f"pid {idle_pid} (idle in transaction" in message and "application a notebook" in message
    assert "metrics.bugs_per_test (ExclusiveLock)" in message and "lock_timeout_s" in message
    assert postgres_server.password not in message
    assert _query(url, "SELECT month FROM metrics.bugs_per_test") == [("2024-01",)]


def test_the_audit_reports_the_error_of_a_check_that_cannot_run_not_an_aborted_transaction(postgres_server, postgres_database):
    from testio_assets.checks import audit
    from testio_assets.warehouse.postgres import connect_postgres

    url = postgres_server.url(postgres_database)
    products = arrow_table("products", {
        "product_id": [1], "name": ["p"], "description": [None], "product_type": ["website"],
        "default_section_id": [None], "has_sections": [False], "section_ids": [[]], "section_names": [[]]})
    features = arrow_table("features", {
        "feature_id": [7], "product_id": [1], "title": ["f"], "description": [None], "howtofind": [None],
        "user_stories": [[]], "section_ids": [[]], "inferred": [False]})
    with WarehouseResource(url=url).writer("load") as writer:
        writer.replace("products", products)
        writer.replace("features", features)
    con = connect_postgres(url)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("ALTER TABLE features DROP COLUMN product_id")  # a table not shaped as its contract
        failed = audit(con)
        con.execute("ROLLBACK")
    finally:
        con.close()
    assert failed and all("could not run" in f for f in failed)
    assert all("product_id does not exist" in f for f in failed), failed



def test_percent_signs_survive_the_translation_to_postgres_with_parameters(postgres_server, postgres_database):
    from testio_assets.warehouse.postgres import connect_postgres

    con = connect_postgres(postgres_server.url(postgres_database))
    try:
        row = con.execute(
            "SELECT strftime(TIMESTAMP '2024-03-05 10:00:00', '%Y-%m') AS month, '50%' LIKE '5%' AS matched, ? AS x",
            ["bound"]).fetchall()
    finally:
        con.close()
    assert row == [("2024-03", True, "bound")]


def test_a_savepoint_that_fails_to_open_is_not_counted(postgres_server, postgres_database):
    from testio_assets.warehouse.postgres import connect_postgres

    con = connect_postgres(postgres_server.url(postgres_database))
    try:
        con.execute("BEGIN TRANSACTION")
        with pytest.raises(psycopg2.Error):
            con.execute("SELECT 1 / 0")
        with pytest.raises(psycopg2.Error):
            con.execute("BEGIN TRANSACTION")  # SAVEPOINT refused: the transaction has failed
        con.execute("ROLLBACK")  # ends the transaction itself, not a savepoint that never opened
        assert con.raw.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    finally:
        con.close()


def test_sessions_speak_utf8_whatever_the_client_environment_says(postgres_server, postgres_database, monkeypatch):
    from testio_assets.warehouse.postgres import connect_postgres

    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    con = connect_postgres(postgres_server.url(postgres_database))
    try:
        assert con.execute("SELECT current_setting('client_encoding'), ?", ["emoji 🐞"]).fetchall() == [("UTF8", "emoji 🐞")]
    finally:
        con.close()
