"""The IIIF Image API through the Flask test client: statuses, headers, caching, privacy and metadata."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image

from museum.catalogue import store
from museum.catalogue.importing import import_path
from museum.catalogue.service import set_item_status
from museum.config import load_settings
from museum.images import iiif
from museum.tile_cache import _shareable
from museum.web import current_catalogue
from tests.conftest import AppFactory

JSON_LD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
IMMUTABLE = "public, max-age=31536000, immutable"
HARVESTERS = "met:435809"   # published, 1165 x 859 JPEG
HIPPO = "met:544227"        # draft


def _image_of(app: Flask, item_id: str, position: int = 0) -> tuple[str, int, int]:
    """Return the hash, width and height of an item's image."""
    with app.app_context(), current_catalogue().sessions() as session:
        item = store.item_by_id(session, item_id)
        assert item is not None
        image = item.images[position]
        return image.sha256, image.width, image.height


def _set_status(app: Flask, item_id: str, status: str) -> None:
    """Change an item's status as a curator publishing or withdrawing it would (with its revision)."""
    with app.app_context():
        assert set_item_status(current_catalogue(), item_id, status, actor="test")


@pytest.fixture(scope="module")
def harvesters(shared_app: Flask) -> str:
    """Return the image id (SHA-256) of the published Harvesters painting."""
    return _image_of(shared_app, HARVESTERS)[0]


def test_info_json_is_absolute_cached_and_negotiated(shared_client: FlaskClient, harvesters: str) -> None:
    url = f"/iiif/3/{harvesters}/info.json"
    response = shared_client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    info = response.get_json()
    assert info["id"] == f"http://localhost/iiif/3/{harvesters}"
    assert (info["width"], info["height"]) == (1165, 859)
    assert info["profile"] == "level2" and info["type"] == "ImageService3"
    assert info["tiles"][0]["scaleFactors"] == [1, 2, 4]
    ld = shared_client.get(url, headers={"Accept": "application/ld+json"})
    assert ld.headers["Content-Type"] == JSON_LD and ld.get_json() == info
    preferred = shared_client.get(url, headers={"Accept": "application/json, application/ld+json;q=0.5"})
    assert preferred.headers["Content-Type"] == "application/json"
    again = shared_client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Access-Control-Allow-Origin"] == "*"


