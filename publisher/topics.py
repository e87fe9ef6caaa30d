"""Our vocabulary (age bands, areas of need, categories, localities) and how an entry maps onto it.

Each council describes its own directory in a mapping file (TOML): which taxonomy terms
and keywords mean which category or area of need, and which postcode districts make up
which locality. ``publisher/data/default_mapping.toml`` is a sensible start; see the
README for how to write one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

# Age bands: (slug, youngest, oldest), inclusive, as families and the Code of Practice use them.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-5", 0, 5),
    ("5-11", 5, 11),
    ("11-16", 11, 16),
    ("16-25", 16, 25),
)
AGE_BAND_SLUGS: tuple[str, ...] = tuple(b[0] for b in AGE_BANDS)
AGE_BAND_LABELS: dict[str, str] = {
    "0-5": "Ages 0 to 5",
    "5-11": "Ages 5 to 11",
    "11-16": "Ages 11 to 16",
    "16-25": "Ages 16 to 25: preparing for adulthood",
}

# The four broad areas of need (SEND Code of Practice 6.28).
NEEDS: dict[str, str] = {
    "communication-interaction": "Communication and interaction",
    "cognition-learning": "Cognition and learning",
    "social-emotional-mental-health": "Social, emotional and mental health",
    "sensory-physical": "Sensory and physical needs",
}

CATEGORIES: dict[str, str] = {
    "education": "Education",
    "training-employment": "Training and jobs",
    "health": "Health",
    "social-care": "Social care and short breaks",
    "leisure": "Leisure and things to do",
    "travel-transport": "Travel and transport",
    "preparing-for-adulthood": "Preparing for adulthood",
    "childcare": "Childcare",
    "money-benefits": "Money and benefits",
    "advice-support": "Advice and support",
    "assessment-ehc-plans": "Assessment and EHC plans",
    "complaints-disagreements": "Complaints and disagreements",
}

OUT_OF_AREA = "out-of-area"

_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")


class MappingError(ValueError):
    """The mapping file is missing, unreadable or names something we do not know."""


@dataclass(frozen=True)
class TopicRule:
    slug: str
    terms: frozenset[str]
    keywords: re.Pattern[str] | None


@dataclass(frozen=True)
class Mapping:
    categories: tuple[TopicRule, ...]
    needs: tuple[TopicRule, ...]
    # postcode district ("BS1") -> locality slug
    districts: dict[str, str]
    locality_labels: dict[str, str]
    # Postcode areas ("BS") that are inside the council; others are out of area.
    home_areas: frozenset[str]

    @property
    def locality_slugs(self) -> list[str]:
        return [*self.locality_labels, OUT_OF_AREA]


def _keyword_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = [w.strip().lower() for w in words if w.strip()]
    if not cleaned:
        return None
    # Longest first so that "speech and language" wins over "speech"; whole words only.
    alternatives = "|".join(re.escape(w) for w in sorted(cleaned, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def _rules(table: dict[str, object], known: dict[str, str], kind: str) -> tuple[TopicRule, ...]:
    rules = []
    for slug, body in table.items():
        if slug not in known:
            raise MappingError(
                f"unknown {kind} {slug!r} in mapping; use one of: {', '.join(known)}"
            )
        if not isinstance(body, dict):
            raise MappingError(f"{kind} {slug!r} must be a table with terms and keywords")
        terms = body.get("terms", [])
        keywords = body.get("keywords", [])
        if not isinstance(terms, list) or not isinstance(keywords, list):
            raise MappingError(f"{kind} {slug!r}: terms and keywords must be lists of text")
        rules.append(
            TopicRule(
                slug=slug,
                terms=frozenset(str(t).strip().lower() for t in terms),
                keywords=_keyword_pattern([str(k) for k in keywords]),
            )
        )
    return tuple(rules)


def parse_mapping(text: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping is not valid TOML: {exc}") from exc
    localities = data.get("localities", {})
    districts: dict[str, str] = {}
    labels: dict[str, str] = {}
    for slug, body in localities.items():
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) or slug == OUT_OF_AREA:
            raise MappingError(f"locality name {slug!r} must be lower-case words joined by -")
        labels[slug] = str(body.get("label", slug.replace("-", " ").title()))
        for district in body.get("postcode_districts", []):
            districts[str(district).strip().upper()] = slug
    council = data.get("council", {})
    return Mapping(
        categories=_rules(data.get("categories", {}), CATEGORIES, "category"),
        needs=_rules(data.get("needs", {}), NEEDS, "area of need"),
        districts=districts,
        locality_labels=labels,
        home_areas=frozenset(str(a).strip().upper() for a in council.get("postcode_areas", [])),
    )


@lru_cache(maxsize=8)
def load_mapping(path: str = "") -> Mapping:
    """The council's mapping from TOPIC_MAPPING, or the default shipped with the package."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from exc
    else:
        text = resources.files("publisher.data").joinpath("default_mapping.toml").read_text("utf-8")
    return parse_mapping(text)


