"""Fixed vocabularies of the synthetic customer: enumerations, weights, names and texts.

``REJECTION_COMMENTS`` holds TestIO's default rejection comments, keyed by the warehouse's
rejection reasons (``schema.REJECTION_REASONS``); rejected bugs carry them, exactly or
re-typed (case, line breaks, a greeting around them), among comments that name no reason.
"""

from __future__ import annotations

from datetime import timedelta, timezone

PRODUCT_TYPES = ("website", "mobile_app_ios", "mobile_app_android", "mobile_app_windows", "streaming_app", "gaming")
TEST_STATUSES = ("initialized", "waiting", "running", "locked", "customer_finalized", "archived", "cancelled")
TESTING_TYPES = ("coverage", "focused", "rapid", "usability", "custom")
TESTING_TYPE_WEIGHTS = (45, 25, 20, 9.5, 0.5)
SEVERITIES = ("critical", "high", "low", "visual", "content", "custom")
SEVERITY_WEIGHTS = (5, 20, 45, 15, 10, 5)
BUG_STATUSES = ("accepted", "rejected", "forwarded")

# TestIO's default rejection comments, verbatim from the API contract (request_timeout's has no
# final period). A copy on purpose, not an import of the ingestion's table: tests compare both
# with the contract's texts, so a typo on either side shows instead of agreeing with itself.
REJECTION_COMMENTS: dict[str, str] = {
    "device_not_relevant": "This device is not relevant and the bug will not be fixed.",
    "ignored_instructions": "The test instructions were not followed.",
    "intended_behavior": "The behaviour/design described here is intentional.",
    "irrelevant": "This bug is not relevant and will not be fixed.",
    "known_bug": "This is a legit bug but already known.",
    "not_reproducible": "With the information provided it was not possible to reproduce this bug.",
    "request_timeout": "Your bug was rejected automatically, because you didn't respond to the request within 24 hours",
}
# Rejections in the reviewer's own words: they name no reason (some come close to a default text).
FREE_TEXT_REJECTIONS = (
    "Closing this one, see the discussion in our tracker.",
    "Duplicate of an earlier report in this cycle.",
    "This bug is not relevant for this release.",
    "Not reproducible on our side.",
)
# Comments around the decision: a reviewer's question and the tester's answer before it, the
# tester's or reviewer's last word after it. None contains a default rejection text.
TRIAGE_QUESTIONS = (
    "Could you attach a screen recording, please?",
    "Which build number were you using?",
    "Does this also happen in a private window?",
)
TESTER_ANSWERS = (
    "Added a video of the steps, see attachment.",
    "It was the latest build on the staging server.",
    "Yes, same result in a private window.",
)
AFTER_REJECTION = (
    "Thanks for the report anyway!",
    "OK, understood.",
    "Thanks for checking, I will add more details next time.",
    "I can still see it on my device, see the new video.",
)
AFTER_ACCEPTANCE = ("Thanks for the report, good catch!", "Confirmed, we are fixing it.")
# What the reviewer asked before a request_timeout rejection, which follows 24 hours later.
INFORMATION_REQUEST = "Please add the app version and a video of the steps."
REOPEN_COMMENT = "Re-evaluated after discussion with the team: accepted."
REVOKE_COMMENT_REASON = "not_reproducible"

# Offsets the API uses when rendering timestamps: "Z" for UTC, "+HH:MM" otherwise.
TIME_ZONES = tuple(
    timezone(timedelta(minutes=m)) for m in (0, 120, 60, -300, -240, 330, 540)
)