def test_base_uri_redirects_to_info_json(shared_client: FlaskClient, harvesters: str) -> None:
    response = shared_client.get(f"/iiif/3/{harvesters}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"http://localhost/iiif/3/{harvesters}/info.json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert shared_client.get("/iiif/3/" + "0" * 64).status_code == 404


@pytest.mark.parametrize(("fmt", "media_type", "magic"), [
    ("jpg", "image/jpeg", b"\xff\xd8\xff"), ("png", "image/png", b"\x89PNG"), ("webp", "image/webp", b"RIFF"),
    ("tif", "image/tiff", b"II*\x00"), ("gif", "image/gif", b"GIF8"),
])
def test_every_format_has_its_content_type(shared_client: FlaskClient, harvesters: str, fmt: str,
                                           media_type: str, magic: bytes) -> None:
    with shared_client.get(f"/iiif/3/{harvesters}/full/!300,300/0/default.{fmt}") as response:
        assert response.status_code == 200 and response.mimetype == media_type
        assert response.data.startswith(magic)
        with Image.open(io.BytesIO(response.data)) as image:
            assert image.size == (300, 221)


def test_image_responses_carry_validators_links_and_a_year_of_caching(shared_app: Flask,
                                                                      shared_client: FlaskClient,
                                                                      harvesters: str) -> None:
    url = f"/iiif/3/{harvesters}/pct:0,0,50,50/!256,256/0/color.jpg"
    with shared_client.get(url) as first:
        assert first.status_code == 200 and first.mimetype == "image/jpeg"
        assert first.headers["Cache-Control"] == IMMUTABLE
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        canonical = f"http://localhost/iiif/3/{harvesters}/0,0,583,430/256,189/0/default.jpg"
        assert f'<{canonical}>;rel="canonical"' in first.headers["Link"]
        assert '<http://iiif.io/api/image/3/level2.json>;rel="profile"' in first.headers["Link"]
        body = first.data
    # The canonical URL is the same image with the same validator.
    with shared_client.get(canonical.removeprefix("http://localhost")) as same:
        assert same.headers["ETag"] == etag and same.data == body
    with shared_client.get(url, headers={"If-None-Match": etag}) as revalidated:
        assert revalidated.status_code == 304 and not revalidated.data
        assert revalidated.headers["ETag"] == etag and revalidated.headers["Cache-Control"] == IMMUTABLE
        assert revalidated.headers["Access-Control-Allow-Origin"] == "*"
    with shared_client.get(url, headers={"If-Modified-Since": modified}) as by_date:
        assert by_date.status_code == 304
    with shared_client.get(url, headers={"If-None-Match": '"something-else"'}) as changed:
        assert changed.status_code == 200 and changed.data == body
    with shared_client.head(url) as head:
        assert head.status_code == 200 and head.headers["ETag"] == etag
    # Revalidation needs no rendering: even with the cached file gone, the answer is 304.
    settings = shared_app.config["MUSEUM_SETTINGS"]
    cached = settings.derivatives_dir / "iiif" / f"v{iiif.RENDER_VERSION}" / harvesters[:2] / harvesters
    rendered = cached / "0,0,583,430" / "256,189" / "0" / "default.jpg"
    assert rendered.is_file()
    rendered.unlink()
    with shared_client.get(url, headers={"If-None-Match": etag}) as revalidated:
        assert revalidated.status_code == 304
    assert not rendered.exists()


def test_tiles_listed_in_info_json_can_all_be_fetched(shared_client: FlaskClient, harvesters: str) -> None:
    info = shared_client.get(f"/iiif/3/{harvesters}/info.json").get_json()
    width, height, tile = info["width"], info["height"], info["tiles"][0]["width"]
    fetched = 0
    for factor in info["tiles"][0]["scaleFactors"]:
        step = tile * factor
        for y in range(0, height, step):
            for x in range(0, width, step):
                w, h = min(step, width - x), min(step, height - y)
                size = f"{-(-w // factor)},{-(-h // factor)}"
                with shared_client.get(f"/iiif/3/{harvesters}/{x},{y},{w},{h}/{size}/0/default.jpg") as response:
                    assert response.status_code == 200, (x, y, w, h, size)
                    with Image.open(io.BytesIO(response.data)) as image:
                        assert image.size == tuple(int(v) for v in size.split(","))
                fetched += 1
    for entry in info["sizes"]:
        with shared_client.get(f"/iiif/3/{harvesters}/full/{entry['width']},{entry['height']}/0/default.jpg") as r:
            assert r.status_code == 200
    assert fetched == 6 + 2 + 1


BAD_REQUESTS = [
    # region
    ("..", "max", "0", "default.jpg", 400), ("%2e%2e", "max", "0", "default.jpg", 400),
    ("-1,0,10,10", "max", "0", "default.jpg", 400), ("0,0,0,0", "max", "0", "default.jpg", 400),
    ("0,0,0,10", "max", "0", "default.jpg", 400), ("pct:0,0,0,0", "max", "0", "default.jpg", 400),
    ("pct:NaN,0,10,10", "max", "0", "default.jpg", 400), ("pct:100,0,1,1", "max", "0", "default.jpg", 400),
    ("pct:1e3,0,1,1", "max", "0", "default.jpg", 400), ("pct:-0,0,1,1", "max", "0", "default.jpg", 400),
    ("1165,0,10,10", "max", "0", "default.jpg", 400), ("0,859,10,10", "max", "0", "default.jpg", 400),
    ("99999999999999999999,0,1,1", "max", "0", "default.jpg", 400),
    ("full%00", "max", "0", "default.jpg", 400), ("%ff%fe", "max", "0", "default.jpg", 400),
    ("%E2%80%AEfull", "max", "0", "default.jpg", 400), ("full;", "max", "0", "default.jpg", 400),
    ("1,2,3,4%2C5", "max", "0", "default.jpg", 400), ("%20full", "max", "0", "default.jpg", 400),
    # size
    ("full", "full", "0", "default.jpg", 400), ("full", "0,", "0", "default.jpg", 400),
    ("full", ",0", "0", "default.jpg", 400), ("full", "pct:0", "0", "default.jpg", 400),
    ("full", "pct:100.1", "0", "default.jpg", 400), ("full", "2000,", "0", "default.jpg", 400),
    ("full", "!2000,2000", "0", "default.jpg", 400), ("full", "^99999,", "0", "default.jpg", 400),
    ("full", "^8000,8000", "0", "default.jpg", 400), ("full", "^pct:100000", "0", "default.jpg", 400),
    ("full", "-5,", "0", "default.jpg", 400), ("full", "NaN,", "0", "default.jpg", 400),
    ("0,0,10,10", "11,", "0", "default.jpg", 400), ("full", "max%20", "0", "default.jpg", 400),
    # rotation
    ("full", "max", "-90", "default.jpg", 400), ("full", "max", "361", "default.jpg", 400),
    ("full", "max", "NaN", "default.jpg", 400), ("full", "max", "1e2", "default.jpg", 400),
    ("full", "max", "!!90", "default.jpg", 400), ("full", "max", "90%25", "default.jpg", 400),
    # quality and format
    ("full", "max", "0", "grey.jpg", 400), ("full", "max", "0", "DEFAULT.jpg", 400),
    ("full", "max", "0", ".jpg", 400), ("full", "max", "0", "color%00.jpg", 400),
    ("full", "max", "0", "default.jpeg", 400), ("full", "max", "0", "default.JPG", 400),
    ("full", "max", "0", "default.", 400), ("full", "max", "0", "default", 400),
    ("full", "max", "0", "default.exe", 400), ("full", "max", "0", "..", 400),
    ("full", "max", "0", "default.jpg%20", 400),
    # valid but not implemented
    ("full", "max", "0", "default.jp2", 501), ("full", "max", "0", "default.pdf", 501),
]


@pytest.mark.parametrize(("region", "size", "rotation", "last", "status"), BAD_REQUESTS)
def test_odd_parameters_get_the_status_the_spec_asks_for(shared_client: FlaskClient, harvesters: str, region: str,
                                                         size: str, rotation: str, last: str, status: int) -> None:
    with shared_client.get(f"/iiif/3/{harvesters}/{region}/{size}/{rotation}/{last}") as response:
        assert response.status_code == status, response.data
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", [
    "/iiif/3/" + "0" * 64 + "/full/max/0/default.jpg",
    "/iiif/3/" + "0" * 64 + "/info.json",
    "/iiif/3/{sha_upper}/info.json",
    "/iiif/3/{sha_short}/info.json",
    "/iiif/3/a/b/full/max/0/default.jpg",
    "/iiif/3/a%2Fb/full/max/0/default.jpg",
    "/iiif/3/[frob]/full/max/0/default.jpg",
    "/iiif/3/..%2F..%2Fetc%2Fpasswd/info.json",
    "/iiif/3/{sha}/full/max/0",
    "/iiif/3/{sha}/full/max/0/default.jpg/extra",
    "/iiif/3/{sha}/info.json/",
    "/iiif/3/{sha}/info.xml",
    "/iiif/3/{sha}/",
    "/iiif/3/",
    "/iiif/3/{sha}/../{sha}/info.json",
])
def test_unknown_images_and_shapes_are_404(shared_client: FlaskClient, harvesters: str, path: str) -> None:
    url = path.format(sha=harvesters, sha_upper=harvesters.upper(), sha_short=harvesters[:40])
    with shared_client.get(url) as response:
        assert response.status_code == 404
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_escaped_characters_in_the_identifier_are_decoded(shared_client: FlaskClient, harvesters: str) -> None:
    escaped = "".join(f"%{ord(c):02X}" for c in harvesters)
    with shared_client.get(f"/iiif/3/{escaped}/full/64,/0/default.jpg") as response:
        assert response.status_code == 200


