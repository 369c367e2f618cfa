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
