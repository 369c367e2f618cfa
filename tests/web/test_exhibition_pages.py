"""The public exhibition pages: the list, the story and the walk, in three languages, with only
published items, dates respected and every curator's text escaped or sanitised."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from museum.catalogue import exhibitions as public
from museum.catalogue.service import Catalogue, set_item_status
from museum.curation import exhibitions as curation
from museum.curation.accounts import Account
from museum.web import CATALOGUE_KEY
from tests.curate.helpers import add_user

HARVESTERS = "met:435809"
HIBISCUS = "met:13503"
SHEEP = "met:36004"
FAN_KUAN = "npm:1195"     # no image in the test data
HIPPO = "met:544227"      # a draft


def _text(client: FlaskClient, path: str, status: int = 200) -> str:
    """Return the page at path, checking its status."""
    with client.get(path) as response:
        assert response.status_code == status, path
        return response.get_data(as_text=True)


def _build(app: Flask, slug: str = "journey", cover: str = "", opens: str = "", closes: str = "",
           publish: bool = True) -> tuple[Catalogue, Account, int]:
    """Make a three-language exhibition of two sections through the curators' use cases."""
    cat: Catalogue = app.extensions[CATALOGUE_KEY]
    account = add_user(app, "builder", role="admin")
    exhibition_id = curation.create_exhibition(cat, account, curation.ExhibitionForm(
        slug=slug, cover_item_id=cover, opens_on=opens, closes_on=closes,
        title={"en": "A Journey", "zh-Hant": "旅程", "zh-Hans": "旅程（简）"},
        summary={"en": "Line one.\nLine two.", "zh-Hant": "第一行。"}))
    first = curation.add_section(cat, account, exhibition_id,
                                 {"en": "Landscapes", "zh-Hant": "山水", "zh-Hans": "山水（简）"},
                                 {"en": "Painted **hills**.\n\n<script>alert(1)</script>", "zh-Hant": "畫中的**山**。"})
    curation.add_entry(cat, account, exhibition_id, first, FAN_KUAN, {"en": "Travellers.", "zh-Hans": "行旅（简）"})
    curation.add_entry(cat, account, exhibition_id, first, HIPPO, {"en": "Never shown."})
    curation.add_entry(cat, account, exhibition_id, first, HARVESTERS, {"en": "Harvest."})
    second = curation.add_section(cat, account, exhibition_id, {"en": "Birds"}, {})
    curation.add_entry(cat, account, exhibition_id, second, HIBISCUS, {"zh-Hant": "鸚鵡。"})
    curation.add_entry(cat, account, exhibition_id, second, SHEEP, {})
    if publish:
        curation.set_exhibition_status(cat, account, exhibition_id, "published")
    return cat, account, exhibition_id


def test_the_main_navigation_leads_to_exhibitions(client: FlaskClient) -> None:
    page = _text(client, "/?lang=en")
    assert '<a class="nav-exhibitions" href="/exhibitions">Exhibitions</a>' in page
    # With none open the list says so and points to the collections.
    listing = _text(client, "/exhibitions?lang=en")
    assert "No exhibition is open at the moment" in listing and 'href="/collections"' in listing


def test_the_list_shows_open_exhibitions_as_cards(app: Flask, client: FlaskClient) -> None:
    _build(app, closes="2999-12-31")
    page = _text(client, "/exhibitions?lang=en")
    card = page[page.index('class="card exhibition-card"'):]
    assert 'href="/exhibitions/journey"' in card and "A Journey" in card
    assert "4 objects" in card                       # four published items; the draft is not counted
    assert "On view until December 31, 2999" in card
    assert re.search(r'srcset="/media/[0-9a-f]{64}/thumb\.webp', card)   # cover: the first item with an image
    assert "2999年12月31日" in _text(client, "/exhibitions?lang=zh_Hant")
    assert "旅程（简）" in _text(client, "/exhibitions?lang=zh_Hans")


def test_the_story_reads_section_by_section_in_each_language(app: Flask, client: FlaskClient) -> None:
    _build(app)
    page = _text(client, "/exhibitions/journey?lang=en")
    assert "<title>A Journey ·" in page and "<h1>A Journey</h1>" in page
    assert "Line one.\nLine two." in page                        # shown with its line breaks (pre-line)
    assert '<link rel="canonical" href="http://localhost/exhibitions/journey">' in page
    story = page[page.index('class="exhibition-section"'):]
    assert story.index("Landscapes") < story.index("谿山行旅圖") < story.index("The Harvesters") \
        < story.index("Birds") < story.index("Hibiscus and Parrots") < story.index("牧羊圖")
    assert "Painted <strong>hills</strong>." in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Hippopotamus" not in page and "Never shown." not in page
    # Each item a figure: picture, link to its page, caption, the walk.
    assert f'href="/items/{HARVESTERS}"' in page and "<figcaption>" in page and "Harvest." in page
    assert 'href="/exhibitions/journey/walk/2">View large (2/4)' in page
    assert 'class="placeholder"' in page                         # the sheep has no image yet
    assert 'href="#section-1"' in page and 'href="#section-2"' in page   # the list of contents
    # Traditional Chinese, falling back where a text was written only in another language.
    hant = _text(client, "/exhibitions/journey?lang=zh_Hant")
    assert "<h1>旅程</h1>" in hant and "第一行。" in hant and "畫中的<strong>山</strong>。" in hant
    assert "行旅（简）" in hant and "鸚鵡。" in hant and "Birds" in hant
    hans = _text(client, "/exhibitions/journey?lang=zh_Hans")
    assert "<h1>旅程（简）</h1>" in hans and "Line one." not in hans and "第一行。" in hans


