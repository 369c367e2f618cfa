"""The period table (museum/data/periods.toml) of Chinese dynasties, periods and Ming and Qing
reign eras; which periods a text names; the value, label and order of the "period" facet.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

LOCALES = ("zh-Hant", "zh-Hans", "en")
KINDS = ("dynasty", "period", "reign")
CENTURY_PREFIX = "century:"

# Words after a Chinese name that make it a period in running text.
_ZH_SUFFIXES = ("朝", "代", "時期", "时期", "時代", "时代", "年間", "年间", "年製", "年制", "初年", "初期",
                "早期", "前期", "中期", "中葉", "中叶", "晚期", "後期", "后期", "末年", "末期", "末", "初")
# Characters before a single-character dynasty that make it one: 晚清, 早明, 初唐, 盛唐.
_ZH_PREFIXES = "晚早初盛"
# An era year (乾隆三十年, 萬曆30年, 元年) or a sexagenary year (乾隆甲午) after a reign.
_ERA_YEAR = re.compile(r"(?:元|[0-9]{1,3}|[〇零一二三四五六七八九十廿卅卌百兩两]{1,6})年"
                       r"|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]")
# English words after a name, and the English words before one-word names.
_EN_SUFFIX = re.compile(r"\s*-?\s*(dynasty|dynasties|period|periods|reign|reigns|era|emperor|culture|kingdom)\b")
_EN_BEFORE = re.compile(r"\b(?:early|mid|middle|late|high)\s*-?\s*$")
_STRIPPED_SUFFIX = re.compile(r"\s+(?:dynasty|period|reign|era)$")
_YEARS_IN_NAME = re.compile(r"\s*\([^()]*\)$")
_UNKNOWN_LAST = 10**6   # sorts after any year


@dataclass(frozen=True, eq=False)
class Period:
    """One entry of the table.

    Compared by identity (eq=False): each key exists once, and identity keeps entries hashable
    even though names is a dict.
    """

    key: str
    kind: str
    parent: str | None
    names: dict[str, str]
    pinyin: str
    begin: int
    end: int
    aliases: tuple[str, ...]
    era_years: bool = False   # dates count years within it: 乾隆三十年, 民國三十年


@dataclass(frozen=True)
class PeriodMatch:
    """A period named in a text, with the character span of the name as written."""

    period: Period
    start: int
    end: int


@dataclass(frozen=True)
class _Table:
    """The loaded table and the look-ups built from it."""

    periods: tuple[Period, ...]
    by_key: dict[str, Period]
    zh: dict[str, Period]          # Chinese name or alias, as written
    en: dict[str, Period]          # folded English name, alias or bare form
    zh_lengths: tuple[int, ...]    # the lengths that occur, longest first
    en_lengths: tuple[int, ...]
    ordinary: frozenset[str]       # folded


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """Return char lowercased and without accents, but only when that keeps it one character."""
    if char in "’‘ʼʻ`´":
        return "'"
    if char in "‐‑‒–—―－":
        return "-"
    decomposed = unicodedata.normalize("NFKD", char)
    base = decomposed[0] if decomposed and all(unicodedata.combining(c) for c in decomposed[1:]) else char
    lower = base.lower()
    # Offsets into the folded text must be offsets into the original: one character for one.
    return lower if len(lower) == 1 else char


def _fold(text: str) -> str:
    """Return text folded character by character (same length as text)."""
    return "".join(_fold_char(c) for c in text)


def _has_han(text: str) -> bool:
    """Return whether text contains a CJK character."""
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or c >= "\U00020000" for c in text)


def _english_forms(name: str) -> list[str]:
    """Return the folded forms an English name is matched by: as written, without years, bare."""
    forms = [_fold(name)]
    without_years = _YEARS_IN_NAME.sub("", forms[0])
    forms.append(without_years)
    forms.append(_STRIPPED_SUFFIX.sub("", without_years))
    return list(dict.fromkeys(f for f in forms if f))


def _build(raw: dict[str, Any]) -> _Table:
    """Return the table from the parsed TOML, or raise ValueError if it is inconsistent."""
    entries = raw.get("period")
    if not isinstance(entries, list):
        raise ValueError("periods.toml has no [[period]] entries")
    periods: list[Period] = []
    by_key: dict[str, Period] = {}
    for entry in entries:
        names = {loc: str(entry["names"][loc]) for loc in LOCALES}
        period = Period(key=str(entry["key"]), kind=str(entry["kind"]), parent=str(entry.get("parent") or "") or None,
                        names=names, pinyin=str(entry.get("pinyin", "")), begin=int(entry["begin"]),
                        end=int(entry["end"]), aliases=tuple(str(a) for a in entry.get("aliases", [])),
                        era_years=bool(entry.get("era_years", entry["kind"] == "reign")))
        if period.key in by_key:
            raise ValueError(f"period key {period.key!r} is listed twice")
        if period.kind not in KINDS:
            raise ValueError(f"period {period.key!r} has unknown kind {period.kind!r}")
        if 0 in (period.begin, period.end) or period.begin > period.end:
            raise ValueError(f"period {period.key!r} has bad years {period.begin}..{period.end}")
        periods.append(period)
        by_key[period.key] = period
    for period in periods:
        seen = {period.key}
        parent = period.parent
        while parent is not None:
            if parent not in by_key or parent in seen:
                raise ValueError(f"period {period.key!r} has a missing or circular parent {parent!r}")
            seen.add(parent)
            parent = by_key[parent].parent

    zh: dict[str, Period] = {}
    en: dict[str, Period] = {}
    ambiguous: set[str] = set()

    def add(index: dict[str, Period], form: str, period: Period) -> None:
        # A form two periods share (Jin: 晉 and 金) names neither.
        if index.get(form, period) is not period:
            ambiguous.add(form)
        index[form] = period

    for period in periods:
        for name in (*period.names.values(), *period.aliases):
            if _has_han(name):
                add(zh, name, period)
            else:
                for form in _english_forms(name):
                    add(en, form, period)
    for form in ambiguous:
        zh.pop(form, None)
        en.pop(form, None)
    ordinary = raw.get("ordinary_words", [])
    return _Table(periods=tuple(periods), by_key=by_key, zh=zh, en=en,
                  zh_lengths=tuple(sorted({len(k) for k in zh}, reverse=True)),
                  en_lengths=tuple(sorted({len(k) for k in en}, reverse=True)),
                  ordinary=frozenset(_fold(str(w)) for w in (ordinary if isinstance(ordinary, list) else [])))


@cache
def _table() -> _Table:
    """Return the table, loaded once from the package data."""
    raw = (resources.files("museum") / "data" / "periods.toml").read_text("utf-8")
    return _build(tomllib.loads(raw))


def all_periods() -> tuple[Period, ...]:
    """Return every period, in table order (chronological within each level)."""
    return _table().periods


def period_by_key(key: str) -> Period | None:
    """Return the period with this key, or None."""
    return _table().by_key.get(key)


def parent_of(period: Period) -> Period | None:
    """Return the period's parent, or None for a top-level entry."""
    return None if period.parent is None else _table().by_key[period.parent]


