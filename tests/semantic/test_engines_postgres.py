"""The semantic layer on a real PostgreSQL (tests/postgres_support.py starts it): every answer
equals DuckDB's, row for row in the same order, and the independent reference's.

Warehouses: the golden dataset, a seeded generated one (tests/semantic/generated_warehouse.py)
and hypothesis-drawn small ones, each built in DuckDB and bulk-copied (COPY) into Postgres
(tests/engine_warehouses.py). Variants that must not change an answer: timestamps stored as
``timestamptz`` read by a session whose TimeZone is far from UTC, and text under a non-C
collation (where this machine's PostgreSQL has one).
"""

from __future__ import annotations

import socket
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg2
import pytest
from hypothesis import given, settings

from engine_warehouses import answer_difference, copy_to_postgres
from generated_warehouse import build_generated
from reference import DIMENSIONS, METRICS, assert_frames_match, load_tables, reference_query
from semantic import Guardrails, explain, query_metrics
from semantic.answer.engines import open_engine
from semantic.errors import (
    InvalidArgumentError, QueryTimeoutError, SemanticError, WarehouseDatabaseMissingError, WarehouseLoginError,
    WarehouseServerUnreachableError, WarehouseTableMissingError, WarehouseUnreachableError, WarehouseURLError,
)
from semantic.plan.dates import resolve_date_range
from semantic.surfaces.cli import main as cli
from semantic_query_set import BASE
from test_differential import queries, warehouses
from warehouse_fixtures import build_warehouse, golden_rows

pytestmark = pytest.mark.slow  # a PostgreSQL server (one per session) and hypothesis examples copied into it

TODAY = date(2025, 3, 15)
FAR_ZONE = "Pacific/Kiritimati"  # UTC+14: a day bucket computed in the session zone would move
UNCAPPED = Guardrails(default_row_limit=100_000, max_row_limit=100_000)


def assert_same_answer(duck, pg, context=""):
    """Same columns, same rows in the same order; floats within 1e-12 relative."""
    difference = answer_difference(duck, pg)
    assert difference is None, f"{context}\n{difference}"


def _referenced(query) -> bool:
    return set(query["metrics"]) <= set(METRICS) and set(query.get("dimensions", ())) <= set(DIMENSIONS) \
        and set(query.get("filters") or {}) <= {*DIMENSIONS, *(f"{d}_id" for d in DIMENSIONS)} \
        and not query.get("fill_missing") and "limit" not in query


def _reference(tables, query):
    rng = resolve_date_range(query.get("start_date"), query.get("end_date"), today=TODAY)
    return reference_query(tables, query["metrics"], query.get("dimensions", []), query.get("filters"), rng)


@pytest.fixture(scope="module")
def database(postgres_server):
    """A database of its own for this module, with the far time zone as its default."""
    name = postgres_server.create_database("engines")
    postgres_server.query(f"ALTER DATABASE {name} SET TimeZone = '{FAR_ZONE}'")
    yield name
    postgres_server.drop_database(name)


def _schema_copy(postgres_server, database, duck, schema, **variant) -> str:
    """``duck`` copied into ``schema`` of ``database``; a URL whose default schema it is."""
    pg = postgres_server.connect(database)
    try:
        with pg.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            cur.execute(f"SET search_path = {schema}")
        pg.autocommit = False
        copy_to_postgres(duck, pg, **variant)
    finally:
        pg.close()
    return postgres_server.url(database) + f"?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def generated():
    con = duckdb.connect()
    build_generated(con, n_tests=1_000, n_bugs=5_000)
    yield con
    con.close()


@pytest.fixture(scope="module")
def golden():
    con = duckdb.connect()
    build_warehouse(con, **golden_rows())
    yield con
    con.close()


@pytest.fixture(scope="module", params=["timestamp", "timestamptz"])
def generated_pg(request, postgres_server, database, generated):
    tz = request.param == "timestamptz"
    return _schema_copy(postgres_server, database, generated, f"generated_{request.param}", timestamptz=tz)


@pytest.fixture(scope="module")
def generated_tables(generated):
    return load_tables(generated)


