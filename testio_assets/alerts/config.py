"""Alert settings read from the environment, and the redaction of the webhook URL.

``TESTIO_ALERT_WEBHOOK_URL``  where alerts are POSTed; unset means log lines only.
``TESTIO_DAGSTER_UI_URL``     base of the asset links in alerts (default http://127.0.0.1:3000).
``TESTIO_ALERT_MIN_STATE``    ``WARN`` (default) or ``FAIL``: the least severe state whose
                              transitions are sent to the webhook. ``FAIL`` sends only transitions
                              into or out of Failed; every transition is still logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from testio_assets.settings import ALERT_WEBHOOK_ENV, DEFAULT_UI_BASE_URL, UI_BASE_URL_ENV

MIN_STATE_ENV = "TESTIO_ALERT_MIN_STATE"
MIN_STATES = ("WARN", "FAIL")


class AlertConfigError(ValueError):
    """A malformed alert setting in the environment."""


@dataclass(frozen=True)
class AlertSettings:
    """What the sensor needs to know on every tick; read from the environment by default."""

    webhook_url: str | None = None
    ui_base_url: str = DEFAULT_UI_BASE_URL
    min_state: str = "WARN"

    def __post_init__(self) -> None:
        if self.min_state not in MIN_STATES:
            raise AlertConfigError(
                f"{MIN_STATE_ENV}: {self.min_state!r} is not one of {', '.join(MIN_STATES)}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertSettings:
        environ = os.environ if environ is None else environ
        webhook = environ.get(ALERT_WEBHOOK_ENV, "").strip() or None
        ui_base = environ.get(UI_BASE_URL_ENV, "").strip() or DEFAULT_UI_BASE_URL
        min_state = environ.get(MIN_STATE_ENV, "").strip().upper() or "WARN"
        if webhook is not None and urlsplit(webhook).scheme not in ("http", "https"):
            raise AlertConfigError(
                f"{ALERT_WEBHOOK_ENV}: expected an http(s) URL, got one starting "
                f"{redact_url(webhook)!r}"
            )
        return cls(webhook_url=webhook, ui_base_url=ui_base.rstrip("/"), min_state=min_state)


def redact_url(url: str) -> str:
    """Keep scheme, host and port; hide credentials, path and query, which carry the secret.

    Slack and Teams webhook URLs are bearer secrets in their path.

    >>> redact_url("https://hooks.slack.com/services/T000/B000/XXXX?x=1")
    'https://hooks.slack.com/…'
    >>> redact_url("http://user:pw@127.0.0.1:8080/hook")
    'http://127.0.0.1:8080/…'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    if not parts.scheme or not host:
        return "…"
    return f"{parts.scheme}://{host}{port}/…"
