"""The materials vocabulary: which materials and techniques a record's medium text names.

Drives the search facet "Material" and lets an English word find a Chinese record (silk finds
絹本設色) because every matched material's names in all three languages are indexed with it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Material:
    """One entry of the vocabulary."""

    key: str
    names: dict[str, str]
    phrases: re.Pattern[str] | None   # several English words ("gelatin silver"), matched first
    words: re.Pattern[str] | None     # single English words
    chinese: tuple[str, ...]


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    """Return a whole-word, case-insensitive pattern for any of words (plural -s allowed)."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(r"\b(?:" + alternatives + r")s?\b", re.I)


@lru_cache(maxsize=1)
def all_materials() -> tuple[Material, ...]:
    """Return the vocabulary, loaded once from museum/data/materials.toml."""
    raw = (resources.files("museum") / "data" / "materials.toml").read_text("utf-8")
    entries = []
    for entry in tomllib.loads(raw)["material"]:
        english = list(entry.get("en", []))
        entries.append(Material(key=entry["key"], names=dict(entry["names"]),
                                phrases=_pattern([w for w in english if " " in w]),
                                words=_pattern([w for w in english if " " not in w]),
                                chinese=tuple(entry.get("zh", []))))
    return tuple(entries)


def materials_in(medium: str) -> list[Material]:
    """Return the materials a medium text names, in vocabulary order."""
    return list(_materials_in(medium)) if medium else []


# The same media recur across thousands of records ("gelatin silver print"): indexing asks once.
@lru_cache(maxsize=16384)
def _materials_in(medium: str) -> tuple[Material, ...]:
    """Return materials_in(medium) as a tuple, remembered."""
    found: list[Material] = []
    rest = medium
    # Phrases first, and taken out of the text: "gelatin silver print" is a photograph, not silver.
    for material in all_materials():
        if material.phrases is not None and material.phrases.search(rest):
            found.append(material)
            rest = material.phrases.sub(" ", rest)
    for material in all_materials():
        if material in found:
            continue
        if (material.words is not None and material.words.search(rest)) or any(z in rest for z in material.chinese):
            found.append(material)
    order = {m.key: i for i, m in enumerate(all_materials())}
    return tuple(sorted(found, key=lambda m: order[m.key]))


def material_label(key: str, locale: str) -> str:
    """Return the display name of a material key in locale ("en", "zh-Hant", "zh-Hans")."""
    for material in all_materials():
        if material.key == key:
            return material.names.get(locale) or material.names["en"]
    return key
