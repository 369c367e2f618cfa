"""IIIF Presentation 3.0: language maps and rights URIs, and the Manifest and Collection endpoints.

Every document served is loaded with iiif-prezi3, the IIIF community's Presentation 3.0 model,
and must come back unchanged from it, so no property is misspelt or misplaced.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import iiif_prezi3
import PIL
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from museum.catalogue import service
from museum.catalogue.importing import import_path
from museum.iiif import presentation
from museum.iiif.presentation_views import JSON_LD, SiteLinks
from museum.web import current_catalogue
from tests.conftest import TEST_EXHIBIT, AppFactory

REPO = Path(__file__).resolve().parents[2]
CONTEXT = "http://iiif.io/api/presentation/3/context.json"
HARVESTERS = "/iiif/manifest/met:435809"
HIBISCUS = "/iiif/manifest/met:13503"
COLLECTION = "/iiif/collection/test-paintings"
BASE = "http://localhost"


def _get(client: FlaskClient, url: str, **kwargs: Any) -> dict[str, Any]:
    """Return the JSON document at url, checking it is served as a public IIIF document."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.content_type == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document: dict[str, Any] = json.loads(response.data)
    return document


def _path(url: str) -> str:
    """Return the path (and query) of an absolute URL, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _ids(node: Any) -> list[str]:
    """Return every "id" value anywhere in a document."""
    if isinstance(node, dict):
        found = [node["id"]] if isinstance(node.get("id"), str) else []
        return found + [i for value in node.values() for i in _ids(value)]
    if isinstance(node, list):
        return [i for value in node for i in _ids(value)]
    return []


# ----- language maps ---------------------------------------------------------------------


def test_a_traditional_title_gets_both_scripts_and_the_english_title() -> None:
    label = presentation.title_map("牧羊圖", "Sheep and herd boy")
    assert label == {"zh-Hant": ["牧羊圖"], "zh-Hans": ["牧羊图"], "en": ["Sheep and herd boy"]}
    assert list(label) == ["zh-Hant", "zh-Hans", "en"]  # the script it was written in comes first


def test_a_simplified_title_gets_its_traditional_form() -> None:
    assert presentation.title_map("牧羊图", "") == {"zh-Hans": ["牧羊图"], "zh-Hant": ["牧羊圖"]}
    assert presentation.is_traditional("谿山行旅圖") and not presentation.is_traditional("溪山行旅图")


def test_an_english_title_comes_first_with_the_chinese_alternative_in_both_scripts() -> None:
    label = presentation.title_map("Hibiscus and Parrots", "木槿與鸚鵡")
    assert label == {"en": ["Hibiscus and Parrots"], "zh-Hant": ["木槿與鸚鵡"], "zh-Hans": ["木槿与鹦鹉"]}
    # Text that reads the same in both scripts is given in both.
    assert presentation.title_map("收割者", "")["zh-Hant"] == ["收割者"]


def test_none_only_where_the_language_is_unknown() -> None:
    assert presentation.script_of("Fan Kuan 范寬") == "mixed"
    assert presentation.title_map("Fan Kuan 范寬", "") == {"none": ["Fan Kuan 范寬"]}
    assert presentation.label_map("1565") == {"none": ["1565"]}
    assert presentation.label_map("Oil on wood") == {"en": ["Oil on wood"]}
    assert presentation.label_map("  ") == {}
    assert presentation.title_map("", "", fallback="met:1") == {"none": ["met:1"]}


def test_paragraphs_in_two_languages_are_split_and_mixed_ones_are_not() -> None:
    text = "A pear tree.\n\n梨樹蔭下歇息。"
    assert presentation.language_texts(text) == {
        "en": ["A pear tree."], "zh-Hant": ["梨樹蔭下歇息。"], "zh-Hans": ["梨树荫下歇息。"]}
    mixed = "Colophons 題跋:\nLabel strip\n\n南宋李迪春郊牧羊圖"
    assert presentation.language_texts(mixed) == {"none": [mixed]}


def test_values_are_plain_text_or_escaped_html() -> None:
    assert presentation.as_value("Oil on wood") == "Oil on wood"
    # Clients read "<…>" as HTML: such text is escaped and wrapped so it cannot inject markup.
    assert presentation.as_value("<script>alert(1)</script>") == "<span>&lt;script&gt;alert(1)&lt;/script&gt;</span>"
    assert presentation.as_value("范寬\n董其昌\n\n宣統鑑賞 <x>") == "<p>范寬<br>董其昌</p><p>宣統鑑賞 &lt;x&gt;</p>"


def test_a_combined_statement_speaks_every_language_of_its_parts() -> None:
    name = {"en": ["The Met"], "zh-Hant": ["大都會"], "zh-Hans": ["大都会"]}
    value = presentation.joined([name, {"en": ["Rogers Fund, 1919."]}])
    assert value == {"en": ["The Met. Rogers Fund, 1919."], "zh-Hant": ["大都會。Rogers Fund, 1919."],
                     "zh-Hans": ["大都会。Rogers Fund, 1919."]}
    # No doubled full stops, and text of unknown language stays under "none".
    assert presentation.joined([{"en": ["Gift of A. B. Co."]}, {"en": ["x"]}]) == {"en": ["Gift of A. B. Co. x"]}
    assert presentation.joined([{"none": ["1565"]}, {"none": ["19.164"]}]) == {"none": ["1565. 19.164"]}
    assert presentation.joined([{}, {}]) == {}


@pytest.mark.parametrize(("url", "expected"), [
    ("https://creativecommons.org/publicdomain/zero/1.0/", "http://creativecommons.org/publicdomain/zero/1.0/"),
    ("https://creativecommons.org/publicdomain/mark/1.0", "http://creativecommons.org/publicdomain/mark/1.0/"),
    ("https://creativecommons.org/licenses/by-nc/4.0/deed.zh-hant",
     "http://creativecommons.org/licenses/by-nc/4.0/"),
    ("http://www.creativecommons.org/licenses/by/3.0/us/legalcode", "http://creativecommons.org/licenses/by/3.0/us/"),
    ("https://rightsstatements.org/page/InC/1.0/?language=en", "http://rightsstatements.org/vocab/InC/1.0/"),
    ("http://rightsstatements.org/vocab/NoC-US/1.0/", "http://rightsstatements.org/vocab/NoC-US/1.0/"),
    ("https://www.metmuseum.org/policies/image-resources", None),
    ("https://creativecommons.org/about/", None),
    ("", None),
])
def test_only_creative_commons_and_rightsstatements_uris_are_rights(url: str, expected: str | None) -> None:
    assert presentation.rights_uri(url) == expected


def test_thumbnail_sizes_follow_the_derivative_rule() -> None:
    assert presentation.fit_within(4000, 3000, 320) == (320, 240)
    assert presentation.fit_within(100, 900, 320) == (36, 320)
    assert presentation.fit_within(200, 100, 320) == (200, 100)  # never enlarged


# ----- manifests -------------------------------------------------------------------------


def test_the_manifest_of_an_item_with_one_image(shared_client: FlaskClient) -> None:
    doc = _get(shared_client, HARVESTERS)
    assert doc["@context"] == CONTEXT and doc["type"] == "Manifest"
    assert doc["id"] == f"{BASE}{HARVESTERS}"
    assert doc["label"] == {"en": ["The Harvesters"], "zh-Hans": ["收割者"], "zh-Hant": ["收割者"]}
    # The description is written in English and then in traditional Chinese.
    assert doc["summary"]["en"][0].startswith("One of a series of six paintings")
    assert doc["summary"]["zh-Hant"][0].startswith("安特衛普商人")
    assert doc["summary"]["zh-Hans"][0].startswith("安特卫普商人")
    assert doc["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert doc["navDate"] == "1565-01-01T00:00:00Z"

    metadata = {entry["label"]["en"][0]: entry for entry in doc["metadata"]}
    assert metadata["Creator"]["value"] == {"en": ["Pieter Bruegel the Elder"]}
    assert metadata["Creator"]["label"] == {"zh-Hans": ["作者"], "zh-Hant": ["作者"], "en": ["Creator"]}
    assert metadata["Date"]["value"] == {"none": ["1565"]}
    assert metadata["Accession number"]["value"] == {"none": ["19.164"]}
    assert metadata["Material and technique"]["value"] == {"en": ["Oil on wood"]}
    assert metadata["Holding institution"]["value"]["zh-Hant"] == ["大都會藝術博物館"]
    assert metadata["Collection"]["value"]["zh-Hans"] == ["测试绘画"]
    assert 'href="https://www.metmuseum.org/art/collection/search/435809"' in \
        metadata["Original record"]["value"]["en"][0]

    statement = doc["requiredStatement"]
    assert statement["label"]["en"] == ["Credit line"] and statement["label"]["zh-Hant"] == ["致謝"]
    assert statement["value"]["en"] == ["The Metropolitan Museum of Art. Rogers Fund, 1919"]
    assert statement["value"]["zh-Hans"] == ["大都会艺术博物馆。Rogers Fund, 1919"]
    assert doc["provider"][0]["type"] == "Agent"
    assert doc["provider"][0]["homepage"][0]["id"] == "https://www.metmuseum.org/"

    assert doc["homepage"] == [{"id": f"{BASE}/items/met:435809", "type": "Text", "label": doc["label"],
                                "format": "text/html"}]
    assert shared_client.get(_path(doc["homepage"][0]["id"])).status_code == 200
    assert doc["partOf"][0]["id"] == f"{BASE}{COLLECTION}" and doc["partOf"][0]["type"] == "Collection"

    (canvas,) = doc["items"]
    image = canvas["items"][0]["items"][0]
    sha256 = image["body"]["service"][0]["id"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{64}", sha256)
    assert canvas["id"] == f"{BASE}{HARVESTERS}/canvas/1"
    assert canvas["label"] == {"en": ["Image: The Metropolitan Museum of Art, Open Access (CC0)"]}
    assert image["motivation"] == "painting" and image["target"] == canvas["id"]
    assert image["body"] == {
        "id": f"{BASE}/iiif/3/{sha256}/full/max/0/default.jpg", "type": "Image", "format": "image/jpeg",
        "width": canvas["width"], "height": canvas["height"],
        "service": [{"id": f"{BASE}/iiif/3/{sha256}", "type": "ImageService3", "profile": "level2"}],
    }
    assert doc["thumbnail"] == canvas["thumbnail"]
    assert canvas["thumbnail"][0]["id"] == f"{BASE}/media/{sha256}/thumb.jpeg"


def test_canvases_match_the_stored_images_and_the_thumbnails_served(
        shared_app: Flask, shared_client: FlaskClient) -> None:
    doc = _get(shared_client, HIBISCUS)
    with shared_app.app_context():
        item = service.published_item(current_catalogue(), "met:13503")
    assert item is not None and len(item.images) == 2
    assert [c["id"] for c in doc["items"]] == [f"{BASE}{HIBISCUS}/canvas/1", f"{BASE}{HIBISCUS}/canvas/2"]
    assert [c["label"] for c in doc["items"]] == [{"en": ["RGB JPEG"]},
                                                  {"en": ["CMYK JPEG (derived from the RGB file)"]}]
    for canvas, image in zip(doc["items"], item.images, strict=True):
        assert (canvas["width"], canvas["height"]) == (image.width, image.height)
        assert canvas["items"][0]["items"][0]["body"]["service"][0]["id"].endswith(image.sha256)
        thumb = canvas["thumbnail"][0]
        with shared_client.get(_path(thumb["id"])) as served:  # closes the file send_file opened
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            data = served.data
        with Image.open(io.BytesIO(data)) as picture:
            assert picture.size == (thumb["width"], thumb["height"])
    assert doc["label"] == {"en": ["Hibiscus and Parrots"], "zh-Hant": ["木槿與鸚鵡"], "zh-Hans": ["木槿与鹦鹉"]}
    assert doc["rights"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert "navDate" not in doc and "summary" not in doc


def test_every_id_is_absolute_and_follows_the_host_the_client_used(shared_client: FlaskClient) -> None:
    for url in (HARVESTERS, COLLECTION, "/iiif/collection"):
        doc = _get(shared_client, url, base_url="https://museum.example.org")
        ids = _ids(doc)
        assert ids and all(urlsplit(i).scheme in ("http", "https") and urlsplit(i).netloc for i in ids), ids
        own = [i for i in ids if "example.org" in i or "localhost" in i]
        assert own and all(i.startswith("https://museum.example.org/") for i in own), own


def test_item_ids_are_quoted_in_urls_and_route_back(shared_app: Flask) -> None:
    odd = "cmoa:things/3f2a b#c?d%e"
    with shared_app.test_request_context():
        url = SiteLinks().manifest(odd)
    assert url == "http://localhost/iiif/manifest/cmoa:things/3f2a%20b%23c%3Fd%25e"
    # The server decodes the path before routing, as WSGI requires.
    endpoint, args = shared_app.url_map.bind("localhost").match(unquote(_path(url)))
    assert endpoint == "iiif.manifest" and args == {"item_id": odd}


@pytest.mark.parametrize(("url", "why"), [
    ("/iiif/manifest/met:544227", "draft"),
    ("/iiif/manifest/met:36004", "published without images"),
    ("/iiif/manifest/npm:1195", "published without images"),
    ("/iiif/manifest/met:999999", "unknown"),
    ("/iiif/manifest/cmoa:things/no-such-uuid", "unknown, with a slash"),
    ("/iiif/collection/no-such-collection", "unknown collection"),
])
def test_what_has_no_document_is_a_json_404(shared_client: FlaskClient, url: str, why: str) -> None:
    response = shared_client.get(url)
    assert response.status_code == 404, why
    assert response.content_type == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["error"]["code"] == 404
    assert "ETag" not in response.headers


def test_rights_that_are_no_rights_uri_go_to_the_required_statement(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    client = app.test_client()
    before = client.get(COLLECTION).headers["ETag"]
    folder = tmp_path / "edited" / "test-paintings"
    shutil.copytree(TEST_EXHIBIT / "test-paintings", folder)
    items_csv = folder / "items.csv"
    with items_csv.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    row = dict.fromkeys(header, "") | {
        "id": "cmoa:things/5b1f-uuid", "title": "谿山行旅圖", "creator": "Fan Kuan 范寬",
        "inscriptions": "范寬\n<宣統鑑賞>\n\n董其昌", "accession_number": "故畫00082600000",
        "credit_line": "國立故宮博物院藏", "institution": "npm", "rights": "Test data only (terms unverified)",
        "rights_url": "https://www.npm.gov.tw/Articles.aspx?sno=04012040&l=2", "image_filename": "harvesters.jpeg",
    }
    with items_csv.open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=header).writerow(row)
    with app.app_context():
        report = import_path(current_catalogue(), folder)
    assert report.created == 1, report

    url = "/iiif/manifest/cmoa:things/5b1f-uuid"
    doc = _get(client, url)
    assert doc["id"] == f"{BASE}{url}" and doc["items"][0]["id"] == f"{BASE}{url}/canvas/1"
    assert iiif_prezi3.Manifest(**doc) is not None
    assert doc["label"] == {"zh-Hant": ["谿山行旅圖"], "zh-Hans": ["溪山行旅图"]}
    assert "rights" not in doc
    statement = doc["requiredStatement"]
    assert statement["label"]["en"] == ["Rights and credits"]
    assert statement["value"]["zh-Hans"] == ["国立故宫博物院。国立故宫博物院藏。Test data only (terms unverified)"]
    assert statement["value"]["en"] == [
        "National Palace Museum, Taipei. 國立故宮博物院藏. Test data only (terms unverified)"]
    metadata = {entry["label"]["en"][0]: entry["value"] for entry in doc["metadata"]}
    assert metadata["Rights"] == {"en": ['<a href="https://www.npm.gov.tw/Articles.aspx?sno=04012040&amp;l=2">'
                                         "Test data only (terms unverified)</a>"]}
    assert metadata["Creator"] == {"none": ["Fan Kuan 范寬"]}
    assert metadata["Accession number"] == {"none": ["故畫00082600000"]}  # an identifier is never converted
    assert metadata["Inscriptions"] == {"zh-Hant": ["<p>范寬<br>&lt;宣統鑑賞&gt;</p><p>董其昌</p>"],
                                        "zh-Hans": ["<p>范宽<br>&lt;宣统鉴赏&gt;</p><p>董其昌</p>"]}
    # The new item joins the collection, whose document (and so its ETag) changes.
    after = client.get(COLLECTION)
    assert after.headers["ETag"] != before
    assert f"{BASE}{url}" in [ref["id"] for ref in after.get_json()["items"]]


# ----- collections -----------------------------------------------------------------------


def test_the_collection_lists_the_manifests_of_published_items_with_images(shared_client: FlaskClient) -> None:
    doc = _get(shared_client, COLLECTION)
    assert doc["@context"] == CONTEXT and doc["type"] == "Collection" and doc["id"] == f"{BASE}{COLLECTION}"
    assert doc["label"] == {"en": ["Test Paintings"], "zh-Hant": ["測試繪畫"], "zh-Hans": ["测试绘画"]}
    assert doc["summary"]["zh-Hant"] == ["供自動化測試使用的小型展覽。"]
    assert doc["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert doc["requiredStatement"]["value"]["en"] == [
        "Test data from The Met, the Smithsonian and the National Palace Museum."]
    assert doc["requiredStatement"]["label"]["zh-Hans"] == ["来源"]
    assert doc["homepage"][0]["id"] == f"{BASE}/collections/test-paintings"
    # Title order ("The" is not sorted on); the draft (met:544227) and the items without images
    # are left out.
    assert [ref["id"] for ref in doc["items"]] == [f"{BASE}{HARVESTERS}", f"{BASE}{HIBISCUS}"]
    for ref in doc["items"]:
        assert ref["type"] == "Manifest"
        manifest = _get(shared_client, _path(ref["id"]))
        assert ref["label"] == manifest["label"] and ref["thumbnail"] == manifest["thumbnail"]


def test_the_top_collection_lists_every_collection(shared_client: FlaskClient) -> None:
    doc = _get(shared_client, "/iiif/collection")
    assert doc["type"] == "Collection" and doc["id"] == f"{BASE}/iiif/collection"
    assert set(doc["label"]) == {"zh-Hans", "zh-Hant", "en"}
    assert [(ref["id"], ref["type"]) for ref in doc["items"]] == [(f"{BASE}{COLLECTION}", "Collection")]
    assert doc["items"][0]["thumbnail"][0]["id"].startswith(f"{BASE}/media/")


# ----- validation against the Presentation 3.0 model -------------------------------------


def test_every_document_loads_in_iiif_prezi3_unchanged(shared_client: FlaskClient) -> None:
    collection = _get(shared_client, COLLECTION)
    manifests = [_get(shared_client, _path(ref["id"])) for ref in collection["items"]]
    assert len(manifests) == 2
    documents = [(doc, iiif_prezi3.Manifest) for doc in manifests] + [
        (collection, iiif_prezi3.Collection), (_get(shared_client, "/iiif/collection"), iiif_prezi3.Collection)]
    for doc, model in documents:
        loaded = model(**doc)
        # The model ignores properties it does not know, so a misspelt one would pass silently:
        # serialising it back must give exactly what was served.
        assert json.loads(loaded.json()) == doc


def test_iiif_prezi3_left_our_pillow_alone() -> None:
    """iiif-prezi3 pins an older Pillow; tests/run.sh installs it without dependencies."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = [dep for dep in pyproject["project"]["dependencies"] if dep.lower().startswith("pillow==")]
    assert PIL.__version__ == pin.split("==", 1)[1]
    run_sh = (REPO / "tests" / "run.sh").read_text(encoding="utf-8")
    prezi3 = re.search(r"--no-deps '?iiif-prezi3==([\w.]+)", run_sh)
    assert prezi3 and version("iiif-prezi3") == prezi3.group(1)


