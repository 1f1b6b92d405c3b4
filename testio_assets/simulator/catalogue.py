"""The product catalogue: products, sections, features, user stories and test environments."""

from __future__ import annotations

import random
from dataclasses import dataclass

from testio_assets.simulator import vocabulary as v
from testio_assets.simulator.config import SimulatorConfig

RETIRED_FEATURES_PER_PRODUCT = 2


@dataclass(frozen=True, slots=True)
class Feature:
    id: int
    product_id: int
    title: str
    description: str | None
    howtofind: str | None
    user_stories: tuple[str, ...]
    user_story_ids: tuple[int, ...]
    section_ids: tuple[int, ...]
    listed: bool  # False: retired, still named by old tests but absent from the catalogue


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    name: str
    feature_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Environment:
    id: int
    title: str
    url: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str
    description: str | None
    type: str
    default_section_id: int
    sections: tuple[Section, ...]
    features: tuple[Feature, ...]  # listed and retired
    environments: tuple[Environment, ...]
    remote_device_testing: bool

    @property
    def has_sections(self) -> bool:
        return bool(self.sections)

    def listed_features(self, section_id: int | None = None) -> list[Feature]:
        """The catalogue (retired features excluded), of one section when a section id is given."""
        return [
            f for f in self.features if f.listed and (section_id is None or section_id in f.section_ids)
        ]

    def section_features(self, section_id: int) -> list[Feature] | None:
        """What the section features endpoint lists; None when the product has no such section.

        A product without sections lists its whole catalogue under its default section.
        """
        if not self.has_sections:
            return self.listed_features() if section_id == self.default_section_id else None
        if not any(s.id == section_id for s in self.sections):
            return None
        return self.listed_features(section_id)


def build_catalogue(config: SimulatorConfig) -> tuple[Product, ...]:
    """Every product of the customer; even-numbered products have sections."""
    rng = random.Random(f"{config.seed}:catalogue")
    ids = _IdSequence()
    return tuple(_build_product(rng, ids, config, index) for index in range(config.products))


class _IdSequence:
    """Global id counters, so ids of one kind never collide and grow in creation order."""

    def __init__(self) -> None:
        self.section = 25540
        self.feature = 196990
        self.story = 880000
        self.environment = 0

    def next(self, kind: str) -> int:
        value = getattr(self, kind) + 1
        setattr(self, kind, value)
        return value


def _build_product(rng: random.Random, ids: _IdSequence, config: SimulatorConfig, index: int) -> Product:
    product_id = 18559 + 7 * index
    name = v.PRODUCT_NAMES[index % len(v.PRODUCT_NAMES)] + ("" if index < len(v.PRODUCT_NAMES) else f" {index}")
    default_section_id = ids.next("section")
    sectioned = index % 2 == 0
    section_count = max(2, config.sections_per_product + rng.randint(-1, 1)) if sectioned else 0
    section_names = [v.SECTION_NAMES[(index + k) % len(v.SECTION_NAMES)] for k in range(section_count)]
    section_ids = [ids.next("section") for _ in range(section_count)]

    features: list[Feature] = []
    total = config.features_per_product + RETIRED_FEATURES_PER_PRODUCT
    for k in range(total):
        in_sections: tuple[int, ...] = ()
        label = ""
        if sectioned:
            primary = k % section_count
            in_sections = (section_ids[primary],)
            # Feature 0 is always shared; others sometimes: the same id is listed in several sections.
            if k == 0 or rng.random() < 0.25:
                in_sections += (section_ids[(primary + 1) % section_count],)
            label = f"[{section_names[primary]}] "
        base = v.FEATURE_NAMES[k % len(v.FEATURE_NAMES)]
        feature_name = base if k < len(v.FEATURE_NAMES) else f"{base} {k // len(v.FEATURE_NAMES) + 1}"
        stories = tuple(t.format(f=feature_name.lower()) for t in rng.sample(v.USER_STORY_TEMPLATES, rng.randint(0, 3)))
        features.append(
            Feature(
                id=ids.next("feature"),
                product_id=product_id,
                title=label + feature_name,
                description=None if rng.random() < 0.15 else f"{feature_name} as used by customers",
                howtofind=None if rng.random() < 0.2 else f"Open the app > {feature_name}",
                user_stories=stories,
                user_story_ids=tuple(ids.next("story") for _ in stories),
                section_ids=in_sections,
                listed=k < config.features_per_product,
            )
        )

    sections = tuple(
        Section(sid, sname, tuple(f.id for f in features if f.listed and sid in f.section_ids))
        for sid, sname in zip(section_ids, section_names)
    )
    environments = tuple(_build_environment(rng, ids, name, k) for k in range(rng.randint(1, 3)))
    return Product(
        id=product_id,
        name=name,
        description=None if index % 3 == 1 else f"{name}: the customer's {v.PRODUCT_TYPES[index % 6].replace('_', ' ')}",
        type=v.PRODUCT_TYPES[index % len(v.PRODUCT_TYPES)],
        default_section_id=default_section_id,
        sections=sections,
        features=tuple(features),
        environments=environments,
        remote_device_testing=rng.random() < 0.3,
    )


def _build_environment(rng: random.Random, ids: _IdSequence, product_name: str, k: int) -> Environment:
    slug = product_name.lower().replace(" ", "-")
    with_credentials = k == 0 or rng.random() < 0.5
    return Environment(
        id=ids.next("environment"),
        title=v.ENVIRONMENTS[k % len(v.ENVIRONMENTS)],
        url=f"https://{'staging' if k == 0 else 'env' + str(k)}.{slug}.example.com/",
        username=f"qa-{slug}" if with_credentials else "",
        password=f"s3cret-{rng.randint(1000, 9999)}" if with_credentials else "",
    )


def product_payload(product: Product) -> dict:
    if product.has_sections:
        sections = [
            {"id": s.id, "name": s.name, "connection": None, "test_templates": {"total": 20, "count": len(s.feature_ids) % 5}}
            for s in product.sections
        ]
        with_default = [{"id": s.id, "name": s.name} for s in product.sections]
    else:
        sections = []
        with_default = [{"id": product.default_section_id, "name": "default-section"}]
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "type": product.type,
        "default_section_id": product.default_section_id,
        "sections": sections,
        "sections_with_default": with_default,
        "connection": None,
        "remote_device_testing": product.remote_device_testing,
    }


def feature_payload(feature: Feature) -> dict:
    return {
        "id": feature.id,
        "title": feature.title,
        "description": feature.description,
        "howtofind": feature.howtofind,
        "user_stories": list(feature.user_stories),
    }


def user_story_payloads(features: list[Feature]) -> list[dict]:
    return [
        {"id": story_id, "path": f"{f.title} > {title}", "title": title, "feature_id": f.id}
        for f in features
        for story_id, title in zip(f.user_story_ids, f.user_stories)
    ]
