"""Freshness of each asset as Dagster sees it, with or without the freshness daemon.

The daemon records a state only when it changes, and records nothing while it is not running,
so a recorded state alone can be stale. The state here is always computed from the asset's
policy and its latest materialisation (exactly the rule of Dagster's time-window evaluator:
age >= fail window is Failed, age >= warn window is Warning), and the daemon's recorded state
is reported beside it, saying whether the two agree.

The policy is the **deployed** one: every materialisation records the policy its asset spec
carried in that run (:func:`policy_metadata`, in the metadata the UI shows), and that record is
what is read here, so a notebook whose own environment sets other windows (or none) still
reports the deployment's. Only an asset whose last materialisation recorded none falls back to
the policies of this process's settings, and says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg

from semantic.answer.freshness import TableFreshness, state_under_policy as semantic_state_for_age
from testio_assets.freshness import FreshnessWindows, policy_windows

PASSING, WARNING, FAILED, NEVER_LOADED = "passing", "warning", "failed", "never_loaded"
_RECORDED_NAMES = {"PASS": PASSING, "WARN": WARNING, "FAIL": FAILED, "UNKNOWN": "unknown"}
# Materialisation metadata recording the policy the asset ran under.
POLICY_TEXT, WARN_SECONDS, FAIL_SECONDS = "freshness_policy", "freshness_warn_after_s", "freshness_fail_after_s"
RECORDED_POLICY = "the policy the last materialisation recorded (the deployment's)"
LOCAL_POLICY = "this process's policy settings (the last materialisation recorded none)"


def policy_metadata(asset: str) -> dict[str, object]:
    """The freshness policy of ``asset``'s spec in the run being executed, as materialisation
    metadata; empty outside a run or for an asset without a time-window policy."""
    try:
        context = dg.AssetExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return {}
    spec = context.assets_def.specs_by_key.get(dg.AssetKey.from_user_string(asset))
    policy = spec.freshness_policy if spec is not None else None
    # A time-window policy (the only kind testio_assets.freshness applies) has both windows.
    warn, fail = getattr(policy, "warn_window", None), getattr(policy, "fail_window", None)
    if warn is None or fail is None:
        return {}
    windows = FreshnessWindows(warn=warn.to_timedelta(), fail=fail.to_timedelta())
    return {POLICY_TEXT: windows.describe(), WARN_SECONDS: windows.warn.total_seconds(),
            FAIL_SECONDS: windows.fail.total_seconds()}


def recorded_windows(event: dg.EventLogEntry | None) -> FreshnessWindows | None:
    """The policy a materialisation recorded (:func:`policy_metadata`), or None."""
    materialization = event.asset_materialization if event is not None else None
    metadata = materialization.metadata if materialization is not None else {}
    warn, fail = metadata.get(WARN_SECONDS), metadata.get(FAIL_SECONDS)
    if warn is None or fail is None:
        return None
    return FreshnessWindows(warn=timedelta(seconds=float(warn.value)), fail=timedelta(seconds=float(fail.value)))


@dataclass(frozen=True)
class AssetFreshness:
    asset: str
    state: str
    last_materialized_at: datetime | None
    age_seconds: float | None
    windows: FreshnessWindows | None
    recorded_state: str | None
    source: str
    policy_source: str = RECORDED_POLICY


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
    """Freshness of each named asset (by user string: a warehouse table name, or
    ``metrics/<name>`` for a saved query's asset), under ``windows`` when given, else the policy
    each asset's last materialisation recorded."""
    local = policy_windows() if windows is None else windows
    now = time.time() if now is None else now
    keys = [dg.AssetKey.from_user_string(name) for name in assets]
    recorded = instance.get_freshness_state_records(keys)
    result = {}
    for name, key in zip(assets, keys):
        event = instance.get_latest_materialization_event(key)
        last = event.timestamp if event else None
        age = None if last is None else max(0.0, now - last)
        deployed = recorded_windows(event) if windows is None else None
        policy = deployed or local.get(name)
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
            policy_source=RECORDED_POLICY if deployed else
            ("the policies given" if windows is not None else LOCAL_POLICY),
        )
    return result


class DagsterFreshnessSource:
    """The semantic layer's ``FreshnessSource`` backed by Dagster (asset key = table name): the
    project's instance (or ``instance``), the deployed policies as the materialisations
    recorded them (or ``windows``), at ``now`` (default: the time of the call).

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
                source=f"Dagster: {item.source}; policy: {item.policy_source}",
            )
            for name, item in states.items()
        }
