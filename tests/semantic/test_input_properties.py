"""Property tests of the query API's arguments: whatever a caller passes, the answer is a result
or one of the project's typed errors, never a TypeError, OverflowError or a silent wrong reading.

Derandomized with a modest number of examples so ``make test`` stays fast and stable; the
thousands-of-tries run is ``benchmarks/fault_inputs.py``.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argument_values import ANY, ARGUMENTS, NAMED_BY, StaticFreshness, invalid, valid_query
from semantic import MetricResult, SemanticError, capabilities, explain, query_metrics
from semantic.config import Guardrails
from semantic.errors import GuardrailError
from semantic.notebook import Answer, ask
from warehouse_fixtures import build_warehouse, golden_rows

PROPERTY = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """The golden warehouse as a connection and as a file, and a path where no warehouse is."""
    folder = tmp_path_factory.mktemp("inputs")
    build_warehouse(folder / "golden.duckdb", **golden_rows())
    return {"warehouses": [build_warehouse(duckdb.connect(), **golden_rows()), str(folder / "golden.duckdb")],
            "missing": folder / "missing" / "none.duckdb"}


def test_valid_arguments_always_give_an_answer(places):
    @PROPERTY
    @given(valid_query(places["warehouses"]))
    def check(query):
        result = query_metrics(**query)
        assert isinstance(result, MetricResult)
        metrics = [m.strip() for m in query["metrics"].split(",")] if isinstance(query["metrics"], str) \
            else list(query["metrics"])
        assert all(m in result.df.columns for m in metrics)
        assert len(result.df) <= min(query["limit"] or 1000, (query["config"] or Guardrails()).max_row_limit)
        words = explain(**query)
        assert words.sql == result.sql

    check()


@pytest.mark.parametrize("argument", ARGUMENTS)
def test_a_wrong_argument_is_a_typed_error_that_names_it(places, argument):
    @PROPERTY
    @given(valid_query(places["warehouses"]), invalid(argument, places["missing"]))
    def check(query, wrong):
        with pytest.raises(SemanticError) as info:
            query_metrics(**{**query, argument: wrong})
        assert NAMED_BY.get(argument, argument) in str(info.value)

    check()


def test_any_value_for_any_argument_is_an_answer_or_a_typed_error(places):
    replaced = st.fixed_dictionaries({}, optional={a: ANY for a in ARGUMENTS if a not in ("warehouse", "model")})

    @settings(PROPERTY, max_examples=25)  # a far start_date with fill_missing lists up to 10,000 days
    @given(valid_query(places["warehouses"]), replaced)
    def check(query, wrong):
        for call in (query_metrics, explain):
            try:
                assert isinstance(call(**{**query, **wrong}), MetricResult)
            except SemanticError:
                pass

    check()


def test_ask_and_capabilities_take_any_value_without_crashing(places):
    asked = st.fixed_dictionaries(
        {"metrics": st.sampled_from(["bug_count", "bug_count, rejection_rate", ["test_count"]]) | ANY},
        optional={name: ANY for name in ("by", "where", "start", "end", "sort_by", "sort_order", "limit", "today",
                                         "fill_missing", "dialect", "config", "freshness", "dimensions")})

    @PROPERTY
    @given(asked, ANY)
    def check(arguments, model):
        try:
            assert isinstance(ask(**arguments, warehouse=places["warehouses"][0]), Answer)
        except SemanticError:
            pass
        try:
            assert isinstance(capabilities(model), dict)
        except SemanticError:
            pass

    check()


@pytest.mark.parametrize("values", [dict(max_dimensions="3"), dict(max_row_limit=True), dict(query_timeout_s=float("inf")),
                                    dict(query_timeout_s=float("nan")), dict(default_row_limit=0)])
def test_guardrails_of_the_wrong_type_are_refused(values):
    with pytest.raises(GuardrailError):
        Guardrails(**values)


def test_freshness_sources_that_misbehave_become_warnings(places):
    con = places["warehouses"][0]
    for source, said in ((StaticFreshness({"bugs": 5}), "returned int 5, not a TableFreshness"),
                         (StaticFreshness([1]), "freshness could not be determined")):
        result = query_metrics("bug_count", warehouse=con, freshness=source)
        assert int(result.df["bug_count"][0]) == 10 and any(said in w for w in result.warnings)
