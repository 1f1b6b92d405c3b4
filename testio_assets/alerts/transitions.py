"""Which freshness transitions are alerts, and the alert record itself (pure, no Dagster I/O).

The freshness daemon writes a ``FreshnessStateChange`` on every change of state. Only some of
them are worth waking someone for:

- into Warning or Failed (from any state, including UNKNOWN when the daemon first sees an
  asset that is already stale): an alert;
- back to Passing from Warning or Failed: a recovery alert;
- UNKNOWN -> PASS (the daemon's first evaluation of a healthy asset, or a first
  materialisation): noise, ignored;
- into UNKNOWN or NOT_APPLICABLE (history wiped, policy removed): not a data-freshness signal,
  ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

STATE_LABELS = {
    "PASS": "Passing",
    "WARN": "Warning",
    "FAIL": "Failed",
    "UNKNOWN": "Unknown",
    "NOT_APPLICABLE": "Not applicable",
}
_SEVERITY = {"PASS": 0, "WARN": 1, "FAIL": 2}


class AlertKind(str, Enum):
    STALE = "stale"  # into WARN or FAIL
    RECOVERED = "recovered"  # back to PASS from WARN or FAIL


@dataclass(frozen=True)
class StateChange:
    """One FRESHNESS_STATE_CHANGE event as read from the event log."""

    storage_id: int
    asset_path: tuple[str, ...]
    previous_state: str
    new_state: str
    changed_at: float


def classify(previous_state: str, new_state: str) -> AlertKind | None:
    """The kind of alert a transition deserves, or None when it is not alerted."""
    if previous_state == new_state:
        return None
    if new_state in ("WARN", "FAIL"):
        return AlertKind.STALE
    if new_state == "PASS" and previous_state in ("WARN", "FAIL"):
        return AlertKind.RECOVERED
    return None


def reaches_min_state(previous_state: str, new_state: str, min_state: str) -> bool:
    """True when the transition touches ``min_state`` or worse on either side.

    With ``FAIL``: PASS->FAIL, WARN->FAIL, FAIL->PASS and FAIL->WARN pass; PASS->WARN and
    WARN->PASS do not, so silencing warnings also silences their recoveries.
    """
    worst = max(_SEVERITY.get(previous_state, 0), _SEVERITY.get(new_state, 0))
    return worst >= _SEVERITY[min_state]


@dataclass(frozen=True)
class Alert:
    """Everything a message needs, captured when the transition was read.

    Captured rather than recomputed so that a redelivered alert says what was true at the
    time of the transition, and so that it can live in the sensor cursor as plain JSON.
    """

    storage_id: int
    asset_path: tuple[str, ...]
    kind: AlertKind
    previous_state: str
    new_state: str
    changed_at: float
    last_materialized_at: float | None
    age_seconds: float | None
    policy: str
    asset_url: str

    @property
    def asset_name(self) -> str:
        return "/".join(self.asset_path)

    def to_json(self) -> dict:
        data = asdict(self)
        data["asset_path"] = list(self.asset_path)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> Alert:
        return cls(
            storage_id=int(data["storage_id"]),
            asset_path=tuple(data["asset_path"]),
            kind=AlertKind(data["kind"]),
            previous_state=data["previous_state"],
            new_state=data["new_state"],
            changed_at=float(data["changed_at"]),
            last_materialized_at=data.get("last_materialized_at"),
            age_seconds=data.get("age_seconds"),
            policy=data["policy"],
            asset_url=data["asset_url"],
        )


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state.title())
