"""Fixtures for the client tests."""

from __future__ import annotations

import pytest
from client_helpers import make_sim

from testio_assets.simulator import Simulator


@pytest.fixture
def sim() -> Simulator:
    """A fault-free tiny simulated customer (seed 7), fresh for each test."""
    return make_sim()
