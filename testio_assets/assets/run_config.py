"""Run configuration of the ingestion assets: how much a load may shrink, full or incremental."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from testio_assets.warehouse.guards import DEFAULT_MAX_SHRINK_SHARE, ShrinkGuard


class GuardConfig(dg.Config):
    """Run configuration of every asset that writes from the API: how much a load may shrink
    what is stored before the step refuses to write it (see ``warehouse.guards``)."""

    allow_shrink: bool = Field(
        default=False,
        description="Accept on purpose a load that drops stored products or tests, or shrinks "
        "a table by more than max_shrink_share (e.g. data really deleted upstream).",
    )
    max_shrink_share: float = Field(
        default=DEFAULT_MAX_SHRINK_SHARE,
        ge=0.0,
        le=1.0,
        description="Largest share of a table's rows (or of the rows being replaced) a load "
        "may remove without allow_shrink.",
    )

    def guard(self, op: str) -> ShrinkGuard:
        return ShrinkGuard(op, self.max_shrink_share, self.allow_shrink)


class RefreshConfig(GuardConfig):
    """Run configuration of the assets that refresh incrementally: tests (with test_features
    and test_platforms) and bugs.

    Incremental is the default, so scheduled and automated runs fetch only what can have
    changed; an asset whose table does not exist yet refreshes fully on its own. Set
    ``full_refresh: true`` to resync everything (tests that disappeared from the API are then
    dropped too, which an incremental walk cannot see).
    """

    full_refresh: bool = Field(
        default=False,
        description="Re-fetch everything and replace the tables, instead of fetching only "
        "new tests and the tests and bugs that can still change.",
    )


def refresh_mode(config: RefreshConfig, table_present: bool) -> str:
    """``full``, ``incremental``, or ``full (first load)`` when there is nothing to build on."""
    if config.full_refresh:
        return "full"
    return "incremental" if table_present else "full (first load)"
