"""Life histories of exploratory tests, generated once, and the test payload visible at a time.

A test's history is a handful of instants (created, submitted, start, end, finalised, locked,
archived or cancelled); its status at any ``now`` follows from them, so moving the clock is
deterministic. Archived and cancelled tests never change again.

The lifecycle follows the API contract and what production showed:

- a test is submitted within 3 days of its creation, starts within 5 days of that and runs
  for hours to days depending on its type; 2% are never submitted (cancelled after a week
  or more) and 3% are cancelled between submission and start;
- 70% are finalised by the customer 1-20 days after the end; every test locks 4-6 weeks
  after its end (its bugs can still change) and is archived 1-3 weeks after it locks;
- a rare few (``NEVER_ARCHIVED``, 0.2%) stay locked for ever: stragglers an incremental
  refresh has to keep watching even though they are years old;
- ``submitted_by`` is null until the test is submitted (``initialized``, and tests cancelled
  before submission); about a third of submitted tests were submitted by another customer
  user than their creator, often the customer's QA lead.

So at any moment only the tests of the last two months or so, plus those stragglers, can
still change: a few percent of a customer with a long history.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from testio_assets.simulator import vocabulary as v
from testio_assets.simulator.catalogue import Environment, Product, Section
from testio_assets.simulator.clock import format_timestamp
from testio_assets.simulator.config import SimulatorConfig

HOUR = 3600.0
DAY = 24 * HOUR

# Recent tests placed so that every status is visible at the start (hours relative to it).
# Unless given, a showcase test locks 5 weeks after its end and is archived 2 weeks later;
# ``"archive": None`` makes the straggler that is never archived.
SHOWCASE = (
    {"created": -96, "submitted": -90, "start": -48, "end": 30},
    {"created": -200, "submitted": -190, "start": -170, "end": -100, "lock": 700},
    {"created": -40, "submitted": -30, "start": 20, "end": 80},
    {"created": -5, "submitted": 30, "start": 60, "end": 120},
    {"created": -500, "submitted": -490, "start": -480, "end": -400, "finalize": -100, "lock": 500, "archive": 900},
    {"created": -300, "submitted": -290, "start": -100, "end": -50, "cancel": -200},
    {"created": -1500, "submitted": -1490, "start": -1480, "end": -1400, "finalize": -1300, "lock": -600,
     "archive": None},
)
NEVER_ARCHIVED = 0.002
# Roles of customer users: a test's creator is unknown now and then; 25% of the others are
# submitted by another user than their creator, half of those by the customer's QA lead (the
# first customer user), so per-user created and submitted counts differ visibly.
CREATOR_UNKNOWN = 0.05
SUBMITTED_BY_ANOTHER = 0.25
SUBMITTED_BY_LEAD = 0.5
LOCK_AFTER_END_DAYS = (28, 42)
ARCHIVE_AFTER_LOCK_DAYS = (7, 21)
DURATION_HOURS = {"rapid": (2, 6), "coverage": (24, 72), "focused": (8, 48), "usability": (24, 96), "custom": (24, 72)}


@dataclass(slots=True)
class TestHistory:
    __test__ = False  # not a pytest test class, even when imported into a test module

    id: int
    product: Product
    section: Section | None
    created_at: float
    submitted_at: float | None
    start_at: float
    end_at: float
    finalize_at: float | None
    lock_at: float
    archive_at: float | None
    cancel_at: float | None
    zone: int
    testing_type: str
    title: str
    goal_text: str
    instructions_text: str | None
    out_of_scope_text: str | None
    enables: tuple[bool, bool, bool]
    created_by: str | None
    submitter: str
    environment: Environment
    features: tuple[dict, ...]
    requirements: tuple[dict, ...]
    bug_count: int
    first_bug_id: int
    events: tuple[float, ...] = ()

    def status_at(self, now: float) -> str:
        if self.cancel_at is not None and now >= self.cancel_at:
            return "cancelled"
        if self.submitted_at is None or now < self.submitted_at:
            return "initialized"
        if now < self.start_at:
            return "waiting"
        if self.archive_at is not None and now >= self.archive_at:
            return "archived"
        if now >= self.lock_at:
            return "locked"
        if self.finalize_at is not None and now >= self.finalize_at:
            return "customer_finalized"
        return "running"  # testing, or ended and awaiting the customer's review

    def state_index(self, now: float) -> int:
        """Changes exactly when the rendered test changes."""
        return bisect.bisect_right(self.events, now)

    def payload(self, now: float) -> dict:
        status = self.status_at(now)
        submitted = self.submitted_at is not None and now >= self.submitted_at
        if status == "initialized" or (status == "cancelled" and not submitted):
            review = "not_reviewed"
        elif status == "waiting":
            review = "in_review"
        else:
            review = "review_failed" if status == "cancelled" else "review_successful"
        env = self.environment
        return {
            "id": self.id,
            "title": self.title,
            "test_title": self.title,
            "status": status,
            "review_status": review,
            "testing_type": self.testing_type,
            "goal_text": self.goal_text,
            "instructions_text": self.instructions_text,
            "out_of_scope_text": self.out_of_scope_text,
            "start_at": format_timestamp(self.start_at, self.zone),
            "end_at": format_timestamp(self.end_at, self.zone),
            "enable_low": self.enables[0],
            "enable_high": self.enables[1],
            "enable_critical": self.enables[2],
            "created_by": self.created_by,
            "submitted_by": self.submitter if submitted else None,
            "test_environment": {
                "id": env.id, "title": env.title, "url": env.url,
                "username": env.username, "password": env.password, "access_type": "url",
            },
            "features": [dict(f, user_stories=list(f["user_stories"])) for f in self.features],
            "requirements": [
                {"category": dict(r["category"]), "operating_system": dict(r["operating_system"]),
                 "browsers": [dict(b) for b in r["browsers"]]}
                for r in self.requirements
            ],
            "section": {"id": self.section.id, "name": self.section.name} if self.section else None,
            "product": {"id": self.product.id, "name": self.product.name},
        }


def build_tests(config: SimulatorConfig, products: tuple[Product, ...], start: float) -> list[TestHistory]:
    """All tests created up to ``future_days`` after ``start``, oldest first, ids increasing."""
    rng = random.Random(f"{config.seed}:tests")
    showcase = SHOWCASE[: config.tests]
    history = config.history_days * DAY
    random_count = config.tests - len(showcase)
    future_count = round(config.tests / config.history_days * config.future_days)
    plans: list[tuple[float, dict | None]] = [(start + t["created"] * HOUR, t) for t in showcase]
    plans += [(start - history + rng.random() * (history - 7 * DAY), None) for _ in range(random_count)]
    plans += [(start + rng.random() * config.future_days * DAY, None) for _ in range(future_count)]
    plans.sort(key=lambda plan: plan[0])

    weights = [1.0 / (1 + 0.4 * i) for i in range(len(products))]
    customers = v.CUSTOMER_NAMES[: config.customers] + tuple(
        f"customer.{k}" for k in range(len(v.CUSTOMER_NAMES), config.customers)
    )
    ids = _Counters()
    tests = []
    for index, (created, template) in enumerate(plans):
        product = rng.choices(products, weights)[0]
        testing_type = "custom" if index == 0 else rng.choices(v.TESTING_TYPES, v.TESTING_TYPE_WEIGHTS)[0]
        times = _timeline(rng, created, testing_type, template, start)
        tests.append(_build_test(rng, ids, config, product, created, testing_type, times, customers))
    return tests


class _Counters:
    def __init__(self) -> None:
        self.test = 141200
        self.test_feature = 1042400
        self.bug = 2791000


def _timeline(rng: random.Random, created: float, testing_type: str, template: dict | None, start: float) -> dict:
    if template is not None:
        times = {k: start + hours * HOUR for k, hours in template.items() if hours is not None}
        times.setdefault("lock", times["end"] + 35 * DAY)
        if "archive" not in template:
            times["archive"] = times["lock"] + 14 * DAY
        return times
    times: dict = {"created": created}
    never_submitted = rng.random() < 0.02
    submitted = created + rng.uniform(0.5, 72) * HOUR
    times["start"] = submitted + rng.uniform(1, 120) * HOUR
    times["end"] = times["start"] + rng.uniform(*DURATION_HOURS[testing_type]) * HOUR
    if never_submitted:
        times["cancel"] = created + rng.uniform(7, 30) * DAY
    else:
        times["submitted"] = submitted
        if rng.random() < 0.03:
            times["cancel"] = rng.uniform(submitted, times["start"])
    times["lock"] = times["end"] + rng.uniform(*LOCK_AFTER_END_DAYS) * DAY
    if rng.random() < 0.7:
        times["finalize"] = times["end"] + rng.uniform(1, 20) * DAY
    if rng.random() >= NEVER_ARCHIVED:
        times["archive"] = times["lock"] + rng.uniform(*ARCHIVE_AFTER_LOCK_DAYS) * DAY
    return times


def _build_test(
    rng: random.Random, ids: _Counters, config: SimulatorConfig, product: Product, created: float,
    testing_type: str, times: dict, customers: tuple[str, ...],
) -> TestHistory:
    ids.test += rng.randint(1, 4)
    section = rng.choice(product.sections) if product.has_sections else None
    candidates = product.listed_features(section.id if section else None)
    chosen = rng.sample(candidates, min(len(candidates), rng.randint(1, 5)))
    if rng.random() < 0.03:  # names a feature the catalogue no longer returns
        chosen[-1] = rng.choice([f for f in product.features if not f.listed])
    features = []
    for feature in chosen:
        ids.test_feature += rng.randint(1, 3)
        features.append({
            "id": ids.test_feature, "feature_id": feature.id, "title": feature.title,
            "description": feature.description, "howtofind": feature.howtofind,
            "location": rng.choice(("Main menu", "Settings page", "Home screen", None)),
            "enable_default": rng.random() < 0.95, "enable_content": rng.choice((None, True, False)),
            "enable_visual": rng.random() < 0.8,
            "user_stories": tuple(s for s in feature.user_stories if rng.random() < 0.7),
        })
    executed = times.get("submitted") is not None and not (times.get("cancel", float("inf")) < times["start"])
    bug_count = 0
    if executed and rng.random() >= 0.06 and config.bugs_per_test > 0:
        bug_count = max(1, round(rng.gammavariate(2.0, config.bugs_per_test / 2.0)))
    creator = None if rng.random() < CREATOR_UNKNOWN else rng.choice(customers)
    submitter = creator
    if creator is None or rng.random() < SUBMITTED_BY_ANOTHER:
        lead = customers[0]
        if lead != creator and rng.random() < SUBMITTED_BY_LEAD:
            submitter = lead
        else:
            submitter = rng.choice([c for c in customers if c != creator])
    feature_name = chosen[0].title.split("] ")[-1].lower()
    first_bug_id = ids.bug + 1
    ids.bug += bug_count + rng.randint(0, 2)
    events = sorted(times[k] for k in ("submitted", "start", "finalize", "lock", "archive", "cancel") if k in times)
    if "cancel" in times:
        events = [t for t in events if t <= times["cancel"]]
    return TestHistory(
        id=ids.test,
        product=product,
        section=section,
        created_at=created,
        submitted_at=times.get("submitted"),
        start_at=times["start"],
        end_at=times["end"],
        finalize_at=times.get("finalize"),
        lock_at=times["lock"],
        archive_at=times.get("archive"),
        cancel_at=times.get("cancel"),
        zone=rng.randrange(len(v.TIME_ZONES)),
        testing_type=testing_type,
        title=rng.choice(v.TEST_TITLES).format(n=ids.test % 97 + 1),
        goal_text=rng.choice(v.GOALS).format(f=feature_name),
        instructions_text=rng.choice(v.INSTRUCTIONS),
        out_of_scope_text=rng.choice(v.OUT_OF_SCOPE),
        enables=(rng.random() < 0.9, True, rng.random() < 0.97),
        created_by=creator,
        submitter=submitter,
        environment=rng.choice(product.environments),
        features=tuple(features),
        requirements=_requirements(rng, product.type),
        bug_count=bug_count,
        first_bug_id=first_bug_id,
        events=tuple(events),
    )


def _requirements(rng: random.Random, product_type: str) -> tuple[dict, ...]:
    options = v.PLATFORMS_BY_PRODUCT_TYPE[product_type]
    requirements = []
    for key in rng.sample(options, rng.randint(1, min(4, len(options)))):
        os_id, os_key, os_name, category = v.OPERATING_SYSTEMS[key]
        browsers = rng.sample(v.BROWSERS, rng.randint(1, 3)) if category == "computer" else []
        requirements.append({
            "category": v.CATEGORIES[category],
            "operating_system": {"id": os_id, "key": os_key, "name": os_name},
            "browsers": browsers,
        })
    return tuple(requirements)
