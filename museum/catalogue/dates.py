"""Numeric begin/end years (negative for BCE, no year zero) from the date texts of records: Western
forms (c. 1880-1885, 1650s, late 19th century, 5000 BCE), Chinese ones (公元前3世紀, 1880年代) and
named periods read with the period table (清乾隆, 明 萬曆三十年, 明末清初); the rest stays text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from museum.catalogue.periods import Period, is_within, match_periods

Span = tuple[int, int]
Part = tuple[int, int]   # (i, n): the i-th of n equal parts, e.g. (2, 3) is the last third

_MAX_YEAR = 9999          # CE years beyond this are typing slips, not dates
_BCE = "bce"
_CE = "ce"

_PARTS: dict[str, Part] = {
    "early": (0, 3), "mid": (1, 3), "middle": (1, 3), "high": (1, 3), "late": (2, 3),
    "first half of": (0, 2), "second half of": (1, 2), "last half of": (1, 2), "latter half of": (1, 2),
    "first quarter of": (0, 4), "second quarter of": (1, 4), "third quarter of": (2, 4),
    "fourth quarter of": (3, 4), "last quarter of": (3, 4),
    "初": (0, 3), "初年": (0, 3), "初期": (0, 3), "初葉": (0, 3), "初叶": (0, 3), "早期": (0, 3), "前期": (0, 3),
    "早": (0, 3), "盛": (1, 3), "中期": (1, 3), "中葉": (1, 3), "中叶": (1, 3),
    "末": (2, 3), "末年": (2, 3), "末期": (2, 3), "末葉": (2, 3), "末叶": (2, 3), "晚": (2, 3), "晚期": (2, 3),
    "後期": (2, 3), "后期": (2, 3), "上半葉": (0, 2), "上半叶": (0, 2), "下半葉": (1, 2), "下半叶": (1, 2),
}
_EN_PART = (r"(?:(?P<part>early|mid|middle|late|(?:first|second|last|latter) half of|"
            r"(?:first|second|third|fourth|last) quarter of)(?:\s+the)?\s*-?\s*)?")
_ZH_PART = (r"(?P<zpart>上半葉|上半叶|下半葉|下半叶|初年|初期|初葉|初叶|早期|前期|中葉|中叶|中期"
            r"|末年|末期|末葉|末叶|晚期|後期|后期|初|末)?")

_CIRCA = r"(?:(?:c|ca|circa|about|around|approx|approximately)\.?\s*|約|约|大約|大约)?"
_ERA = r"(?:\s*(?P<era>b\.?\s?c\.?(?:\s?e\.?)?|c\.?\s?e\.?|a\.?\s?d\.?))?"
_UNSURE = r"\s*\??"
# Months only place a date in its year; full names before abbreviations so "may" is not "ma".
_MONTH = (r"(?P<month>january|february|march|april|may|june|july|august|september|october|november|december"
          r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?")

_EN_CENTURY = re.compile(rf"{_CIRCA}{_EN_PART}(?P<n>[0-9]{{1,2}})\s*(?:st|nd|rd|th)"
                         rf"(?P<word>\s*(?:century|cent\.?|c(?![a-z])\.?(?!\s?e)))?{_UNSURE}{_ERA}{_UNSURE}", re.I)
_EN_DECADE = re.compile(rf"{_CIRCA}{_EN_PART}(?P<n>[0-9]{{3}}0|[0-9]0)'?s{_UNSURE}", re.I)
_EN_MONTH = re.compile(rf"{_CIRCA}(?:[0-9]{{1,2}}\s+)?{_MONTH}(?:\s+[0-9]{{1,2}}(?:st|nd|rd|th)?)?"
                       rf"(?:,?\s+(?P<n>[0-9]{{1,4}}))?{_ERA}{_UNSURE}", re.I)
_EN_NUMERIC = re.compile(r"(?P<a>[0-9]{1,2})[/.](?P<b>[0-9]{1,2})[/.](?P<n>[0-9]{4})"
                         r"|(?P<n2>[0-9]{4})-(?P<a2>[0-9]{1,2})-(?P<b2>[0-9]{1,2})")
_EN_YEAR = re.compile(rf"{_CIRCA}(?:(?P<ad>a\.?\s?d\.?)\s*)?(?P<n>[0-9]{{1,5}}){_UNSURE}{_ERA}{_UNSURE}", re.I)

_ZH_NUMBER = r"[0-9]{1,5}|[〇零一二三四五六七八九十廿卅卌百千兩两]{1,8}"
_ZH_CIRCA = r"(?:約|约|大約|大约|大概)?\s*"
_ZH_ERA = r"(?P<zera>公元前|西元前|紀元前|纪元前|前|公元|西元|紀元|纪元)?\s*"
_ZH_ABOUT = r"\s*(?:左右|前後|前后)?"
_ZH_POINT = re.compile(
    rf"{_ZH_CIRCA}{_ZH_ERA}(?P<n>{_ZH_NUMBER})\s*(?P<unit>年代|年|世紀|世纪)?\s*{_ZH_PART}{_ZH_ABOUT}")
_ZH_DECADE_OF_CENTURY = re.compile(
    rf"{_ZH_CIRCA}{_ZH_ERA}(?P<c>{_ZH_NUMBER})\s*世[紀纪]\s*(?P<d>[0-9]0|[一二三四五六七八九]十)\s*年代\s*{_ZH_PART}{_ZH_ABOUT}")

# Where a text may be cut into two ends of a range.
_DASH = re.compile(r"\s*(?:-|–|—|‒|―|~|〜|\bto\b|\buntil\b|\bor\b|至|到)\s*", re.I)
# Comma-like breaks between independent statements: "1828, printed 1893".
_SEPARATORS = re.compile(r"[,;、]")
# "(designed)", "(manufactured)": the roles of several dates of one object.
_ROLES = re.compile(r"\s*\((?:designed|manufactured|made|cast|printed|published|executed|issued|"
                    r"conceived|fabricated|modell?ed|carved|painted|drawn|edition)\)\s*", re.I)
_LABELLED = re.compile(r"(?P<label>.+?)\s*\((?P<inner>[^()]+)\)")
_LABEL_WORD = re.compile(r"(?:period|dynasty|era|reign|style|culture|時期|时期|時代|时代|朝|代)$", re.I)

# What may stand between period names in a date (see _Reader.gap).
_ERA_NUMBER = r"元|[0-9]{1,2}|[〇零一二三四五六七八九十廿卅卌兩两]{1,4}"   # no reign lasted 100 years
_GAP_TOKEN = re.compile(
    r"(?P<punct>[\s,;:.·・、()\[\]/&~\-–—?]+)"
    r"|(?P<enyear>(?P<eyn>[0-9]{1,2})(?:st|nd|rd|th)\s+year\s+of(?:\s+the)?)(?![a-z])"
    rf"|(?P<erayear>(?:{_ERA_NUMBER})\s*年)(?![代間间])"
    r"|(?P<years>(?:公元前|公元|前)?[0-9]{1,5}\s*(?:年代|年)?(?:\s*(?:-|–|—|~|至|到)\s*(?:公元前|公元|前)?"
    r"[0-9]{1,5}\s*(?:年代|年)?)?(?:\s*(?:bce|bc|b\.c\.|ce|ad|a\.d\.)(?![a-z]))?)"
    r"|(?P<ganzhi>[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥])年?"
    rf"|{_ZH_PART.replace('?P<zpart>', '?P<zhpart>').removesuffix('?')}"   # 末, 初, 中期 ... after a name
    r"|(?P<zhprefix>[晚早盛])"
    r"|(?P<filler>年間|年间|年製|年制|年造|年款|時期|时期|時代|时代|期間|期间|之間|之间|款|朝|代|間|间|至|到|或|與|与|和|及|之"
    r"|約|约|大約|大约|左右|前後|前后)"
    r"|(?P<enpart>early|mid|middle|late|high)(?![a-z])"
    r"|(?P<enfill>dynasty|dynasties|period|periods|reign|reigns|era|emperor|mark|culture|kingdom|kingdoms"
    r"|and|or|to|of|the|c|ca|circa|about|around)(?![a-z])\.?",
    re.I)
_ERA_YEAR_FIRST = re.compile(rf"\s*(?:(?:{_ERA_NUMBER})\s*年|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥])")

_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_ZH_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_years(text: str) -> tuple[int | None, int | None]:
    """Return (begin, end) years for a date text, or (None, None) when it cannot be read."""
    cleaned = _normalise(text)
    span = _parse_text(cleaned) if cleaned else None
    if span is None or span[0] > span[1] or 0 in span:
        return None, None
    return span


def _normalise(text: str) -> str:
    """Return text with compatibility forms unified (fullwidth digits, ，) and spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("。", ".")
    return " ".join(text.split()).strip(" .;,:")