# ----- HTTP: content type, caching, CORS -------------------------------------------------


@pytest.mark.parametrize(("accept", "content_type"), [
    (None, "application/json"),
    ("*/*", "application/json"),
    ("application/json", "application/json"),
    (f'application/ld+json;profile="{CONTEXT}"', JSON_LD),
    ("application/ld+json", JSON_LD),
    ("application/ld+json;q=0.9, application/json;q=0.5", JSON_LD),
    ("application/json, application/ld+json;q=0.5", "application/json"),
    ('application/ld+json;profile="http://iiif.io/api/presentation/2/context.json"', "application/json"),
])
def test_json_ld_when_asked_for(shared_client: FlaskClient, accept: str | None, content_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = shared_client.get(HARVESTERS, headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert "Accept" in response.headers["Vary"]


def test_validators_and_cache_lifetime(shared_client: FlaskClient) -> None:
    for url in (HARVESTERS, COLLECTION, "/iiif/collection"):
        first = shared_client.get(url)
        etag = first.headers["ETag"]
        assert "public" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
        again = shared_client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        head = shared_client.head(url)
        assert head.status_code == 200 and head.headers["ETag"] == etag


def test_cors_preflight(shared_client: FlaskClient) -> None:
    response = shared_client.options(HARVESTERS, headers={
        "Origin": "https://viewer.example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "Accept" in response.headers["Access-Control-Allow-Headers"]
