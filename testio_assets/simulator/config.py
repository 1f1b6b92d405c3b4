"""Configuration of the simulated customer (size, seed) and of the injected faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

# Endpoints by name (the app's handler names), with their envelope key and whether it holds a list.
ENDPOINT_ENVELOPES: Mapping[str, tuple[str, bool]] = MappingProxyType({
    "products": ("products", True),
    "product": ("product", False),
    "features": ("features", True),
    "section_features": ("features", True),
    "user_stories": ("user_stories", True),
    "exploratory_tests": ("exploratory_tests", True),
    "exploratory_test": ("exploratory_test", False),
    "bugs": ("bugs", True),
})
# Plausible but wrong answers: a well-formed envelope holding nothing, or one bare stub row.
WRONG_BODIES = ("empty", "stub")
# How a listing page holding a poison test fails: HTTP 500, no answer at all, or a cut-off body.
POISON_FAULTS = ("error", "timeout", "malformed")


@dataclass(frozen=True)
class SimulatorConfig:
    """Size and shape of the synthetic customer; the data is a pure function of it and the clock.

    ``tests`` is the number of tests created before the simulator's start; more keep arriving
    at the same rate for ``future_days`` after it.
    """

    seed: int = 7
    products: int = 4
    tests: int = 60
    bugs_per_test: float = 10.0
    features_per_product: int = 10
    sections_per_product: int = 3
    testers: int = 25
    customers: int = 10
    history_days: int = 800
    future_days: int = 120

    def __post_init__(self) -> None:
        if self.products < 1 or self.tests < 0 or self.bugs_per_test < 0:
            raise ValueError("products must be >= 1, tests and bugs_per_test >= 0")
        if self.features_per_product < 4 or self.sections_per_product < 2:
            raise ValueError("features_per_product must be >= 4 and sections_per_product >= 2")
        if self.testers < 2 or self.customers < 2:
            raise ValueError("testers and customers must be >= 2")
        if self.history_days < 30 or self.future_days < 0:
            raise ValueError("history_days must be >= 30 and future_days >= 0")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SimulatorConfig:
        """A named size (``tiny``, ``demo``, ``benchmark``), optionally with fields overridden."""
        try:
            base = PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
        return replace(base, **overrides)


PRESETS: dict[str, SimulatorConfig] = {
    "tiny": SimulatorConfig(products=4, tests=60, bugs_per_test=12.5, features_per_product=8, testers=25),
    "demo": SimulatorConfig(products=8, tests=1500, bugs_per_test=15.0, features_per_product=30, testers=200),
    # A 12-product customer with five years of history (about 6 tests a day).
    "benchmark": SimulatorConfig(
        products=12, tests=10500, bugs_per_test=21.5, features_per_product=60, testers=1500, history_days=1825
    ),
}


@dataclass(frozen=True)
class FaultConfig:
    """Faults injected into responses; each request draws independently from a seeded RNG.

    The probabilities are exclusive alternatives for one request (their sum must stay below 1),
    so a client that retries always gets through eventually. ``poison_test_ids`` is different:
    any exploratory-tests page whose range holds one of those tests fails every time, as
    ``poison_fault`` says: ``"error"`` (HTTP 500), ``"timeout"`` (no answer until the client
    gives up) or ``"malformed"`` (a 200 whose body is cut off).

    Persistent faults by endpoint name (see ``ENDPOINT_ENVELOPES``): ``hang_endpoints`` never
    answer (until the fault is lifted or the client goes away), and ``wrong_bodies`` answer
    every request with a well-formed but wrong envelope: ``"empty"`` (``{"bugs": []}``) or
    ``"stub"`` (``{"bugs": [{"id": 999999}]}``, one row holding nothing but an id).
    """

    latency_s: float = 0.0
    latency_jitter_s: float = 0.0
    rate_limit_probability: float = 0.0
    retry_after_s: int = 1
    retry_after_http_date: bool = False
    transient_error_probability: float = 0.0
    timeout_probability: float = 0.0
    timeout_delay_s: float = 2.0
    malformed_probability: float = 0.0
    poison_test_ids: frozenset[int] = field(default_factory=frozenset)
    poison_fault: str = "error"
    hang_endpoints: frozenset[str] = field(default_factory=frozenset)
    wrong_bodies: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        probabilities = (
            self.rate_limit_probability,
            self.transient_error_probability,
            self.timeout_probability,
            self.malformed_probability,
        )
        if any(p < 0 or p > 1 for p in probabilities) or sum(probabilities) >= 1:
            raise ValueError("fault probabilities must be in [0, 1] and sum to less than 1")
        if min(self.latency_s, self.latency_jitter_s, self.timeout_delay_s, self.retry_after_s) < 0:
            raise ValueError("latency, jitter, timeout delay and Retry-After must be >= 0")
        object.__setattr__(self, "poison_test_ids", frozenset(self.poison_test_ids))
        object.__setattr__(self, "hang_endpoints", frozenset(self.hang_endpoints))
        object.__setattr__(self, "wrong_bodies", MappingProxyType(dict(self.wrong_bodies)))
        unknown = (set(self.hang_endpoints) | set(self.wrong_bodies)) - set(ENDPOINT_ENVELOPES)
        if unknown:
            raise ValueError(
                f"unknown endpoint(s) {sorted(unknown)}; known: {', '.join(ENDPOINT_ENVELOPES)}"
            )
        if self.poison_fault not in POISON_FAULTS:
            raise ValueError(f"unknown poison fault {self.poison_fault!r}; choose one of {POISON_FAULTS}")
        bad = {kind for kind in self.wrong_bodies.values() if kind not in WRONG_BODIES}
        if bad:
            raise ValueError(f"unknown wrong body {sorted(bad)}; choose one of {WRONG_BODIES}")
