"""Property test of the model loader over mutated copies of the packaged model files: every
mutation ends in a ModelValidationError located at file:line (at the very line touched where the
mutation is local) or in a model that means the same; a mutation the schema can see is never
accepted, and nothing else is ever raised. Derandomized and small here; the thousands-of-
mutations run is ``benchmarks/fault_inputs.py``."""

from __future__ import annotations

import itertools

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_mutations import KINDS, fair, judge, meaning, mutate, write
from semantic.model.loader import MODELS_DIR, load_model
from warehouse_fixtures import build_warehouse

FILES = {p.name: p.read_bytes() for p in sorted(MODELS_DIR.glob("*.yaml"))}
ORIGINAL = meaning(load_model())
COUNTER = itertools.count()


@pytest.fixture(scope="module")
def warehouse():
    return build_warehouse(duckdb.connect())


@pytest.mark.parametrize("kind", KINDS)
def test_a_mutated_model_is_refused_at_its_line_or_means_the_same(kind, warehouse, tmp_path):
    @settings(max_examples=8, derandomize=True, database=None, deadline=None)
    @given(st.randoms(use_true_random=False))
    def check(rng):
        files, mutation = mutate(FILES, rng, kind)
        outcome, message = judge(mutation, write(tmp_path / str(next(COUNTER)), files), warehouse, ORIGINAL)
        assert fair(kind, outcome), f"{mutation}: {outcome}\n{message}"

    check()
