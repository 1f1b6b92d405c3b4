"""The policy table and its TESTIO_FRESHNESS_POLICIES overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from testio_assets.freshness import (
    DEFAULT_WINDOWS,
    FreshnessWindows,
    FreshnessConfigError,
    FreshnessWindows,
    policy_windows,
)


def test_defaults_replace_the_one_hour_ttl_and_the_catalogue_is_looser():
    windows = policy_windows({})
    assert windows["bugs"] == FreshnessWindows(warn=timedelta(hours=1), fail=timedelta(hours=2))
    assert windows["features"].warn > windows["bugs"].fail
    assert set(windows) == {"products", "features", "tests", "test_features", "test_platforms", "bugs", "users"}


def test_override_changes_only_the_named_assets():
    windows = policy_windows({"TESTIO_FRESHNESS_POLICIES": " bugs=30m/1h , features=2d/3d "})
    assert windows["bugs"] == FreshnessWindows(timedelta(minutes=30), timedelta(hours=1))
    assert windows["features"] == FreshnessWindows(timedelta(days=2), timedelta(days=3))
    assert windows["tests"] == DEFAULT_WINDOWS["tests"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bugs=30m", "<asset>=<warn>/<fail>"),
        ("bgus=30m/1h", "unknown asset 'bgus'"),
        ("bugs=30x/1h", "cannot read duration '30x'"),
        ("bugs=2h/1h", "warn < fail"),
        ("bugs=30s/1h", "at least 60 s"),
    ],
)
def test_malformed_overrides_say_what_is_wrong(value, message):
    with pytest.raises(FreshnessConfigError, match="TESTIO_FRESHNESS_POLICIES") as raised:
        policy_windows({"TESTIO_FRESHNESS_POLICIES": value})
    assert message in str(raised.value)


def test_policies_reach_every_asset_in_the_definitions():
    from testio_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == "metrics":  # a saved query's asset: the tightest window of what it reads
            upstream = [DEFAULT_WINDOWS[parent.to_user_string()] for parent in node.parent_keys]
            assert upstream, key
            expected = FreshnessWindows(min(w.warn for w in upstream), min(w.fail for w in upstream))
        else:
            expected = DEFAULT_WINDOWS[key.to_user_string()]
        assert node.freshness_policy.fail_window.to_timedelta() == expected.fail
        assert node.freshness_policy.warn_window.to_timedelta() == expected.warn
        assert node.automation_condition is not None
