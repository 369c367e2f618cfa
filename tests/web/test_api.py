"""The JSON API through the test client: fields, paging, filters, errors, CORS, validators and privacy.

Every 200 body is also validated against the OpenAPI document the API serves (formats included), so
the exhibition and draft cases the live schemathesis run may not reach are checked against it too.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from museum.catalogue import store
from museum.catalogue.api_reads import CURSOR_MAX_LENGTH
from museum.catalogue.service import Catalogue, set_item_status
from museum.curation.accounts import create_user
from museum.curation.exhibitions import (
    ExhibitionForm,
    add_entry,
    add_section,
    create_exhibition,
    set_exhibition_status,
)
from museum.web import current_catalogue
from tests.conftest import AppFactory, pg_database

HARVESTERS = "met:435809"
DRAFT = "met:544227"
NPM = "npm:1195"
PUBLISHED_IDS = sorted(["met:13503", "met:36004", HARVESTERS, NPM, "si:F1906.261"])


def add_exhibitions(cat: Catalogue) -> None:
    """Add an open exhibition (with a draft item and unsafe Markdown), a draft, one not yet open and a closed one."""
    admin = create_user(cat, "api-admin", "a long enough password 1", role="admin")
    today = dt.datetime.now(dt.UTC).date()
    shows = {
        "open-walk": ExhibitionForm(slug="open-walk", title={"en": "Harvest", "zh-Hans": "收获"},
                                    summary={"en": "Fields and *people*."}, cover_item_id=HARVESTERS),
        "draft-show": ExhibitionForm(slug="draft-show", title={"en": "Not yet ready"}),
        "future-show": ExhibitionForm(slug="future-show", title={"en": "Opens later"},
                                      opens_on=(today + dt.timedelta(days=30)).isoformat()),
        "closed-show": ExhibitionForm(slug="closed-show", title={"en": "Closed"},
                                      closes_on=(today - dt.timedelta(days=30)).isoformat()),
    }
    for slug, form in shows.items():
        exhibition_id = create_exhibition(cat, admin, form)
        section = add_section(cat, admin, exhibition_id, {"en": "Summer"},
                              {"en": "The **wheat** is cut.<script>alert(1)</script>", "zh-Hans": "麦子熟了。"})
        add_entry(cat, admin, exhibition_id, section, HARVESTERS, {"en": "Bruegel's harvest"})
        add_entry(cat, admin, exhibition_id, section, DRAFT, {"en": "A draft: never shown"})
        add_entry(cat, admin, exhibition_id, section, NPM)
        add_section(cat, admin, exhibition_id, {"en": "Afterword"}, {})
        if slug != "draft-show":
            set_exhibition_status(cat, admin, exhibition_id, "published")


@pytest.fixture
def api_app(make_app: AppFactory) -> Flask:
    """Return an app over the test exhibit with the test exhibitions added."""
    app = make_app()
    with app.app_context():
        add_exhibitions(current_catalogue())
    return app


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    """Return a client of the app with exhibitions."""
    return api_app.test_client()


def _document(client: FlaskClient) -> dict[str, Any]:
    """Return the OpenAPI document the app serves."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert isinstance(document, dict)
    return document


