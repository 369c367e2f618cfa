"""Pinyin for Han text and the reading of Latin query words as pinyin.

At index time each Han character of the short fields (titles, creators, periods, types) gives
its toneless syllable and its initial letter, both at the character's position, so that
`maijishan`, `mai ji shan` and `mjs` all become phrase queries that find 麥積山. At query time
a Latin word is split into syllables when it can be read as pinyin.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PINYIN_DICT

_VOWELS = set("aeiouv")
MAX_SYLLABLE = 6  # "zhuang", "shuang"


@lru_cache(maxsize=1)
def syllable_set() -> frozenset[str]:
    """Return every toneless pinyin syllable the dictionary knows (ü written v)."""
    found: set[str] = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = lazy_pinyin_plain(reading)
            # Interjections without a vowel (呣 m, 嗯 ng) would make initials read as syllables.
            if plain and _VOWELS & set(plain):
                found.add(plain)
    return frozenset(found)


def lazy_pinyin_plain(reading: str) -> str:
    """Return a toned reading ("lǜ") as plain letters ("lv")."""
    decomposed = unicodedata.normalize("NFD", reading.strip().lower()).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch.isalpha())


def _no_reading(chars: str) -> str:
    """Stand in for characters pypinyin cannot read: one empty reading each."""
    return " " * len(chars)


def syllables_of(han_run: str) -> list[str]:
    """Return one toneless syllable per character of a run of Han characters."""
    readings = lazy_pinyin(han_run, style=Style.NORMAL, v_to_u=False, errors=_no_reading)
    if len(readings) != len(han_run):
        # pypinyin keeps characters aligned one to one; anything else means no reading.
        return [""] * len(han_run)
    return [r.strip().lower() for r in readings]


def split_syllables(word: str) -> list[str] | None:
    """Return word split into the fewest pinyin syllables ("maijishan" → mai ji shan), or None."""
    word = word.lower().replace("ü", "v").replace("'", "")
    if not word or not word.isascii() or not word.isalpha() or len(word) > 60:
        return None
    known = syllable_set()
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - MAX_SYLLABLE), end):
            head = best[start]
            if head is not None and word[start:end] in known:
                candidate = head + [word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(word)]


def looks_like_initials(word: str) -> bool:
    """Tell whether word reads as the initials of a Chinese phrase ("mjs", "qtq")."""
    lowered = word.lower()
    return 2 <= len(lowered) <= 8 and lowered.isascii() and lowered.isalpha() \
        and not (_VOWELS & set(lowered))


def pinyin_terms(han_run: str) -> Iterator[tuple[int, str, str]]:
    """Yield (offset in run, syllable, initial) for each character that has a reading."""
    for offset, syllable in enumerate(syllables_of(han_run)):
        if syllable:
            yield offset, syllable, syllable[0]
