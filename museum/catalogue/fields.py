"""Normalisation of catalogue field values: slugs, sort keys, bilingual titles and lists."""

from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

from museum.search.analysis import contains_han

LIST_SEPARATOR = " | "
_LEADING_ARTICLES = re.compile(r"^(the|a|an|le|la|les|l'|de|het|een|der|die|das)\s+", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Return value with control characters removed, newlines unified and outer space trimmed."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", value).strip()


def slugify(name: str) -> str:
    """Return a URL slug for a name: ASCII lowercase words joined by hyphens, pinyin for Chinese."""
    if contains_han(name):
        name = " ".join(lazy_pinyin(name))
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:100] or "collection"


def sort_title(title: str) -> str:
    """Return the key titles sort by: casefolded, without leading articles or punctuation."""
    key = _LEADING_ARTICLES.sub("", title.strip().strip("\"'“”‘’《》「」[]()")).casefold()
    return key[:200]


def split_bilingual_title(title: str) -> tuple[str, str]:
    """Split 'English\\n中文' or 'English 中文' into (Chinese, English); others pass through."""
    title = clean_text(title)
    if not contains_han(title) or not re.search(r"[A-Za-z]", title):
        return title, ""
    lines = [line.strip() for line in title.split("\n") if line.strip()]
    if len(lines) >= 2:
        han = [line for line in lines if contains_han(line)]
        latin = [line for line in lines if not contains_han(line)]
        if han and latin:
            return " ".join(han), " ".join(latin)
    # One line: the Chinese title usually follows the English one.
    match = re.match(r"^(?P<latin>[^\u3400-\u9fff\uf900-\ufaff]+?)\s+(?P<han>[\u3400-\u9fff\uf900-\ufaff].*)$",
                     title)
    if match and not contains_han(match.group("latin")):
        return match.group("han").strip(), match.group("latin").strip()
    return title, ""


def split_list(value: str) -> list[str]:
    """Split a list cell on ' | ' (or a bare '|') into its non-empty parts."""
    return [part.strip() for part in value.split("|") if part.strip()]