def test_cors_on_other_methods_too(shared_client: FlaskClient, harvesters: str) -> None:
    posted = shared_client.post(f"/iiif/3/{harvesters}/info.json")
    assert posted.status_code == 405 and posted.headers["Access-Control-Allow-Origin"] == "*"
    options = shared_client.options(f"/iiif/3/{harvesters}/full/max/0/default.jpg")
    assert options.status_code == 200 and options.headers["Access-Control-Allow-Origin"] == "*"
    page = shared_client.get("/")
    assert "Access-Control-Allow-Origin" not in page.headers   # only the Image API is shared


def test_upscaling_only_with_caret_and_within_the_declared_limits(shared_client: FlaskClient,
                                                                   harvesters: str) -> None:
    with shared_client.get(f"/iiif/3/{harvesters}/0,0,100,100/^400,/0/default.png") as response:
        assert response.status_code == 200
        with Image.open(io.BytesIO(response.data)) as image:
            assert image.size == (400, 400)
    with shared_client.get(f"/iiif/3/{harvesters}/0,0,100,100/400,/0/default.png") as response:
        assert response.status_code == 400
    with shared_client.get(f"/iiif/3/{harvesters}/0,0,100,100/^max/0/default.jpg") as response:
        assert response.status_code == 200
        with Image.open(io.BytesIO(response.data)) as image:
            assert image.size == (7071, 7071)


