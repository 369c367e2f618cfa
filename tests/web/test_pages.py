"""The public pages through the test client: content, paging, language, caching, images, errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from museum.catalogue.importing import import_path
from museum.web import current_catalogue
from tests.conftest import TEST_EXHIBIT, AppFactory


def _text(response_data: bytes) -> str:
    return response_data.decode("utf-8")


def test_home_shows_featured_items_collections_and_search(shared_client: FlaskClient) -> None:
    page = _text(shared_client.get("/?lang=en").data)
    assert "The Harvesters" in page and "牧羊圖" in page  # featured in collection.toml
    assert 'href="/collections/test-paintings"' in page
    assert 'name="q"' in page and 'action="/search"' in page
    assert "<html lang=\"en\">" in page


def test_collection_grid_pages_and_sorts(shared_client: FlaskClient) -> None:
    first = _text(shared_client.get("/collections/test-paintings?lang=en").data)
    titles = re.findall(r'class="card-title">([^<]+)<', first)
    assert len(titles) == 4  # page_size=4; five published items (the draft is hidden)
    second = _text(shared_client.get("/collections/test-paintings?lang=en&page=2").data)
    titles2 = re.findall(r'class="card-title">([^<]+)<', second)
    assert len(titles2) == 1 and not set(titles) & set(titles2)
    assert "Hippopotamus" not in first + second
    # Placeholders, not broken images, for items with no image.
    assert 'class="placeholder"' in first


def test_collection_sorts_by_title_and_date(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    csv_path = tmp_path / "dated.csv"
    csv_path.write_text("id,title,date\nd:1,Bronze mirror,1900\nd:2,Celadon bowl,c. 1500\n"
                        "d:3,Album leaf,1700s\nd:4,Undated fan,\n", encoding="utf-8")
    with app.app_context():
        import_path(current_catalogue(), csv_path, collection="dated")
    client = app.test_client()

    def order(sort: str) -> list[str]:
        page = _text(client.get(f"/collections/dated?sort={sort}&lang=en").data)
        return re.findall(r'class="card-title">([^<]+)<', page)

    assert order("title") == ["Album leaf", "Bronze mirror", "Celadon bowl", "Undated fan"]
    assert order("date") == ["Celadon bowl", "Album leaf", "Bronze mirror", "Undated fan"]
    assert order("-date") == ["Bronze mirror", "Album leaf", "Celadon bowl", "Undated fan"]


@pytest.mark.parametrize("url", [
    "/collections/test-paintings?page=-1", "/collections/test-paintings?page=abc",
    "/collections/test-paintings?page=99999999999", "/collections/test-paintings?sort=%00",
    "/collections/test-paintings?page=500",
])
def test_odd_collection_parameters_still_give_a_page(shared_client: FlaskClient, url: str) -> None:
    assert shared_client.get(url).status_code == 200


def test_item_page_shows_gallery_metadata_rights_citation_and_neighbours(shared_client: FlaskClient) -> None:
    page = _text(shared_client.get("/items/met:13503?lang=en").data)
    assert "Hibiscus and Parrots" in page
    # Both images, as thumbnails, with WebP and JPEG; the first image is not lazy.
    assert page.count('class="thumbs"') == 1 and page.count("data-medium-jpeg=") == 2
    main = page.split('class="gallery-main"')[1].split("</figure>")[0]
    assert 'loading="lazy"' not in main and "/medium.jpeg" in main
    # Only filled fields: no empty rows.
    assert not re.search(r"<dd>\s*</dd>", page)
    assert "Rights and credits" in page and "creativecommons.org/publicdomain/zero" in page
    assert "Cite this object" in page and "http://localhost/items/met:13503" in page
    assert 'rel="prev"' in page or 'rel="next"' in page


def test_item_without_image_has_a_placeholder(shared_client: FlaskClient) -> None:
    page = _text(shared_client.get("/items/met:36004?lang=en").data)
    assert 'class="placeholder"' in page and "/media/" not in page.split('class="gallery"')[1].split("</section>")[0]


def test_item_ids_with_slashes_and_unknown_ids(shared_client: FlaskClient) -> None:
    missing = shared_client.get("/items/cmoa:things/does-not-exist")
    assert missing.status_code == 404
    assert 'class="site-header"' in _text(missing.data)  # in the layout


def test_draft_items_and_their_images_are_never_public(shared_app: Flask, shared_client: FlaskClient) -> None:
    assert shared_client.get("/items/met:544227").status_code == 404
    with current_catalogue_of(shared_app).sessions() as session:
        from museum.catalogue import store

        item = store.item_by_id(session, "met:544227")
        assert item is not None and item.images
        sha = item.images[0].sha256
    for size in ("thumb", "medium", "large"):
        for fmt in ("jpeg", "webp"):
            with shared_client.get(f"/media/{sha}/{size}.{fmt}") as response:
                assert response.status_code == 404
    assert shared_client.get("/search?q=Hippopotamus").data.count(b'class="card"') == 0


def current_catalogue_of(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return current_catalogue()


def test_media_is_served_with_validators_and_long_caching(shared_client: FlaskClient) -> None:
    page = _text(shared_client.get("/items/met:435809").data)
    url = re.search(r'src="(/media/[0-9a-f]{64}/medium\.jpeg)"', page)
    assert url
    with shared_client.get(url.group(1)) as first:
        assert first.status_code == 200 and first.mimetype == "image/jpeg"
        assert first.data[:3] == b"\xff\xd8\xff"
        assert "max-age=31536000" in first.headers["Cache-Control"]
        etag = first.headers["ETag"]
        assert etag and first.headers.get("Last-Modified")
    with shared_client.get(url.group(1), headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    with shared_client.get(url.group(1).replace(".jpeg", ".webp")) as webp:
        assert webp.status_code == 200 and webp.data[8:12] == b"WEBP"
    for bad in ("/media/" + "0" * 64 + "/medium.jpeg", url.group(1).replace("medium", "huge"),
                url.group(1).replace(".jpeg", ".gif"), "/media/../../etc/passwd/medium.jpeg"):
        with shared_client.get(bad) as response:
            assert response.status_code == 404


@pytest.mark.parametrize("query", ["牧羊圖", "牧羊图", "羊", "herd boy"])
def test_search_finds_the_painting_in_either_script(shared_client: FlaskClient, query: str) -> None:
    page = _text(shared_client.get("/search", query_string={"q": query, "lang": "en"}).data)
    assert re.findall(r'href="/items/([^"]+)"', page)[0] == "met:36004"
    assert "<mark" in page


def test_search_snippets_escape_stored_text(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    csv_path = tmp_path / "xss.csv"
    csv_path.write_text(
        'id,title,description\nx:1,Evil <script>alert(1)</script>,"<img src=x onerror=alert(2)> bronze"\n',
        encoding="utf-8")
    with app.app_context():
        import_path(current_catalogue(), csv_path, collection="xss")
    client = app.test_client()
    for url in ("/search?q=bronze", "/items/x:1", "/collections/xss"):
        page = _text(client.get(url).data)
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page or "&lt;img" in page


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "OR NOT", "title:x", "*", "a~2", "[1 TO", "((", "\x00",
                                   "a" * 3000, "🏺", "NOT 牧羊", "field:(", "?", "^3"])
def test_any_query_string_gives_a_page(shared_client: FlaskClient, query: str) -> None:
    for page in ("1", "0", "-5", "x", "100000"):
        response = shared_client.get("/search", query_string={"q": query, "page": page})
        assert response.status_code == 200


def test_search_pages_are_not_served_from_the_first_page(shared_client: FlaskClient) -> None:
    # Both items by "Unidentified artist"-like creators; with page_size 4 check paging keys.
    one = _text(shared_client.get("/search?q=Met&page=1").data)
    two = _text(shared_client.get("/search?q=Met&page=2").data)
    assert one != two


def test_locale_from_accept_language_cookie_and_switcher(shared_client: FlaskClient) -> None:
    hant = _text(shared_client.get("/collections", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).data)
    hans = _text(shared_client.get("/collections", headers={"Accept-Language": "zh-CN"}).data)
    en = _text(shared_client.get("/collections", headers={"Accept-Language": "en-GB"}).data)
    assert '<html lang="zh-Hant">' in hant and "測試繪畫" in hant
    assert '<html lang="zh-Hans">' in hans and "测试绘画" in hans
    assert '<html lang="en">' in en and "Test Paintings" in en
    switched = shared_client.get("/lang/en?next=/collections")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/collections")
    assert "lang=en" in switched.headers["Set-Cookie"]
    after = _text(shared_client.get("/collections", headers={"Accept-Language": "zh-TW"}).data)
    assert '<html lang="en">' in after
    shared_client.delete_cookie("lang")
    # Never an open redirect.
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        location = shared_client.get("/lang/en", query_string={"next": target}).headers["Location"]
        assert "evil" not in location and "javascript" not in location
    assert shared_client.get("/lang/xx").status_code == 404
    shared_client.delete_cookie("lang")


def test_security_headers_on_every_page(shared_client: FlaskClient) -> None:
    for url in ("/", "/search?q=x", "/nope"):
        response = shared_client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_no_external_resources_in_pages(shared_client: FlaskClient) -> None:
    for url in ("/", "/collections", "/collections/test-paintings", "/items/met:435809", "/search?q=x"):
        page = _text(shared_client.get(url).data)
        # Scripts, styles, images and fonts all come from this server.
        for tag in re.findall(r"<(?:script|img|source|link)\b[^>]*>", page):
            if 'rel="canonical"' in tag:
                continue
            for url in re.findall(r'(?:src|href|srcset)="([^"]+)"', tag):
                assert url.startswith("/") and not url.startswith("//"), tag


def test_error_pages_use_the_layout(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("deliberate")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert 'class="site-header"' in _text(response.data)
    assert client.post("/").status_code == 405


def test_cache_key_follows_the_catalogue_revision(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    client = app.test_client()
    before = _text(client.get("/items/met:435809?lang=en").data)
    assert "The Harvesters" in before
    assert _text(client.get("/items/met:435809?lang=en").data) == before  # served from cache
    edited = tmp_path / "edited" / "test-paintings"
    shutil.copytree(TEST_EXHIBIT / "test-paintings", edited)
    csv_path = edited / "items.csv"
    csv_path.write_text(csv_path.read_text(encoding="utf-8").replace("The Harvesters", "The Reapers", 1),
                        encoding="utf-8")
    with app.app_context():
        report = import_path(current_catalogue(), edited)
    assert report.updated == 1
    after = _text(client.get("/items/met:435809?lang=en").data)
    assert "The Reapers" in after
    assert "The Reapers" in _text(client.get("/search?q=reapers").data)


def test_redis_cache_backend_is_used_when_configured(make_app: AppFactory) -> None:
    import redis

    app = make_app(cache_redis_url="redis://127.0.0.1:6379/14")
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/14")
    conn.flushdb()
    try:
        client = app.test_client()
        assert client.get("/collections").status_code == 200
        keys = conn.keys("museum:*")
        assert keys, "a page should have been stored in Redis"
        assert client.get("/collections").status_code == 200
    finally:
        conn.flushdb()
        conn.close()


def test_site_notice_is_shown_on_every_public_page(make_app: AppFactory) -> None:
    client = make_app(site_notice="博物館閉館期間，歡迎參觀線上展覽").test_client()
    for url in ("/", "/collections", "/items/met:435809", "/search?q=x", "/missing-page"):
        page = _text(client.get(url).data)
        assert 'class="site-notice"' in page and "歡迎參觀線上展覽" in page
