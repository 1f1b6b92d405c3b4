"""Life histories of the bugs of one test, and the bug payload visible at a time.

Bugs are generated per test from a seed derived from (simulator seed, test id), so they can be
produced lazily, dropped and produced again identically. A bug is reported during its test,
waits as ``forwarded`` for the customer's triage, then is accepted or rejected, or accepted
automatically 10 days after the report; a few decisions are revised later (never after the
test is archived).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from testio_assets.simulator import vocabulary as v
from testio_assets.simulator.clock import format_timestamp
from testio_assets.simulator.histories import DAY, HOUR, TestHistory

AUTO_ACCEPT_AFTER = 10 * DAY
REJECTION_REASON_WEIGHTS = (30, 20, 15, 10, 10, 8, 7)
UNATTRIBUTED_MISSING = 0.0125  # `test_feature` key absent
UNATTRIBUTED_NULL = 0.0125  # `test_feature: null`


@dataclass(slots=True)
class BugHistory:
    id: int
    test_id: int
    reported_at: float
    decision_at: float
    outcome: str  # accepted, auto_accepted or rejected
    revision_at: float | None
    rejection_comment: str | None
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
        if self.revision_at is None:
            return (self.reported_at, self.decision_at)
        return (self.reported_at, self.decision_at, self.revision_at)

    def payload(self, now: float) -> dict:
        status, auto, comments = "forwarded", False, []
        if now >= self.decision_at:
            status = "rejected" if self.outcome == "rejected" else "accepted"
            auto = self.outcome == "auto_accepted"
            if status == "rejected" and self.rejection_comment is not None:
                comments.append(self._comment(1, self.rejection_comment, self.decision_at))
            if self.revision_at is not None and now >= self.revision_at:
                auto = False
                if status == "rejected":
                    status = "accepted"
                    comments.append(self._comment(2, v.REOPEN_COMMENT, self.revision_at))
                else:
                    status = "rejected"
                    comments.append(self._comment(2, v.REJECTION_COMMENTS[v.REVOKE_COMMENT_REASON], self.revision_at))
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
    draw = rng.random()
    if draw < 0.22:
        outcome, decision = "rejected", reported + rng.uniform(1, 9 * 24) * HOUR
    elif draw < 0.22 + 0.78 * 0.28:
        outcome, decision = "auto_accepted", reported + AUTO_ACCEPT_AFTER
    else:
        outcome, decision = "accepted", reported + rng.uniform(1, 9 * 24) * HOUR
    revision = decision + rng.uniform(3, 50) * DAY if rng.random() < 0.04 else None
    if revision is not None and test.archive_at is not None and revision >= test.archive_at:
        revision = None  # archived tests are frozen
    comment, reason = None, None
    if outcome == "rejected":
        kind = rng.random()
        if kind < 0.88:
            reason = rng.choices(tuple(v.REJECTION_COMMENTS), REJECTION_REASON_WEIGHTS)[0]
            comment = v.REJECTION_COMMENTS[reason]
        elif kind < 0.94:
            comment = rng.choice(v.OTHER_REJECTION_COMMENTS)
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
        rejection_comment=comment,
        severity=rng.choices(v.SEVERITIES, v.SEVERITY_WEIGHTS)[0],
        known=reason == "known_bug" or rng.random() < 0.015,
        language=rng.choice(v.LANGUAGES),
        location=f"{test.environment.url}{feature_name.lower().replace(' ', '-')}",
        author=testers[min(len(testers) - 1, int(len(testers) * rng.random() ** 2))],
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
