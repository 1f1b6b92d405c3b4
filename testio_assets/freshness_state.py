"""Freshness of each asset as Dagster sees it, with or without the freshness daemon.

The daemon records a state only when it changes, and records nothing while it is not running,
so a recorded state alone can be stale. The state here is always computed from the asset's
policy and its latest materialisation (exactly the rule of Dagster's time-window evaluator:
age >= fail window is Failed, age >= warn window is Warning), and the daemon's recorded state
is reported beside it, saying whether the two agree.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import dagster as dg

from semantic.answer.freshness import TableFreshness, state_under_policy as semantic_state_for_age
from testio_assets.freshness import FreshnessWindows, policy_windows

PASSING, WARNING, FAILED, NEVER_LOADED = "passing", "warning", "failed", "never_loaded"
_RECORDED_NAMES = {"PASS": PASSING, "WARN": WARNING, "FAIL": FAILED, "UNKNOWN": "unknown"}


@dataclass(frozen=True)
class AssetFreshness:
    asset: str
    state: str
    last_materialized_at: datetime | None
    age_seconds: float | None
    windows: FreshnessWindows | None
    recorded_state: str | None
    source: str


def state_for_age(age_seconds: float | None, windows: FreshnessWindows) -> str:
    """Dagster's time-window rule, the same the semantic layer applies to recorded policies.

    >>> from datetime import timedelta
    >>> w = FreshnessWindows(warn=timedelta(hours=1), fail=timedelta(hours=2))
    >>> [state_for_age(a, w) for a in (None, 60, 3600, 7200)]
    ['never_loaded', 'passing', 'warning', 'failed']
    """
    if age_seconds is None:
        return NEVER_LOADED
    return semantic_state_for_age(age_seconds, windows.warn.total_seconds(), windows.fail.total_seconds())


def _source_text(state: str, recorded: str | None) -> str:
    if recorded is None:
        return "computed from the policy and the last materialisation (no state recorded by the freshness daemon)"
    if recorded == state:
        return "recorded by the Dagster freshness daemon (agrees with the policy)"
    return (
        f"computed from the policy and the last materialisation; the freshness daemon last "
        f"recorded {recorded} (it evaluates every 30 s while `make ui` or dagster-daemon runs)"
    )


def evaluate_freshness(
    instance: dg.DagsterInstance,
    assets: Sequence[str],
    windows: Mapping[str, FreshnessWindows] | None = None,
    now: float | None = None,
) -> dict[str, AssetFreshness]:
    """Freshness of each named asset (asset key = warehouse table name)."""
    windows = policy_windows() if windows is None else windows
    now = time.time() if now is None else now
    keys = [dg.AssetKey(name) for name in assets]
    recorded = instance.get_freshness_state_records(keys)
    result = {}
    for name, key in zip(assets, keys):
        event = instance.get_latest_materialization_event(key)
        last = event.timestamp if event else None
        age = None if last is None else max(0.0, now - last)
        policy = windows.get(name)
        record = recorded.get(key)
        recorded_state = _RECORDED_NAMES.get(record.freshness_state.value) if record else None
        state = state_for_age(age, policy) if policy else ("unknown" if last else NEVER_LOADED)
        result[name] = AssetFreshness(
            asset=name,
            state=state,
            last_materialized_at=None if last is None else datetime.fromtimestamp(last, timezone.utc),
            age_seconds=age,
            windows=policy,
            recorded_state=recorded_state,
            source=_source_text(state, recorded_state),
        )
    return result


class DagsterFreshnessSource:
    """The semantic layer's ``FreshnessSource`` backed by Dagster (asset key = table name).

    >>> from semantic import query_metrics                     # doctest: +SKIP
    >>> query_metrics(["bug_count"], freshness=DagsterFreshnessSource()).warnings  # doctest: +SKIP
    """

    def __init__(
        self,
        instance: dg.DagsterInstance | None = None,
        windows: Mapping[str, FreshnessWindows] | None = None,
        now: float | None = None,
    ) -> None:
        self._instance = instance
        self._windows = windows
        self._now = now

    def table_freshness(self, tables: Sequence[str]) -> dict[str, TableFreshness]:
        from testio_assets.instance import project_instance

        instance = self._instance or project_instance()
        states = evaluate_freshness(instance, list(tables), self._windows, self._now)
        return {
            name: TableFreshness(
                table=name,
                last_loaded_at=item.last_materialized_at,
                age_seconds=item.age_seconds,
                state=item.state,
                policy=item.windows.describe() if item.windows else None,
                source=f"Dagster: {item.source}",
            )
            for name, item in states.items()
        }
