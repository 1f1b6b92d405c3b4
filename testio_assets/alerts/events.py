"""Reading freshness state changes, and the facts an alert reports, from a Dagster instance.

Dagster 1.13 has no ``fetch_freshness_state_changes``; ``DagsterInstance.get_event_records`` is
deprecated, so we ask the event log storage directly. FRESHNESS_STATE_CHANGE is an asset event:
SQLite mirrors it into the cross-run index shard, so plain integer storage ids work as a cursor
on both SQLite and Postgres storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import dagster as dg
from dagster._core.definitions.freshness import (
    CronFreshnessPolicy,
    FreshnessPolicy,
    FreshnessStateChange,
    TimeWindowFreshnessPolicy,
)
from dagster._core.event_api import EventRecordsFilter

from testio_assets.alerts.transitions import Alert, AlertKind, StateChange
from testio_assets.freshness import FreshnessWindows, format_duration, policy_windows

_EVENT_TYPE = dg.DagsterEventType.FRESHNESS_STATE_CHANGE


def read_state_changes(
    instance: dg.DagsterInstance, after_storage_id: int, limit: int
) -> list[StateChange]:
    """The oldest ``limit`` state changes with a storage id above ``after_storage_id``."""
    records = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=_EVENT_TYPE, after_cursor=after_storage_id),
        limit=limit,
        ascending=True,
    )
    changes = []
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        if not isinstance(data, FreshnessStateChange):
            continue
        changes.append(
            StateChange(
                storage_id=record.storage_id,
                asset_path=tuple(data.key.path),
                previous_state=data.previous_state.value,
                new_state=data.new_state.value,
                changed_at=data.state_change_timestamp,
            )
        )
    return changes


def starting_storage_id(instance: dg.DagsterInstance, not_before: float) -> int:
    """Where a sensor without a cursor starts: after the last change older than ``not_before``.

    Changes at or after ``not_before`` are then read (and alerted) like any others, so a
    transition just before the sensor's first tick is not missed, while older history is not
    replayed.
    """
    older = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=_EVENT_TYPE, before_timestamp=not_before),
        limit=1,
        ascending=False,
    )
    return older[0].storage_id if older else 0


def materialized_before(instance: dg.DagsterInstance, key: dg.AssetKey, moment: float) -> float | None:
    """The latest materialisation at or before ``moment`` (a later catch-up run must not make
    the data that crossed the policy look younger than it was)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, before_timestamp=moment), limit=1, ascending=False
    ).records
    return records[0].timestamp if records else None


def describe_policy(
    key: dg.AssetKey, repository_def: dg.RepositoryDefinition | None
) -> str:
    """The asset's policy in words, from the definitions when available.

    Without definitions (or for an asset they do not hold) fall back to the project's policy
    table, which is what the definitions are built from.
    """
    policy = _policy_from_definitions(key, repository_def)
    if isinstance(policy, TimeWindowFreshnessPolicy):
        fail = policy.fail_window.to_timedelta()
        warn = policy.warn_window.to_timedelta() if policy.warn_window else None
        if warn is None:
            return f"fail after {format_duration(fail)}"
        return FreshnessWindows(warn=warn, fail=fail).describe()
    if isinstance(policy, CronFreshnessPolicy):
        lower = format_duration(policy.serializable_lower_bound_delta.to_timedelta())
        return f"materialised within {lower} before each {policy.deadline_cron!r} deadline ({policy.timezone})"
    if policy is not None:
        return type(policy).__name__
    windows = policy_windows().get(key.to_user_string())
    return windows.describe() if windows else "no freshness policy found"


def _policy_from_definitions(
    key: dg.AssetKey, repository_def: dg.RepositoryDefinition | None
) -> FreshnessPolicy | None:
    if repository_def is None:
        return None
    graph = repository_def.asset_graph
    if not graph.has(key):
        return None
    return graph.get(key).freshness_policy_or_from_metadata


def asset_url(ui_base_url: str, asset_path: Sequence[str]) -> str:
    """The asset's page in the Dagster UI, e.g. ``http://127.0.0.1:3000/assets/bugs``."""
    return f"{ui_base_url.rstrip('/')}/assets/" + "/".join(quote(part, safe="") for part in asset_path)


def build_alert(
    change: StateChange,
    kind: AlertKind,
    *,
    instance: dg.DagsterInstance,
    repository_def: dg.RepositoryDefinition | None,
    ui_base_url: str,
) -> Alert:
    """Gather age (at the transition), policy and link for a transition that deserves an alert."""
    key = dg.AssetKey(list(change.asset_path))
    materialized_at = materialized_before(instance, key, change.changed_at)
    return Alert(
        storage_id=change.storage_id,
        asset_path=change.asset_path,
        kind=kind,
        previous_state=change.previous_state,
        new_state=change.new_state,
        changed_at=change.changed_at,
        last_materialized_at=materialized_at,
        age_seconds=None if materialized_at is None else max(0.0, change.changed_at - materialized_at),
        policy=describe_policy(key, repository_def),
        asset_url=asset_url(ui_base_url, change.asset_path),
    )
