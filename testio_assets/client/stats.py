"""Call accounting for one client session, reported as asset metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

ENDPOINT_KINDS = ("products", "features", "section_features", "tests_pages", "test_detail", "bugs")


@dataclass(frozen=True)
class UnrecoverableRange:
    """Listing offsets of one product that kept failing even one test per page.

    The listing is newest first and test ids grow with creation, so the tests in the range are
    those with ids between its listed neighbours: ``older_test_id`` (the first test read after
    it, None when none was) and ``newer_test_id`` (the last test read before it, None at the
    top of the listing).
    """

    product_id: int
    first_offset: int
    last_offset: int  # inclusive
    per_page_tried: int
    status: int | None  # last HTTP status; None for timeouts, network errors, malformed bodies
    message: str
    newer_test_id: int | None = None
    older_test_id: int | None = None

    def holds(self, test_id: int) -> bool:
        """Whether a test with this id would sit inside the range (between its neighbours)."""
        return (self.older_test_id is None or test_id > self.older_test_id) and (
            self.newer_test_id is None or test_id < self.newer_test_id
        )

    @property
    def size(self) -> int:
        return self.last_offset - self.first_offset + 1

    def as_dict(self) -> dict:
        return {
            "product_id": self.product_id,
            "first_offset": self.first_offset,
            "last_offset": self.last_offset,
            "per_page_tried": self.per_page_tried,
            "status": self.status,
            "message": self.message,
            "newer_test_id": self.newer_test_id,
            "older_test_id": self.older_test_id,
        }


@dataclass
class CallStats:
    """HTTP requests made (retries included), by endpoint kind, plus retry and loss figures."""

    calls_by_kind: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    unrecoverable_ranges: list[UnrecoverableRange] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls_by_kind.values())

    def record_call(self, kind: str) -> None:
        self.calls_by_kind[kind] += 1

    def as_metadata(self) -> dict[str, int]:
        """Flat integer figures for Dagster metadata (``api_calls``, ``api_calls_bugs``, ...)."""
        figures = {"api_calls": self.total_calls}
        figures.update({f"api_calls_{kind}": self.calls_by_kind[kind] for kind in ENDPOINT_KINDS})
        figures.update(
            api_retries=self.retries,
            api_rate_limited=self.rate_limited,
            api_timeouts=self.timeouts,
            unrecoverable_ranges=len(self.unrecoverable_ranges),
            unrecoverable_tests=sum(r.size for r in self.unrecoverable_ranges),
        )
        return figures
