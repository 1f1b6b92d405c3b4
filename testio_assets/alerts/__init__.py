"""Freshness alerts: a sensor that turns freshness transitions into log lines and webhook POSTs.

Wire it into the definitions with ``sensors=[freshness_alert_sensor]``; see README.md here for
how users see and silence alerts.
"""

from testio_assets.alerts.config import AlertSettings
from testio_assets.alerts.sensor import (
    SENSOR_NAME,
    build_freshness_alert_sensor,
    freshness_alert_sensor,
)
from testio_assets.alerts.webhook import DeliveryPolicy

__all__ = [
    "SENSOR_NAME",
    "AlertSettings",
    "DeliveryPolicy",
    "build_freshness_alert_sensor",
    "freshness_alert_sensor",
]