def dynasty_of(period: Period) -> Period:
    """Return the top-level entry a period belongs to (itself when it is one)."""
    while (parent := parent_of(period)) is not None:
        period = parent
    return period


def is_within(period: Period, ancestor: Period) -> bool:
    """Return whether period is ancestor or lies below it in the table."""
    current: Period | None = period
    while current is not None:
        if current is ancestor:
            return True
        current = parent_of(current)
    return False


# ----- finding names in text -------------------------------------------------------------

# How names are found (match_periods):
#
# - Chinese names match in either script; English names case-insensitively and accent-folded, on
#   word boundaries, with or without a following "dynasty", "period", "reign" or "era". A form
#   two entries share ("Jin" is 晉 and 金) names neither.
# - Matches are taken longest first and never overlap, so 北宋 is the Northern Song, not 宋.
# - A single-character dynasty name (明, 清, 元, 金, 新, 周, 宋, 唐 ...) is a period only where the
#   context makes it one: followed by 朝, 代, 時期, 末, 初, 早期, 中期, 晚期 and the like or by one
#   of its own reign eras (清乾隆), or preceded by 晚/早/初/盛 (晚清, 初唐). Ordinary words that
#   begin with a name and go on (周末 "weekend", 夏初, 新時期; listed in the table) never are.
# - That is the rule for running text such as descriptions, the default. In a date or period
#   field (``field=True``) a single character may also stand alone or before a space, punctuation
#   or Latin text ("清 Qing dynasty", "明 萬曆三十年"), or begin a pair of dynasties in order (明清,
#   宋元); 明月 and 清風 stay words there too.
# - Running text is also stricter about names that are themselves ordinary words (春秋, 正德,
#   大清) and one-word English names of dynasties ("Ming Ying" may be a person, "Song" a song): they
#   need a suffix (時期, 年間, 三年; "dynasty", "period"), their dynasty or reign beside them
#   (明正德), or in English "early/mid/late" before them.


