"""Fixtures of the relevance suite: one real app over the default exhibit, built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from museum import create_app
from museum.catalogue.service import Catalogue, close_catalogue
from museum.web import CATALOGUE_KEY


@pytest.fixture(scope="session")
def exhibit_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """Return the catalogue of an app whose empty data directory imported the default exhibit."""
    app = create_app({"data_dir": str(tmp_path_factory.mktemp("relevance"))})
    catalogue: Catalogue = app.extensions[CATALOGUE_KEY]
    yield catalogue
    close_catalogue(catalogue)
