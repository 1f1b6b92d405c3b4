"""Guardrails: limits every query obeys, with safe defaults, overridable by env or argument.

Environment: ``SEMANTIC_MAX_DIMENSIONS``, ``SEMANTIC_DEFAULT_ROW_LIMIT``,
``SEMANTIC_MAX_ROW_LIMIT``, ``SEMANTIC_QUERY_TIMEOUT_S``. A caller asking for more rows than
``max_row_limit`` gets ``max_row_limit`` rows and a warning (never an error): the cap is a
ceiling the caller cannot raise, only the configuration can.

>>> Guardrails().max_dimensions, Guardrails().max_row_limit, Guardrails().query_timeout_s
(3, 1000, 30.0)
>>> Guardrails(max_row_limit=50).default_row_limit
50
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from semantic.errors import GuardrailError


def _env(name: str, default, cast):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError:
        raise GuardrailError(f"environment variable {name}={raw!r} is not a valid {cast.__name__}") from None


@dataclass(frozen=True)
class Guardrails:
    """Query limits: dimensions, rows (default and ceiling) and a timeout in seconds."""

    max_dimensions: int = 3
    default_row_limit: int = 1000
    max_row_limit: int = 1000
    query_timeout_s: float = 30.0
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_dimensions", "default_row_limit", "max_row_limit"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int):
                raise GuardrailError(f"guardrail {name} must be a whole number, not {getattr(self, name)!r}")
        timeout = self.query_timeout_s
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= threading.TIMEOUT_MAX:
            raise GuardrailError(f"guardrail query_timeout_s must be a number of seconds above 0 (at most "
                                 f"{threading.TIMEOUT_MAX:g}), not {timeout!r}")
        if self.max_dimensions < 0 or self.max_row_limit < 1 or self.default_row_limit < 1:
            raise GuardrailError(f"invalid guardrails {self!r}: limits must be positive")
        if self.default_row_limit > self.max_row_limit:
            object.__setattr__(self, "default_row_limit", self.max_row_limit)

    @classmethod
    def from_env(cls) -> "Guardrails":
        """Defaults overridden by the SEMANTIC_* environment variables."""
        return cls(
            max_dimensions=_env("SEMANTIC_MAX_DIMENSIONS", 3, int),
            default_row_limit=_env("SEMANTIC_DEFAULT_ROW_LIMIT", 1000, int),
            max_row_limit=_env("SEMANTIC_MAX_ROW_LIMIT", 1000, int),
            query_timeout_s=_env("SEMANTIC_QUERY_TIMEOUT_S", 30.0, float),
        )
