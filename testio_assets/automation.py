"""Declarative automation that keeps every asset inside its freshness policy.

API roots run on a cron shorter than half their warn window, so a healthy pipeline never
reaches Warning; downstream assets follow eagerly; any asset whose freshness turns Warning or
Failed (a missed tick, a failed run, a stopped daemon) is requested once more as a catch-up.
The project's own sensor evaluates the conditions: Dagster's implicit one starts STOPPED.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

AC = dg.AutomationCondition

# Crons per API root. tests/test_features/test_platforms are one multi-asset; bugs are
# fetched for the tests that can still change, so they follow tests eagerly.
ROOT_CRONS: Mapping[str, str] = {
    "products": "0 */6 * * *",
    "features": "5 */6 * * *",
    "tests": "*/20 * * * *",
    "test_features": "*/20 * * * *",
    "test_platforms": "*/20 * * * *",
}


CATCH_UP_RETRY_CRON = "*/5 * * * *"


def freshness_catch_up() -> dg.AutomationCondition:
    """When an asset's freshness turns Warning or Failed, request it at once; while it stays
    stale (the catch-up failed, or it was already stale when the sensor started), request it
    again every ``CATCH_UP_RETRY_CRON`` tick. Never while it or its upstream is running.

    The transition itself is deliberately not wrapped in ``since_last_handled``: its reset (the
    initial evaluation after a code reload) could land on the transition's tick and swallow it.
    """
    stale = AC.freshness_warned() | AC.freshness_failed()
    retry_while_stale = stale & AC.cron_tick_passed(CATCH_UP_RETRY_CRON).since_last_handled()
    return (
        (stale.newly_true() | retry_while_stale) & ~AC.in_progress() & ~AC.any_deps_in_progress()
    ).with_label("freshness_catch_up")


def on_schedule_or_stale(cron: str) -> dg.AutomationCondition:
    """For API roots: every cron tick (not waiting on upstream crons) and at once when never
    materialised, never before the assets it reads exist; or when freshness slips."""
    scheduled = (
        (AC.cron_tick_passed(cron) | AC.newly_missing()).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.in_progress()
    )
    return (scheduled | freshness_catch_up()).with_label(f"on_schedule_or_stale({cron})")


def eager_or_stale() -> dg.AutomationCondition:
    """For derived assets: after any upstream update, or when freshness slips."""
    return (AC.eager() | freshness_catch_up()).with_label("eager_or_stale")


def condition_for(asset_name: str) -> dg.AutomationCondition:
    cron = ROOT_CRONS.get(asset_name)
    return on_schedule_or_stale(cron) if cron else eager_or_stale()


def with_automation_condition(spec: dg.AssetSpec) -> dg.AssetSpec:
    return spec.replace_attributes(automation_condition=condition_for(spec.key.to_user_string()))


automation_sensor = dg.AutomationConditionSensorDefinition(
    "testio_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the automation conditions of every TestIO asset (cron on API roots, "
    "eager downstream, catch-up when freshness turns Warning or Failed).",
)