def _parse_text(text: str) -> Span | None:
    """Return the span of a whole date text, reading comma-separated statements if need be."""
    span = _parse_segment(text)
    if span is not None:
        return span
    pieces = _SEPARATORS.split(text)
    if len(pieces) < 2:
        return None
    return _most_specific([s for piece in pieces if (s := _parse_segment(piece)) is not None])


def _most_specific(spans: list[Span]) -> Span | None:
    """Return the narrowest of several statements' spans that agrees with the first."""
    if not spans:
        return None
    # "1828, printed 1893": the first statement dates the object; a later one that agrees with
    # it but is narrower ("Edo period (1603-1867), c. 1790-1830") says more.
    first = spans[0]
    agreeing = [s for s in spans if s[0] <= first[1] and first[0] <= s[1]]
    return min(agreeing, key=lambda s: s[1] - s[0])


def _parse_segment(text: str) -> Span | None:
    """Return the span of one statement: explicit years, several dates, or named periods."""
    text = text.strip(" .;,:")
    if not text:
        return None
    return _explicit(text) or _alternatives(text) or _labelled(text) or _named(text)


# ----- explicit years: points and ranges ----------------------------------------------------


@dataclass(frozen=True)
class _Point:
    """One end of a date as written, before the other end has lent it anything."""

    number: int | None     # None: a month without a year ("February" in "February - March 1944")
    unit: str              # "year", "decade", "century", "ordinal" (12th in 12th-13th), "number"
    era: str | None        # _BCE, _CE, or None when not written
    part: Part | None
    width: int             # digits written, for "1880-85"


