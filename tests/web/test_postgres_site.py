"""The same site on PostgreSQL: import at first start, pages, search and a second start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import AppFactory, pg_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL database."""
    with pg_database() as url:
        yield url


@pytest.mark.postgres
def test_site_runs_on_postgresql(pg_url: str, make_app: AppFactory) -> None:
    app = make_app(database_url=pg_url)
    client = app.test_client()
    assert "The Harvesters" in client.get("/?lang=en").data.decode()
    assert "met:36004" in client.get("/search?q=牧羊图").data.decode()
    assert client.get("/items/met:13503").status_code == 200
    assert client.get("/collections/test-paintings?page=2&sort=date").status_code == 200
    # A second start on the same database imports nothing again.
    again = make_app(database_url=pg_url).test_client()
    page = again.get("/collections/test-paintings?lang=en").data.decode()
    assert "5 objects" in page


@pytest.mark.postgres
def test_odd_characters_in_paths_are_404_not_500_on_postgresql(make_app: AppFactory, pg_url: str) -> None:
    client = make_app(database_url=pg_url).test_client()
    for path in ("/items/%00", "/items/met%3A%00", "/collections/%00", "/iiif/manifest/%00",
                 "/exhibitions/%00", "/api/v1/items/%00", "/collections/%00/items.csv"):
        with client.get(path) as response:
            assert response.status_code == 404, path


@pytest.mark.postgres
def test_nul_characters_in_query_strings_are_not_500_on_postgresql(make_app: AppFactory, pg_url: str) -> None:
    client = make_app(database_url=pg_url).test_client()
    for path in ("/api/v1/items?collection=%00", "/api/v1/items?institution=a%00b", "/api/v1/search?q=%00&period=%00",
                 "/search?q=%00&collection=%00", "/collections/test-paintings?sort=%00&page=%00",
                 "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:localhost:met%00",
                 "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=%00", "/api/v1/items?cursor=%00"):
        with client.get(path) as response:
            assert response.status_code < 500, path