@dataclass(frozen=True)
class _Candidate:
    """A table form found in the text, before its context is judged."""

    period: Period
    start: int
    end: int
    english: bool


def _candidates(folded: str, table: _Table) -> list[_Candidate]:
    """Return every table form occurring in folded text (English ones on word boundaries)."""
    found: list[_Candidate] = []
    n = len(folded)
    for i, char in enumerate(folded):
        if char.isascii():
            if not char.isalpha() or (i > 0 and _is_word_char(folded[i - 1])):
                continue
            for length in table.en_lengths:
                period = table.en.get(folded[i:i + length]) if i + length <= n else None
                if period is not None and (i + length == n or not _is_word_char(folded[i + length])):
                    found.append(_Candidate(period, i, i + length, english=True))
                    break   # the longest English form at a place is the one meant
        else:
            for length in table.zh_lengths:
                period = table.zh.get(folded[i:i + length]) if i + length <= n else None
                if period is not None:
                    found.append(_Candidate(period, i, i + length, english=False))
    return found


def _is_word_char(char: str) -> bool:
    """Return whether char continues an English word."""
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class _Found:
    """All candidates of a text, indexed by where they start and end."""

    text: str
    starting: dict[int, list[_Candidate]]
    ending: dict[int, list[_Candidate]]

    @classmethod
    def of(cls, text: str, candidates: list[_Candidate]) -> _Found:
        """Return the index of candidates found in text."""
        starting: dict[int, list[_Candidate]] = {}
        ending: dict[int, list[_Candidate]] = {}
        for c in candidates:
            starting.setdefault(c.start, []).append(c)
            ending.setdefault(c.end, []).append(c)
        return cls(text, starting, ending)

    def after(self, position: int, *, across_space: bool = True) -> list[_Candidate]:
        """Return the candidates starting at position, or after the spaces there."""
        while across_space and position < len(self.text) and self.text[position].isspace():
            position += 1
        return self.starting.get(position, [])

    def before(self, position: int) -> list[_Candidate]:
        """Return the candidates ending at position, or before the spaces there."""
        while position > 0 and self.text[position - 1].isspace():
            position -= 1
        return self.ending.get(position, [])


def _chinese_context(c: _Candidate, found: _Found, table: _Table, field_text: bool) -> bool:
    """Return whether a Chinese candidate is a period where it stands (see "How names are found")."""
    text = found.text
    name = text[c.start:c.end]
    rest = text[c.end:c.end + 12]   # longer than any suffix, era year or ordinary word
    single = len(name) == 1
    for word in table.ordinary:
        # An ordinary word that starts with the name and goes on (周末, 新時期) is never a period.
        if len(word) > len(name) and word.startswith(name) and rest.startswith(word[len(name):]):
            return False
    if any(rest.startswith(s) for s in _ZH_SUFFIXES):
        return True
    if c.period.era_years and _ERA_YEAR.match(rest):
        return True
    if any(is_within(o.period, c.period) and o.period is not c.period for o in found.after(c.end)):
        return True   # 清乾隆, 大明宣德
    if any(is_within(c.period, o.period) and o.period is not c.period for o in found.before(c.start)):
        return True   # 明正德
    if single and c.start > 0 and text[c.start - 1] in _ZH_PREFIXES:
        return True
    if not field_text:
        return not single and name not in table.ordinary
    if not single or not _has_han(rest[:1]):
        return True   # any longer name; a single character alone or before space, punctuation, Latin
    # Two dynasties in order name a span (明清, 宋元); 清明 is the festival, not Qing-to-Ming.
    return any(o.period.begin > c.period.begin for o in found.after(c.end, across_space=False))


def _english_context(c: _Candidate, text: str, table: _Table, field_text: bool) -> bool:
    """Return whether an English candidate is a period where it stands (see "How names are found")."""
    if field_text:
        return True
    form = text[c.start:c.end]
    one_word = " " not in form and "-" not in form
    if form not in table.ordinary and (not one_word or c.period.kind == "reign"):
        return True
    return bool(_EN_SUFFIX.match(text, c.end) or _EN_BEFORE.search(text, 0, c.start))