CATEGORIES = {
    "computer": {"id": 1, "key": "computer", "name": "Computers"},
    "smartphone": {"id": 2, "key": "smartphone", "name": "Smartphones"},
    "tablet": {"id": 3, "key": "tablet", "name": "Tablets"},
    "tv": {"id": 4, "key": "smart_tv", "name": "Smart TVs"},
    "console": {"id": 5, "key": "game_console", "name": "Game consoles"},
}
# (operating system id, key, name, category)
OPERATING_SYSTEMS = {
    "windows": (6, "windows", "Windows", "computer"),
    "macos": (7, "macos", "macOS", "computer"),
    "linux": (8, "linux", "Linux", "computer"),
    "ios": (9, "ios", "iOS", "smartphone"),
    "android": (10, "android", "Android", "smartphone"),
    "ipados": (11, "ipados", "iPadOS", "tablet"),
    "tvos": (12, "tvos", "tvOS", "tv"),
    "android_tv": (13, "android_tv", "Android TV", "tv"),
    "playstation": (14, "playstation", "PlayStation", "console"),
    "xbox": (15, "xbox", "Xbox", "console"),
}
PLATFORMS_BY_PRODUCT_TYPE = {
    "website": ("windows", "macos", "linux", "ios", "android"),
    "mobile_app_ios": ("ios", "ipados"),
    "mobile_app_android": ("android",),
    "mobile_app_windows": ("windows",),
    "streaming_app": ("tvos", "android_tv", "ios", "android"),
    "gaming": ("playstation", "xbox", "windows", "macos"),
}
BROWSERS = (
    {"id": 1, "name": "Firefox", "key": "firefox"},
    {"id": 2, "name": "Chrome", "key": "chrome"},
    {"id": 3, "name": "Safari", "key": "safari"},
    {"id": 4, "name": "Edge", "key": "edge"},
)

PRODUCT_NAMES = (
    "Atlas Web Shop", "Beacon iOS", "Cobalt Android", "Delta Desktop", "Ember Streaming", "Falcon Arena",
    "Granite Portal", "Harbor Banking", "Iris Player", "Juniper Kiosk", "Kestrel Maps", "Lumen Learn",
)
SECTION_NAMES = ("Editor", "Presentations", "Checkout", "Account", "Search", "Onboarding", "Settings", "Library")
FEATURE_NAMES = (
    "Login", "Sign up", "Password reset", "Search", "Filters", "Product page", "Cart", "Checkout", "Payments",
    "Recording", "Sharing", "Comments", "Notifications", "Profile", "Settings", "Upload", "Download", "Export",
    "Playback", "Subtitles", "Leaderboard", "Matchmaking", "Inventory", "Wishlist", "Reviews", "Help center",
)
USER_STORY_TEMPLATES = (
    "On desktop, I can use {f}",
    "On mobile, I can open {f}",
    "As a new user, I understand {f}",
    "I can cancel {f} at any time",
)
CUSTOMER_NAMES = (
    "jane.customer", "alex.morgan", "priya.shah", "tom.becker", "lena.fischer", "omar.haddad",
    "sofia.rossi", "kenji.sato", "maria.lopez", "david.kim", "nora.berg", "liam.walsh",
)
# A name that is both a tester and a customer user: identities must stay separate.
SHARED_PERSON = "alex.morgan"
TESTER_FIRST_NAMES = ("alice", "bob", "carla", "dmitri", "eva", "femi", "gustav", "hana", "ivan", "julia")

TEST_TITLES = ("Sprint {n} Regression", "Release {n} Smoke", "Exploratory round {n}", "Feature check {n}", "Usability pass {n}")
GOALS = ("Find functional bugs in {f}", "Check {f} before the release", "Explore {f} on all platforms")
INSTRUCTIONS = ("Use the staging account", "Do not place real orders", "Use the provided credentials", None)
OUT_OF_SCOPE = ("Payments", "Performance", "Translations", None)
ENVIRONMENTS = ("Staging Web", "Production", "Beta build", "QA cluster")

BUG_DEFECTS = (
    "crashes", "does not load", "shows a wrong total", "stops after 3 seconds", "overlaps the footer",
    "has a typo", "ignores the back button", "freezes", "is cut off", "shows a blank screen",
)
LANGUAGES = ("en", "en", "en", "en", "de", "fr", "es")
