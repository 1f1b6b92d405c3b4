"""Freshness policies: the one table that replaces the old cache TTLs (a single 1 h TTL).

Every asset warns after ``warn`` and fails after ``fail`` without a new materialisation.
Override any entry with ``TESTIO_FRESHNESS_POLICIES``, e.g. ``bugs=30m/1h,features=12h/1d``
(warn/fail; units s, m, h, d). Dagster requires windows of at least 60 s and warn < fail.

>>> policy_windows({"TESTIO_FRESHNESS_POLICIES": "bugs=30m/1h"})["bugs"]
FreshnessWindows(warn=datetime.timedelta(seconds=1800), fail=datetime.timedelta(seconds=3600))
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg

from semantic.answer.freshness import format_window

OVERRIDE_ENV = "TESTIO_FRESHNESS_POLICIES"


@dataclass(frozen=True)
class FreshnessWindows:
    warn: timedelta
    fail: timedelta

    def describe(self) -> str:
        return f"warn after {format_duration(self.warn)}, fail after {format_duration(self.fail)}"


_HOUR = timedelta(hours=1)

# The catalogue (products, features) changes rarely: it may be a day old before anyone cares.
DEFAULT_WINDOWS: dict[str, FreshnessWindows] = {
    "products": FreshnessWindows(warn=timedelta(hours=12), fail=timedelta(hours=24)),
    "features": FreshnessWindows(warn=timedelta(hours=12), fail=timedelta(hours=24)),
    "tests": FreshnessWindows(warn=_HOUR, fail=2 * _HOUR),
    "test_features": FreshnessWindows(warn=_HOUR, fail=2 * _HOUR),
    "test_platforms": FreshnessWindows(warn=_HOUR, fail=2 * _HOUR),
    "bugs": FreshnessWindows(warn=_HOUR, fail=2 * _HOUR),
    "users": FreshnessWindows(warn=_HOUR, fail=2 * _HOUR),
}

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


class FreshnessConfigError(ValueError):
    """A malformed TESTIO_FRESHNESS_POLICIES value."""


def parse_duration(text: str) -> timedelta:
    """``"90m"`` -> 1:30:00.

    >>> parse_duration("90m")
    datetime.timedelta(seconds=5400)
    """
    match = _DURATION.match(text)
    if not match:
        raise FreshnessConfigError(
            f"{OVERRIDE_ENV}: cannot read duration {text!r}; use a number and a unit s, m, h or d, e.g. 45m"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def format_duration(value: timedelta) -> str:
    """``timedelta(hours=2)`` -> ``"2h"``; ``timedelta(minutes=90)`` -> ``"90m"`` (the semantic
    layer writes recorded policies the same way)."""
    return format_window(value.total_seconds())


def policy_windows(environ: Mapping[str, str] | None = None) -> dict[str, FreshnessWindows]:
    """The effective windows per asset: the defaults with the environment's overrides applied."""
    environ = os.environ if environ is None else environ
    windows = dict(DEFAULT_WINDOWS)
    raw = environ.get(OVERRIDE_ENV, "").strip()
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, spec = entry.partition("=")
        name = name.strip()
        if not sep or "/" not in spec:
            raise FreshnessConfigError(
                f"{OVERRIDE_ENV}: entry {entry!r} is not of the form <asset>=<warn>/<fail>, e.g. bugs=30m/1h"
            )
        if name not in DEFAULT_WINDOWS:
            raise FreshnessConfigError(
                f"{OVERRIDE_ENV}: unknown asset {name!r}; known: {', '.join(DEFAULT_WINDOWS)}"
            )
        warn_text, fail_text = spec.split("/", 1)
        candidate = FreshnessWindows(parse_duration(warn_text), parse_duration(fail_text))
        if candidate.warn < timedelta(seconds=60) or not candidate.warn < candidate.fail:
            raise FreshnessConfigError(
                f"{OVERRIDE_ENV}: {name}: windows must be at least 60 s and warn < fail (got {spec!r})"
            )
        windows[name] = candidate
    return windows


def freshness_policy(windows: FreshnessWindows) -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=windows.fail, warn_window=windows.warn)


def derived_windows(
    upstream: Iterable[str], windows: Mapping[str, FreshnessWindows]
) -> FreshnessWindows | None:
    """The windows of an asset derived from what it reads: the tightest of its upstream
    assets' windows (the smallest warn and the smallest fail; warn stays below fail). A metric
    is then due as soon as the freshest data it reads is; None when no upstream has windows.

    >>> w = policy_windows({})
    >>> derived_windows(["products", "tests", "bugs"], w).describe()
    'warn after 1h, fail after 2h'
    """
    known = [windows[name] for name in upstream if name in windows]
    if not known:
        return None
    return FreshnessWindows(warn=min(w.warn for w in known), fail=min(w.fail for w in known))


def with_freshness_policy(spec: dg.AssetSpec, windows: Mapping[str, FreshnessWindows]) -> dg.AssetSpec:
    """``spec`` with the policy of its entry in ``windows``, else one derived from its upstream
    assets' entries (:func:`derived_windows`); unchanged when neither exists."""
    own = windows.get(spec.key.to_user_string()) or derived_windows(
        (dep.asset_key.to_user_string() for dep in spec.deps), windows
    )
    return spec if own is None else dg.apply_freshness_policy(spec, freshness_policy(own))


def windows_of(defs: dg.Definitions) -> dict[str, FreshnessWindows]:
    """The windows of every asset of ``defs`` (by user string, ``metrics/<name>`` for a metric),
    as the definitions applied them."""
    graph = defs.resolve_asset_graph()
    windows = {}
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if policy is not None:
            windows[key.to_user_string()] = FreshnessWindows(
                warn=policy.warn_window.to_timedelta(), fail=policy.fail_window.to_timedelta()
            )
    return windows
