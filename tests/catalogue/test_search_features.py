"""Search features through the service, over a small collection written for these tests.

Covers script folding, short words, pinyin and initials, stemming, facets with counts, the
year range (BCE too), sorting, paging, spelling suggestions, the advanced inputs, highlights
in the stored script and related items.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from museum import create_app
from museum.catalogue.service import Catalogue, close_catalogue, related_items, search
from museum.search.request import QueryParts, SearchRequest
from museum.web import CATALOGUE_KEY
from tests.searching import search_text

EXHIBIT = Path(__file__).parent.parent / "data" / "search-exhibit"


@pytest.fixture(scope="module")
def search_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Return an app over the search fixtures, built once for this module."""
    app = create_app({"data_dir": str(tmp_path_factory.mktemp("search-data")), "exhibit_dir": str(EXHIBIT),
                      "page_size": 3})
    yield app
    close_catalogue(app.extensions[CATALOGUE_KEY])


@pytest.fixture
def cat(search_app: Flask) -> Catalogue:
    """Return the catalogue of the search app."""
    catalogue: Catalogue = search_app.extensions[CATALOGUE_KEY]
    return catalogue


def ids(cat: Catalogue, text: str, **options: object) -> list[str]:
    """Return the ids of every hit for text (first 50)."""
    return [item.id for item, _ in search_text(cat, text, per_page=50, **options).hits]


@pytest.mark.parametrize(("query", "expected"), [
    ("麥積山", "t:maijishan"), ("麦积山", "t:maijishan"),      # traditional and simplified
    ("鼎", "t:ding"), ("石窟", "t:cave"), ("青銅", "t:rubbing"), ("青铜", "t:ding"),  # short words
    ("青銅器", "t:rubbing"),
    ("maijishan", "t:maijishan"), ("mai ji shan", "t:maijishan"), ("mjs", "t:maijishan"),  # pinyin
    ("qingtongqi", "t:rubbing"), ("qtq", "t:rubbing"), ("dunhuang", "t:cave"),
    ("harvest", "t:harvest"), ("harvesting", "t:harvest"), ("cafe", "t:cafe"), ("CAFÉ", "t:cafe"),
    ("reaper", "t:harvest"), ("silk", "t:wanli"), ("絹", "t:wanli"), ("bronze", "t:ding"),
    ("乾隆", "t:rubbing"), ("Qianlong", "t:rubbing"), ("Ming dynasty", "t:wanli"), ("明代", "t:wanli"),
    ("Shang", "t:ding"), ("商代", "t:ding"), ("萬曆", "t:wanli"), ("wanli", "t:wanli"),
    ("dong qichang", "t:wanli"), ("董其昌", "t:wanli"), ("张大千", "t:cave"), ("佛教", "t:maijishan"),
])
def test_queries_find_their_item(cat: Catalogue, query: str, expected: str) -> None:
    assert expected in ids(cat, query)


def test_both_scripts_give_the_same_results(cat: Catalogue) -> None:
    assert ids(cat, "青銅器銘文") == ids(cat, "青铜器铭文") == ["t:rubbing"]
    assert ids(cat, "石窟") == ids(cat, "石窟") and set(ids(cat, "石窟")) == {"t:maijishan", "t:cave"}


def test_words_are_all_required_and_can_be_excluded(cat: Catalogue) -> None:
    assert ids(cat, "oil canvas") == sorted(ids(cat, "oil canvas"), key=ids(cat, "oil canvas").index)
    assert set(ids(cat, "oil canvas")) == {"t:harvest", "t:cafe"}
    assert ids(cat, "oil canvas -wheat") == ["t:cafe"]
    assert ids(cat, '"bringing in the wheat"') == ["t:harvest"]
    assert ids(cat, '"wheat bringing"') == []
    assert set(ids(cat, "harvest OR café")) == {"t:harvest", "t:cafe"}
    assert "t:cafe" in ids(cat, "caf*")


def test_dates_are_parsed_for_the_year_filter_including_bce(cat: Catalogue) -> None:
    def years(year_from: int | None, year_to: int | None) -> set[str]:
        return set(ids(cat, "", year_from=year_from, year_to=year_to))
    assert years(-6000, -4000) == {"t:jar"}
    assert years(-1400, -1200) == {"t:ding"}                 # 公元前13世紀
    assert years(1602, 1602) == {"t:wanli"}                  # 明 萬曆三十年
    assert "t:rubbing" in years(1736, 1795)                  # 清乾隆
    assert years(1880, 1882) == {"t:harvest"}                # c. 1880-1885
    assert years(1655, 1655) == {"t:cafe"}                   # 1650s
    assert "t:maijishan" in years(450, 500)                  # 北魏


