"""Test helper: run a plain-text search through the service the way the search box does."""

from __future__ import annotations

from museum.catalogue.service import Catalogue, SearchResults, search
from museum.search.request import QueryParts, SearchRequest


def search_text(cat: Catalogue, text: str, page: int = 1, **options: object) -> SearchResults:
    """Return the results for text typed in the search box, with optional request fields."""
    return search(cat, SearchRequest(parts=QueryParts(text=text), page=page, **options))  # type: ignore[arg-type]
