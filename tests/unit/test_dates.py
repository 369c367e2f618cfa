"""Date parsing and the period table: parse_years, find_periods, the period facet and the data."""

from __future__ import annotations

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from museum.catalogue.dates import parse_years
from museum.catalogue.periods import (
    LOCALES,
    all_periods,
    dynasty_of,
    facet_period,
    find_periods,
    match_periods,
    parent_of,
    period_by_key,
    period_label,
    period_sort_key,
)

Years = tuple[int | None, int | None]
NONE: Years = (None, None)


# ----- parse_years ---------------------------------------------------------------------------

WESTERN: list[tuple[str, Years]] = [
    ("1883", (1883, 1883)), ("c. 1880-1885", (1880, 1885)), ("c.1880-1885", (1880, 1885)),
    ("約1880–1885", (1880, 1885)), ("1955-1957", (1955, 1957)), ("1880-85", (1880, 1885)),
    ("1650s", (1650, 1659)), ("19th century", (1801, 1900)), ("late 19th century", (1867, 1900)),
    ("5000 BCE", (-5000, -5000)), ("500-400 BCE", (-500, -400)), ("3rd century BCE", (-300, -201)),
    ("c. 699-500 BCE", (-699, -500)), ("1122 BCE-256 BCE", (-1122, -256)), ("206 BCE–220 CE", (-206, 220)),
    ("5000 B.C.", (-5000, -5000)), ("AD 1200", (1200, 1200)), ("1880 AD", (1880, 1880)),
    ("ca. 1960", (1960, 1960)), ("1883?", (1883, 1883)), ("c. 1920-c.1929", (1920, 1929)),
    ("c. 1920s", (1920, 1929)), ("late 1860s", (1866, 1869)), ("1870-1880s", (1870, 1889)),
    ("1880s-1890s", (1880, 1899)), ("1880s-90s", (1880, 1899)), ("mid-16th century", (1534, 1566)),
    ("early 20th century", (1901, 1933)), ("c. 17th century", (1601, 1700)), ("19th c.", (1801, 1900)),
    ("12th-13th century", (1101, 1300)), ("late 19th-early 20th century", (1867, 1933)),
    ("first half of the 18th century", (1701, 1750)), ("c. last half of the 19th century", (1851, 1900)),
    ("third quarter of the 18th century", (1751, 1775)),
    ("c. second half of the 19th century-early 20th century", (1851, 1933)),
    ("May 1, 1793", (1793, 1793)), ("1 May 1793", (1793, 1793)), ("May 1946", (1946, 1946)),
    ("February - March 1944", (1944, 1944)), ("December 1945 - January 1946", (1945, 1946)),
    ("1/8/1917", (1917, 1917)), ("12/16/1918", (1918, 1918)), ("1917-02-11", (1917, 1917)),
    ("1897/1902", (1897, 1902)), ("c. 1810-1819/ 1877", (1810, 1877)),
    ("1956 (designed) 1975 (manufactured)", (1956, 1975)), ("1967 (designed) c. 1977 (manufactured)", (1967, 1977)),
    ("1828, printed 1893", (1828, 1828)), ("Edo period (1603-1867), 19th century", (1801, 1900)),
    ("Edo period (1603-1867), c. 1790-1830", (1790, 1830)), ("１８８３", (1883, 1883)),
]

CHINESE_NUMERIC: list[tuple[str, Years]] = [
    ("公元前3世紀", (-300, -201)), ("公元前3世纪", (-300, -201)), ("公元3世纪", (201, 300)),
    ("3世紀", (201, 300)), ("十九世紀", (1801, 1900)), ("十九世紀末", (1867, 1900)), ("19世纪初", (1801, 1833)),
    ("公元前221年", (-221, -221)), ("前221年", (-221, -221)), ("西元前221年", (-221, -221)),
    ("1880年", (1880, 1880)), ("1880年代", (1880, 1889)), ("約1880年", (1880, 1880)), ("1880年左右", (1880, 1880)),
    ("一八八〇年", (1880, 1880)), ("公元二〇〇〇年", (2000, 2000)), ("1880–1885年", (1880, 1885)),
    ("1880年至1885年", (1880, 1885)), ("公元前475–221年", (-475, -221)), ("公元前475年至前221年", (-475, -221)),
    ("二十世紀三十年代", (1930, 1939)), ("20世纪30年代", (1930, 1939)),
]

