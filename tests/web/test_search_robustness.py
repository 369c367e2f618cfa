"""Property test: no query string, page number or parameter mix produces an error page."""

from __future__ import annotations

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

OPERATORS = st.sampled_from(['"', "(", ")", "AND", "OR", "NOT", "*", "?", "~", "^", ":", "[", "]", "{", "}",
                             "TO", "-", "+", "\\", "/", "牧", "羊", "圖", "图", "harvest", " "])
QUERIES = st.one_of(st.text(max_size=60), st.lists(OPERATORS, max_size=12).map("".join),
                    st.lists(OPERATORS, max_size=8).map(" ".join))
PAGES = st.one_of(st.integers(min_value=-10**12, max_value=10**12).map(str), st.text(max_size=8))


@settings(max_examples=150, deadline=None)
@given(query=QUERIES, page=PAGES)
def test_any_search_request_gives_a_page(shared_app: Flask, query: str, page: str) -> None:
    client = shared_app.test_client()
    response = client.get("/search", query_string={"q": query, "page": page})
    assert response.status_code == 200
    response = client.get("/collections/test-paintings", query_string={"page": page, "sort": query})
    assert response.status_code == 200


FACET_NAMES = st.sampled_from(["institution", "collection", "object_type", "period", "material", "creator",
                               "has_image", "sort", "from", "to", "title", "creator", "subject", "description",
                               "phrase", "any", "exclude", "per_page", "lang"])
VALUES = st.one_of(QUERIES, st.integers(min_value=-10**9, max_value=10**9).map(str),
                   st.sampled_from(["met", "test-paintings", "ming", "century:16", "silk", "yes", "no", "-300",
                                    "300 BCE", "公元前300年", "date", "-date", "title", "relevance", "\x00", "%", ""]))


@settings(max_examples=150, deadline=None)
@given(params=st.lists(st.tuples(FACET_NAMES, VALUES), max_size=8), query=QUERIES)
def test_any_mix_of_search_parameters_gives_a_page_and_json(shared_app: Flask,
                                                          params: list[tuple[str, str]], query: str) -> None:
    client = shared_app.test_client()
    pairs = [("q", query), *params]
    page = client.get("/search", query_string=pairs)
    assert page.status_code == 200
    api = client.get("/api/v1/search", query_string=pairs)
    assert api.status_code == 200
    body = api.get_json()
    assert isinstance(body["total"], int) and body["page"] >= 1 and isinstance(body["facets"], dict)
