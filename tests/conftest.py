"""Shared fixtures: real apps over temporary data directories, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from museum import create_app
from museum.catalogue.service import close_catalogue
from museum.web import CATALOGUE_KEY

DATA = Path(__file__).resolve().parent / "data"
TEST_EXHIBIT = DATA / "exhibit"
IMAGES = DATA / "images"
PG_ADMIN_URL = os.environ.get("MUSEUM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[AppFactory]:
    """Return a factory of apps over a fresh data directory holding the tiny test exhibit."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {"data_dir": str(tmp_path / "data"),
                                    "exhibit_dir": str(TEST_EXHIBIT), "page_size": 4}
        settings.update(overrides)
        app = create_app(settings)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield factory
    # Release connections before a test database is dropped.
    for app in made:
        close_catalogue(app.extensions[CATALOGUE_KEY])


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """Return an app over a fresh data directory with the test exhibit imported."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of the app."""
    return app.test_client()


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Return one app for read-only page tests, built once per session."""
    data = tmp_path_factory.mktemp("shared-data")
    app = create_app({"data_dir": str(data), "exhibit_dir": str(TEST_EXHIBIT), "page_size": 4})
    app.config["TESTING"] = True
    yield app
    close_catalogue(app.extensions[CATALOGUE_KEY])


@pytest.fixture
def shared_client(shared_app: Flask) -> FlaskClient:
    """Return a client of the shared read-only app."""
    return shared_app.test_client()


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """Create a throwaway PostgreSQL database, yield its URL, and drop it afterwards."""
    name = f"museum_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the postgres tests ({PG_ADMIN_URL}): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield a database URL: SQLite in the temp dir, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    else:
        with pg_database() as url:
            yield url