NAMED: list[tuple[str, Years]] = [
    # Dynasties and periods, in both scripts and in English.
    ("北宋", (960, 1127)), ("南宋", (1127, 1279)), ("宋", (960, 1279)), ("宋代", (960, 1279)),
    ("清", (1644, 1911)), ("清朝", (1644, 1911)), ("清代", (1644, 1911)), ("大清", (1644, 1911)),
    ("西周", (-1046, -771)), ("东周", (-770, -256)), ("春秋", (-770, -476)), ("戰國", (-475, -221)),
    ("战国时期", (-475, -221)), ("春秋戰國", (-770, -221)), ("西漢", (-206, 8)), ("新莽", (9, 23)),
    ("东汉", (25, 220)), ("五代", (907, 979)), ("遼", (907, 1125)), ("西夏", (1038, 1227)),
    ("金", (1115, 1234)), ("元", (1271, 1368)), ("新石器時代", (-10000, -2000)), ("民國", (1912, 1949)),
    ("Song dynasty", (960, 1279)), ("Northern Song", (960, 1127)), ("Warring States", (-475, -221)),
    ("Ch'ing", (1644, 1911)), ("Ch’ing dynasty", (1644, 1911)), ("Neolithic", (-10000, -2000)),
    ("Jin dynasty (265–420)", (265, 420)), ("Jin dynasty (1115–1234)", (1115, 1234)),
    # Reigns, era years, sexagenary years.
    ("清乾隆", (1736, 1795)), ("乾隆", (1736, 1795)), ("乾隆年間", (1736, 1795)), ("乾隆年间", (1736, 1795)),
    ("大清乾隆年製", (1736, 1795)), ("Qianlong period", (1736, 1795)), ("Ch'ien-lung", (1736, 1795)),
    ("明 萬曆三十年", (1602, 1602)), ("明万历三十年", (1602, 1602)), ("萬曆30年", (1602, 1602)),
    ("萬曆四十八年", (1620, 1620)), ("泰昌元年", (1620, 1620)), ("乾隆元年", (1736, 1736)),
    ("乾隆二十五年", (1760, 1760)), ("乾隆廿五年", (1760, 1760)), ("乾隆卅年", (1765, 1765)),
    ("康熙六十一年", (1722, 1722)), ("宣統三年", (1911, 1911)), ("民國三十年", (1941, 1941)),
    ("乾隆甲午", (1774, 1774)), ("乾隆甲午年", (1774, 1774)), ("乾隆三十九年甲午", (1774, 1774)),
    ("光绪庚子", (1900, 1900)), ("康熙壬寅", (1662, 1722)),
    ("30th year of the Wanli reign", (1602, 1602)),
    # Parts of a period.
    ("明末", (1552, 1644)), ("清初", (1644, 1732)), ("清早期", (1644, 1732)), ("清中期", (1733, 1821)),
    ("清晚期", (1822, 1911)), ("晚清", (1822, 1911)), ("春秋晚期", (-574, -476)), ("late Ming dynasty", (1552, 1644)),
    ("mid-Qing", (1733, 1821)), ("初唐", (618, 713)),
    # Several periods: the span from the first to the last.
    ("明末清初", (1552, 1732)), ("宋元", (960, 1368)), ("Yuan or Ming dynasty", (1271, 1644)),
    # Mixed forms, as in the period column; explicit years win over the table.
    ("清 Qing dynasty", (1644, 1911)), ("明 Ming dynasty", (1368, 1644)), ("商 Shang dynasty", (-1600, -1046)),
    ("Ming dynasty, Wanli period", (1573, 1620)), ("Qing dynasty (1644–1911)", (1644, 1911)),
    ("Qianlong period (1736-1795)", (1736, 1795)), ("Northern Song Dynasty, 960-1127", (960, 1127)),
    ("Han dynasty (206 BCE–220 CE)", (-206, 220)), ("清光緒二十六年（1900）", (1900, 1900)),
    ("Qing dynasty, 19th century", (1801, 1900)), ("乾隆 1765年", (1765, 1765)), ("清 1750", (1750, 1750)),
    ("Kangxi period (1662–1722), c. 1700", (1700, 1700)), ("公元前206年–公元8年", (-206, 8)),
    ("明宣德年製", (1426, 1435)), ("Yongle mark and period", (1403, 1424)), ("Republic period", (1912, 1949)),
]

