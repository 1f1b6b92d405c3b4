"""Recognising why a bug was rejected from TestIO's default rejection comments, in DuckDB SQL.

The API has no rejection-reason field: a rejected bug carries the default comment of the
reason the reviewer picked. We match the comments' key phrases rather than whole sentences so
small wording changes on TestIO's side (punctuation, British/American spelling, a greeting)
still resolve. Keys are ``schema.REJECTION_REASONS``. Phrases are RE2 patterns (DuckDB's
regex engine), matched against the lower-cased comment with whitespace runs collapsed.
"""

from __future__ import annotations

# Order matters only where phrases could overlap: the device rule precedes "irrelevant".
REJECTION_PHRASES: dict[str, str] = {
    "not_reproducible": r"(could not|couldn't|cannot|can't|unable to) reproduce|not reproducible",
    "intended_behavior": r"intended behaviou?r|works as intended",
    "known_bug": r"already known|known (bug|issue)",
    "ignored_instructions": r"ignor\w* (the )?(test )?instructions",
    "device_not_relevant": r"device\b.*\bnot relevant",
    "irrelevant": r"\birrelevant\b",
    "request_timeout": r"request for (more )?information .*not answered|request time ?out",
}


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rejection_reason_sql(comments: str) -> str:
    """A DuckDB expression for the reason named by the latest recognisable comment of
    ``comments`` (a ``JSON[]`` of comment objects with ``body`` or ``text``, or of strings),
    NULL when none is a default text. The latest wins: a revoked acceptance adds a newer
    rejection comment after older ones."""
    text = (
        "trim(regexp_replace(lower(CASE WHEN json_type(c) = 'VARCHAR' THEN c ->> '$' "
        "ELSE coalesce(nullif(c ->> '$.body', ''), c ->> '$.text', '') END), '\\s+', ' ', 'g'))"
    )
    reason = " ".join(
        f"WHEN regexp_matches(t, {sql_literal(pattern)}) THEN {sql_literal(name)}"
        for name, pattern in REJECTION_PHRASES.items()
    )
    texts = f"list_transform({comments}, lambda c: {text})"
    reasons = f"list_transform({texts}, lambda t: CASE {reason} END)"
    return f"list_filter({reasons}, lambda r: r IS NOT NULL)[-1]"