def _conforms(client: FlaskClient, body: Any, component: str) -> None:
    """Assert that body is valid against a component schema of the served document, formats included."""
    document = _document(client)
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def _get(client: FlaskClient, url: str, component: str | None = None, **kwargs: Any) -> Any:
    """GET url, assert 200 JSON (conforming to component when given) and return the body."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    if component:
        _conforms(client, body, component)
    return body


def _error(client: FlaskClient, url: str, status: int, code: str, method: str = "GET") -> dict[str, Any]:
    """Request url, assert a JSON error with this status and code, and return its error object."""
    response = client.open(url, method=method)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    _conforms(client, body, "Error")
    assert body["error"]["code"] == code and body["error"]["status"] == status and body["error"]["message"]
    return dict(body["error"])


def _ids(client: FlaskClient, query: str) -> list[str]:
    """Return the ids of every page of an item list, following links.next."""
    url: str | None = "/api/v1/items" + query
    found: list[str] = []
    while url:
        body = _get(client, url, "ItemList")
        found += [item["id"] for item in body["items"]]
        url = body["links"].get("next")
    return found


# ----- the document ----------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_names_this_server(shared_client: FlaskClient) -> None:
    document = _document(shared_client)
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]
    assert {"/items", "/items/{item_id}", "/collections", "/collections/{slug}", "/institutions",
            "/institutions/{slug}", "/exhibitions", "/exhibitions/{slug}", "/images/{sha256}",
            "/search"} <= set(document["paths"])


# ----- items -------------------------------------------------------------------------------


def test_an_item_has_every_documented_field(shared_client: FlaskClient) -> None:
    item = _get(shared_client, f"/api/v1/items/{HARVESTERS}", "Item")
    assert item["id"] == HARVESTERS and item["title"] == "The Harvesters" and item["title_alt"] == "收割者"
    assert item["begin_year"] == item["end_year"] == 1565 and item["date"] == "1565"
    assert item["url"] == f"http://localhost/items/{HARVESTERS}"
    assert item["api_url"] == f"http://localhost/api/v1/items/{HARVESTERS}"
    assert item["collection"]["slug"] == "test-paintings" and item["collection"]["title"]["en"] == "Test Paintings"
    assert item["institution"] == {"slug": "met", "name": item["institution"]["name"],
                                   "homepage": "https://www.metmuseum.org/",
                                   "api_url": "http://localhost/api/v1/institutions/met"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["updated_at"])
    image = item["images"][0]
    sha = image["sha256"]
    assert image["urls"]["thumb"]["webp"] == f"http://localhost/media/{sha}/thumb.webp"
    assert image["iiif"] == {"service": f"http://localhost/iiif/3/{sha}",
                             "info": f"http://localhost/iiif/3/{sha}/info.json",
                             "full": f"http://localhost/iiif/3/{sha}/full/max/0/default.jpg",
                             "manifest": f"http://localhost/iiif/manifest/{HARVESTERS}"}
    assert item["iiif_manifest"] == f"http://localhost/iiif/manifest/{HARVESTERS}"
    # The links lead somewhere real.
    for url in (item["url"], image["urls"]["thumb"]["jpeg"], image["iiif"]["info"], item["iiif_manifest"]):
        with shared_client.get(url.removeprefix("http://localhost")) as response:   # closes served files
            assert response.status_code == 200, url


def test_an_item_held_by_another_institution_than_its_collections_names_it(shared_client: FlaskClient) -> None:
    item = _get(shared_client, f"/api/v1/items/{NPM}", "Item")
    assert item["institution"]["slug"] == "npm" and item["collection"]["slug"] == "test-paintings"
    no_images = _get(shared_client, "/api/v1/items/met:36004", "Item")
    assert no_images["images"] == [] and no_images["iiif_manifest"] is None


def test_item_lists_page_by_cursor_in_id_order_without_drafts(shared_client: FlaskClient) -> None:
    assert _ids(shared_client, "") == PUBLISHED_IDS
    for limit in (1, 2, 4, 5, 100):
        assert _ids(shared_client, f"?limit={limit}") == PUBLISHED_IDS
    first = shared_client.get("/api/v1/items?limit=2")
    body = first.get_json()
    assert body["limit"] == 2 and len(body["items"]) == 2
    assert body["links"]["next"] == f"http://localhost/api/v1/items?limit=2&cursor={body['next_cursor']}"
    assert first.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'
    last = _get(shared_client, "/api/v1/items?limit=5")
    assert last["next_cursor"] is None and "next" not in last["links"]


def test_item_filters(shared_client: FlaskClient) -> None:
    assert _ids(shared_client, "?collection=test-paintings") == PUBLISHED_IDS
    assert _ids(shared_client, "?collection=nope") == []
    assert _ids(shared_client, "?institution=npm") == [NPM]
    assert _ids(shared_client, "?institution=nmaa") == ["si:F1906.261"]
    assert _ids(shared_client, "?institution=met") == ["met:13503", "met:36004", HARVESTERS]
    assert _ids(shared_client, "?has_image=true") == ["met:13503", HARVESTERS]
    assert _ids(shared_client, "?has_image=false") == ["met:36004", NPM, "si:F1906.261"]
    assert _ids(shared_client, "?year_from=1500&year_to=1600") == [HARVESTERS]
    assert _ids(shared_client, "?year_from=1566") == [] and _ids(shared_client, "?year_to=1564") == []
    assert _ids(shared_client, "?year_to=1565&year_from=1565") == [HARVESTERS]
    assert _ids(shared_client, "?year_from=1600&year_to=1500") == []
    assert _ids(shared_client, "?updated_since=2000-01-01") == PUBLISHED_IDS
    assert _ids(shared_client, "?updated_since=2000-01-01T00:00:00%2B08:00&has_image=true") == ["met:13503",
                                                                                                HARVESTERS]
    assert _ids(shared_client, "?updated_since=9999-12-31T23:59:60Z") == []
    # The ends of the calendar: year 0000 is valid RFC 3339, and offsets may reach past year 9999.
    assert _ids(shared_client, "?updated_since=0000-02-29") == PUBLISHED_IDS
    assert _ids(shared_client, "?updated_since=9999-12-31T23:00:00-05:00") == []
    # Filters and limit travel with the cursor.
    assert _ids(shared_client, "?collection=test-paintings&has_image=false&limit=1") == [
        "met:36004", NPM, "si:F1906.261"]


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=ten", "limit=", "limit=%C2%B2", "limit=1.5", "has_image=yes", "has_image=",
    "updated_since=yesterday", "updated_since=2024-02-30", "updated_since=2024-01-01T10:00:00",
    "updated_since=2024-01-01T10:00:00%2B24:00", "updated_since=2024-01-01T25:00:00Z",
    "year_from=1.5", "year_to=100000", "year_from=-",
    "cursor=a", "cursor=a%2Bb", pytest.param("cursor=" + "A" * (CURSOR_MAX_LENGTH + 4), id="cursor=too-long"),
])
def test_bad_parameters_are_400_with_a_code_and_message(shared_client: FlaskClient, query: str) -> None:
    error = _error(shared_client, "/api/v1/items?" + query, 400, "bad_parameter")
    assert query.split("=")[0] in error["message"]


def test_a_hand_made_cursor_starts_at_its_place(shared_client: FlaskClient) -> None:
    cursor = base64.urlsafe_b64encode(b"met:4").decode().rstrip("=")
    assert _ids(shared_client, f"?cursor={cursor}") == [HARVESTERS, NPM, "si:F1906.261"]
    # Even one that is not UTF-8 or holds NUL names a place and answers (PostgreSQL refuses NUL).
    assert _get(shared_client, "/api/v1/items?cursor=AP8")["items"] is not None


# ----- collections, institutions, images ------------------------------------------------------


def test_collections_and_institutions_with_their_published_counts(shared_client: FlaskClient) -> None:
    listed = _get(shared_client, "/api/v1/collections", "CollectionList")["collections"]
    assert [c["slug"] for c in listed] == ["test-paintings"]
    one = _get(shared_client, "/api/v1/collections/test-paintings", "Collection")
    assert one == listed[0]
    assert one["item_count"] == len(PUBLISHED_IDS) and one["institution"]["slug"] == "met"
    assert one["licence"]["url"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert one["items_url"] == "http://localhost/api/v1/items?collection=test-paintings"
    assert one["iiif_collection"] == "http://localhost/iiif/collection/test-paintings"
    assert one["cover"]["sha256"]

    institutions = _get(shared_client, "/api/v1/institutions", "InstitutionList")["institutions"]
    counts = {i["slug"]: i["item_count"] for i in institutions}
    assert counts == {"met": 3, "nmaa": 1, "npm": 1}
    met = _get(shared_client, "/api/v1/institutions/met", "Institution")
    assert met["collections"] == [{"slug": "test-paintings", "title": one["title"],
                                   "api_url": "http://localhost/api/v1/collections/test-paintings"}]
    assert met["name"]["zh-Hant"] == "大都會藝術博物館" and met["homepage"] == "https://www.metmuseum.org/"


def test_an_image_names_the_published_items_that_show_it(shared_client: FlaskClient) -> None:
    item = _get(shared_client, f"/api/v1/items/{HARVESTERS}")
    sha = item["images"][0]["sha256"]
    record = _get(shared_client, f"/api/v1/images/{sha}", "Image")
    assert record["sha256"] == sha and record["width"] == item["images"][0]["width"]
    assert record["sizes"] == {"thumb": 320, "medium": 1024, "large": 2048}
    assert [use["item"]["id"] for use in record["used_by"]] == [HARVESTERS]
    assert record["used_by"][0]["iiif_manifest"] == f"http://localhost/iiif/manifest/{HARVESTERS}"
    assert record["iiif"]["info"] == f"http://localhost/iiif/3/{sha}/info.json"


# ----- exhibitions -------------------------------------------------------------------------


def test_only_open_published_exhibitions_show_and_only_their_published_items(api: FlaskClient) -> None:
    listed = _get(api, "/api/v1/exhibitions", "ExhibitionList")["exhibitions"]
    assert [e["slug"] for e in listed] == ["open-walk"]
    assert listed[0]["item_count"] == 2 and listed[0]["cover"] is not None
    show = _get(api, "/api/v1/exhibitions/open-walk", "Exhibition")
    assert show["title"] == {"en": "Harvest", "zh-Hans": "收获"}
    first, second = show["sections"]
    assert [e["item"]["id"] for e in first["entries"]] == [HARVESTERS, NPM]
    assert [e["number"] for e in first["entries"]] == [1, 2]
    assert first["entries"][0]["caption"] == {"en": "Bruegel's harvest"}
    assert first["entries"][0]["item"]["api_url"] == f"http://localhost/api/v1/items/{HARVESTERS}"
    assert show["url"] == "http://localhost/exhibitions/open-walk"
    assert first["entries"][1]["walk_url"] == "http://localhost/exhibitions/open-walk/walk/2"
    for url in (show["url"], first["entries"][1]["walk_url"]):
        assert api.get(url.removeprefix("http://localhost")).status_code == 200, url
    assert "<strong>wheat</strong>" in first["body_html"]["en"] and "<script" not in first["body_html"]["en"]
    assert second["entries"] == [] and second["body_html"] == {}
    body = api.get("/api/v1/exhibitions/open-walk").get_data()
    assert DRAFT.encode() not in body and b"A draft: never shown" not in body
    for slug in ("draft-show", "future-show", "closed-show", "nope"):
        _error(api, f"/api/v1/exhibitions/{slug}", 404, "not_found")


# ----- errors, methods, CORS, validators ------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/items/nope", f"/api/v1/items/{DRAFT}", "/api/v1/items/a/b/c", "/api/v1/items/%00",
    "/api/v1/collections/nope", "/api/v1/institutions/nope", "/api/v1/exhibitions/nope",
    "/api/v1/images/" + "0" * 64, "/api/v1/images/nope", "/api/v1/nope", "/api/v1/", "/api/v1/items/",
    "/api/v1/items//x", "/api/v1/items/a%0Ab", "/api/v1/x%0Ay/z", "/api/v1/collections/a%0A",
])
def test_unknown_and_unpublished_things_are_json_404s(shared_client: FlaskClient, url: str) -> None:
    _error(shared_client, url, 404, "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "QUERY", "PROPFIND"])
def test_other_methods_are_json_405s_with_allow(shared_client: FlaskClient, method: str) -> None:
    for url in ("/api/v1/items", f"/api/v1/items/{HARVESTERS}", "/api/v1/search", "/api/v1/openapi.json"):
        _error(shared_client, url, 405, "method_not_allowed", method=method)
        assert shared_client.open(url, method=method).headers["Allow"] == "GET, HEAD, OPTIONS"
    _error(shared_client, "/api/v1/nothing-here", 404, "not_found", method=method)


def test_cors_is_open_for_reads_and_preflight(shared_client: FlaskClient) -> None:
    for url in ("/api/v1/items", "/api/v1/search?q=harvest", "/api/v1/items/nope"):
        assert shared_client.get(url, headers={"Origin": "https://example.org"}).headers[
            "Access-Control-Allow-Origin"] == "*"
    preflight = shared_client.options("/api/v1/items", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" in shared_client.get("/api/v1/items").headers["Access-Control-Expose-Headers"]


def test_etag_and_304_and_a_write_changes_the_etag(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    urls = ["/api/v1/items", f"/api/v1/items/{HARVESTERS}", "/api/v1/collections/test-paintings",
            "/api/v1/institutions/met", "/api/v1/search?q=harvest", "/api/v1/openapi.json"]
    tags: dict[str, str] = {}
    for url in urls:
        response = client.get(url)
        assert response.headers["Cache-Control"] == "public, max-age=60"
        tags[url] = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": tags[url]})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["Access-Control-Allow-Origin"] == "*" and again.headers["ETag"] == tags[url]
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    with app.app_context():
        assert set_item_status(current_catalogue(), "met:13503", "draft", actor="test")
    for url in ("/api/v1/items", "/api/v1/collections/test-paintings", "/api/v1/institutions/met"):
        assert client.get(url, headers={"If-None-Match": tags[url]}).status_code == 200, url
    # An answer the write did not change keeps its ETag, so clients keep their copy.
    assert client.get(f"/api/v1/items/{HARVESTERS}",
                      headers={"If-None-Match": tags[f"/api/v1/items/{HARVESTERS}"]}).status_code == 304


@pytest.mark.parametrize("status", ["draft", "trashed"])
def test_a_withdrawn_or_trashed_item_leaves_every_api_answer(make_app: AppFactory, status: str) -> None:
    app = make_app()
    client = app.test_client()
    sha = _get(client, f"/api/v1/items/{HARVESTERS}")["images"][0]["sha256"]
    listings = ["/api/v1/items", "/api/v1/items?institution=met", "/api/v1/items?has_image=true",
                "/api/v1/search?q=Harvesters", "/api/v1/collections", "/api/v1/institutions/met"]
    for url in listings:   # fill every cache first
        _get(client, url)
    with app.app_context():
        assert set_item_status(current_catalogue(), HARVESTERS, status, actor="test")
    _error(client, f"/api/v1/items/{HARVESTERS}", 404, "not_found")
    _error(client, f"/api/v1/images/{sha}", 404, "not_found")
    for url in listings:
        body = client.get(url).get_data()
        assert HARVESTERS.encode() not in body and sha.encode() not in body, url
    assert _get(client, "/api/v1/collections/test-paintings")["item_count"] == len(PUBLISHED_IDS) - 1
    assert _get(client, "/api/v1/institutions/met")["item_count"] == 2
    with app.app_context(), current_catalogue().sessions() as session:
        assert store.item_by_id(session, HARVESTERS) is not None   # still in the database, just not public


# ----- search keeps working ---------------------------------------------------------------------


def test_search_answers_with_api_links_and_conforms(shared_client: FlaskClient) -> None:
    body = _get(shared_client, "/api/v1/search?q=Harvesters&per_page=2", "SearchResults")
    assert body["items"][0]["id"] == HARVESTERS
    assert body["items"][0]["api_url"] == f"http://localhost/api/v1/items/{HARVESTERS}"
    _get(shared_client, "/api/v1/search?from=nonsense&per_page=%C2%B2&page=%C2%B2&sort=odd", "SearchResults")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL database (dropped after the app's connections close)."""
    with pg_database() as url:
        yield url


