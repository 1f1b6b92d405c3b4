"""Fixed vocabularies of the synthetic customer: enumerations, weights, names and texts.

``REJECTION_COMMENTS`` holds the default rejection comment sent with rejected bugs, keyed by
the warehouse's rejection reasons (``schema.REJECTION_REASONS``); ingestion recognises a
reason from these exact texts.
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

REJECTION_COMMENTS: dict[str, str] = {
    "not_reproducible": "Unfortunately we could not reproduce this bug. Please check your steps and resubmit if it persists.",
    "intended_behavior": "Thank you for your report. This is intended behaviour of the product.",
    "known_bug": "Thank you for your report. This bug is already known to us.",
    "ignored_instructions": "This report ignores the test instructions.",
    "irrelevant": "This report is irrelevant for the current test.",
    "device_not_relevant": "The device used is not relevant for this test.",
    "request_timeout": "The request for more information was not answered in time.",
}
OTHER_REJECTION_COMMENTS = (
    "Closing this one, see the discussion in our tracker.",
    "Duplicate of an earlier report in this cycle.",
)
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