def test_unpublished_and_trashed_images_are_never_served(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    hippo = _image_of(app, HIPPO)[0]
    harvesters = _image_of(app, HARVESTERS)[0]
    urls = ["/iiif/3/{sha}", "/iiif/3/{sha}/info.json", "/iiif/3/{sha}/full/max/0/default.jpg",
            "/iiif/3/{sha}/0,0,10,10/max/0/gray.png", "/iiif/3/{sha}/square/^max/!90/bitonal.webp",
            "/iiif/3/{sha}/junk/max/0/default.jpg", "/iiif/3/{sha}/full/max/0/default.jp2"]
    for url in urls:
        with client.get(url.format(sha=hippo)) as response:
            assert response.status_code == 404, url   # a draft's image: as if it did not exist
    served = [url.format(sha=harvesters) for url in urls[:5]]
    for url in served:
        with client.get(url) as response:
            assert response.status_code in (200, 303), url
    for status in ("draft", "trashed"):
        _set_status(app, HARVESTERS, status)
        for url in served:
            # The renditions are still in the cache on disk, but are not given out.
            with client.get(url) as response:
                assert response.status_code == 404, (status, url)
    _set_status(app, HARVESTERS, "published")
    with client.get(served[2]) as response:
        assert response.status_code == 200


def _gps_jpeg(path: Path) -> None:
    """Write a JPEG carrying GPS coordinates, a camera name and a quarter-turn orientation."""
    image = Image.new("RGB", (300, 200), (180, 40, 40))
    image.paste((40, 40, 180), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "DonorCam"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (22.0, 16.0, 45.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (114.0, 9.0, 30.0)}
    image.save(path, "JPEG", exif=exif.tobytes(), quality=90)


def test_nothing_served_carries_gps_or_exif(make_app: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "gps"
    (folder / "images").mkdir(parents=True)
    _gps_jpeg(folder / "images" / "home.jpg")
    with Image.open(folder / "images" / "home.jpg") as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)   # the file does carry a position
    (folder / "collection.toml").write_text(
        'slug = "gps"\ninstitution = "lab"\n[title]\nen = "GPS"\n'
        '[[institutions]]\nslug = "lab"\n[institutions.name]\nen = "Lab"\n', encoding="utf-8")
    with (folder / "items.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "image_filename", "status"])
        writer.writerow(["gps:1", "Donated photograph", "home.jpg", "published"])
        writer.writerow(["gps:2", "Same photograph in a draft", "home.jpg", "draft"])
    app = make_app(import_default_exhibit=False)
    with app.app_context():
        import_path(current_catalogue(), folder)
    client = app.test_client()
    sha, width, height = _image_of(app, "gps:1")
    assert _image_of(app, "gps:2")[0] == sha
    # A draft showing the same file does not hide it: the published item shows it anyway.
    info = client.get(f"/iiif/3/{sha}/info.json").get_json()
    assert (info["width"], info["height"]) == (width, height) == (200, 300)   # as displayed, turned
    for fmt in iiif.FORMATS:
        for params in ("full/max/0/default", "0,0,100,100/50,/90/gray", "square/^300,/!22.5/bitonal"):
            with client.get(f"/iiif/3/{sha}/{params}.{fmt}") as response:
                assert response.status_code == 200, (fmt, params)
                data = response.data
            assert b"DonorCam" not in data and b"Exif\x00\x00" not in data, (fmt, params)
            with Image.open(io.BytesIO(data)) as served:
                exif = served.getexif()
                assert ExifTags.IFD.GPSInfo not in exif and ExifTags.Base.Make not in exif, (fmt, params)
    with client.get(f"/iiif/3/{sha}/full/max/0/default.png") as response, \
            Image.open(io.BytesIO(response.data)) as shown:
        assert shown.size == (200, 300)
        # Orientation 6 turns the picture clockwise: the blue top-left corner goes to the top right.
        pixel = shown.convert("RGB").getpixel((190, 10))
        assert isinstance(pixel, tuple) and pixel[2] > 150 > pixel[0]


def test_simultaneous_requests_for_one_new_tile_all_get_it_whole(make_app: AppFactory) -> None:
    app = make_app()
    sha = _image_of(app, HARVESTERS)[0]
    url = f"/iiif/3/{sha}/512,0,512,512/max/!90/default.png"
    iiif.clear_decoded_cache()
    bodies: list[bytes] = []
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def fetch() -> None:
        try:
            client = app.test_client()
            start.wait()
            with client.get(url) as response:
                assert response.status_code == 200
                bodies.append(response.data)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and len(bodies) == 6 and len(set(bodies)) == 1
    with Image.open(io.BytesIO(bodies[0])) as tile:
        tile.load()
        assert tile.size == (512, 512)
    folder = app.config["MUSEUM_SETTINGS"].derivatives_dir / "iiif" / f"v{iiif.RENDER_VERSION}" / sha[:2] / sha
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["default.png"] and files[0].read_bytes() == bodies[0]


def test_ids_follow_the_reverse_proxy_only_when_configured(make_app: AppFactory) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "museum.example.org",
                 "X-Forwarded-Prefix": "/online", "X-Forwarded-For": "203.0.113.9"}
    behind = make_app(proxy_hops=1)
    sha = _image_of(behind, HARVESTERS)[0]
    base = f"https://museum.example.org/online/iiif/3/{sha}"
    client = behind.test_client()
    assert client.get(f"/iiif/3/{sha}/info.json", headers=forwarded).get_json()["id"] == base
    assert client.get(f"/iiif/3/{sha}", headers=forwarded).headers["Location"] == base + "/info.json"
    with client.get(f"/iiif/3/{sha}/full/64,/0/default.jpg", headers=forwarded) as response:
        assert response.headers["Link"].startswith(f"<{base}/full/64,47/0/default.jpg>")
    direct = make_app(proxy_hops=0).test_client()
    # Without configured proxies, anyone could send these headers: they are ignored.
    assert direct.get(f"/iiif/3/{sha}/info.json", headers=forwarded).get_json()["id"] == \
        f"http://localhost/iiif/3/{sha}"


def test_proxy_hops_comes_from_the_environment() -> None:
    assert load_settings(environ={}).proxy_hops == 0
    assert load_settings(environ={"MUSEUM_PROXY_HOPS": "2"}).proxy_hops == 2


@pytest.mark.parametrize("backend", ["simple", "redis"])
def test_tiles_asked_for_again_come_from_the_tile_cache(make_app: AppFactory, backend: str) -> None:
    import redis

    conn = redis.Redis.from_url("redis://127.0.0.1:6379/13")
    conn.flushdb()
    try:
        app = make_app(cache_redis_url="redis://127.0.0.1:6379/13" if backend == "redis" else "")
        client = app.test_client()
        sha = _image_of(app, HARVESTERS)[0]
        url = f"/iiif/3/{sha}/0,0,512,512/512,/0/default.jpg"
        with client.get(url) as first:
            assert first.status_code == 200
            body, headers = first.data, dict(first.headers)
        if backend == "redis":
            assert conn.keys("museum:tile:*"), "the tile should have been stored in Redis"
        with client.get(url, headers={"Range": "bytes=0-99"}) as part:   # ranges are Flask's
            assert part.status_code == 206 and part.data == body[:100]
        # With the rendition gone from disk the same answer still comes back: from the cache.
        renditions = app.config["MUSEUM_SETTINGS"].derivatives_dir / "iiif" / f"v{iiif.RENDER_VERSION}" / sha[:2]
        [rendered] = (renditions / sha).rglob("default.jpg")
        rendered.unlink()
        with client.get(url) as again:
            assert again.status_code == 200 and again.data == body
            assert {k: v for k, v in again.headers.items() if k != "Date"} == \
                {k: v for k, v in headers.items() if k != "Date"}
            assert again.headers["Cache-Control"] == IMMUTABLE and again.headers["Access-Control-Allow-Origin"] == "*"
        with client.get(url, headers={"If-None-Match": headers["ETag"]}) as revalidated:
            assert revalidated.status_code == 304 and not revalidated.data
        assert not rendered.exists()
        # Any write changes the revision the cache is keyed by: withdrawn, the tile is refused.
        _set_status(app, HARVESTERS, "draft")
        with client.get(url) as withdrawn:
            assert withdrawn.status_code == 404
    finally:
        conn.flushdb()
        conn.close()


def test_the_tile_cache_keeps_answers_per_host(make_app: AppFactory) -> None:
    client = make_app(proxy_hops=1).test_client()
    sha = _image_of(client.application, HARVESTERS)[0]
    url = f"/iiif/3/{sha}/full/256,/0/default.jpg"
    for host in ("a.example.org", "b.example.org", "a.example.org"):
        with client.get(url, headers={"X-Forwarded-Host": host, "X-Forwarded-Proto": "https"}) as response:
            assert response.status_code == 200
            assert response.headers["Link"].startswith(f"<https://{host}/iiif/3/{sha}/")


def test_only_answers_anyone_may_get_are_kept() -> None:
    assert _shareable([("Content-Type", "image/jpeg"), ("Vary", "Cookie")])
    assert not _shareable([("Content-Type", "image/jpeg"), ("Set-Cookie", "session=abc")])
    assert not _shareable([("Vary", "Cookie, Accept-Language")])