def age_bands(minimum: int | None, maximum: int | None) -> list[str]:
    """Bands whose range overlaps the service's ages; unknown ages mean every band."""
    lo = 0 if minimum is None else minimum
    hi = 200 if maximum is None else maximum
    if lo > hi:
        lo, hi = hi, lo
    if lo == hi:
        return [slug for slug, band_lo, band_hi in AGE_BANDS if band_lo <= lo <= band_hi]
    # Bands share their edges (0-5, 5-11): touching at one age is not an overlap, so a
    # 0 to 5 service is not news for the 5-11 band.
    return [slug for slug, band_lo, band_hi in AGE_BANDS if min(hi, band_hi) > max(lo, band_lo)]


def postcode_district(postcode: str) -> str | None:
    match = _POSTCODE_RE.search(postcode.upper())
    return match.group(1) if match else None


def normalise_postcode(postcode: str) -> str | None:
    match = _POSTCODE_RE.search(postcode.upper())
    return f"{match.group(1)} {match.group(2)}" if match else None


def _match(rules: Iterable[TopicRule], terms: set[str], text: str) -> list[str]:
    found = []
    for rule in rules:
        if terms & rule.terms or (rule.keywords is not None and rule.keywords.search(text)):
            found.append(rule.slug)
    return found


@dataclass(frozen=True)
class Topics:
    age_bands: list[str]
    needs: list[str]
    categories: list[str]
    localities: list[str]


def topics_of(mapping: Mapping, holder: Any) -> Topics:
    """Topics for anything that carries the fields they come from: a record being
    crawled, or an entry already stored (when the mapping file has changed)."""
    return derive_topics(
        mapping,
        name=holder.name,
        summary=holder.summary or "",
        taxonomy_terms=holder.taxonomy_terms or [],
        minimum_age=holder.minimum_age,
        maximum_age=holder.maximum_age,
        postcodes=holder.postcodes or [],
    )


def derive_topics(
    mapping: Mapping,
    *,
    name: str,
    summary: str,
    taxonomy_terms: Sequence[str],
    minimum_age: int | None,
    maximum_age: int | None,
    postcodes: Sequence[str],
) -> Topics:
    terms = {t.strip().lower() for t in taxonomy_terms}
    text = f"{name}\n{summary}"
    categories = _match(mapping.categories, terms, text)
    bands = age_bands(minimum_age, maximum_age)
    # A service for young people 16-25 is, by definition, about preparing for adulthood.
    if "16-25" in bands and minimum_age is not None and minimum_age >= 14:
        if "preparing-for-adulthood" not in categories:
            categories.append("preparing-for-adulthood")
    localities: list[str] = []
    for postcode in postcodes:
        district = postcode_district(postcode)
        if district is None:
            continue
        slug = mapping.districts.get(district)
        if slug is None:
            # Out of area only when the council said which postcode areas are its own.
            area = re.match(r"[A-Z]+", district)
            inside = area is not None and area.group(0) in mapping.home_areas
            slug = OUT_OF_AREA if mapping.home_areas and not inside else None
        if slug and slug not in localities:
            localities.append(slug)
    return Topics(
        age_bands=bands,
        needs=_match(mapping.needs, terms, text),
        categories=[c for c in CATEGORIES if c in categories],
        localities=localities,
    )