@pytest.mark.postgres
def test_the_api_on_postgresql(pg_url: str, make_app: AppFactory) -> None:
    client = make_app(database_url=pg_url).test_client()
    everything = _ids(client, "?limit=100")
    assert sorted(everything) == PUBLISHED_IDS
    assert _ids(client, "?limit=1") == _ids(client, "?limit=2") == everything
    assert _ids(client, "?institution=met&has_image=true") == ["met:13503", HARVESTERS]
    assert _ids(client, "?updated_since=2000-01-01T08:00:00%2B08:00&year_from=1565&year_to=1565") == [HARVESTERS]
    assert _ids(client, "?updated_since=0001-01-01T00:00:00%2B01:00") == everything
    # PostgreSQL refuses NUL in text, so none may reach it: never a 500.
    assert _get(client, "/api/v1/items?cursor=AP8")["items"] is not None
    assert _ids(client, "?collection=%00") == [] and _ids(client, "?institution=a%00") == []
    for url in ("/api/v1/items/%00", "/api/v1/collections/%00", "/api/v1/institutions/%00",
                "/api/v1/exhibitions/%00", "/api/v1/images/%00"):
        _error(client, url, 404, "not_found")
    _get(client, "/api/v1/institutions", "InstitutionList")
    _get(client, f"/api/v1/items/{HARVESTERS}", "Item")