def _point(text: str) -> _Point | None:
    """Return the point a text is, or None."""
    if m := _EN_YEAR.fullmatch(text):
        era = _era(m.group("era")) or (_CE if m.group("ad") else None)
        return _Point(int(m.group("n")), "year", era, None, len(m.group("n")))
    if m := _EN_CENTURY.fullmatch(text):
        unit = "century" if m.group("word") else "ordinal"
        return _Point(int(m.group("n")), unit, _era(m.group("era")), _part(m.group("part")), 0)
    if m := _EN_DECADE.fullmatch(text):
        return _Point(int(m.group("n")), "decade", None, _part(m.group("part")), len(m.group("n")))
    if m := _EN_NUMERIC.fullmatch(text):
        month, day = int(m.group("a") or m.group("a2")), int(m.group("b") or m.group("b2"))
        if not (1 <= min(month, day) <= 12 and max(month, day) <= 31):
            return None
        return _Point(int(m.group("n") or m.group("n2")), "year", None, None, 4)
    if m := _EN_MONTH.fullmatch(text):
        number = m.group("n")
        return _Point(int(number) if number else None, "year", _era(m.group("era")), None, len(number or ""))
    if m := _ZH_DECADE_OF_CENTURY.fullmatch(text):
        century, decade = _zh_number(m.group("c")), _zh_number(m.group("d"))
        if century is None or decade is None or not 1 <= century <= 99:
            return None
        return _Point((century - 1) * 100 + decade, "decade", _zh_era(m.group("zera")), _part(m.group("zpart")), 4)
    if m := _ZH_POINT.fullmatch(text):
        number = _zh_number(m.group("n"))
        if number is None:
            return None
        unit = {"年": "year", "年代": "decade", None: "number"}.get(m.group("unit"), "century")
        if unit == "number" and m.group("zpart"):
            return None
        return _Point(number, unit, _zh_era(m.group("zera")), _part(m.group("zpart")), len(m.group("n")))
    return None


