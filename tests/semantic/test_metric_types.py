"""Answer columns keep the type of their metric: counts are integers, a sum is an integer only
when what it adds up is, so a fractional sum is never truncated (issue 8, item 5)."""

from __future__ import annotations

import textwrap

import duckdb
import pytest

from semantic import query_metrics
from semantic.model.loader import load_model

SESSIONS_MODEL = """
semantic_models:
  - name: sessions
    table: sessions
    description: Test sessions, one row per session.
    entity: session
    entities: sessions
    primary_key: [session_id]
    columns:
      session_id: integer
      tester: string
      hours: float
      bugs: integer

dimensions:
  - name: tester
    description: Who ran the session.
    model: sessions
    key: tester

metrics:
  - name: sessions
    description: Number of sessions.
    type: count_distinct
    model: sessions
    expr: session_id
  - name: hours_tested
    description: Hours spent testing (fractional).
    type: sum
    model: sessions
    expr: hours
  - name: bugs_found
    description: Bugs found (whole numbers).
    type: sum
    model: sessions
    expr: bugs
  - name: half_bugs
    description: Half the bugs found (an integer column divided by an integer).
    type: sum
    model: sessions
    expr: bugs / 2
  - name: weighted_bugs
    description: Bugs weighted by a whole number.
    type: sum
    model: sessions
    expr: "CASE WHEN hours > 1 THEN 2 * bugs ELSE bugs END"
"""


@pytest.fixture
def sessions(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "sessions.yaml").write_text(textwrap.dedent(SESSIONS_MODEL))
    con = duckdb.connect()
    con.execute("CREATE TABLE sessions (session_id BIGINT, tester VARCHAR, hours DOUBLE, bugs BIGINT)")
    con.execute("INSERT INTO sessions VALUES (1, 'ann', 1.5, 3), (2, 'ann', 2.25, 2), (3, 'bo', 0.5, 1)")
    yield load_model(models), con
    con.close()


def test_a_fractional_sum_keeps_its_fraction(sessions):
    model, con = sessions
    metrics = ["sessions", "hours_tested", "bugs_found", "half_bugs", "weighted_bugs"]
    df = query_metrics(metrics, ["tester"], warehouse=con, model=model).df.set_index("tester")
    assert {m: str(df[m].dtype) for m in metrics} == {
        "sessions": "int64", "hours_tested": "float64", "bugs_found": "int64", "half_bugs": "float64",
        "weighted_bugs": "int64"}
    assert df.loc["ann", "hours_tested"] == 3.75 and df.loc["bo", "hours_tested"] == 0.5
    assert df.loc["ann", "half_bugs"] == 2.5 and df.loc["ann", "bugs_found"] == 5
    assert df.loc["ann", "weighted_bugs"] == 10


def test_a_sum_without_rows_is_zero_of_its_type(sessions):
    model, con = sessions
    df = query_metrics(["hours_tested", "bugs_found"], filters={"tester": "cy"}, warehouse=con, model=model).df
    assert df.to_dict("records") == [{"hours_tested": 0.0, "bugs_found": 0}]
    assert (str(df.hours_tested.dtype), str(df.bugs_found.dtype)) == ("float64", "int64")


def test_the_packaged_severity_score_is_an_integer():
    from semantic.sql.metrics import metric_dtype

    model = load_model()
    assert metric_dtype(model, model.metrics["bug_severity_score"]) == "int64"
    assert metric_dtype(model, model.metrics["bugs_per_test"]) == "float64"