UNREADABLE = [
    "", "   ", "no date", "not dated", "1900-1800", "before 1976", "Meiji period", "0", "0 BCE", "May",
    "明月", "清風", "元年", "三十", "Song of Songs", "Jin dynasty", "1880/85",
    # An era year beyond the era: 萬曆 has 48 years, 順治 18, 宣統 3.
    "萬曆四十九年", "順治十九年", "宣統四年", "康熙六十二年",
    # A sexagenary year the era does not contain, or that disagrees with the era year.
    "宣統甲子", "乾隆三十八年甲午", "明 三十年", "13/13/1917", "10000",
]


@pytest.mark.parametrize("text, expected", WESTERN + CHINESE_NUMERIC + NAMED)
def test_parse_years(text: str, expected: Years) -> None:
    assert parse_years(text) == expected


@pytest.mark.parametrize("text", UNREADABLE)
def test_unreadable_dates_give_nothing(text: str) -> None:
    assert parse_years(text) == NONE


_WORDS = ["清", "明", "乾隆", "萬曆", "三十", "元", "年", "年間", "末", "初", "甲午", "公元前", "世紀", "年代",
          "1880", "85", "-", "–", "/", ",", " ", "(", ")", "c.", "BCE", "century", "19th", "late", "dynasty",
          "Ming", "s", "至", "〇", "廿", "十", "前", "May", "of the", "period", "?", "約", "0", "9999"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(_WORDS), max_size=8).map("".join)))
def test_parse_years_is_total_and_ordered(text: str) -> None:
    begin, end = parse_years(text)
    assert (begin is None) == (end is None)
    if begin is not None and end is not None:
        assert begin <= end
        assert 0 not in (begin, end)


# ----- find_periods ----------------------------------------------------------------------------


def keys(text: str, *, field: bool = False) -> list[str]:
    return [p.key for p in find_periods(text, field=field)]


@pytest.mark.parametrize("text, expected", [
    ("清乾隆青花瓷", ["qing", "qing.qianlong"]),
    ("此碗為明代景德鎮所燒", ["ming"]),
    ("此為北宋名作", ["song.northern"]),
    ("晚清的畫家", ["qing"]),
    ("明末清初的山水", ["ming", "qing"]),
    ("春秋時期的青銅器", ["zhou.spring_autumn"]),
    ("大明宣德年製款", ["ming", "ming.xuande"]),
    ("明正德年間", ["ming", "ming.zhengde"]),
    ("正德三年所作", ["ming.zhengde"]),
    ("商代青銅器", ["shang"]),
    ("painted during the Ming dynasty", ["ming"]),
    ("a late Ming bowl", ["ming"]),
    ("Qianlong mark and period", ["qing.qianlong"]),
    ("NORTHERN SONG DYNASTY", ["song.northern"]),
    ("the Warring States period", ["zhou.warring_states"]),
    ("made in the Hsüan-te reign", ["ming.xuande"]),
    ("Qīnglóng", []),
])
def test_find_periods_in_running_text(text: str, expected: list[str]) -> None:
    assert keys(text) == expected


@pytest.mark.parametrize("text", [
    "床前明月光", "清風徐來", "明月", "清風", "他明天來", "周末去博物館", "夏初的荷花", "新時期的文化",
    "清明時節", "大清早出門", "北朝鮮", "春秋已高", "金、銀、銅", "宋先生的收藏", "唐人街", "元宵節",
    "Portrait of Ming Ying, the artist's wife", "a song for the Song family", "spring and autumn landscapes",
    "Tang orange", "Han Gan painted horses", "Jin dynasty",
])
def test_find_periods_ignores_ordinary_words_in_running_text(text: str) -> None:
    assert keys(text) == []


