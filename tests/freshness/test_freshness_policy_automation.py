"""Freshness policies evaluated by Dagster's own freshness daemon under a frozen clock, and the
automation conditions that request a catch-up when an asset slips."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon
import pytest

from testio_assets.freshness_state import evaluate_freshness

pytestmark = pytest.mark.slow  # a full materialisation and Dagster's freshness daemon

DAGSTER_TO_OURS = {"PASS": "passing", "WARN": "warning", "FAIL": "failed"}


@contextmanager
def freshness_daemon(instance: dg.DagsterInstance):
    """Dagster's FreshnessDaemon over the project's code location; call the result with a time.

    The location is loaded in this process (the daemon's evaluation is the same; a code server
    process would only add seconds per test)."""
    target = InProcessWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name="testio_assets.definitions", attribute="defs"),
            location_name="testio_assets",
        )
    )
    with create_test_daemon_workspace_context(target, instance) as context:

        def run_iteration_at(at: float) -> None:
            with freeze_time(at):
                list(FreshnessDaemon().run_iteration(context))

        yield run_iteration_at


def test_daemon_moves_bugs_to_warning_then_failed_and_our_computation_agrees(materialized):
    defs, instance, materialized_at = materialized
    bugs = dg.AssetKey("bugs")
    seen = []
    with freshness_daemon(instance) as run_daemon_at:
        for offset in (timedelta(minutes=30), timedelta(minutes=61), timedelta(minutes=121)):
            at = materialized_at + offset.total_seconds()
            run_daemon_at(at)
            recorded = instance.get_freshness_state_records([bugs])[bugs].freshness_state.value
            computed = evaluate_freshness(instance, ["bugs"], now=at)["bugs"]
            assert computed.state == DAGSTER_TO_OURS[recorded]
            assert computed.recorded_state == computed.state
            seen.append(recorded)
    assert seen == ["PASS", "WARN", "FAIL"]


def test_catalogue_policy_is_looser_than_bugs(materialized):
    defs, instance, materialized_at = materialized
    states = evaluate_freshness(instance, ["bugs", "products"], now=materialized_at + 3 * 3600)
    assert states["bugs"].state == "failed"
    assert states["products"].state == "passing"
    assert states["bugs"].source.startswith("computed")  # no daemon ran in this test


def test_automation_requests_a_catch_up_when_freshness_slips(materialized):
    defs, instance, materialized_at = materialized
    bugs = dg.AssetKey("bugs")

    def evaluate(at: float, cursor=None):
        with freeze_time(at):
            return dg.evaluate_automation_conditions(
                defs=defs,
                instance=instance,
                evaluation_time=datetime.fromtimestamp(at, timezone.utc),
                cursor=cursor,
            )

    # Three ticks 30 s apart inside one 5-minute bucket, so no cron (*/5, */20, 0 */6) passes
    # between them and only freshness can explain a request.
    warned_at = datetime.fromtimestamp(materialized_at + 61 * 60, timezone.utc)
    into_bucket = (warned_at.minute % 5) * 60 + warned_at.second
    if not 30 <= into_bucket <= 240:
        warned_at += timedelta(seconds=(300 - into_bucket) % 300 + 60)
    warned_at = warned_at.timestamp()

    # Data an hour old, but the daemon has recorded nothing yet: nothing to do.
    first = evaluate(warned_at - 30)
    assert first.get_num_requested(bugs) == 0

    # The daemon records Warning: bugs is requested once, as a catch-up.
    with freshness_daemon(instance) as run_daemon_at:
        run_daemon_at(warned_at)
    second = evaluate(warned_at, first.cursor)
    assert second.get_num_requested(bugs) == 1

    # Not requested again on the next tick for the same slip.
    third = evaluate(warned_at + 30, second.cursor)
    assert third.get_num_requested(bugs) == 0


def test_api_roots_run_on_their_cron_without_waiting_for_upstream(materialized):
    defs, instance, materialized_at = materialized
    now = datetime.fromtimestamp(materialized_at, timezone.utc)
    # Evaluate just after the catalogue's next 6-hourly tick, then on the following */20 tick of
    # tests: between the two, only the tests cron passes (whatever the time the test runs at).
    catalogue_tick = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=6 - now.hour % 6)
    first = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=catalogue_tick + timedelta(minutes=1)
    )
    later = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=catalogue_tick + timedelta(minutes=20, seconds=5),
        cursor=first.cursor,
    )
    assert later.get_num_requested(dg.AssetKey("tests")) == 1
    assert later.get_num_requested(dg.AssetKey("products")) == 0


def test_catch_up_survives_a_slip_on_the_first_evaluation_after_a_reload(materialized):
    # The daemon records Warning; the automation sensor's first tick (a fresh cursor, as after
    # `make ui` restarts or the code reloads) must still request the catch-up.
    defs, instance, materialized_at = materialized
    warned_at = materialized_at + 61 * 60
    with freshness_daemon(instance) as run_daemon_at:
        run_daemon_at(warned_at)
    with freeze_time(warned_at):
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=datetime.fromtimestamp(warned_at, timezone.utc)
        )
    assert result.get_num_requested(dg.AssetKey("bugs")) == 1


def test_an_asset_that_stays_stale_is_requested_again_every_five_minutes(materialized):
    defs, instance, materialized_at = materialized
    bugs = dg.AssetKey("bugs")

    def evaluate(at: datetime, cursor=None):
        with freeze_time(at.timestamp()):
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, evaluation_time=at, cursor=cursor
            )

    warned_at = datetime.fromtimestamp(materialized_at + 61 * 60, timezone.utc)
    if warned_at.minute % 5 == 4 and warned_at.second >= 30:
        warned_at += timedelta(minutes=1)  # keep the next 5-minute tick clearly ahead
    with freshness_daemon(instance) as run_daemon_at:
        run_daemon_at(warned_at.timestamp())
    first = evaluate(warned_at)
    assert first.get_num_requested(bugs) == 1  # the transition

    # The catch-up run never happened (say it failed): nothing more until the next 5-minute tick.
    next_tick = warned_at.replace(second=0, microsecond=0) + timedelta(minutes=5 - warned_at.minute % 5)
    assert next_tick - warned_at > timedelta(seconds=20)
    before_tick = evaluate(next_tick - timedelta(seconds=1), first.cursor)
    assert before_tick.get_num_requested(bugs) == 0
    after_tick = evaluate(next_tick + timedelta(seconds=5), before_tick.cursor)
    assert after_tick.get_num_requested(bugs) == 1
