"""The synthetic customer's data and what the API shows of it at a given time.

Tests are generated eagerly; bugs lazily per test. Rendered JSON is cached per test together
with the test's "state index" (how many of its change instants have passed), so a cached
rendering is reused exactly as long as it is still what the API would send.
"""

from __future__ import annotations

import bisect
import json

from testio_assets.simulator.bugs import BugHistory, build_bugs, tester_names
from testio_assets.simulator.catalogue import Product, build_catalogue
from testio_assets.simulator.config import SimulatorConfig
from testio_assets.simulator.histories import TestHistory, build_tests


def to_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class Dataset:
    def __init__(self, config: SimulatorConfig, start: float) -> None:
        self.config = config
        self.products: tuple[Product, ...] = build_catalogue(config)
        self.products_by_id = {p.id: p for p in self.products}
        self.testers = tester_names(config.testers)
        self.tests: list[TestHistory] = build_tests(config, self.products, start)
        self.tests_by_id = {t.id: t for t in self.tests}
        self._product_tests: dict[int, list[TestHistory]] = {p.id: [] for p in self.products}
        for test in self.tests:
            self._product_tests[test.product.id].append(test)
        self._product_created = {pid: [t.created_at for t in ts] for pid, ts in self._product_tests.items()}
        self._all_created = [t.created_at for t in self.tests]
        self._test_json: dict[int, tuple[int, str]] = {}
        self._bug_json: dict[int, tuple[tuple[float, ...], int, str]] = {}

    # Tests

    def test(self, test_id: int, now: float) -> TestHistory | None:
        test = self.tests_by_id.get(test_id)
        return test if test is not None and test.created_at <= now else None

    def product_test_count(self, product_id: int, now: float) -> int:
        return bisect.bisect_right(self._product_created[product_id], now)

    def product_tests_newest_first(self, product_id: int, now: float, offset: int, limit: int) -> list[TestHistory]:
        """Tests of a product at positions [offset, offset + limit) of the newest-first list."""
        tests = self._product_tests[product_id]
        stop = self.product_test_count(product_id, now) - offset
        return tests[max(0, stop - limit): max(0, stop)][::-1]

    def visible_tests(self, now: float, product_id: int | None = None) -> list[TestHistory]:
        """Existing tests, newest first."""
        if product_id is not None:
            return self.product_tests_newest_first(product_id, now, 0, len(self._product_tests[product_id]))
        return self.tests[: bisect.bisect_right(self._all_created, now)][::-1]

    def test_json(self, test: TestHistory, now: float) -> str:
        index = test.state_index(now)
        cached = self._test_json.get(test.id)
        if cached is not None and cached[0] == index:
            return cached[1]
        text = to_json(test.payload(now))
        self._test_json[test.id] = (index, text)
        return text

    # Bugs

    def bugs(self, test: TestHistory, now: float) -> list[BugHistory]:
        """Bugs of the test reported by ``now``."""
        return [b for b in build_bugs(self.config.seed, test, self.testers) if b.reported_at <= now]

    def bug_payloads(self, test: TestHistory, now: float) -> list[dict]:
        return [b.payload(now) for b in self.bugs(test, now)]

    def bugs_json_items(self, test: TestHistory, now: float) -> str:
        """The test's bugs as comma-separated JSON objects (no brackets), cached per state."""
        cached = self._bug_json.get(test.id)
        if cached is not None and bisect.bisect_right(cached[0], now) == cached[1]:
            return cached[2]
        all_bugs = build_bugs(self.config.seed, test, self.testers)
        events = tuple(sorted(t for b in all_bugs for t in b.events()))
        visible = [b.payload(now) for b in all_bugs if b.reported_at <= now]
        text = to_json(visible)[1:-1]
        self._bug_json[test.id] = (events, bisect.bisect_right(events, now), text)
        return text

    def warm(self, now: float) -> None:
        """Render every existing test and its bugs, so serving starts with a full cache."""
        for test in self.visible_tests(now):
            self.test_json(test, now)
            self.bugs_json_items(test, now)