@pytest.mark.parametrize("text, expected", [
    ("清", ["qing"]), ("清 Qing dynasty", ["qing", "qing"]), ("明 萬曆三十年", ["ming", "ming.wanli"]),
    ("Ming", ["ming"]), ("Song", ["song"]), ("春秋", ["zhou.spring_autumn"]), ("宋 佚名", ["song"]),
    ("明清", ["ming", "qing"]), ("明月", []), ("清風", []), ("清明", ["ming"]),
])
def test_find_periods_in_date_and_period_fields(text: str, expected: list[str]) -> None:
    assert keys(text, field=True) == expected


def test_matches_are_longest_first_and_keep_spans_of_the_original() -> None:
    text = "Vase, 南宋 Southern Song dynasty"
    matches = match_periods(text)
    assert [(m.period.key, text[m.start:m.end]) for m in matches] == [
        ("song.southern", "南宋"), ("song.southern", "Southern Song dynasty")]


# ----- the period facet -------------------------------------------------------------------------


@pytest.mark.parametrize("texts, begin, end, expected", [
    (["清 Qing dynasty", "18th century"], 1701, 1800, "qing"),
    (["", "清乾隆"], 1736, 1795, "qing"),
    (["", "北宋"], 960, 1127, "song"),
    (["", "Northern Song Dynasty, 960-1127"], 960, 1127, "song"),
    (["戰國"], None, None, "zhou"),
    (["五代"], None, None, "five_dynasties"),
    (["", "c. 1880-1885"], 1880, 1885, "century:19"),
    (["", "3rd century BCE"], -300, -201, "century:-3"),
    (["Edo period", ""], 1603, 1867, "century:18"),
    (["", ""], -206, 220, "century:1"),
    (["", ""], -1, 1, "century:-1"),
    (["", ""], 1900, None, "century:19"),
    (["", "no date"], None, None, None),
])
def test_facet_period(texts: list[str], begin: int | None, end: int | None, expected: str | None) -> None:
    assert facet_period(texts, begin, end) == expected


@pytest.mark.parametrize("key, locale, label", [
    ("qing", "en", "Qing dynasty"), ("qing", "zh-Hant", "清"), ("qing", "zh-Hans", "清"),
    ("zhou.warring_states", "zh-Hant", "戰國"), ("zhou.warring_states", "zh-Hans", "战国"),
    ("zhou.warring_states", "en", "Warring States period"), ("qing.qianlong", "en", "Qianlong reign"),
    ("century:19", "en", "19th century"), ("century:19", "zh-Hans", "19世纪"), ("century:19", "zh-Hant", "19世紀"),
    ("century:-3", "en", "3rd century BCE"), ("century:-3", "zh-Hans", "公元前3世纪"),
    ("century:-3", "zh-Hant", "公元前3世紀"), ("century:21", "en", "21st century"),
    ("century:12", "en", "12th century"), ("century:2", "en", "2nd century"), ("century:1", "en", "1st century"),
    ("qing.qianlong", "zh_Hant_TW", "乾隆"), ("ming.wanli", "zh", "万历"), ("ming.wanli", "fr", "Wanli reign"),
    ("atlantis", "en", "atlantis"), ("century:x", "en", "century:x"), ("century:0", "zh-Hans", "century:0"),
])
def test_period_label(key: str, locale: str, label: str) -> None:
    assert period_label(key, locale) == label


def test_period_sort_key_is_chronological() -> None:
    facet_keys = ["qing", "century:19", "century:-3", "shang", "ming", "neolithic", "unknown", "century:15"]
    assert sorted(facet_keys, key=period_sort_key) == [
        "neolithic", "shang", "century:-3", "ming", "century:15", "qing", "century:19", "unknown"]


