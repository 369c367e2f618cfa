"""The deep-zoom viewer and responsive images in chromium, on a phone and on a desktop.

The viewer reads the IIIF info.json, zooms (buttons, wheel, keyboard, double click or double tap,
pinch), and must then request and draw finer IIIF tiles that cover the view without gaps; it
pans, rotates, resets and goes full screen; changing image keeps the page. Grids use lazy
responsive pictures whose width descriptors are the real derivative widths; the item page's
first image is eager.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from tests.browser import test_browse as browse

pytestmark = pytest.mark.browser

# The device, browser context and watched page of the visitor journey, shared as they are.
viewport = browse.viewport
context = browse.context
watched = browse.watched
Watch = browse.Watch
Viewport = browse.Viewport
_settle = browse._settle

HARVESTERS = browse.HARVESTERS
HIBISCUS = browse.HIBISCUS
TILE_RE = re.compile(r"/iiif/3/(?P<sha>[0-9a-f]{64})/(?P<x>\d+),(?P<y>\d+),(?P<w>\d+),(?P<h>\d+)"
                     r"/(?P<sw>\d+),/0/default\.(?:jpg|webp)$")


@dataclass(frozen=True)
class Tile:
    """One IIIF tile request, with the scale factor it belongs to."""

    sha: str
    scale: int
    x: int
    y: int
    w: int
    h: int


def _tile(url: str, info: dict[str, Any]) -> Tile | None:
    """Return the tile a request URL asks for, checked against the grid of info.json."""
    found = TILE_RE.search(urlsplit(url).path)
    if not found:
        return None
    x, y, w, h, sw = (int(found[k]) for k in ("x", "y", "w", "h", "sw"))
    spec = info["tiles"][0]
    tw, th = spec["width"], spec.get("height", spec["width"])
    for s in spec["scaleFactors"]:
        # The Image API 3.0 tile request for scale factor s (implementation notes, "tiles").
        if (x % (tw * s) == 0 and y % (th * s) == 0 and w == min(tw * s, info["width"] - x)
                and h == min(th * s, info["height"] - y) and sw == math.ceil(w / s)):
            return Tile(found["sha"], s, x, y, w, h)
    pytest.fail(f"a tile request off the info.json grid: {url}")


def _state(viewer: Locator) -> dict[str, str]:
    """Return the viewer's published state (zoom relative to fit, rotation, tile level, pending)."""
    return viewer.evaluate("v => ({...v.dataset})")  # type: ignore[no-any-return]


def _wait_settled(page: Page) -> None:
    """Wait until the view stops moving and every tile it needs has arrived."""
    # Polled every animation frame: the same view and pending count three frames running.
    page.evaluate("window.__viewerSame = 0; window.__viewerLast = ''")
    page.wait_for_function("""() => {
        const v = document.querySelector('.viewer');
        const now = [v.dataset.zoom, v.dataset.rotation, v.dataset.pending,
                     v.querySelector('.gallery-image').style.transform].join('/');
        window.__viewerSame = window.__viewerLast === now ? (window.__viewerSame || 0) + 1 : 0;
        window.__viewerLast = now;
        return window.__viewerSame >= 3 && v.dataset.pending === '0';
    }""")
    page.wait_for_function("() => Array.from(document.querySelectorAll('.viewer-tiles img'))"
                           ".every(img => img.complete)")


def _wait_zoom_above(page: Page, zoom: float) -> float:
    """Wait until the viewer is zoomed beyond zoom (relative to fit) and settled; return the zoom."""
    page.wait_for_function("z => Number(document.querySelector('.viewer').dataset.zoom) > z + 0.01",
                           arg=zoom)
    _wait_settled(page)
    return float(page.locator(".viewer").get_attribute("data-zoom") or 0)


def _drawn_tiles(page: Page) -> dict[str, Any]:
    """Return the drawn tile images of the current level and how much of the stage they cover."""
    drawn: dict[str, Any] = page.evaluate("""() => {
        const viewer = document.querySelector('.viewer');
        const stage = viewer.querySelector('.viewer-stage').getBoundingClientRect();
        const level = viewer.dataset.scaleFactor;
        let covered = 0;
        const tiles = Array.from(viewer.querySelectorAll('.viewer-tiles img'))
            .filter(img => img.dataset.s === level)
            .map(img => {
                const r = img.getBoundingClientRect();
                const w = Math.max(0, Math.min(r.right, stage.right) - Math.max(r.left, stage.left));
                const h = Math.max(0, Math.min(r.bottom, stage.bottom) - Math.max(r.top, stage.top));
                covered += w * h;
                return {src: img.currentSrc, natural: img.naturalWidth, shown: r.width,
                        visible: w * h > 0 && getComputedStyle(img).visibility === 'visible'};
            });
        return {level, tiles, covered, area: stage.width * stage.height,
                inViewport: stage.top < innerHeight && stage.bottom > 0};
    }""")
    return drawn


