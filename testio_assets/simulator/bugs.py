"""Life histories of the bugs of one test, and the bug payload visible at a time.

Bugs are generated per test from a seed derived from (simulator seed, test id), so they can be
produced lazily, dropped and produced again identically. A bug is reported during its test,
waits as ``forwarded`` for the customer's triage, then is accepted or rejected, or accepted
automatically 10 days after the report; a few decisions are revised later (never after the
test is archived).

A rejection writes the default comment of the reviewer's reason (TestIO's exact text, now and
then re-typed: other case, line breaks, a greeting around it), or the reviewer's own words,
which name no reason, or nothing. Questions and answers may come before it and a last word
after it; a request_timeout rejection follows an unanswered request for information by 24
hours. Each comment appears once its time has come.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

from testio_assets.simulator import vocabulary as v
from testio_assets.simulator.clock import format_timestamp
from testio_assets.simulator.histories import DAY, HOUR, TestHistory

AUTO_ACCEPT_AFTER = 10 * DAY
REJECTION_REASON_WEIGHTS = {
    "not_reproducible": 30, "intended_behavior": 20, "known_bug": 15, "ignored_instructions": 10,
    "irrelevant": 10, "device_not_relevant": 8, "request_timeout": 7,
}
REQUEST_TIMEOUT_AFTER = 24 * HOUR
UNATTRIBUTED_MISSING = 0.0125  # `test_feature` key absent
UNATTRIBUTED_NULL = 0.0125  # `test_feature: null`


class ThreadComment(NamedTuple):
    at: float
    body: str
    reason: str | None  # the rejection reason whose default text the body carries


@dataclass(slots=True)
class BugHistory:
    id: int
    test_id: int
    reported_at: float
    decision_at: float
    outcome: str  # accepted, auto_accepted or rejected
    revision_at: float | None
    thread: tuple[ThreadComment, ...]  # comments of the triage, the decision's included
    severity: str
    known: bool
    language: str
    location: str
    author: str
    attribution: str  # attributed, missing or null
    test_feature: dict | None
    title: str
    steps: tuple[str, ...]
    actual_result: str
    expected_result: str
    device: dict
    zone: int

    def events(self) -> tuple[float, ...]:
        """Instants at which the payload changes."""
        revision = () if self.revision_at is None else (self.revision_at,)
        return tuple(sorted({self.reported_at, self.decision_at, *revision, *(c.at for c in self.thread)}))

    def visible_thread(self, now: float) -> list[ThreadComment]:
        """The comments the API shows at ``now``, oldest first."""
        comments = [c for c in self.thread if c.at <= now]
        if self.revision_at is not None and now >= self.revision_at:
            if self.outcome == "rejected":
                comments.append(ThreadComment(self.revision_at, v.REOPEN_COMMENT, None))
            else:
                reason = v.REVOKE_COMMENT_REASON
                comments.append(ThreadComment(self.revision_at, v.REJECTION_COMMENTS[reason], reason))
        return sorted(comments, key=lambda c: c.at)

    def status_at(self, now: float) -> tuple[str, bool]:
        """(API status, auto_accepted) at ``now``."""
        if now < self.decision_at:
            return "forwarded", False
        rejected = self.outcome == "rejected"
        if self.revision_at is not None and now >= self.revision_at:
            return ("accepted" if rejected else "rejected"), False
        return ("rejected" if rejected else "accepted"), self.outcome == "auto_accepted"

    def rejection_reason_at(self, now: float) -> str | None:
        """What ingestion should derive: for a rejected bug, the reason of the latest comment
        carrying a default text; None otherwise."""
        if self.status_at(now)[0] != "rejected":
            return None
        reasons = [c.reason for c in self.visible_thread(now) if c.reason is not None]
        return reasons[-1] if reasons else None

    def payload(self, now: float) -> dict:
        status, auto = self.status_at(now)
        comments = [self._comment(k, c.body, c.at) for k, c in enumerate(self.visible_thread(now), 1)]
        body = {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": status,
            "auto_accepted": auto,
            "known": self.known,
            "language": self.language,
            "location": self.location,
            "author": {"name": self.author},
            "test": {"id": self.test_id},
        }
        if self.attribution == "null":
            body["test_feature"] = None
            body["feature"] = None
        elif self.attribution == "attributed":
            tf = self.test_feature
            body["test_feature"] = {"id": tf["id"], "feature_id": tf["feature_id"]}
            body["feature"] = {"id": tf["feature_id"], "title": tf["title"]}
        body.update({
            "steps": list(self.steps),
            "actual_result": self.actual_result,
            "expected_result": self.expected_result,
            "reported_at": format_timestamp(self.reported_at, self.zone),
            "devices": [{"operating_system": dict(self.device["operating_system"]),
                         "browsers": [dict(b) for b in self.device["browsers"]]}],
            "comments": comments,
        })
        return body

    def _comment(self, k: int, text: str, at: float) -> dict:
        return {"id": self.id * 10 + k, "body": text, "created_at": format_timestamp(at, 0)}


def tester_names(count: int) -> tuple[str, ...]:
    """Tester pool; the first tester is also a customer user (and reports the most bugs)."""
    names = [v.SHARED_PERSON]
    firsts = v.TESTER_FIRST_NAMES
    names += [f"tester_{firsts[k % len(firsts)]}{'' if k < len(firsts) else k // len(firsts) + 1}" for k in range(count - 1)]
    return tuple(names)


def build_bugs(seed: int, test: TestHistory, testers: tuple[str, ...]) -> list[BugHistory]:
    """Every bug the test will ever have, ordered by report time (ids increase with it)."""
    if test.bug_count == 0:
        return []
    rng = random.Random(f"{seed}:bugs:{test.id}")
    reports = sorted(rng.uniform(test.start_at, test.end_at) for _ in range(test.bug_count))
    return [_build_bug(rng, test, test.first_bug_id + k, reported, testers) for k, reported in enumerate(reports)]


def _build_bug(rng: random.Random, test: TestHistory, bug_id: int, reported: float, testers) -> BugHistory:
    author = testers[min(len(testers) - 1, int(len(testers) * rng.random() ** 2))]
    draw = rng.random()
    thread: list[ThreadComment] = []
    if draw < 0.22:
        outcome, decision = "rejected", reported + rng.uniform(1, 9 * 24) * HOUR
        thread, decision = _rejection_thread(rng, reported, decision, author)
    elif draw < 0.22 + 0.78 * 0.28:
        outcome, decision = "auto_accepted", reported + AUTO_ACCEPT_AFTER
    else:
        outcome, decision = "accepted", reported + rng.uniform(1, 9 * 24) * HOUR
        if rng.random() < 0.15:
            thread = [ThreadComment(decision, rng.choice(v.AFTER_ACCEPTANCE), None)]
    revision = decision + rng.uniform(3, 50) * DAY if rng.random() < 0.04 else None
    if test.archive_at is not None:  # archived tests are frozen
        if revision is not None and revision >= test.archive_at:
            revision = None
        thread = [c for c in thread if c.at < test.archive_at]
    reason = next((c.reason for c in reversed(thread) if c.reason is not None), None)
    attribution_draw = rng.random()
    if attribution_draw < UNATTRIBUTED_MISSING:
        attribution = "missing"
    elif attribution_draw < UNATTRIBUTED_MISSING + UNATTRIBUTED_NULL:
        attribution = "null"
    else:
        attribution = "attributed"
    test_feature = rng.choice(test.features)
    requirement = rng.choice(test.requirements)
    os_name = requirement["operating_system"]["name"]
    feature_name = test_feature["title"].split("] ")[-1]
    defect = rng.choice(v.BUG_DEFECTS)
    steps = tuple(f"Step {n}: use {feature_name.lower()}" for n in range(1, rng.randint(2, 4) + 1))
    return BugHistory(
        id=bug_id,
        test_id=test.id,
        reported_at=reported,
        decision_at=decision,
        outcome=outcome,
        revision_at=revision,
        thread=tuple(thread),
        severity=rng.choices(v.SEVERITIES, v.SEVERITY_WEIGHTS)[0],
        known=reason == "known_bug" or rng.random() < 0.015,
        language=rng.choice(v.LANGUAGES),
        location=f"{test.environment.url}{feature_name.lower().replace(' ', '-')}",
        author=author,
        attribution=attribution,
        test_feature=test_feature,
        title=f"{feature_name} {defect} on {os_name}",
        steps=steps,
        actual_result=f"{feature_name} {defect}",
        expected_result=f"{feature_name} works as described",
        device={
            "operating_system": {"id": requirement["operating_system"]["id"], "name": os_name},
            "browsers": [{"name": b["name"]} for b in requirement["browsers"][:1]],
        },
        zone=rng.randrange(len(v.TIME_ZONES)),
    )


def _rejection_thread(
    rng: random.Random, reported: float, decision: float, author: str
) -> tuple[list[ThreadComment], float]:
    """The comments of a rejection and its (possibly moved) decision time."""
    kind = rng.random()
    thread: list[ThreadComment] = []
    if kind < 0.88:
        reason = rng.choices(tuple(REJECTION_REASON_WEIGHTS), tuple(REJECTION_REASON_WEIGHTS.values()))[0]
        if reason == "request_timeout":
            asked = reported + rng.uniform(1, 72) * HOUR
            decision = asked + REQUEST_TIMEOUT_AFTER + rng.uniform(0, 1) * HOUR
            thread.append(ThreadComment(asked, v.INFORMATION_REQUEST, None))
        body = _retyped(rng, v.REJECTION_COMMENTS[reason], author)
    elif kind < 0.94:
        reason, body = None, rng.choice(v.FREE_TEXT_REJECTIONS)
    else:
        return [], decision  # rejected without a word
    if not thread and rng.random() < 0.3:  # a question first, usually answered
        asked = rng.uniform(reported, decision)
        thread.append(ThreadComment(asked, rng.choice(v.TRIAGE_QUESTIONS), None))
        if rng.random() < 0.7:
            thread.append(ThreadComment(rng.uniform(asked, decision), rng.choice(v.TESTER_ANSWERS), None))
    thread.append(ThreadComment(decision, body, reason))
    if rng.random() < 0.25:
        thread.append(ThreadComment(decision + rng.uniform(1, 72) * HOUR, rng.choice(v.AFTER_REJECTION), None))
    return thread, decision


def _retyped(rng: random.Random, text: str, author: str) -> str:
    """A default text as a reviewer's comment: mostly exact, sometimes with other case or
    whitespace, or inside a longer message."""
    draw = rng.random()
    if draw < 0.7:
        return text
    if draw < 0.8:
        return f"Hi {author},\n\n{text[0].lower()}{text[1:]}\n\nKind regards,\nYour test lead"
    if draw < 0.9:
        words = text.split(" ")
        middle = len(words) // 2
        return " ".join(words[:middle]) + rng.choice(("\n", "\r\n", " \n")) + " ".join(words[middle:])
    if draw < 0.95:
        return text.lower()
    return text.replace(" ", "  ") + "\n"
