"""Recognising why a bug was rejected from TestIO's default rejection comments, in DuckDB SQL.

The API has no rejection-reason field: the reason a reviewer picks writes its default comment
into the bug's ``comments[].body``. A comment names a reason when it contains that reason's
default text (``DEFAULT_REJECTION_TEXTS``, TestIO's exact wording from the API contract) once
both are lower-cased and their whitespace runs (line breaks, tabs, no-break spaces) collapsed to
one space. Other comments may come before or after it; free-text rejections name no reason.
The latest comment that names a reason wins: a revoked acceptance adds a newer rejection
comment after older ones. No default text contains another, so at most one matches a comment
(should a comment quote two, the first in table order wins).

>>> rejection_reason_sql(exp.column("comments")).sql("duckdb")[:40]
'LIST_EXTRACT(LIST_FILTER(LIST_TRANSFORM('
"""

from __future__ import annotations

from sqlglot import exp

# TestIO's default rejection comments, verbatim (request_timeout's has no final period).
# Keys are ``schema.REJECTION_REASONS``.
DEFAULT_REJECTION_TEXTS: dict[str, str] = {
    "device_not_relevant": "This device is not relevant and the bug will not be fixed.",
    "ignored_instructions": "The test instructions were not followed.",
    "intended_behavior": "The behaviour/design described here is intentional.",
    "irrelevant": "This bug is not relevant and will not be fixed.",
    "known_bug": "This is a legit bug but already known.",
    "not_reproducible": "With the information provided it was not possible to reproduce this bug.",
    "request_timeout": (
        "Your bug was rejected automatically, because you didn't respond to the request "
        "within 24 hours"
    ),
}

# RE2 (DuckDB's regex engine): ASCII whitespace and Unicode separators such as U+00A0.
_WHITESPACE_RUN = r"[\s\p{Z}]+"


def normalized_text(text: exp.Expression) -> exp.Expression:
    """``text`` lower-cased, whitespace runs collapsed to one space, trimmed.

    >>> normalized_text(exp.column("t")).sql("duckdb")
    "TRIM(LOWER(REGEXP_REPLACE(t, '[\\\\s\\\\p{Z}]+', ' ', 'g')))"
    """
    collapsed = exp.RegexpReplace(
        this=text,
        expression=exp.Literal.string(_WHITESPACE_RUN),
        replacement=exp.Literal.string(" "),
        modifiers=exp.Literal.string("g"),
    )
    return exp.Trim(this=exp.Lower(this=collapsed))


def _comment_text(comment: exp.Expression) -> exp.Expression:
    """A comment's text: the JSON string itself, else its ``body`` (or ``text``), else ''."""

    def field(path: str) -> exp.Expression:
        return exp.JSONExtractScalar(this=comment.copy(), expression=exp.Literal.string(path))

    is_string = exp.EQ(
        this=exp.func("json_type", comment.copy()), expression=exp.Literal.string("VARCHAR")
    )
    body = exp.func(
        "coalesce",
        exp.func("nullif", field("$.body"), exp.Literal.string("")),
        field("$.text"),
        exp.Literal.string(""),
    )
    return exp.case().when(is_string, field("$")).else_(body)


def _named_reason(text: exp.Expression) -> exp.Expression:
    """The reason whose default text the (normalised) ``text`` contains, else NULL."""
    case = exp.case()
    for reason, default in DEFAULT_REJECTION_TEXTS.items():
        # The literal goes through the same normalisation as the comment: one rule for both.
        contains = exp.Contains(this=text.copy(), expression=normalized_text(exp.Literal.string(default)))
        case = case.when(contains, exp.Literal.string(reason))
    return case


def _lambda(parameter: str, body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(parameter)])


def rejection_reason_sql(comments: exp.Expression) -> exp.Expression:
    """A DuckDB expression for the reason named by the latest recognisable comment of
    ``comments`` (a ``JSON[]`` of comment objects with ``body``, or of strings); NULL when
    no comment contains a default text."""
    texts = exp.func(
        "list_transform", comments, _lambda("c", normalized_text(_comment_text(exp.column("c"))))
    )
    reasons = exp.func("list_transform", texts, _lambda("t", _named_reason(exp.column("t"))))
    named = exp.func("list_filter", reasons, _lambda("r", exp.column("r").is_(exp.null()).not_()))
    return exp.func("list_extract", named, exp.Literal.number(-1))
