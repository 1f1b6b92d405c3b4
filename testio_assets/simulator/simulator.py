"""The simulator facade: data, clock, faults, auth, request log, and ways to reach the app."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from testio_assets.simulator.app import RecordedRequest, build_app
from testio_assets.simulator.catalogue import feature_payload, product_payload
from testio_assets.simulator.clock import SimClock
from testio_assets.simulator.config import PRESETS, FaultConfig, SimulatorConfig
from testio_assets.simulator.dataset import Dataset
from testio_assets.simulator.faults import FaultInjector
from testio_assets.simulator.server import TimeoutHonouringASGITransport, serve_in_thread


class Simulator:
    """A deterministic synthetic TestIO customer behind a real HTTP application.

    ``token=None`` accepts any Authorization header (or none); with a token, requests must carry
    ``Authorization: Token <token>`` or get 401. ``forbidden_token`` is a token answered with 403.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        faults: FaultConfig | None = None,
        token: str | None = None,
        start: datetime | None = None,
        realtime: bool = False,
        forbidden_token: str | None = None,
    ) -> None:
        self.config = config or SimulatorConfig.preset("tiny")
        self.clock = SimClock(start, realtime)
        self.dataset = Dataset(self.config, self.clock.start.timestamp())
        self.token = token
        self.forbidden_token = forbidden_token
        self.fault_injector = FaultInjector(faults or FaultConfig(), self.config.seed)
        self.request_log: list[RecordedRequest] = []
        # Requests that started hanging (FaultConfig.hang_endpoints), answered or not.
        self.hung_requests = 0
        self.app = build_app(self)

    def describe(self) -> str:
        """Which customer this is: ``scale tiny, seed 3`` (``custom size`` off the presets)."""
        scale = next(
            (f"scale {name}" for name, preset in PRESETS.items() if replace(preset, seed=self.config.seed) == self.config),
            "custom size",
        )
        return f"{scale}, seed {self.config.seed}"

    # Clock

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock forward: tests arrive and progress, bugs get triaged."""
        self.clock.advance(delta)

    # Faults

    @property
    def faults(self) -> FaultConfig:
        return self.fault_injector.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        """Replace the faults; the fault RNG restarts, so what follows is deterministic again."""
        self.fault_injector = FaultInjector(config, self.config.seed)

    # Access

    def transport(self) -> httpx.AsyncBaseTransport:
        """In-process transport: use with any base URL, e.g. ``http://testio-simulator``."""
        return TimeoutHonouringASGITransport(self.app)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Real uvicorn server in a background thread; yields its base URL."""
        with serve_in_thread(self.app, host, port) as base_url:
            yield base_url

    def reset_request_log(self) -> None:
        self.request_log.clear()

    def warm(self) -> None:
        """Render every current test and bug into the response cache (before a benchmark)."""
        self.dataset.warm(self.clock.timestamp())

    # Ground truth: what the API would send now.

    def products_payload(self) -> list[dict]:
        return [product_payload(p) for p in self.dataset.products]

    def features_payload(self, product_id: int) -> list[dict]:
        """Catalogue of a product without sections (the plain features endpoint)."""
        product = self.dataset.products_by_id[product_id]
        if product.has_sections:
            raise ValueError(f"product {product_id} has sections: use section_features_payload")
        return [feature_payload(f) for f in product.listed_features()]

    def section_features_payload(self, product_id: int, section_id: int) -> list[dict]:
        features = self.dataset.products_by_id[product_id].section_features(section_id)
        if features is None:
            raise KeyError(f"product {product_id} has no section {section_id}")
        return [feature_payload(f) for f in features]

    def tests_payload(self, product_id: int | None = None) -> list[dict]:
        """Existing tests, newest first."""
        now = self.clock.timestamp()
        return [t.payload(now) for t in self.dataset.visible_tests(now, product_id)]

    def bugs_payload(self, test_ids: list[int] | None = None) -> list[dict]:
        """Bugs of the given tests (default: every existing test), in test order then bug id."""
        now = self.clock.timestamp()
        if test_ids is None:
            tests = self.dataset.visible_tests(now)[::-1]
        else:
            tests = [t for t in (self.dataset.test(i, now) for i in dict.fromkeys(test_ids)) if t is not None]
        return [bug for test in tests for bug in self.dataset.bug_payloads(test, now)]

    def pick_test_ids(self, n: int, product_id: int | None = None) -> list[int]:
        """``n`` existing test ids chosen deterministically (e.g. poison tests for page faults)."""
        now = self.clock.timestamp()
        candidates = sorted(t.id for t in self.dataset.visible_tests(now, product_id))
        return sorted(random.Random(f"{self.config.seed}:pick:{product_id}").sample(candidates, n))