def test_the_walk_goes_one_item_at_a_time(app: Flask, client: FlaskClient) -> None:
    _build(app)
    first = _text(client, "/exhibitions/journey/walk/1?lang=en")
    assert "1 of 4" in first and "谿山行旅圖" in first and "Travellers." in first and "Landscapes" in first
    assert 'href="/exhibitions/journey">← Introduction' in first
    assert '<a class="walk-next" rel="next" href="/exhibitions/journey/walk/2">' in first
    assert 'href="/exhibitions/journey#object-1"' in first           # back to the same place in the story
    second = _text(client, "/exhibitions/journey/walk/2?lang=en")
    assert "The Harvesters" in second and re.search(r'src="/media/[0-9a-f]{64}/large\.jpeg"', second)
    assert 'loading="eager"' in second
    assert 'rel="prev" href="/exhibitions/journey/walk/1"' in second
    last = _text(client, "/exhibitions/journey/walk/4?lang=en")
    assert "牧羊圖" in last and "Birds" in last and 'rel="next"' not in last and "last object" in last
    # The walk's own words in each interface language.
    hant = _text(client, "/exhibitions/journey/walk/2?lang=zh_Hant")
    assert "第 2 件，共 4 件" in hant and "上一件" in hant and "下一件" in hant and "返回展覽全文" in hant
    hans = _text(client, "/exhibitions/journey?lang=zh_Hans")
    assert "逐件参观展览" in hans and ">展览</a>" in hans and "4 件藏品" in hans
    for bad in ("0", "5", "999999999999", "-1", "two"):
        _text(client, f"/exhibitions/journey/walk/{bad}", 404)
    _text(client, "/exhibitions/nowhere", 404)
    _text(client, "/exhibitions/nowhere/walk/1", 404)


def test_a_withdrawn_item_leaves_the_story_and_the_walk(app: Flask, client: FlaskClient) -> None:
    cat, _account, _exhibition_id = _build(app, cover=HARVESTERS)
    story = public.exhibition_page(cat, "journey")
    assert story is not None and story.cover is not None and story.cover_item is not None
    assert story.cover_item.id == HARVESTERS                         # the chosen cover, not the first picture
    page = _text(client, "/exhibitions/journey?lang=en")
    assert story.cover.sha256 in page[page.index('class="exhibition-cover"'):page.index('class="exhibition-intro"')]
    assert "The Harvesters" in _text(client, "/exhibitions/journey/walk/2?lang=en")
    set_item_status(cat, HARVESTERS, "draft")
    story = public.exhibition_page(cat, "journey")
    assert story is not None and story.cover_item is not None and story.cover_item.id == HIBISCUS  # next pictured
    page = _text(client, "/exhibitions/journey?lang=en")
    assert "The Harvesters" not in page and "Harvest." not in page and "3 objects" in page
    assert "Hibiscus and Parrots" in _text(client, "/exhibitions/journey/walk/2?lang=en")
    _text(client, "/exhibitions/journey/walk/4", 404)
    set_item_status(cat, HARVESTERS, "trashed")
    assert "The Harvesters" not in _text(client, "/exhibitions?lang=en")


def test_visibility_follows_status_and_dates(app: Flask) -> None:
    cat, account, exhibition_id = _build(app, publish=False)
    today = public.today_utc()
    assert public.exhibition_page(cat, "journey") is None and public.published_exhibitions(cat) == []
    preview = public.exhibition_preview(cat, exhibition_id)
    assert preview is not None and len(preview.entries) == 4    # published items only
    curation.set_exhibition_status(cat, account, exhibition_id, "published")
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    curation.update_exhibition(cat, account, exhibition_id, curation.ExhibitionForm(
        slug="journey", title={"en": "A Journey"}, opens_on=tomorrow))
    assert public.exhibition_page(cat, "journey") is None
    assert public.exhibition_walk(cat, "journey", 1) is None
    # Tomorrow it opens with no write at all (the page cache key holds the date for this).
    assert [c.slug for c in public.published_exhibitions(cat, today + dt.timedelta(days=1))] == ["journey"]
    curation.update_exhibition(cat, account, exhibition_id, curation.ExhibitionForm(
        slug="journey", title={"en": "A Journey"}, opens_on=today.isoformat(), closes_on=today.isoformat()))
    assert public.exhibition_page(cat, "journey") is not None
    assert public.exhibition_page(cat, "journey", today + dt.timedelta(days=1)) is None


def test_lists_follow_the_curators_order(app: Flask) -> None:
    cat, account, first = _build(app, slug="first")
    second = curation.create_exhibition(cat, account, curation.ExhibitionForm(slug="second", title={"en": "Second"}))
    curation.set_exhibition_status(cat, account, second, "published")
    # Same place: the newest first; a lower number: earlier.
    assert [c.slug for c in public.published_exhibitions(cat)] == ["second", "first"]
    curation.update_exhibition(cat, account, first, curation.ExhibitionForm(slug="first", title={"en": "F"},
                                                                             position="-1"))
    assert [c.slug for c in public.published_exhibitions(cat)] == ["first", "second"]


@pytest.mark.parametrize("lang", ["en", "zh_Hant", "zh_Hans"])
def test_an_empty_exhibition_still_reads(app: Flask, client: FlaskClient, lang: str) -> None:
    cat: Catalogue = app.extensions[CATALOGUE_KEY]
    account = add_user(app, "solo", role="admin")
    exhibition_id = curation.create_exhibition(cat, account, curation.ExhibitionForm(slug="empty",
                                                                                     title={"zh-Hant": "空"}))
    curation.set_exhibition_status(cat, account, exhibition_id, "published")
    page = _text(client, f"/exhibitions/empty?lang={lang}")
    assert "<h1>空</h1>" in page and "/walk/" not in page and "exhibition-contents" not in page
    _text(client, "/exhibitions/empty/walk/1", 404)
