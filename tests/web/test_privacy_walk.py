"""Privacy walk: once an item is withdrawn or trashed, no public path gives out it or its images.

Every GET route of the app is listed here (a new route fails the coverage check until it is
added), each is first fetched while the item is published (so every cache holds it), then again
after the item becomes a draft and after it is trashed. The one deliberate exception is
OAI-PMH, whose persistent deletions keep announcing the id as deleted, without any metadata.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from museum.catalogue import store
from museum.catalogue.service import set_item_status
from museum.curation.accounts import create_user
from museum.curation.exhibitions import ExhibitionForm, add_entry, add_section, create_exhibition, set_exhibition_status
from museum.images.derivatives import DERIVATIVE_FORMATS, DERIVATIVE_SIZES
from museum.images.ingest import original_path
from museum.web import current_catalogue
from tests.conftest import AppFactory

HARVESTERS = "met:435809"
# Routes that never show catalogue content to the public: static files, the language switch,
# the IIIF and API catch-alls for unknown paths, the API's description of itself, institutions
# (names and counts only), and the curators' pages, which need a login (tests/curate walks them).
NOT_CONTENT = {"static", "public.set_language", "iiif.unknown", "api.unknown", "api.openapi_document",
               "api.institutions", "api.institution"}


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
        "api.item": [f"/api/v1/items/{item_id}"],
        "api.image": [f"/api/v1/images/{sha}"],
    }


def _listing_urls() -> dict[str, list[str]]:
    """Return, per endpoint, the pages that list items."""
    return {
        "public.home": ["/", "/?lang=en"],
        "public.collections": ["/collections"],
        "public.collection": ["/collections/test-paintings", "/collections/test-paintings?sort=date"],
        "public.search": ["/search?q=Harvesters", "/search?q=Bruegel&lang=en", "/search?collection=test-paintings"],
        "public.exhibitions": ["/exhibitions"],
        "public.exhibition": ["/exhibitions/harvest-walk"],
        "public.exhibition_walk": ["/exhibitions/harvest-walk/walk/1"],
        "api.search": ["/api/v1/search?q=Harvesters", "/api/v1/search?collection=test-paintings&per_page=100"],
        "api.items": ["/api/v1/items", "/api/v1/items?collection=test-paintings&has_image=true&limit=100"],
        "api.collections": ["/api/v1/collections"],
        "api.collection": ["/api/v1/collections/test-paintings"],
        "api.exhibition_list": ["/api/v1/exhibitions"],
        "api.exhibition": ["/api/v1/exhibitions/harvest-walk"],
        "iiif.collection": ["/iiif/collection/test-paintings"],
        "iiif.collections": ["/iiif/collection"],
        "opendata.export_csv": ["/collections/test-paintings/items.csv"],
        "opendata.export_jsonl": ["/collections/test-paintings/items.jsonl"],
        "opendata.export_collection_toml": ["/collections/test-paintings/collection.toml"],
        "opendata.sitemap_items": ["/sitemaps/items-1.xml"],
        "opendata.sitemap_index": ["/sitemap.xml"],
        "opendata.sitemap_pages": ["/sitemaps/pages.xml"],
        "opendata.robots": ["/robots.txt"],
        "opendata.feed": ["/feed.atom"],
    }


OAI_URLS = ["/oai?verb=ListRecords&metadataPrefix=oai_dc", "/oai?verb=ListRecords&metadataPrefix=lido",
            f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:localhost:{HARVESTERS}"]


def _get(client: FlaskClient, url: str) -> tuple[int, bytes]:
    """Return status and body of a GET, closing the response."""
    with client.get(url) as response:
        return response.status_code, response.get_data()


def _exhibition_with(app: Flask, item_id: str) -> None:
    """Publish an exhibition that shows the item."""
    with app.app_context():
        cat = current_catalogue()
        admin = create_user(cat, "walker", "a long enough password", role="admin")
        exhibition = create_exhibition(cat, admin, ExhibitionForm(slug="harvest-walk",
                                                                  title={"en": "A walk in the fields"}))
        section = add_section(cat, admin, exhibition, {"en": "Summer"}, {"en": "Late summer work."})
        add_entry(cat, admin, exhibition, section, item_id, {"en": "Noon rest"})
        add_entry(cat, admin, exhibition, section, "met:13503", {"en": "A window"})  # the walk goes on without it
        set_exhibition_status(cat, admin, exhibition, "published")


def test_a_withdrawn_or_trashed_item_is_gone_from_every_path(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    sha, original = _image(app, HARVESTERS)
    _exhibition_with(app, HARVESTERS)
    own, listings = _own_urls(HARVESTERS, sha), _listing_urls()

    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.methods is None or "GET" in rule.methods}
    public = {r for r in routes if not r.startswith("curate.")} - NOT_CONTENT
    assert public == set(own) | set(listings) | {"oai.endpoint"}, "a route is missing from the privacy walk"

    for urls in own.values():
        for url in urls:
            status, _ = _get(client, url)
            assert status in (200, 303), url
    for endpoint, urls in listings.items():
        if endpoint in ("opendata.robots", "opendata.sitemap_index", "opendata.sitemap_pages",
                        "opendata.export_collection_toml", "api.collections"):
            continue  # these never name single items
        bodies = [_get(client, url)[1] for url in urls]
        assert any(HARVESTERS.encode() in b or sha.encode() in b for b in bodies), urls
    for url in OAI_URLS:
        assert b"The Harvesters" in _get(client, url)[1], url

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
                assert status == 200, (status_name, url, status)
                assert HARVESTERS.encode() not in body and b"met%3A435809" not in body, (status_name, url)
                assert sha.encode() not in body and b"The Harvesters" not in body, (status_name, url)
        for url in OAI_URLS:
            status, body = _get(client, url)
            # Persistent deletions: the id stays, marked deleted, with no title, image or text.
            assert status == 200 and b"The Harvesters" not in body and sha.encode() not in body, url
            assert b'status="deleted"' in body, url

    # Serving never touched the original.
    assert hashlib.sha256(original.read_bytes()).hexdigest() == sha
