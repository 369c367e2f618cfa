"""A visitor's journey through the real server in chromium, on a phone and on a desktop.

Home → collection → item (gallery) → search in both scripts → language switch → 404, checking
real content at each step, no broken image, no console error, no failed request and no request
to any host but the server itself (the site must work on a closed network).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
)

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

COLLECTION_URL = "/collections/test-paintings"
HARVESTERS = "met:435809"
HIBISCUS = "met:13503"
SHEEP = "met:36004"
# Published items of the test exhibit, and those of them that have no image.
PUBLISHED = 5
WITHOUT_IMAGE = 3


@dataclass(frozen=True)
class Viewport:
    """One device the journey runs on."""

    name: str
    options: dict[str, Any]
    script: str  # the Chinese script the browser's locale asks for: "zh-Hans" or "zh-Hant"
    site_name: str
    collection_title: str


PHONE = Viewport(
    name="phone",
    options={"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
             "is_mobile": True, "has_touch": True, "locale": "zh-CN"},
    script="zh-Hans", site_name="城市博物馆在线", collection_title="测试绘画",
)
DESKTOP = Viewport(
    name="desktop",
    options={"viewport": {"width": 1280, "height": 900}, "locale": "zh-TW"},
    script="zh-Hant", site_name="城市博物館線上", collection_title="測試繪畫",
)


@dataclass
class Watch:
    """Everything a page did that a visitor should never see: errors, failures, outside hosts."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def clear(self) -> None:
        """Forget what was seen so far."""
        for seen in (self.console_errors, self.page_errors, self.failed, self.outside):
            seen.clear()

    def assert_clean(self, step: str) -> None:
        """Fail if anything was seen since the last clear."""
        problems = {"console errors": self.console_errors, "page errors": self.page_errors,
                    "failed requests": self.failed, "requests to other hosts": self.outside}
        found = {k: v for k, v in problems.items() if v}
        assert not found, f"{step}: {found}"


def _is_local(url: str) -> bool:
    """Return whether a request stays on this machine's server (data: and blob: are local)."""
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname == "127.0.0.1"


@pytest.fixture(params=[PHONE, DESKTOP], ids=lambda v: v.name)
def viewport(request: pytest.FixtureRequest) -> Viewport:
    """Return each device in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def context(browser: Browser, live_server: LiveServer, viewport: Viewport
            ) -> Iterator[BrowserContext]:
    """Return a fresh browser context (no cookies) for the device, based at the live server."""
    ctx = browser.new_context(base_url=live_server.url, **viewport.options)
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def watched(context: BrowserContext) -> Iterator[tuple[Page, Watch]]:
    """Return a page whose errors, failed requests and outside requests are recorded."""
    watch = Watch()

    def block_outside(route: Route) -> None:
        # Never let the test reach the network: record and refuse anything not local.
        if _is_local(route.request.url):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(f"{message.text} @ {message.location.get('url')}")

    def on_failed(request: Request) -> None:
        if _is_local(request.url):
            watch.failed.append(f"{request.method} {request.url}: {request.failure}")

    context.route("**/*", block_outside)
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("requestfailed", on_failed)
    yield page, watch
    page.close()


def _screenshot(page: Page, folder: Path, name: str, viewport: Viewport) -> None:
    """Save a full-page screenshot as <name>-<viewport>.png."""
    page.screenshot(path=str(folder / f"{name}-{viewport.name}.png"), full_page=True)


def _assert_images_loaded(page: Page, step: str) -> int:
    """Scroll every image into view, wait for all to finish, and fail on any broken one."""
    page.evaluate("""async () => {
        for (const img of document.images) {
            img.scrollIntoView({block: 'center'});
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        }
        window.scrollTo(0, document.body.scrollHeight);
    }""")
    # A function, not an expression: Playwright evals expressions, which the site's CSP forbids.
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")
    images = page.evaluate("""Array.from(document.images).map(img => ({
        src: img.currentSrc || img.src, width: img.naturalWidth}))""")
    broken = [img["src"] for img in images if img["width"] <= 0]
    assert not broken, f"{step}: images that did not load: {broken}"
    page.evaluate("window.scrollTo(0, 0)")
    return len(images)


def _settle(page: Page) -> None:
    """Wait until nothing is in flight, so leaving the page aborts none of its own requests."""
    page.wait_for_load_state("networkidle")


def _assert_header(page: Page, viewport: Viewport) -> None:
    """Check the site header: brand, navigation, language switch and the search box."""
    header = page.locator("header.site-header")
    expect(header).to_be_visible()
    expect(header.locator(".brand")).to_contain_text(viewport.site_name)
    expect(header.locator(".main-nav a")).to_have_count(3)  # collections, exhibitions, search
    expect(header.locator(".lang-switch a")).to_have_count(3)
    expect(page.locator(".search-bar input[name=q]")).to_be_visible()


def _assert_fits_width(page: Page, step: str) -> None:
    """Fail if the page scrolls sideways (something wider than the screen)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{step}: the page is {overflow}px wider than the screen"