def test_lookups_and_dynasty_of() -> None:
    qianlong = period_by_key("qing.qianlong")
    assert qianlong is not None and qianlong.kind == "reign" and qianlong.pinyin == "qianlong"
    assert dynasty_of(qianlong) is period_by_key("qing")
    spring_autumn = period_by_key("zhou.spring_autumn")
    assert spring_autumn is not None and dynasty_of(spring_autumn) is period_by_key("zhou")
    assert period_by_key("nonesuch") is None
    assert all_periods()[0].key == "neolithic"


# ----- the data table ---------------------------------------------------------------------------


def reigns_of(dynasty: str) -> list[tuple[str, int, int]]:
    return [(p.names["zh-Hant"], p.begin, p.end) for p in all_periods() if p.kind == "reign" and p.parent == dynasty]


@pytest.mark.parametrize("dynasty, count", [("ming", 17), ("qing", 10)])
def test_reigns_lie_within_their_dynasty_and_follow_each_other(dynasty: str, count: int) -> None:
    whole = period_by_key(dynasty)
    assert whole is not None
    reigns = reigns_of(dynasty)
    assert len(reigns) == count
    assert reigns[0][1] == whole.begin and reigns[-1][2] == whole.end
    for (_name, begin, end) in reigns:
        assert whole.begin <= begin <= end <= whole.end
    for (name_a, _, end_a), (name_b, begin_b, _) in zip(reigns, reigns[1:], strict=False):
        # Consecutive and never overlapping, except that a new era may begin in its predecessor's
        # last year (萬曆四十八年 and 泰昌元年 are both 1620).
        assert begin_b in (end_a, end_a + 1), (name_a, name_b)


def test_well_known_reign_years() -> None:
    expected = {"洪武": (1368, 1398), "永樂": (1403, 1424), "萬曆": (1573, 1620), "泰昌": (1620, 1620),
                "崇禎": (1628, 1644), "順治": (1644, 1661), "康熙": (1662, 1722), "乾隆": (1736, 1795),
                "光緒": (1875, 1908), "宣統": (1909, 1911)}
    table = {name: (begin, end) for d in ("ming", "qing") for name, begin, end in reigns_of(d)}
    assert {name: table[name] for name in expected} == expected


def test_table_is_consistent() -> None:
    periods = all_periods()
    assert len({p.key for p in periods}) == len(periods)
    converter = opencc.OpenCC("t2s")
    chinese_forms: dict[str, str] = {}
    for period in periods:
        assert set(period.names) == set(LOCALES)
        assert period.kind in ("dynasty", "period", "reign")
        assert period.begin <= period.end and 0 not in (period.begin, period.end)
        assert period.key.isascii() and period.pinyin.isascii()
        assert converter.convert(period.names["zh-Hant"]) == period.names["zh-Hans"]
        parent = parent_of(period)
        if parent is not None:
            assert period.key.startswith(parent.key.split(".")[0] + ".")
            # Two documented exceptions: the Warring States outlast the Zhou house, and the
            # Northern dynasties begin before the conventional start of the period.
            if period.key not in ("zhou.warring_states", "southern_northern.northern"):
                assert parent.begin <= period.begin and period.end <= parent.end, period.key
        for form in (period.names["zh-Hant"], period.names["zh-Hans"],
                     *(a for a in period.aliases if not a.isascii())):
            assert chinese_forms.setdefault(form, period.key) == period.key, form
    tops = [p for p in periods if p.parent is None]
    assert len(tops) >= 20
    assert len([p for p in periods if p.kind == "reign"]) == 27


def test_dynasties_use_the_standard_dates() -> None:
    expected = {"xia": (-2070, -1600), "shang": (-1600, -1046), "zhou.western": (-1046, -771),
                "zhou.eastern": (-770, -256), "zhou.spring_autumn": (-770, -476), "zhou.warring_states": (-475, -221),
                "qin": (-221, -207), "han.western": (-206, 8), "han.eastern": (25, 220), "tang": (618, 907),
                "song.northern": (960, 1127), "song.southern": (1127, 1279), "yuan": (1271, 1368),
                "ming": (1368, 1644), "qing": (1644, 1911), "republic": (1912, 1949)}
    found = {key: (p.begin, p.end) for key in expected if (p := period_by_key(key)) is not None}
    assert found == expected