def test_facets_count_combine_and_ignore_their_own_selection(cat: Catalogue) -> None:
    everything = search(cat, SearchRequest(per_page=50))
    institutions = {v.value: v.count for v in everything.facets["institution"]}
    assert institutions == {"city": 6, "library": 2}
    periods = [v.value for v in everything.facets["period"]]
    assert "shang" in periods and "ming" in periods and "qing" in periods
    # Chronological order: the Neolithic and Shang come before Ming and the 19th century.
    assert periods.index("shang") < periods.index("ming") < periods.index("qing")
    materials = {v.value: v.count for v in everything.facets["material"]}
    assert materials["oil"] == 2 and materials["silk"] == 1 and materials["bronze"] == 1

    city_oil = search(cat, SearchRequest(filters={"institution": ("city",), "material": ("oil",)}, per_page=50))
    assert {item.id for item, _ in city_oil.hits} == {"t:harvest", "t:cafe"}
    # The institution facet still offers the library (counted with the material filter only).
    offered = {v.value: (v.count, v.selected) for v in city_oil.facets["institution"]}
    assert offered["city"] == (2, True)
    both = search(cat, SearchRequest(filters={"institution": ("city", "library")}, per_page=50))
    assert both.total == 8
    unknown = search(cat, SearchRequest(filters={"period": ("no-such-period",)}))
    assert unknown.total == 0 and [v.selected for v in unknown.facets["period"] if v.value == "no-such-period"]
    with_image = search(cat, SearchRequest(filters={"has_image": ("no",)}))
    assert with_image.total == 8


def test_sorting_paging_and_counts(cat: Catalogue) -> None:
    by_date = ids(cat, "", sort="date")
    assert by_date[:2] == ["t:jar", "t:ding"]
    newest = ids(cat, "", sort="-date")
    assert newest[0] == "t:cave"
    pages = [search(cat, SearchRequest(sort="date", page=n)) for n in (1, 2, 3)]
    assert [p.total for p in pages] == [8, 8, 8] and pages[0].pages == 3
    paged = [item.id for p in pages for item, _ in p.hits]
    assert paged == by_date
    beyond = search(cat, SearchRequest(sort="date", page=99))
    assert beyond.page == 3 and beyond.hits


def test_did_you_mean_for_misspelt_latin_words(cat: Catalogue) -> None:
    results = search_text(cat, "harvset")
    assert results.total == 0 and results.suggestion == "harvest"
    assert search_text(cat, "reapers wheet").suggestion == "reapers wheat"
    # A query with no hits for all its words is offered the words that do match.
    assert search_text(cat, "harvest 麥積山").suggestion in {"harvest", "麥積山"}
    assert search_text(cat, "harvest").suggestion == ""


def test_advanced_inputs(cat: Catalogue) -> None:
    def adv(**parts: object) -> set[str]:
        request = SearchRequest(parts=QueryParts(**parts), per_page=50)  # type: ignore[arg-type]
        return {item.id for item, _ in search(cat, request).hits}
    assert adv(fields={"creator": "董其昌"}) == {"t:wanli"}
    assert adv(fields={"title": "cave"}) == {"t:cave"}
    assert adv(fields={"description": "lanterns"}) == {"t:cafe"}
    assert adv(phrase="oil on canvas") == {"t:harvest", "t:cafe"}
    assert adv(any_words="鼎 lanterns") == {"t:ding", "t:cafe"}
    assert adv(text="painting", exclude="café dunhuang") == {"t:harvest", "t:jar"}  # painted jar: stemmed


def test_snippets_highlight_the_stored_script(cat: Catalogue) -> None:
    results = search_text(cat, "青铜器")
    item, snippet = results.hits[0]
    assert item.id == "t:rubbing"
    assert "<mark" in snippet
    traditional = search_text(cat, "麦积山").hits[0][1]
    assert "麥" in traditional and "<mark" in traditional


def test_related_items(cat: Catalogue) -> None:
    related = [item.id for item in related_items(cat, "t:harvest")]
    assert "t:harvest" not in related
    assert related and related[0] == "t:cafe"
    assert related_items(cat, "no-such-item") == []
