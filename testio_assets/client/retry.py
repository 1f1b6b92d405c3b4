"""Which HTTP failures are worth retrying, and how long to wait before the next attempt.

The one rule for every HTTP call the project makes (the TestIO client, the alert webhook).

>>> [status for status in (400, 404, 408, 422, 425, 429, 500, 503) if is_retryable_status(status)]
[408, 425, 429, 500, 503]
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

# Request Timeout, Too Early, Too Many Requests: the same request may succeed later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def is_retryable_status(status: int) -> bool:
    """True for a status the same request may get past later (the list above, and every 5xx)."""
    return status in RETRYABLE_STATUSES or status >= 500


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**(attempt-1))]."""
    ceiling = min(max_s, base_s * (2 ** (attempt - 1)))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())