@pytest.mark.parametrize("query", BASE, ids=[f"q{i:02d}" for i in range(len(BASE))])
def test_every_query_of_the_set_gives_duckdbs_answer_on_postgres(generated, generated_pg, generated_tables, query):
    duck = query_metrics(**query, warehouse=generated, today=TODAY)
    pg = query_metrics(**query, warehouse=generated_pg, today=TODAY)
    assert pg.metadata["engine"]["engine"] == "postgres" and pg.metadata["sql_ran"] is True
    assert pg.sql == explain(**query, dialect="postgres", today=TODAY).sql
    assert_same_answer(duck, pg, repr(query))  # a cut answer (limit) keeps the same rows
    if _referenced(query) and pg.metadata["total_rows"] == len(pg.df):
        assert_frames_match(pg.df, _reference(generated_tables, query), context=repr(query))


@pytest.fixture(scope="module")
def golden_pg(postgres_server, database, golden):
    return _schema_copy(postgres_server, database, golden, "golden", timestamptz=True)


@pytest.fixture(scope="module")
def golden_tables(golden):
    return load_tables(golden)


@pytest.mark.parametrize("query", BASE, ids=[f"q{i:02d}" for i in range(len(BASE))])
def test_golden_answers_on_postgres_equal_duckdbs_and_the_reference(golden, golden_pg, golden_tables, query):
    duck = query_metrics(**query, warehouse=golden, today=TODAY, config=UNCAPPED)
    pg = query_metrics(**query, warehouse=golden_pg, today=TODAY, config=UNCAPPED)
    assert_same_answer(duck, pg, repr(query))
    if _referenced(query):
        assert_frames_match(pg.df, _reference(golden_tables, query), context=repr(query))


@pytest.fixture(scope="module")
def scratch(postgres_server, database):
    """A psycopg2 connection whose default schema the hypothesis examples overwrite."""
    con = postgres_server.connect(database)
    with con.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS drawn")
        cur.execute("SET search_path = drawn")
    con.autocommit = False
    yield con
    con.close()


@settings(max_examples=25)
@given(data=warehouses(), query=queries())
def test_drawn_warehouses_and_queries_agree_on_postgres(scratch, data, query):
    if "week" in query["dimensions"] or "week" in (query["filters"] or {}):
        return  # ISO weeks have no faithful rendering on Postgres: an UnsupportedDialectError (test_semantic_dialects)
    try:
        resolve_date_range(query["start_date"], query["end_date"], today=TODAY)
    except Exception:  # noqa: BLE001 - an inverted range: nothing to compare
        return
    with duckdb.connect() as duck:
        build_warehouse(duck, **data)
        copy_to_postgres(duck, scratch, timestamptz=True)
        expected = _reference(load_tables(duck), query)
        want = query_metrics(**query, warehouse=duck, today=TODAY)
    got = query_metrics(**query, warehouse=scratch, today=TODAY)  # a psycopg2 connection, as given
    assert_same_answer(want, got, repr(query))
    assert_frames_match(got.df, expected, context=repr(query))


def test_a_given_connection_reads_in_a_read_only_utc_transaction_and_comes_back_as_it_was(scratch):
    scratch.rollback()
    with open_engine(scratch) as con:
        assert con.execute("SHOW transaction_read_only").fetchall() == [("on",)]
        assert con.execute("SHOW TimeZone").fetchall() == [("UTC",)]
        with pytest.raises(Exception, match="read-only transaction"):
            con.query("CREATE TABLE intruder (x int)", timeout_s=5)
    assert scratch.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    with scratch.cursor() as cur:
        cur.execute("SHOW TimeZone")
        assert cur.fetchone() == (FAR_ZONE,)
    scratch.rollback()


def test_inside_an_open_transaction_the_answer_reads_its_version_and_leaves_it_as_it_was(scratch):
    """A pipeline step audits the version it is about to commit: the answer sees the step's
    uncommitted rows, and the step's transaction goes on with its changes and settings."""
    scratch.rollback()
    with duckdb.connect() as duck:
        build_warehouse(duck, **golden_rows())
        copy_to_postgres(duck, scratch)
        committed = query_metrics(["bug_count"], warehouse=duck, today=TODAY).df["bug_count"].item()
    with scratch.cursor() as cur:
        cur.execute("DELETE FROM bugs WHERE bug_id = (SELECT MIN(bug_id) FROM bugs)")
    assert query_metrics(["bug_count"], warehouse=scratch, today=TODAY).df["bug_count"].item() == committed - 1
    assert scratch.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    with scratch.cursor() as cur:
        cur.execute("SHOW TimeZone")
        assert cur.fetchone() == (FAR_ZONE,)
        cur.execute("SELECT COUNT(*) FROM bugs")
        assert cur.fetchone() == (committed - 1,)
    scratch.rollback()
    assert query_metrics(["bug_count"], warehouse=scratch, today=TODAY).df["bug_count"].item() == committed


