"""Privacy walk: once an item is withdrawn or trashed, no public path gives out it or its images.

Every GET route of the app is listed here (a new route fails the coverage check until it is
added), each is first fetched while the item is published (so every cache holds it), then again
after the item becomes a draft and after it is trashed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from museum.catalogue import store
from museum.catalogue.service import set_item_status
from museum.images.derivatives import DERIVATIVE_FORMATS, DERIVATIVE_SIZES
from museum.images.ingest import original_path
from museum.web import current_catalogue
from tests.conftest import AppFactory

HARVESTERS = "met:435809"
# Routes that never show catalogue content.
NOT_CONTENT = {"static", "public.set_language", "iiif.unknown"}


def _image(app: Flask, item_id: str) -> tuple[str, Path]:
    """Return the hash and original path of an item's first image."""
    with app.app_context(), current_catalogue().sessions() as session:
        item = store.item_by_id(session, item_id)
        assert item is not None
        image = item.images[0]
        return image.sha256, original_path(current_catalogue().settings.originals_dir, image.sha256, image.format)


def _own_urls(item_id: str, sha: str) -> dict[str, list[str]]:
    """Return, per endpoint, the URLs that show this item or its image."""
    media = [f"/media/{sha}/{size}.{fmt}" for size in DERIVATIVE_SIZES for fmt in DERIVATIVE_FORMATS]
    return {
        "public.item": [f"/items/{item_id}", f"/items/{item_id}?image=0&lang=en"],
        "public.media": media,
        "iiif.base_uri": [f"/iiif/3/{sha}"],
        "iiif.info": [f"/iiif/3/{sha}/info.json"],
        "iiif.image": [f"/iiif/3/{sha}/full/max/0/default.jpg", f"/iiif/3/{sha}/0,0,512,512/256,/0/default.webp",
                       f"/iiif/3/{sha}/square/100,/0/gray.png"],
        "iiif.manifest": [f"/iiif/manifest/{item_id}"],
    }


def _listing_urls() -> dict[str, list[str]]:
    """Return, per endpoint, the pages that list items."""
    return {
        "public.home": ["/", "/?lang=en"],
        "public.collections": ["/collections"],
        "public.collection": ["/collections/test-paintings", "/collections/test-paintings?sort=date"],
        "public.search": ["/search?q=Harvesters", "/search?q=Bruegel&lang=en", "/search?collection=test-paintings"],
        "api.search": ["/api/v1/search?q=Harvesters", "/api/v1/search?collection=test-paintings&per_page=100"],
        "iiif.collection": ["/iiif/collection/test-paintings"],
        "iiif.collections": ["/iiif/collection"],
    }


def _get(client: FlaskClient, url: str) -> tuple[int, bytes]:
    """Return status and body of a GET, closing the response."""
    with client.get(url) as response:
        return response.status_code, response.get_data()


def test_a_withdrawn_or_trashed_item_is_gone_from_every_path(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    sha, original = _image(app, HARVESTERS)
    own, listings = _own_urls(HARVESTERS, sha), _listing_urls()

    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    assert routes - NOT_CONTENT == set(own) | set(listings), "a route is missing from the privacy walk"

    for urls in own.values():
        for url in urls:
            status, _ = _get(client, url)
            assert status in (200, 303), url
    for urls in listings.values():
        assert any(HARVESTERS.encode() in _get(client, url)[1] or sha.encode() in _get(client, url)[1]
                   for url in urls), urls

    for status_name in ("draft", "trashed"):
        with app.app_context():
            assert set_item_status(current_catalogue(), HARVESTERS, status_name, actor="test")
        for urls in own.values():
            for url in urls:
                status, _ = _get(client, url)
                assert status == 404, (status_name, url, status)
        for urls in listings.values():
            for url in urls:
                status, body = _get(client, url)
                assert status == 200, (status_name, url)
                assert HARVESTERS.encode() not in body and b"met%3A435809" not in body, (status_name, url)
                assert sha.encode() not in body, (status_name, url)

    # Serving never touched the original.
    assert hashlib.sha256(original.read_bytes()).hexdigest() == sha