def _base_box(page: Page) -> dict[str, float]:
    """Return the on-screen box of the base picture (rotated boxes come back turned)."""
    box: dict[str, float] = page.evaluate("""() => {
        const r = document.querySelector('.viewer .gallery-image').getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height};
    }""")
    return box


def _shot(page: Page, folder: Path, name: str, viewport: Viewport) -> None:
    """Save what is on screen (not the full page) as <name>-<viewport>.png."""
    page.screenshot(path=str(folder / f"{name}-{viewport.name}.png"))


def _pinch_out(page: Page, stage: Locator) -> None:
    """Spread two fingers apart over the stage (a real multi-touch gesture through CDP)."""
    box = stage.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for spread in range(30, 100, 10):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    cdp.detach()


def test_deep_zoom_viewer(watched: tuple[Page, Watch], viewport: Viewport,
                          screenshot_dir: Path) -> None:
    """Zoom in several ways, check the finer tiles, then pan, rotate, reset and go full screen."""
    page, watch = watched
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"/items/{HARVESTERS}")

    # Initialised from info.json, with labelled controls and a focusable stage.
    viewer = page.locator(".viewer")
    expect(viewer).to_have_class(re.compile(r"\bviewer-ready\b"))
    info_url = viewer.get_attribute("data-info")
    assert info_url and info_url in [urlsplit(u).path for u in requests]
    info = page.evaluate("url => fetch(url).then(r => r.json())", info_url)
    assert info["width"] > 0 and info["tiles"][0]["scaleFactors"]
    stage = viewer.locator(".viewer-stage")
    expect(stage).to_have_attribute("tabindex", "0")
    expect(stage).to_have_attribute("aria-label", viewer.locator(".gallery-image").get_attribute("alt") or "")
    buttons = viewer.locator(".viewer-controls button")
    expect(buttons).to_have_count(5)
    for button in buttons.all():
        expect(button).to_be_visible()
        assert (button.get_attribute("aria-label") or "").strip()
    # Labels come translated from the page (zh-Hans on the phone, zh-Hant on the desktop).
    expect(viewer.locator("[data-viewer-action=zoom-in]")).to_have_attribute(
        "aria-label", "放大")
    base = viewer.locator(".gallery-image")
    expect(base).to_have_attribute("loading", "eager")
    expect(base).to_have_attribute("fetchpriority", "high")
    _wait_settled(page)
    assert _state(viewer)["zoom"] == "1.00"
    # The base picture's real pixel width (naturalWidth of a srcset image is scaled to its slot).
    base_pixels = base.evaluate("""img => new Promise(done => {
        const probe = new Image(); probe.onload = () => done(probe.naturalWidth);
        probe.src = img.currentSrc; })""")
    base_scale = info["width"] / base_pixels
    before = [t for t in (_tile(u, info) for u in requests) if t]
    coarsest_before = min([t.scale for t in before], default=math.inf)

    # Zoom in with the button, then with the wheel (desktop) or the keyboard (phone).
    requests.clear()
    viewer.locator("[data-viewer-action=zoom-in]").click()
    zoom = _wait_zoom_above(page, 1.0)
    box = stage.bounding_box()
    assert box is not None
    if viewport is browse.DESKTOP:
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
        page.mouse.wheel(0, -400)
    else:
        stage.focus()
        page.keyboard.press("+")
    zoom = _wait_zoom_above(page, zoom)

    # Finer tiles than anything shown before were requested, on the info.json grid ...
    tiles = [t for t in (_tile(u, info) for u in requests) if t]
    assert tiles, f"no tile requests after zooming in to {zoom}: {requests}"
    finest = min(t.scale for t in tiles)
    assert finest < min(coarsest_before, base_scale), (finest, coarsest_before, base_scale)
    state = _state(viewer)
    assert state["scaleFactor"] == str(finest)
    # ... and drawn: loaded, visible, as sharp as the screen, covering the stage without gaps.
    drawn = _drawn_tiles(page)
    assert drawn["inViewport"] and drawn["tiles"], drawn
    assert all(t["natural"] > 0 and t["visible"] for t in drawn["tiles"]), drawn
    # As sharp as the screen, unless zoomed beyond the full-size pixels.
    dpr = page.evaluate("devicePixelRatio")
    if finest > min(info["tiles"][0]["scaleFactors"]):
        assert all(t["natural"] >= t["shown"] * dpr / 1.01 for t in drawn["tiles"]), drawn
    assert drawn["covered"] == pytest.approx(drawn["area"], rel=0.002), drawn
    stage.scroll_into_view_if_needed()
    _shot(page, screenshot_dir, "viewer-zoomed", viewport)

    # Drag pans the picture by as much as the pointer moved.
    start = _base_box(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 40, cy - 30, steps=5)
    page.mouse.up()
    _wait_settled(page)
    moved = _base_box(page)
    assert moved["x"] == pytest.approx(start["x"] - 40, abs=1.5)
    assert moved["y"] == pytest.approx(start["y"] - 30, abs=1.5)

    # The keyboard: arrows pan, r rotates a quarter turn, 0 resets.
    stage.focus()
    page.keyboard.press("ArrowLeft")
    _wait_settled(page)
    assert _base_box(page)["x"] > moved["x"]
    page.keyboard.press("r")
    expect(viewer).to_have_attribute("data-rotation", "90")
    page.keyboard.press("0")
    expect(viewer).to_have_attribute("data-zoom", "1.00")
    expect(viewer).to_have_attribute("data-rotation", "0")

    # Rotate with the button: the landscape painting stands upright, fitted; reset undoes it.
    landscape = _base_box(page)
    assert landscape["width"] > landscape["height"]
    viewer.locator("[data-viewer-action=rotate]").click()
    expect(viewer).to_have_attribute("data-rotation", "90")
    _wait_settled(page)
    upright = _base_box(page)
    assert upright["height"] > upright["width"]
    assert upright["height"] <= box["height"] + 1 and upright["width"] <= box["width"] + 1
    _shot(page, screenshot_dir, "viewer-rotated", viewport)
    viewer.locator("[data-viewer-action=reset]").click()
    expect(viewer).to_have_attribute("data-rotation", "0")
    expect(viewer).to_have_attribute("data-zoom", "1.00")

    # Double tap (phone) or double click (desktop) zooms in twofold; so does a pinch.
    if viewport is browse.DESKTOP:
        stage.dblclick()
    else:
        stage.tap()
        stage.tap()
    _wait_zoom_above(page, 1.0)
    assert float(_state(viewer)["zoom"]) == pytest.approx(2.0, rel=0.02)
    viewer.locator("[data-viewer-action=zoom-out]").click()
    expect(viewer).to_have_attribute("data-zoom", "1.00")
    if viewport is not browse.DESKTOP:
        _pinch_out(page, stage)
        _wait_zoom_above(page, 1.0)
        page.keyboard.press("0")

    # Full screen, and back.
    fullscreen = viewer.locator("[data-viewer-action=fullscreen]")
    fullscreen.click()
    page.wait_for_function("""() => document.fullscreenElement === document.querySelector('.viewer')
        || document.querySelector('.viewer').classList.contains('viewer-fullscreen')""")
    expect(fullscreen).to_have_attribute("aria-pressed", "true")
    _wait_settled(page)
    big = stage.bounding_box()
    assert big is not None and big["width"] >= box["width"] and big["height"] > box["height"]
    _shot(page, screenshot_dir, "viewer-fullscreen", viewport)
    fullscreen.click()
    page.wait_for_function("""() => !document.fullscreenElement
        && !document.querySelector('.viewer').classList.contains('viewer-fullscreen')""")
    expect(fullscreen).to_have_attribute("aria-pressed", "false")

    # The IIIF manifest link, with its logo, beside the citation.
    manifest = page.locator("section.citation a.iiif-manifest")
    href = manifest.get_attribute("href") or ""
    assert unquote(urlsplit(href).path) == f"/iiif/manifest/{HARVESTERS}"
    expect(manifest.locator("img")).to_be_visible()
    watch.assert_clean("deep-zoom viewer")