def _era(word: str | None) -> str | None:
    """Return _BCE or _CE for an era abbreviation (BCE, B.C., CE, AD), None for none."""
    if not word:
        return None
    return _BCE if word.lower().lstrip().startswith("b") else _CE


def _zh_era(word: str | None) -> str | None:
    """Return _BCE for 公元前/前, _CE for 公元/西元, None for none."""
    if not word:
        return None
    return _BCE if word.endswith("前") else _CE


def _part(word: str | None) -> Part | None:
    """Return the part of a span a word names (late → last third), or None."""
    if not word:
        return None
    return _PARTS.get(" ".join(word.lower().split()))


def _zh_number(text: str) -> int | None:
    """Return the value of Arabic or Chinese numerals (三十, 二十五, 廿五, 一八八〇, 一百零五), or None."""
    if text.isascii():
        return int(text) if text.isdecimal() else None
    text = text.replace("廿", "二十").replace("卅", "三十").replace("卌", "四十")
    if not any(unit in text for unit in _ZH_UNITS):
        # Digit by digit, as years are often written: 一八八〇.
        if text and all(c in _ZH_DIGITS for c in text):
            return int("".join(str(_ZH_DIGITS[c]) for c in text))
        return None
    total, digit, smallest = 0, None, 10_000
    for char in text:
        if char in _ZH_UNITS:
            unit = _ZH_UNITS[char]
            if unit >= smallest:
                return None   # units must fall: 一百二十, not 十百
            total += (1 if digit is None else digit) * unit
            digit, smallest = None, unit
        elif char in _ZH_DIGITS:
            if _ZH_DIGITS[char] == 0:
                continue   # 一百零五: the zero only holds a place
            if digit is not None:
                return None
            digit = _ZH_DIGITS[char]
        else:
            return None
    return total + (digit or 0)


def _span(point: _Point) -> Span | None:
    """Return the years of a point whose unit and era are settled."""
    n = point.number
    if n is None or n < 1:
        return None
    if point.unit == "century":
        if n > 99:
            return None
        begin, end = ((-(n * 100), -((n - 1) * 100 + 1)) if point.era == _BCE
                      else ((n - 1) * 100 + 1, n * 100))
    elif point.unit == "decade":
        if point.era == _BCE or n % 10 or point.width < 4:
            return None
        begin, end = n, n + 9
    elif point.unit in ("year", "number"):
        if point.era != _BCE and n > _MAX_YEAR:
            return None
        begin = end = -n if point.era == _BCE else n
    else:
        return None
    return _portion((begin, end), point.part) if point.part else (begin, end)


def _explicit(text: str) -> Span | None:
    """Return the span of a year, decade or century, or of a range of two of them."""
    single = _point(text)
    if single is not None:
        # A bare number ("三十") is a year only with its era written: 公元前221.
        return None if single.unit == "number" and single.era is None else _span(single)
    for dash in _DASH.finditer(text):
        left, right = _point(text[:dash.start()].strip()), _point(text[dash.end():].strip())
        if left is not None and right is not None and (span := _range(left, right)) is not None:
            return span
    return None


