"""Client settings: where the API is, how hard to push it, how patiently to retry."""

from __future__ import annotations

from dataclasses import dataclass, field

from testio_assets.client.errors import refuse_url_credentials

DEFAULT_RETRY_BUDGET_S = 300.0


@dataclass(frozen=True)
class ClientConfig:
    """Everything a :class:`TestIOClient` needs besides an optional in-process transport."""

    base_url: str
    token: str | None = field(default=None, repr=False)
    concurrency: int = 10
    timeout_s: float = 30.0
    # Attempts per request for failures other than 429 (rate limits are bounded by time alone).
    max_attempts: int = 6
    # Total time one request may take, waits included: no retry starts, and no Retry-After is
    # waited for, past it.
    retry_budget_s: float = DEFAULT_RETRY_BUDGET_S
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # None: wait exactly as long as Retry-After asks (within the budget); a number caps the wait.
    retry_after_max_s: float | None = None
    # Sub-pages of the page-shrinking recovery get fewer attempts so recovery time stays bounded.
    recovery_attempts: int = 2
    per_page: int = 25
    bug_batch_size: int = 15

    def __post_init__(self) -> None:
        refuse_url_credentials(self.base_url, "the client's base_url")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.max_attempts < 1 or self.recovery_attempts < 1:
            raise ValueError("max_attempts and recovery_attempts must be at least 1")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.retry_budget_s <= 0:
            raise ValueError(f"retry_budget_s must be positive, got {self.retry_budget_s}")
        if self.per_page < 1 or self.bug_batch_size < 1:
            raise ValueError("per_page and bug_batch_size must be at least 1")