def test_changing_image_keeps_the_page(watched: tuple[Page, Watch], viewport: Viewport,
                                       screenshot_dir: Path) -> None:
    """The second thumbnail opens that image in the viewer without leaving or scrolling the page."""
    page, watch = watched
    infos: list[str] = []

    def on_request(request: Request) -> None:
        if request.url.endswith("/info.json"):
            infos.append(urlsplit(request.url).path)

    page.on("request", on_request)
    page.goto(f"/items/{HIBISCUS}")
    viewer = page.locator(".viewer")
    expect(viewer).to_have_class(re.compile(r"\bviewer-ready\b"))
    thumbs = page.locator(".gallery .thumbs a")
    expect(thumbs).to_have_count(2)
    first_info, second_info = (thumbs.nth(i).get_attribute("data-info") for i in (0, 1))
    assert first_info and second_info and first_info != second_info
    assert infos == [first_info]
    page.evaluate("window.__samePage = 'kept'")
    thumbs.nth(1).scroll_into_view_if_needed()
    scrolled = page.evaluate("scrollY")

    _settle(page)
    viewer.locator("[data-viewer-action=zoom-in]").click()
    _wait_zoom_above(page, 1.0)
    thumbs.nth(1).click()
    page.wait_for_url(re.compile(r"\?image=1$"))
    expect(viewer).to_have_attribute("data-info", second_info)
    expect(viewer).to_have_class(re.compile(r"\bviewer-ready\b"))
    expect(viewer).to_have_attribute("data-zoom", "1.00")
    assert page.evaluate("window.__samePage") == "kept", "the page was reloaded"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.evaluate("scrollY") == scrolled
    assert infos == [first_info, second_info]
    second_sha = second_info.split("/")[-2]
    page.wait_for_function("sha => { const img = document.querySelector('.viewer .gallery-image');"
                           " return img.complete && img.naturalWidth > 0 && img.currentSrc.includes(sha); }",
                           arg=second_sha)
    expect(page.locator(".viewer .gallery-image")).to_be_visible()
    expect(viewer.locator(".viewer-stage")).to_have_attribute(
        "aria-label", "CMYK JPEG (derived from the RGB file)")
    expect(viewer.locator(".viewer-tiles img")).to_have_count(0)  # none left from the first image
    _wait_settled(page)
    viewer.scroll_into_view_if_needed()
    _shot(page, screenshot_dir, "viewer-second-image", viewport)
    watch.assert_clean("changing image")