def test_a_connection_in_a_failed_transaction_is_refused(scratch):
    scratch.rollback()
    with scratch.cursor() as cur, pytest.raises(psycopg2.Error):
        cur.execute("SELECT * FROM no_such_table")
    with pytest.raises(InvalidArgumentError, match="failed or active transaction: rollback"):
        query_metrics(["bug_count"], warehouse=scratch)
    scratch.rollback()


def test_dialect_alone_shows_that_sql_and_says_the_answer_ran_on_the_warehouse_engine(generated, generated_pg):
    query = dict(metrics=["bug_count", "bugs_per_test"], dimensions=["feature"], limit=5)
    shown = query_metrics(**query, warehouse=generated_pg, dialect="snowflake", today=TODAY)
    ran = query_metrics(**query, warehouse=generated_pg, today=TODAY)
    assert shown.sql == explain(**query, dialect="snowflake", today=TODAY).sql
    assert shown.metadata["dialect"] == "snowflake" and shown.metadata["sql_ran"] is False
    assert shown.metadata["engine"]["engine"] == "postgres"
    assert any("computed on postgres" in w and "snowflake rendering" in w for w in shown.warnings)
    assert_same_answer(ran, shown)
    on_duckdb = query_metrics(**query, warehouse=generated, dialect="postgres", today=TODAY)
    assert on_duckdb.metadata["engine"]["engine"] == "duckdb" and on_duckdb.metadata["sql_ran"] is False
    assert_same_answer(on_duckdb, ran)


def test_the_timeout_cancels_the_query_on_the_server(postgres_server, database, generated_pg):
    blocker = postgres_server.connect(database)
    blocker.autocommit = False
    schema = generated_pg.rsplit("%3D", 1)[1]
    with blocker.cursor() as cur:
        cur.execute(f"LOCK TABLE {schema}.bugs IN ACCESS EXCLUSIVE MODE")  # readers wait behind it
    try:
        with pytest.raises(QueryTimeoutError, match="PostgreSQL cancelled it"):
            query_metrics(["bug_count"], warehouse=generated_pg, config=Guardrails(query_timeout_s=0.3))
    finally:
        blocker.rollback()
        blocker.close()
    waiting = postgres_server.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", database)
    assert waiting == [(0,)]


def test_a_server_side_error_is_not_taken_for_a_lost_server(postgres_server, database, generated_pg):
    """A lock timeout is an OperationalError from a server that is still there: the answer fails
    with the server's reason, and the connection given goes on working."""
    blocker = postgres_server.connect(database)
    blocker.autocommit = False
    schema = generated_pg.rsplit("%3D", 1)[1]
    with blocker.cursor() as cur:
        cur.execute(f"LOCK TABLE {schema}.bugs IN ACCESS EXCLUSIVE MODE")
    reader = psycopg2.connect(generated_pg, options=f"-c search_path={schema} -c lock_timeout=200")
    try:
        with pytest.raises(SemanticError, match="lock timeout") as info:
            query_metrics(["bug_count"], warehouse=reader)
        assert not isinstance(info.value, WarehouseUnreachableError)
        blocker.rollback()
        assert query_metrics(["bug_count"], warehouse=reader).df["bug_count"].item() > 0
    finally:
        blocker.rollback()
        blocker.close()
        reader.close()


def test_an_empty_database_says_to_run_the_pipeline(postgres_server, postgres_database):
    with pytest.raises(WarehouseTableMissingError, match="run the pipeline against it"):
        query_metrics(["bug_count"], warehouse=postgres_server.url(postgres_database))


def test_an_unreachable_server_is_a_typed_error_without_the_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ann:s3cret-pw@127.0.0.1:{port}/testio"
    with pytest.raises(WarehouseUnreachableError) as info:
        query_metrics(["bug_count"], warehouse=url)
    assert "s3cret-pw" not in str(info.value) and "postgresql://ann:***@127.0.0.1" in str(info.value)


def test_a_wrong_password_is_a_typed_error_without_the_password(postgres_server):
    parts = urlsplit(postgres_server.url())
    url = urlunsplit(parts._replace(netloc=f"{parts.username}:wrong-pw-4711@{parts.hostname}:{parts.port}"))
    with pytest.raises(WarehouseLoginError, match="password authentication failed") as info:
        query_metrics(["bug_count"], warehouse=url)
    assert isinstance(info.value, WarehouseUnreachableError)
    assert "wrong-pw-4711" not in str(info.value) and parts.password not in str(info.value)


