"""Derive numeric begin/end years (negative for BCE) from the free-text dates found in records.

Covers the Western forms of the default exhibit (1883, c. 1880-1885, 1955–1957, 1650s,
19th century, 5000 BCE); Chinese dynasty and reign-era names are the search issue's data table.
"""

from __future__ import annotations

import re

_DASH = r"\s*(?:-|–|—|to|~|－)\s*"
_CIRCA = r"(?:c\.|ca\.|circa|about|約|约)?\s*"
_ERA = r"\s*(?P<era>bce|b\.c\.e\.|bc|b\.c\.|ce|c\.e\.|ad|a\.d\.)?"

_ERA2 = _ERA.replace("era", "era2")
_RANGE = re.compile(rf"^{_CIRCA}(?P<a>\d{{1,4}}){_ERA}{_DASH}{_CIRCA}(?P<b>\d{{1,4}}){_ERA2}$", re.I)
_YEAR = re.compile(rf"^{_CIRCA}(?P<a>\d{{1,4}}){_ERA}\??$", re.I)
_DECADE = re.compile(rf"^{_CIRCA}(?P<a>\d{{3}}0)'?s$", re.I)
_CENTURY = re.compile(
    r"^(?:(?P<part>early|mid|mid-|late)\s*-?\s*)?(?P<n>\d{1,2})(?:st|nd|rd|th)\s+century" + _ERA + "$",
    re.I,
)
_ZH_CENTURY = re.compile(r"^(?P<bce>公元前)?(?P<n>\d{1,2})世紀|^(?P<bce2>公元前)?(?P<n2>\d{1,2})世纪")
_BCE = {"bce", "b.c.e.", "bc", "b.c."}


def _signed(year: int, era: str | None) -> int:
    """Return year as a signed number, negative when era is BCE."""
    return -year if era and era.lower() in _BCE else year


def parse_years(text: str) -> tuple[int | None, int | None]:
    """Return (begin, end) years for a date text, or (None, None) when it cannot be read."""
    cleaned = " ".join(text.replace("，", ",").split()).strip(" .;,")
    if not cleaned:
        return None, None
    if m := _YEAR.match(cleaned):
        year = _signed(int(m.group("a")), m.group("era"))
        return year, year
    if m := _RANGE.match(cleaned):
        era_b = m.group("era2")
        # "500-400 BCE": the trailing era applies to both ends.
        era_a = m.group("era") or era_b
        a, b = _signed(int(m.group("a")), era_a), _signed(int(m.group("b")), era_b)
        if not era_a and not era_b and len(m.group("b")) < len(m.group("a")):
            # "1880-85" means 1880-1885.
            prefix = m.group("a")[: len(m.group("a")) - len(m.group("b"))]
            b = int(prefix + m.group("b"))
        return (a, b) if a <= b else (None, None)
    if m := _DECADE.match(cleaned):
        start = int(m.group("a"))
        return start, start + 9
    if m := _CENTURY.match(cleaned):
        return _century(int(m.group("n")), m.group("era"), (m.group("part") or "").rstrip("-"))
    if m := _ZH_CENTURY.match(cleaned):
        n = int(m.group("n") or m.group("n2"))
        return _century(n, "bce" if (m.group("bce") or m.group("bce2")) else None, "")
    return None, None


def _century(n: int, era: str | None, part: str) -> tuple[int | None, int | None]:
    """Return the years of the nth century (or its early/mid/late third)."""
    if n < 1:
        return None, None
    if era and era.lower() in _BCE:
        begin, end = -(n * 100), -((n - 1) * 100 + 1)
    else:
        begin, end = (n - 1) * 100 + 1, n * 100
    third = (end - begin + 1) // 3
    if part.lower() == "early":
        end = begin + third - 1
    elif part.lower() == "mid":
        begin, end = begin + third, begin + 2 * third - 1
    elif part.lower() == "late":
        begin = begin + 2 * third
    return begin, end