def _srcset(value: str | None) -> dict[str, int]:
    """Return {url: width} from a srcset of w descriptors."""
    assert value, "no srcset"
    pairs = [part.strip().rsplit(" ", 1) for part in value.split(",")]
    assert all(len(p) == 2 and p[1].endswith("w") for p in pairs), value
    return {url: int(width[:-1]) for url, width in pairs}


def _check_pictures(page: Page, pictures: Locator, lazy: bool) -> None:
    """Check each picture's WebP and JPEG srcsets, sizes and loading, and the real widths."""
    for picture in pictures.all():
        img, source = picture.locator("img"), picture.locator("source")
        expect(source).to_have_attribute("type", "image/webp")
        assert img.get_attribute("sizes") and source.get_attribute("sizes")
        assert img.get_attribute("loading") == ("lazy" if lazy else "eager")
        for fmt, srcset in (("jpeg", img.get_attribute("srcset")),
                            ("webp", source.get_attribute("srcset"))):
            candidates = _srcset(srcset)
            assert len(candidates) >= 2 and all(u.endswith("." + fmt) for u in candidates)
            # Each descriptor is the width of the file it names.
            real = page.evaluate("""urls => Promise.all(urls.map(url => new Promise(done => {
                const probe = new Image(); probe.onload = () => done(probe.naturalWidth);
                probe.onerror = () => done(0); probe.src = url; })))""", list(candidates))
            assert real == list(candidates.values()), (srcset, real)


def test_responsive_lazy_pictures(watched: tuple[Page, Watch], viewport: Viewport) -> None:
    """Grid pictures are lazy with WebP/JPEG srcsets; the item page's first picture is eager."""
    page, watch = watched
    page.goto(browse.COLLECTION_URL)
    pictures = page.locator("main .grid .card-media picture")
    expect(pictures).to_have_count(2)
    _check_pictures(page, pictures, lazy=True)
    _settle(page)
    page.goto(f"/items/{HARVESTERS}")
    _check_pictures(page, page.locator(".gallery-main picture"), lazy=False)
    expect(page.locator(".gallery-main img")).to_have_attribute("fetchpriority", "high")
    related = page.locator(".related picture")
    if related.count():
        _check_pictures(page, related, lazy=True)
    watch.assert_clean("responsive pictures")