def test_a_missing_database_says_how_to_create_it_as_the_pipeline_does(postgres_server):
    with pytest.raises(WarehouseDatabaseMissingError, match="CREATE DATABASE \"no_such_warehouse\"") as info:
        query_metrics(["bug_count"], warehouse=postgres_server.url("no_such_warehouse"))
    assert postgres_server.password not in str(info.value)


@pytest.mark.parametrize("url", ["mysql://ann@db/testio", "postgresql:///testio"])
def test_a_url_the_project_cannot_use_is_a_typed_error(url):
    with pytest.raises(WarehouseURLError):
        query_metrics(["bug_count"], warehouse=url)


def test_the_cli_and_the_environment_reach_postgres(generated, generated_pg, monkeypatch, capsys):
    duck = query_metrics(["bug_count"], ["severity"], warehouse=generated).df
    assert cli(["query", "--metrics", "bug_count", "--group-by", "severity", "--output", "json",
                "--warehouse", generated_pg]) == 0
    assert capsys.readouterr().out.strip() == duck.to_json(orient="records", date_format="iso")
    monkeypatch.setenv("TESTIO_WAREHOUSE_URL", generated_pg)
    monkeypatch.setenv("TESTIO_WAREHOUSE_PATH", "ignored.duckdb")
    result = query_metrics(["bug_count"], ["severity"])
    shown = result.metadata["engine"]["warehouse"]
    assert result.metadata["engine"]["engine"] == "postgres" and ":***@" in shown
    assert urlsplit(generated_pg).password not in repr(result.to_dict())
    assert cli(["validate"]) == 0
    assert "model and warehouse postgresql://" in capsys.readouterr().out


def _non_c_collation(postgres_server, database) -> str | None:
    """An ICU or libc collation that orders text unlike C, when this server and system have one."""
    for sql in ("CREATE COLLATION IF NOT EXISTS semantic_icu (provider = icu, locale = 'en-US')",
                "CREATE COLLATION IF NOT EXISTS semantic_libc (provider = libc, locale = 'en_US.utf8')"):
        name = sql.split()[5]
        try:
            postgres_server.query(sql, database)
            if postgres_server.query(f"SELECT 'a' < 'B' COLLATE {name}", database) == [(True,)]:
                return name
        except psycopg2.Error:
            continue
    return None


def test_answers_under_a_non_c_collation_equal_duckdbs(postgres_server, database, generated):
    collation = _non_c_collation(postgres_server, database)
    if collation is None:
        pytest.skip("this PostgreSQL build has no ICU and the system no en_US locale: no non-C collation to test "
                    "(the ORDER BY's COLLATE \"C\" is checked by the postgres SQL snapshots)")
    url = _schema_copy(postgres_server, database, generated, "collated", collation=collation)
    for query in BASE:
        assert_same_answer(query_metrics(**query, warehouse=generated, today=TODAY),
                           query_metrics(**query, warehouse=url, today=TODAY), repr(query))


def test_a_password_given_as_a_query_parameter_is_never_shown(postgres_server):
    """libpq also reads the password from ?password=: every message and description hides it."""
    from testio_assets.warehouse.resource import WarehouseResource

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = f"postgresql://ann@127.0.0.1:{port}/testio?sslmode=disable&password=qp-s3cret"
    parts = urlsplit(postgres_server.url())
    wrong = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}/postgres?password=qp-wrong-4711"
    shown = [WarehouseResource(url=closed).describe()]
    with pytest.raises(WarehouseUnreachableError) as answer:
        query_metrics(["bug_count"], warehouse=closed)
    with pytest.raises(WarehouseServerUnreachableError) as writer:
        with WarehouseResource(url=closed, connect_timeout_s=1).writer():
            pass
    with pytest.raises(WarehouseUnreachableError, match="password authentication failed") as refused:
        query_metrics(["bug_count"], warehouse=wrong)
    with pytest.raises(WarehouseLoginError) as login:
        with WarehouseResource(url=wrong).reader():
            pass
    shown += [str(e.value) for e in (answer, writer, refused, login)]
    for text in shown:
        assert "qp-s3cret" not in text and "qp-wrong-4711" not in text, text
        assert "password=***" in text, text
