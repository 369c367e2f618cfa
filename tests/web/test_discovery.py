"""Discovery for search engines, feed readers and chat apps: sitemaps, robots.txt, Atom, item metadata."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from flask import Flask
from flask.testing import FlaskClient

from museum.catalogue import discovery
from museum.catalogue.citation import citations, schema_org
from museum.catalogue.service import set_item_status
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


def _xml(client: FlaskClient, url: str) -> ET.Element:
    with client.get(url) as response:
        assert response.status_code == 200, url
        assert response.headers["Content-Type"].endswith("charset=utf-8")
        return ET.fromstring(response.get_data())  # noqa: S314 - our own server's output


def test_robots_points_at_the_sitemap_and_keeps_crawlers_out_of_curation(shared_client: FlaskClient) -> None:
    with shared_client.get("/robots.txt") as response:
        text = response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert "Disallow: /curate/" in text and re.search(r"^Sitemap: http://localhost/sitemap\.xml$", text, re.M)


def test_sitemap_index_lists_pages_and_item_files_with_lastmod(shared_client: FlaskClient) -> None:
    index = _xml(shared_client, "/sitemap.xml")
    locs = [e.findtext(f"{SM}loc") for e in index.findall(f"{SM}sitemap")]
    assert locs == ["http://localhost/sitemaps/pages.xml", "http://localhost/sitemaps/items-1.xml"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e.findtext(f"{SM}lastmod") or "")
               for e in index.findall(f"{SM}sitemap"))
    items = _xml(shared_client, "/sitemaps/items-1.xml")
    urls = [e.findtext(f"{SM}loc") for e in items.findall(f"{SM}url")]
    assert len(urls) == 5 and "http://localhost/items/met:435809" in urls
    assert "http://localhost/items/met:544227" not in urls       # the draft
    pages = _xml(shared_client, "/sitemaps/pages.xml")
    assert "http://localhost/collections/test-paintings" in [e.findtext(f"{SM}loc") for e in pages]
    with shared_client.get("/sitemaps/items-2.xml") as response:
        assert response.status_code == 404


def test_sitemaps_are_paged_for_large_catalogues(make_app: AppFactory) -> None:
    app = make_app()
    cat = app.extensions[CATALOGUE_KEY]
    chunks = discovery.sitemap_chunks(cat, size=2)
    assert [c.number for c in chunks] == [1, 2, 3]                # 5 published items, 2 per file
    entries = [discovery.sitemap_entries(cat, n, size=2) for n in (1, 2, 3)]
    ids = [e.item_id for chunk in entries for e in (chunk or [])]
    assert len(ids) == len(set(ids)) == 5 and ids == sorted(ids)
    assert discovery.sitemap_entries(cat, 4, size=2) is None
    assert discovery.sitemap_entries(cat, 0, size=2) is None


def test_the_atom_feed_lists_recent_items_and_follows_writes(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    feed = _xml(client, "/feed.atom")
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert "The Harvesters" in titles and "牧羊圖" in titles and len(titles) == 5
    with app.app_context():
        set_item_status(app.extensions[CATALOGUE_KEY], "met:435809", "draft", actor="test")
    titles = [e.findtext(f"{ATOM}title") for e in _xml(client, "/feed.atom").findall(f"{ATOM}entry")]
    assert "The Harvesters" not in titles


def _head_meta(html: str) -> dict[str, str]:
    return {m[0]: m[1] for m in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html)}


def test_item_pages_carry_json_ld_open_graph_twitter_and_a_canonical_url(shared_client: FlaskClient) -> None:
    with shared_client.get("/items/met:435809?lang=en") as response:
        html = response.get_data(as_text=True)
    assert '<link rel="canonical" href="http://localhost/items/met:435809">' in html
    meta = _head_meta(html)
    assert meta["og:title"].startswith("The Harvesters") and meta["og:url"] == "http://localhost/items/met:435809"
    assert meta["og:image"].startswith("http://localhost/media/") and meta["og:image"].endswith("/large.jpeg")
    assert meta["twitter:card"] == "summary_large_image"
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found
    data = json.loads(found.group(1))
    assert "VisualArtwork" in data["@type"] and data["name"] == "The Harvesters"
    assert data["creator"] == [{"@type": "Person", "name": "Pieter Bruegel the Elder"}]
    assert data["dateCreated"] == "1565" and data["temporalCoverage"] == "1565/1565"
    assert data["holdingArchive"]["name"] == "The Metropolitan Museum of Art"
    assert data["image"][0]["contentUrl"].endswith("/large.jpeg")
    with shared_client.get("/items/met:36004") as response:                  # no image
        assert _head_meta(response.get_data(as_text=True))["twitter:card"] == "summary"


def test_json_ld_cannot_be_broken_out_of() -> None:
    evil = "</script><script>alert(1)</script>"
    data = schema_org(url="u", title=evil, title_alt="", creator="", date="", begin_year=-300, end_year=-201,
                      medium="", object_type="", description="", accession="", images=[],
                      institution={"name": "x"}, collection={"name": "y"}, rights="", rights_url="",
                      credit_line="", language="en")
    assert data["temporalCoverage"] == "-0299/-0200"            # astronomical years: 300 BCE = -0299
    app = Flask(__name__)
    with app.app_context():
        from flask import render_template_string
        rendered = render_template_string("{{ d|tojson }}", d=data)
    assert "</script>" not in rendered


def test_citations_in_three_styles() -> None:
    cited = citations(creator="Ma Yuan 馬遠", title="月下賞梅圖", title_alt="Viewing plum blossoms by moonlight",
                      date="early 13th century", medium="Fan; ink and color on silk",
                      institution="The Metropolitan Museum of Art", accession="1986.493.2",
                      url="https://museum.example/items/met:44638", accessed="2026-11-29", site="City Museums")
    assert [c.style for c in cited] == ["Chicago", "APA", "MLA"]
    chicago, apa, mla = (c.text for c in cited)
    assert chicago.startswith("Ma Yuan 馬遠. 月下賞梅圖 (Viewing plum blossoms by moonlight). early 13th century.")
    assert "The Metropolitan Museum of Art, 1986.493.2." in chicago
    assert apa.startswith("Ma Yuan 馬遠 (early 13th century). 月下賞梅圖") and "[Fan; ink and color on silk]" in apa
    assert mla.endswith("City Museums, https://museum.example/items/met:44638. Accessed 2026-11-29.")
    unknown = citations(creator="", title="T", title_alt="", date="", medium="", institution="", accession="",
                        url="u", accessed="d", site="s")
    assert unknown[1].text.startswith("Unknown maker (n.d.). T")


def test_shared_app_item_page_shows_the_citations(shared_app: Flask) -> None:
    client = shared_app.test_client()
    with client.get("/items/met:435809?lang=en") as response:
        html = response.get_data(as_text=True)
    assert html.count('class="cite-text"') == 3 and 'id="stable-link"' in html
