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
