"""Recognising why a bug was rejected from TestIO's default rejection comments.

The API has no rejection-reason field: a rejected bug carries the default comment of the
reason the reviewer picked. We match the comments' key phrases rather than whole sentences so
small wording changes on TestIO's side (punctuation, British/American spelling, a greeting)
still resolve. Keys are ``schema.REJECTION_REASONS``.

>>> rejection_reason([{"body": "Thanks! This is intended behavior of the product."}])
'intended_behavior'
>>> rejection_reason([{"body": "Duplicate of an earlier report."}]) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Order matters only where phrases could overlap: the device rule precedes "irrelevant".
REJECTION_PHRASES: dict[str, re.Pattern[str]] = {
    "not_reproducible": re.compile(r"(could not|couldn't|cannot|can't|unable to) reproduce|not reproducible"),
    "intended_behavior": re.compile(r"intended behaviou?r|works as intended"),
    "known_bug": re.compile(r"already known|known (bug|issue)"),
    "ignored_instructions": re.compile(r"ignor\w* (the )?(test )?instructions"),
    "device_not_relevant": re.compile(r"device\b.*\bnot relevant"),
    "irrelevant": re.compile(r"\birrelevant\b"),
    "request_timeout": re.compile(r"request for (more )?information .*not answered|request time ?out"),
}


def reason_of_text(text: str) -> str | None:
    lowered = " ".join(text.lower().split())
    for reason, phrase in REJECTION_PHRASES.items():
        if phrase.search(lowered):
            return reason
    return None


def _comment_text(comment: Mapping[str, Any] | str) -> str:
    if isinstance(comment, str):
        return comment
    return str(comment.get("body") or comment.get("text") or "")


def rejection_reason(comments: Iterable[Mapping[str, Any] | str]) -> str | None:
    """The reason named by the latest recognisable comment (a revoked acceptance adds a newer
    rejection comment after older ones), or None when no comment is a default text."""
    reason = None
    for comment in comments:
        reason = reason_of_text(_comment_text(comment)) or reason
    return reason
