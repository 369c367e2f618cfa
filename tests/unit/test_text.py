"""Field normalisation, date parsing and the mixed-script analyzer, without an app."""

from __future__ import annotations

import pytest

from museum.catalogue.dates import parse_years
from museum.catalogue.fields import slugify, sort_title, split_bilingual_title, split_list
from museum.search.analysis import fold_text, museum_analyzer


@pytest.mark.parametrize("text, expected", [
    ("1883", (1883, 1883)), ("c. 1880-1885", (1880, 1885)), ("c.1880-1885", (1880, 1885)),
    ("約1880–1885", (1880, 1885)), ("1955-1957", (1955, 1957)), ("1880-85", (1880, 1885)),
    ("1650s", (1650, 1659)), ("19th century", (1801, 1900)), ("late 19th century", (1867, 1900)),
    ("5000 BCE", (-5000, -5000)), ("500-400 BCE", (-500, -400)), ("公元前3世紀", (-300, -201)),
    ("no date", (None, None)), ("", (None, None)), ("1900-1800", (None, None)),
])
def test_parse_years(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_years(text) == expected


def test_bilingual_titles_split_into_chinese_and_english() -> None:
    assert split_bilingual_title("Sheep and herd boy\n牧羊圖") == ("牧羊圖", "Sheep and herd boy")
    assert split_bilingual_title("Portrait of Bodhidharma 達摩圖像") == ("達摩圖像", "Portrait of Bodhidharma")
    assert split_bilingual_title("The Harvesters") == ("The Harvesters", "")
    assert split_bilingual_title("百牛圖") == ("百牛圖", "")


def test_slugs_sort_keys_and_lists() -> None:
    assert slugify("Metropolitan Museum of Art") == "metropolitan-museum-of-art"
    assert slugify("台北故宮") == "tai-bei-gu-gong"
    assert slugify("!!!") == "collection"
    assert sort_title("The Harvesters") == "harvesters"
    assert sort_title("《牧羊圖》") == "牧羊圖"
    assert split_list("Fine Arts | Painting|  ") == ["Fine Arts", "Painting"]


def test_analyzer_folds_scripts_and_keeps_offsets_on_the_original() -> None:
    text = "牧羊圖 The Harvesters, Café 青銅器"
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in museum_analyzer()(text, positions=True, chars=True)]
    assert ("图", 2, 2, 3) in tokens
    assert ("harvest", 3, 8, 18) in tokens
    assert ("cafe", 4, 20, 24) in tokens
    assert [t[0] for t in tokens if t[0] in "青铜器"] == ["青", "铜", "器"]
    for _word, _pos, start, end in tokens:
        # Offsets point at the original text, whatever the folding did.
        assert end - start >= 1 and text[start:end]
    assert fold_text("麥積山 青銅器") == "麦积山 青铜器"
