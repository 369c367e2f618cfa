"""Field normalisation and the mixed-script analyzer, without an app (dates: test_dates.py)."""

from __future__ import annotations

from museum.catalogue.fields import slugify, sort_title, split_bilingual_title, split_list
from museum.search.analysis import fold_text, museum_analyzer


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
    # Each character is a token; the segmenter's words (and the dictionary words inside them)
    # share the position of their first character.
    assert [(t[0], t[1]) for t in tokens if t[2] >= 25] == [
        ("青", 5), ("青铜器", 5), ("青铜", 5), ("铜", 6), ("铜器", 6), ("器", 7)]
    assert ("牧羊", 0, 0, 2) in tokens
    for _word, _pos, start, end in tokens:
        # Offsets point at the original text, whatever the folding did.
        assert end - start >= 1 and text[start:end]
    assert fold_text("麥積山 青銅器") == "麦积山 青铜器"