def _range(left: _Point, right: _Point) -> Span | None:
    """Return the span from left to right, each end lending the other what it leaves unwritten."""
    if left.number is None and right.number is not None:
        left = replace(left, number=right.number)   # "February - March 1944"
    if left.unit in ("ordinal", "number") and right.unit != "number":
        left = replace(left, unit=right.unit)       # "12th-13th century", "1880–1885年"
    if right.unit == "number" and left.unit != "number":
        right = replace(right, unit=left.unit)
    if left.unit == "decade" and right.unit == "decade" and right.width == 2 and left.number is not None:
        # "1880s-90s"
        right = replace(right, number=left.number // 100 * 100 + (right.number or 0), width=4)
    if left.era is None and right.era is not None:
        left = replace(left, era=right.era)         # "500-400 BCE"
    elif right.era is None and left.era == _BCE and (right.number or 0) < (left.number or 0):
        right = replace(right, era=_BCE)            # "公元前475–221年", and not 221 CE
    elif (left.era is None and right.era is None and left.unit == right.unit == "year"
          and left.number is not None and right.number is not None and 0 < right.width < left.width):
        # "1880-85" is 1880-1885.
        prefix = str(left.number)[: left.width - right.width]
        right = replace(right, number=int(prefix + str(right.number).zfill(right.width)), width=left.width)
    if left.unit == right.unit == "number" and left.era is None and right.era is None:
        return None
    begin, end = _span(left), _span(right)
    if begin is None or end is None or begin[0] > end[1]:
        return None
    return begin[0], end[1]


def _portion(span: Span, part: Part) -> Span:
    """Return the i-th of n equal parts of a span (the last part takes the remainder)."""
    index, count = part
    first, last = _astronomical(span[0]), _astronomical(span[1])
    size = (last - first + 1) // count
    if size < 1:
        return span
    begin = first + index * size
    end = last if index == count - 1 else begin + size - 1
    return _civil(begin), _civil(end)


def _astronomical(year: int) -> int:
    """Return a year on the scale with a year 0 (1 BCE = 0), where spans can be measured."""
    return year + 1 if year < 0 else year


def _civil(year: int) -> int:
    """Return an astronomical year as a civil one (0 = 1 BCE)."""
    return year - 1 if year <= 0 else year


# ----- several dates of one object -----------------------------------------------------------


def _alternatives(text: str) -> Span | None:
    """Return the span covering "1897/1902" or "1956 (designed) 1975 (manufactured)"."""
    if "/" in text:
        pieces = text.split("/")
        if not all(re.search(r"[0-9]{3}", p) for p in pieces):
            return None   # 13/13/1917 is a bad day, not three dates
    elif _ROLES.search(text):
        pieces = _ROLES.split(text)
    else:
        return None
    spans = [_explicit(p.strip(" ,;")) for p in pieces if p.strip(" ,;")]
    if len(spans) < 2:
        return None
    begins: list[int] = []
    ends: list[int] = []
    for span in spans:
        if span is None or (begins and span[0] < begins[-1]):
            return None   # unreadable, or out of order ("1880/85" is not 85-1880)
        begins.append(span[0])
        ends.append(span[1])
    return begins[0], max(ends)


def _labelled(text: str) -> Span | None:
    """Return the explicit years of "Qing dynasty (1644–1911)" or "乾隆三十年(1765)"."""
    m = _LABELLED.fullmatch(text)
    if m is None:
        return None
    inner = _explicit(m.group("inner").strip())
    if inner is None:
        return None
    label = m.group("label").strip(" ,")
    # Explicit years win over the table, but only after something that is a period.
    return inner if _LABEL_WORD.search(label) or _named(label) is not None else None


# ----- named periods ----------------------------------------------------------------------


@dataclass
class _Group:
    """A period as far as the date has narrowed it: 明 → 萬曆 → 萬曆三十年."""

    period: Period
    part: Part | None = None
    years: Span | None = None

    def span(self) -> Span:
        """Return the years the group stands for."""
        if self.years is not None:
            return self.years
        whole = (self.period.begin, self.period.end)
        return _portion(whole, self.part) if self.part else whole


class _Reader:
    """Reads a date made of period names and what may stand between them, left to right."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.explicit: list[Span] = []
        self.pending_part: Part | None = None
        self.pending_year: int | None = None

    def period(self, period: Period) -> bool:
        """Take a period name; return False if the date stops making sense."""
        current = self.groups[-1] if self.groups else None
        if current is not None and (is_within(period, current.period) or is_within(current.period, period)):
            # "Ming dynasty, Wanli period", "清 Qing dynasty": one period, named more closely.
            if is_within(period, current.period) and period is not current.period:
                if current.part is not None or current.years is not None:
                    return False   # 明末萬曆: a part of the dynasty, then a reign
                current.period = period
        else:
            current = _Group(period)
            self.groups.append(current)
        return self._apply_pending(current)

    def _apply_pending(self, group: _Group) -> bool:
        """Give a group the part ("late", 晚) or era year ("30th year of") written before its name."""
        part, year = self.pending_part, self.pending_year
        self.pending_part = self.pending_year = None
        if part is not None:
            if group.part is not None:
                return False
            group.part = part
        return year is None or self._era_year(group, year)

    def gap(self, text: str) -> bool:
        """Take the text between two names; return False if any of it is not date vocabulary."""
        stripped = text.strip(" ,;:.·・、()[]")
        if not stripped:
            return True
        # "三十年" after a reign is its thirtieth year, not the year 30.
        if not _ERA_YEAR_FIRST.match(stripped) and (span := _explicit(stripped)) is not None:
            self.explicit.append(span)
            return True
        position = 0
        while position < len(text):
            m = _GAP_TOKEN.match(text, position)
            if m is None or m.end() == position or not self._token(m):
                return False
            position = m.end()
        return True

    def _token(self, m: re.Match[str]) -> bool:
        """Take one token of a gap."""
        current = self.groups[-1] if self.groups else None
        kind = m.lastgroup
        if kind == "eyn":
            kind = "enyear"
        if kind == "years":
            span = _explicit(m.group(0).strip())
            if span is None:
                return False
            self.explicit.append(span)
        elif kind == "erayear":
            word = m.group("erayear").rstrip("年 ")
            number = 1 if word == "元" else _zh_number(word)
            return current is not None and number is not None and self._era_year(current, number)
        elif kind == "ganzhi":
            return self._sexagenary(m.group("ganzhi"))
        elif kind == "zhpart":
            part = _part(m.group("zhpart"))
            if current is None or current.part is not None:
                self.pending_part = part   # 初唐: before the name
            else:
                current.part = part
        elif kind in ("zhprefix", "enpart"):
            self.pending_part = _part(m.group(kind))
        elif kind == "enyear":
            self.pending_year = int(m.group("eyn"))
        return True

    @staticmethod
    def _era_year(group: _Group, number: int) -> bool:
        """Narrow a reign to its number-th year (元年 is 1); a year beyond its end is unreadable."""
        if not group.period.era_years or group.years is not None or number < 1:
            return False
        year = _civil(_astronomical(group.period.begin) + number - 1)
        if year > group.period.end:
            return False
        group.years = (year, year)
        return True

    def _sexagenary(self, name: str) -> bool:
        """Narrow the current reign to the years within it that carry this 干支 name."""
        current = self.groups[-1] if self.groups else None
        if current is None or not current.period.era_years:
            return False
        stem, branch = _STEMS.index(name[0]), _BRANCHES.index(name[1])
        years = [y for y in range(current.period.begin, current.period.end + 1)
                 if y != 0 and (_astronomical(y) - 4) % 10 == stem and (_astronomical(y) - 4) % 12 == branch]
        if current.years is not None:
            # 乾隆三十九年甲午: the two must agree.
            return current.years[0] in years
        if not years:
            return False
        # A reign over sixty years long (康熙) has some names twice; the date is then either.
        current.years = (years[0], years[-1])
        return True

    def result(self) -> Span | None:
        """Return the span read: the explicit years if any were written, else the named periods'."""
        if self.pending_part is not None or self.pending_year is not None:
            return None
        if self.explicit:
            return _most_specific(self.explicit)   # "Kangxi period (1662–1722), c. 1700"
        spans = [g.span() for g in self.groups]
        if not spans:
            return None
        # 明末清初, "Yuan or Ming": several periods name the span from the first to the last.
        return min(s[0] for s in spans), max(s[1] for s in spans)


def _named(text: str) -> Span | None:
    """Return the span of a date made of period names (清乾隆, 明 萬曆三十年, 明末清初)."""
    matches = match_periods(text, field=True)
    if not matches:
        return None
    reader = _Reader()
    position = 0
    for match in matches:
        if not reader.gap(text[position:match.start]) or not reader.period(match.period):
            return None
        position = match.end
    if not reader.gap(text[position:]):
        return None
    return reader.result()
