"""Snippets are made faster, not differently: the highlight analyzer and the pre-check change no result."""

from __future__ import annotations

from typing import Any

import pytest
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

import museum.search.index as search_index
from museum.catalogue import store
from museum.catalogue.service import Catalogue
from museum.search.analysis import HighlightAnalyzer, museum_analyzer
from museum.search.schema import SNIPPET_FIELDS
from tests.search.test_relevance import CASES
from tests.searching import search_text


def stored_texts(cat: Catalogue) -> list[str]:
    """Return every text a snippet can come from, over the default exhibit (Chinese and English)."""
    texts: list[str] = []
    with cat.sessions() as session:
        items = store.items_in(session, sorted(store.published_ids(session)))
        for item in items.values():
            texts.extend(t for t in (item.description, item.inscriptions, item.provenance, item.title,
                                     item.title_alt, item.creator) if t)
    return texts


def tokens(analyzer: Any, text: str) -> list[tuple[str, int, int, int]]:
    """Return the (text, position, start, end) of every token, as highlighting asks for them."""
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in analyzer(text, positions=True, chars=True, mode="query", removestops=False)]


def test_the_highlight_analyzer_gives_museum_analyzers_tokens(exhibit_catalogue: Catalogue) -> None:
    fast, reference = HighlightAnalyzer(), museum_analyzer()
    texts = stored_texts(exhibit_catalogue)
    texts += ["Ｍｏｎｅｔ’s d'Amiens Élan naïve", "清乾隆 青銅器 鼎 1885–1890", "Harvesters' harvesting"]
    assert len(texts) > 2000
    for text in texts:
        assert tokens(fast, text) == tokens(reference, text), text


def full_snippet(stored: dict[str, Any], terms: dict[str, set[str]]) -> str:
    """Return the snippet the way it was made before: every field analysed in full by museum_analyzer."""
    fragmenter = ContextFragmenter(maxchars=160, surround=40)
    formatter = HtmlFormatter(tagname="mark", classname="hit", between=" … ")
    for name, analysed_as in SNIPPET_FIELDS:
        text, wanted = stored.get(name), terms.get(analysed_as)
        if text and wanted:
            fragment = highlight(text, frozenset(wanted), museum_analyzer(), fragmenter, formatter, top=2)
            if fragment:
                return search_index._mark_excerpt(fragment, text)
    return ""


@pytest.mark.parametrize("query", sorted({case.query for case in CASES if case.query}
                                         | {"Harvesters", "portrait of a woman", "Monet", "wheat field 1565"}))
def test_snippets_are_those_full_analysis_gives(exhibit_catalogue: Catalogue, query: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, str]] = []
    original = search_index.SearchIndex._snippet

    def both(stored: dict[str, Any], terms: dict[str, set[str]]) -> str:
        snippet = original(stored, terms)
        made.append((snippet, full_snippet(stored, terms)))
        return snippet

    monkeypatch.setattr(search_index.SearchIndex, "_snippet", staticmethod(both))
    search_text(exhibit_catalogue, query, per_page=24)
    for fast, reference in made:
        assert fast == reference