def match_periods(text: str, *, field: bool = False) -> list[PeriodMatch]:
    """Return the periods named in text with the spans of their names, in text order.

    field=True says text is a short date or period field rather than running text; see "How
    names are found" for what that allows.
    """
    return list(_match_periods(text, field))


# Indexing asks about the same date and creator strings over and over ("c. 1950", "unknown
# Chinese"): remembering the answers took most of the date work out of a full rebuild.
@lru_cache(maxsize=16384)
def _match_periods(text: str, field: bool) -> tuple[PeriodMatch, ...]:
    """Return match_periods(text, field=field) as a tuple, remembered."""
    table = _table()
    folded = _fold(text)
    candidates = _candidates(folded, table)
    found = _Found.of(folded, candidates)
    chosen: list[_Candidate] = []
    taken = bytearray(len(folded))
    for c in sorted(candidates, key=lambda c: (c.start - c.end, c.start)):
        if any(taken[c.start:c.end]):
            continue
        if _english_context(c, folded, table, field) if c.english else _chinese_context(c, found, table, field):
            chosen.append(c)
            taken[c.start:c.end] = b"\x01" * (c.end - c.start)
    matches = []
    for c in sorted(chosen, key=lambda c: c.start):
        # An English name's span takes in its "dynasty" or "period", as the full names do.
        suffix = _EN_SUFFIX.match(folded, c.end) if c.english else None
        matches.append(PeriodMatch(c.period, c.start, suffix.end() if suffix else c.end))
    return tuple(matches)


def find_periods(text: str, *, field: bool = False) -> list[Period]:
    """Return the periods named in text, in text order (a period named twice is listed twice)."""
    return [m.period for m in match_periods(text, field=field)]


# ----- the search facet ------------------------------------------------------------------


def century_of(year: int) -> int:
    """Return the century of a year, negative for BCE (-1 BCE is in century -1)."""
    return (year - 1) // 100 + 1 if year > 0 else -((-year - 1) // 100 + 1)


def _midpoint(begin: int | None, end: int | None) -> int | None:
    """Return the middle year of begin..end (either may be missing), skipping the absent year 0."""
    if begin is None or end is None:
        return begin if end is None else end
    # Count on the astronomical scale (1 BCE = 0) so spans across the era have a true middle.
    middle = ((begin + 1 if begin < 0 else begin) + (end + 1 if end < 0 else end)) // 2
    return middle if middle > 0 else middle - 1


def facet_period(texts: Sequence[str], begin: int | None, end: int | None) -> str | None:
    """Return the period facet key: the dynasty the texts name, else the midpoint's century."""
    for text in texts:
        for period in find_periods(text or "", field=True):
            return dynasty_of(period).key
    year = _midpoint(begin, end)
    if year is None or year == 0:
        return None
    return f"{CENTURY_PREFIX}{century_of(year)}"


def _century_number(key: str) -> int | None:
    """Return n of a "century:n" key, or None when key is not one."""
    if not key.startswith(CENTURY_PREFIX):
        return None
    digits = key[len(CENTURY_PREFIX):]
    if not re.fullmatch(r"-?[0-9]{1,3}", digits) or int(digits) == 0:
        return None
    return int(digits)


def _locale(locale: str) -> str:
    """Return the table locale for a locale name: zh-Hant for Taiwan/Hong Kong/Macau, else zh-Hans or en."""
    parts = locale.replace("_", "-").lower().split("-")
    if parts[0] != "zh":
        return "en"
    return "zh-Hant" if {"hant", "tw", "hk", "mo"} & set(parts[1:]) else "zh-Hans"


def _ordinal(n: int) -> str:
    """Return 1st, 2nd, 3rd, 4th, 11th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def period_label(key: str, locale: str) -> str:
    """Return the display label of a period facet key in locale; an unknown key is its own label."""
    loc = _locale(locale)
    century = _century_number(key)
    if century is not None:
        if loc == "en":
            return f"{_ordinal(abs(century))} century" + (" BCE" if century < 0 else "")
        word = "世紀" if loc == "zh-Hant" else "世纪"
        return f"{'公元前' if century < 0 else ''}{abs(century)}{word}"
    period = period_by_key(key)
    return key if period is None else period.names[loc]


def period_sort_key(key: str) -> int:
    """Return the chronological sort key of a facet key (its first year); unknown keys sort last."""
    century = _century_number(key)
    if century is not None:
        return (century - 1) * 100 + 1 if century > 0 else century * 100
    period = period_by_key(key)
    return _UNKNOWN_LAST if period is None else period.begin