def _item_path(page: Page) -> str:
    """Return the page's path, with percent-escapes undone (met%3A1 and met:1 are one item)."""
    return unquote(urlsplit(page.url).path)


def test_visitor_journey(watched: tuple[Page, Watch], viewport: Viewport,
                         screenshot_dir: Path) -> None:
    """Browse, look at images, search in both scripts, switch language and hit a 404."""
    page, watch = watched

    # 1. Home: header, search box, featured objects, the collections.
    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", viewport.script)
    _assert_header(page, viewport)
    featured = page.locator("section[aria-labelledby=featured-heading] .card-title")
    expect(featured).to_have_count(2)
    assert set(featured.all_inner_texts()) == {"The Harvesters", "牧羊圖"}
    sheep_card = page.locator("section[aria-labelledby=featured-heading] .card",
                              has_text="牧羊圖")
    expect(sheep_card.locator(".placeholder")).to_be_visible()
    collections = page.locator("section[aria-labelledby=collections-heading] .collection-card")
    expect(collections).to_have_count(1)
    expect(collections.locator(".card-title")).to_have_text(viewport.collection_title)
    expect(collections.locator(".card-meta")).to_contain_text(str(PUBLISHED))
    _assert_images_loaded(page, "home")
    _assert_fits_width(page, "home")
    _screenshot(page, screenshot_dir, "home", viewport)
    watch.assert_clean("home")

    # 2. The collection: a grid of cards, placeholders where there is no image.
    _settle(page)
    collections.locator("a.card-link").click()
    page.wait_for_url(f"**{COLLECTION_URL}")
    expect(page.locator("main h1")).to_have_text(viewport.collection_title)
    cards = page.locator("main .grid .card")
    expect(cards).to_have_count(PUBLISHED)
    expect(page.locator("main .grid .card .card-media .placeholder")).to_have_count(WITHOUT_IMAGE)
    expect(page.locator("main .grid .card .card-media img")).to_have_count(
        PUBLISHED - WITHOUT_IMAGE)
    titles = cards.locator(".card-title").all_inner_texts()
    assert {"The Harvesters", "Hibiscus and Parrots", "牧羊圖", "谿山行旅圖",
            "達摩圖像"} == set(titles)
    assert "Hippopotamus (William)" not in titles, "a draft item is shown to the public"
    assert _assert_images_loaded(page, "collection") == 1 + PUBLISHED - WITHOUT_IMAGE
    _assert_fits_width(page, "collection")
    _screenshot(page, screenshot_dir, "collection", viewport)
    watch.assert_clean("collection")

    # 3. An item: gallery image, metadata, rights and credits, citation.
    _settle(page)
    cards.filter(has_text="The Harvesters").locator("a.card-link").click()
    page.wait_for_url(re.compile(r"/items/met(:|%3A)435809$"))
    assert _item_path(page) == f"/items/{HARVESTERS}"
    expect(page.locator(".item-head h1")).to_have_text("The Harvesters")
    main_image = page.locator(".gallery-main img")
    expect(main_image).to_be_visible()
    _assert_images_loaded(page, "item")
    assert main_image.evaluate("img => img.naturalWidth") > 0
    details = page.locator("section.details .meta-table")
    title_row = details.locator(".meta-row").first
    expect(title_row.locator("dd")).to_have_text("The Harvesters")
    expect(details).to_contain_text("Pieter Bruegel the Elder")
    expect(details).to_contain_text("收割者")
    expect(details).to_contain_text("19.164")
    rights = page.locator("section.rights")
    expect(rights.locator("h2")).to_be_visible()
    expect(rights).to_contain_text("Public domain")
    expect(rights.locator("a[rel=license]").first).to_have_attribute(
        "href", re.compile(r"creativecommons\.org"))
    citations = page.locator("section.citation .cite-text")
    expect(citations).to_have_count(3)  # Chicago, APA, MLA
    for n in range(3):
        expect(citations.nth(n)).to_contain_text("Pieter Bruegel the Elder")
        expect(citations.nth(n).locator("cite")).to_contain_text("The Harvesters")
        expect(citations.nth(n)).to_contain_text(re.compile(r"/items/met(:|%3A)435809"))
    expect(page.locator("#stable-link")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/items/met(:|%3A)435809$"))
    _assert_fits_width(page, "item")
    _screenshot(page, screenshot_dir, "item", viewport)
    watch.assert_clean("item")

    # An item with two images: the second thumbnail swaps the main image in place.
    _settle(page)
    page.goto(f"/items/{HIBISCUS}")
    expect(page.locator(".item-head h1")).to_have_text("Hibiscus and Parrots")
    thumbs = page.locator(".gallery .thumbs a")
    expect(thumbs).to_have_count(2)
    expect(thumbs.nth(0)).to_have_attribute("aria-current", "true")
    _assert_images_loaded(page, "item with two images")
    first_src = main_image.evaluate("img => img.currentSrc")
    second_jpeg = thumbs.nth(1).get_attribute("data-medium-jpeg")
    second_webp = thumbs.nth(1).get_attribute("data-medium-webp")
    assert second_jpeg and second_webp
    assert urlsplit(first_src).path not in {second_jpeg, second_webp}
    thumbs.nth(1).click()
    page.wait_for_url(re.compile(r"\?image=1$"))
    expect(main_image).to_have_attribute("src", second_jpeg)
    page.wait_for_function(
        "src => { const img = document.querySelector('.gallery-main img');"
        " return img.complete && img.naturalWidth > 0 && img.currentSrc.endsWith(src); }",
        arg=second_webp)
    assert urlsplit(main_image.evaluate("img => img.currentSrc")).path == second_webp
    expect(thumbs.nth(1)).to_have_attribute("aria-current", "true")
    expect(thumbs.nth(0)).not_to_have_attribute("aria-current", "true")
    expect(page.locator(".gallery-main figcaption")).to_have_text("CMYK JPEG (derived from the RGB file)")
    _assert_images_loaded(page, "second image")
    _screenshot(page, screenshot_dir, "item-gallery", viewport)
    watch.assert_clean("gallery")

    # 4. Search in simplified script finds the traditional title, highlighted.
    search_box = page.locator(".search-bar input[name=q]")
    search_box.fill("牧羊图")
    _settle(page)
    search_box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.locator(".search-form input[name=q]")).to_have_value("牧羊图")
    results = page.locator(".results .card")
    expect(results.first.locator(".card-title")).to_have_text("牧羊圖")
    marks = results.first.locator(".snippet mark")
    expect(marks.first).to_be_visible()
    assert any("牧羊" in m for m in marks.all_inner_texts()), marks.all_inner_texts()
    first_hit = results.first.locator("a.card-link").get_attribute("href")
    assert first_hit is not None and unquote(first_hit) == f"/items/{SHEEP}"
    _assert_images_loaded(page, "search")
    _assert_fits_width(page, "search")
    _screenshot(page, screenshot_dir, "search", viewport)
    watch.assert_clean("search (simplified)")

    search_box = page.locator(".search-form input[name=q]")
    search_box.fill("牧羊圖")
    _settle(page)
    page.locator(".search-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/search\?q=%E7%89%A7%E7%BE%8A%E5%9C%96"))
    expect(results.first.locator(".card-title")).to_have_text("牧羊圖")
    expect(results.first.locator(".snippet mark").first).to_be_visible()
    traditional_hit = results.first.locator("a.card-link").get_attribute("href")
    assert traditional_hit == first_hit
    watch.assert_clean("search (traditional)")

    # 5. The language switch: the other Chinese script, then English.
    _settle(page)
    page.goto("/")
    other_script, label, title = (("zh-Hant", "繁體", "測試繪畫") if viewport.script == "zh-Hans"
                                  else ("zh-Hans", "简体", "测试绘画"))
    _settle(page)
    page.locator(".lang-switch a", has_text=label).click()
    expect(page.locator("html")).to_have_attribute("lang", other_script)
    page.wait_for_load_state("load")  # leaving earlier would abort this page's own requests
    assert urlsplit(page.url).path == "/"
    expect(page.locator(".lang-switch a.current")).to_have_text(label)
    expect(page.locator(".collection-card .card-title")).to_have_text(title)
    _settle(page)
    page.locator(".lang-switch a", has_text="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state("load")
    expect(page.locator(".collection-card .card-title")).to_have_text("Test Paintings")
    expect(page.locator(".main-nav a").first).to_have_text("Collections")
    expect(page.locator(".brand")).to_contain_text("City Museums Online")
    # The choice sticks: the next page is still in English.
    _settle(page)
    page.goto(COLLECTION_URL)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Test Paintings")
    watch.assert_clean("language switch")

    # 6. A missing page is the styled error page, inside the layout, with status 404.
    watch.clear()
    _settle(page)
    response = page.goto("/items/does-not-exist")
    assert response is not None and response.status == 404
    expect(page.locator("header.site-header")).to_be_visible()
    expect(page.locator(".search-bar input[name=q]")).to_be_visible()
    expect(page.locator("main .error-page h1")).to_be_visible()
    expect(page.locator("main .error-page a").first).to_have_attribute("href", "/")
    assert page.evaluate("getComputedStyle(document.querySelector('.error-page')).textAlign") \
        == "center", "the error page is not styled by site.css"
    _screenshot(page, screenshot_dir, "not-found", viewport)
    # Chromium logs the 404 of the document itself; nothing else may go wrong.
    watch.console_errors[:] = [e for e in watch.console_errors
                               if not ("404" in e and "/items/does-not-exist" in e)]
    watch.assert_clean("404 page")


def _compiled_translations() -> bool:
    """Return whether the UI translations are compiled into .mo files."""
    return any((REPO / "museum" / "translations").glob("*/LC_MESSAGES/messages.mo"))


def test_language_switch_translates_the_interface(watched: tuple[Page, Watch]) -> None:
    """Switching script changes the interface text itself, not only the catalogue's labels."""
    if not _compiled_translations():
        pytest.skip("no compiled UI translations (museum/translations/*/LC_MESSAGES/messages.mo)")
    page, watch = watched
    page.goto("/")
    texts = {}
    for label in ("EN", "繁體", "简体"):  # each click changes the language, whatever came first
        _settle(page)
        page.locator(".lang-switch a", has_text=label).click()
        expect(page.locator(".lang-switch a.current")).to_have_text(label)
        page.wait_for_load_state("load")
        texts[label] = (page.locator(".main-nav").inner_text(),
                        page.locator(".search-bar button").inner_text())
    assert len(set(texts.values())) == 3, f"the interface reads the same in two languages: {texts}"
    watch.assert_clean("interface translation")


def test_search_refinement(watched: tuple[Page, Watch], viewport: Viewport, screenshot_dir: Path) -> None:
    """Facets narrow and widen the results, the year range takes BCE, and misspellings get a suggestion."""
    page, watch = watched
    page.goto("/search?collection=test-paintings")
    count = page.locator(".result-count")
    expect(count).to_contain_text(str(PUBLISHED))
    expect(page.locator(".results .card")).to_have_count(PUBLISHED)

    # Choose "with image": two results, a removable chip, the facet marked as chosen.
    _settle(page)
    page.locator('.facet a[href*="has_image=yes"]').click()
    expect(count).to_contain_text(str(PUBLISHED - WITHOUT_IMAGE))
    expect(page.locator(".results .card")).to_have_count(PUBLISHED - WITHOUT_IMAGE)
    # The chip that removes the collection filter links to the same search without it.
    chip = page.locator('.chips a:not([href*="collection="])')
    expect(chip).to_have_count(1)
    expect(page.locator(".facet li.selected")).to_have_count(2)  # collection and image
    _assert_images_loaded(page, "facets")
    _assert_fits_width(page, "facets")
    _screenshot(page, screenshot_dir, "search-facets", viewport)

    # Remove the collection filter with its chip: still only items with an image.
    _settle(page)
    chip.click()
    expect(page.locator(".chips li")).to_have_count(1)
    expect(count).to_contain_text(str(PUBLISHED - WITHOUT_IMAGE))

    # A year range before the common era, typed the way visitors write it.
    _settle(page)
    page.goto("/search?q=&from=1500&to=1600")
    expect(page.locator(".results .card")).to_have_count(1)
    expect(page.locator(".results .card-title").first).to_have_text("The Harvesters")
    _settle(page)
    page.goto("/search?" + "from=300%20BCE&to=abc")
    expect(page.locator(".notice")).to_contain_text("abc")
    expect(page.locator(".chips li")).to_have_count(1)

    # A misspelt English word: no results, and a suggestion that finds the painting.
    _settle(page)
    page.goto("/search?q=harvestrs")
    suggestion = page.locator(".suggestion a")
    expect(suggestion).to_have_text("harvesters")
    _settle(page)
    suggestion.click()
    expect(page.locator(".results .card-title").first).to_have_text("The Harvesters")

    # Pinyin without tones finds the Chinese title.
    _settle(page)
    page.goto("/search?q=muyang")
    expect(page.locator(".results .card-title").first).to_have_text("牧羊圖")
    _screenshot(page, screenshot_dir, "search-pinyin", viewport)
    watch.assert_clean("search refinement")
