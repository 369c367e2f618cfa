"""A curator's journey through the real server in chromium, and what visitors then see.

A curator logs in through the form, creates an item (traditional Chinese title), drops two JPEG
files on the editor's drop zone (real drag-and-drop events carrying File objects), publishes the
item, edits it, restores the earlier revision from its history and builds a two-section
exhibition with it. Visitors (fresh contexts, no login cookie, on a desktop and on a phone) find
the item in public search in both Chinese scripts, see each edit and the restore at once, and read
the exhibition. Every step is screenshotted; no step may log a console error, fail a request or
ask any host but the server itself.

The journey runs against its own `museum serve` (started as conftest starts the shared one), so
the item and exhibition it creates never change what the other browser tests count.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Route,
    expect,
)

from tests.browser import conftest as live
from tests.browser import test_browse as browse

pytestmark = pytest.mark.browser

IMAGES = live.REPO / "tests" / "data" / "images"
UPLOADS = ("flower2.jpg", "app13-multiple.jpg")

USERNAME = "journey.curator"
DISPLAY_NAME = "測試策展人"
PASSWORD = "correct horse battery staple 42"

TITLE = "測試青銅鼎"
TITLE_HANS = "测试青铜鼎"
TITLE_ALT = "Test Bronze Ding"
TITLE_ALT_EDITED = "Test Bronze Ding, with lid"
CREATOR = "佚名"
DATE_TEXT = "清乾隆"
DESCRIPTION = "測試青銅鼎，三足兩耳，器腹飾饕餮紋。僅供瀏覽器測試之用。"

HARVESTERS = browse.HARVESTERS
SLUG = "bronze-and-harvest"
EXHIBITION_TITLE = {"zh-Hant": "鼎與收穫", "zh-Hans": "鼎与收获", "en": "The Ding and the Harvest"}
EXHIBITION_SUMMARY = {"zh-Hant": "一件青銅器與一幅油畫的對話。", "zh-Hans": "一件青铜器与一幅油画的对话。",
                      "en": "A bronze vessel and an oil painting in conversation."}
LINK = "https://www.metmuseum.org/art/collection/search/435809"
SECTIONS = [
    {"heading": {"zh-Hant": "青銅", "zh-Hans": "青铜", "en": "Bronze"},
     "body": {"zh-Hant": f"**祭祀之器**：鼎是古代的禮器。\n\n參見[大都會藝術博物館]({LINK})。",
              "zh-Hans": f"**祭祀之器**：鼎是古代的礼器。\n\n参见[大都会艺术博物馆]({LINK})。",
              "en": f"**A ritual vessel**: the ding held offerings.\n\nSee [the Met]({LINK})."},
     "bold": {"zh-Hant": "祭祀之器", "zh-Hans": "祭祀之器", "en": "A ritual vessel"},
     "link": {"zh-Hant": "大都會藝術博物館", "zh-Hans": "大都会艺术博物馆", "en": "the Met"},
     "caption": {"zh-Hant": "三足兩耳的鼎。", "zh-Hans": "三足两耳的鼎。", "en": "A ding on three legs."}},
    {"heading": {"zh-Hant": "收穫", "zh-Hans": "收获", "en": "Harvest"},
     "body": {"zh-Hant": "夏末的麥田，*午間*小憩。", "zh-Hans": "夏末的麦田，*午间*小憩。",
              "en": "A wheat field at the end of summer, *a midday rest*."},
     "caption": {"zh-Hant": "布勒哲爾的《收割者》。", "zh-Hans": "勃鲁盖尔的《收割者》。",
                 "en": "Bruegel's Harvesters."}},
]
LANGUAGES = ("zh-Hant", "zh-Hans", "en")


# ----- the server, the account and the pages -------------------------------------------------


@dataclass
class JourneyWatch(browse.Watch):
    """browse.Watch, minus what a full-page screenshot itself starts and then aborts.

    While chromium captures beyond the viewport it re-picks responsive images and may start a
    smaller derivative, which it aborts at once when the view comes back: the site asked for
    nothing. Those aborts are kept apart (in screenshot_aborts), every other failure counts.
    """

    shooting: bool = False
    started_while_shooting: set[Request] = field(default_factory=set)
    screenshot_aborts: list[str] = field(default_factory=list)


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """Return the environment without inherited MUSEUM_* settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSEUM_") and k != "DATABASE_URL"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveServer]:
    """Start our own `museum serve` over the test exhibit, as conftest does, with a curator account.

    The account is made with the CLI (`museum user add`, password on stdin) against the server's
    data directory while it runs, as an administrator would.
    """
    base = tmp_path_factory.mktemp("journey-server")
    data_dir = base / "data"
    port = live._free_port()
    command, extra_env = live._museum_command()
    env = _clean_env({**extra_env, "MUSEUM_EXHIBIT_DIR": str(live.TEST_EXHIBIT), "PYTHONUNBUFFERED": "1"})
    server = live.LiveServer(url=f"http://127.0.0.1:{port}", log_dir=base)
    with (base / "stdout.txt").open("wb") as out, (base / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(
            [*command, "serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", "2"],
            cwd=base, env=env, stdout=out, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + live.START_TIMEOUT
        while not live._answers_200(server.url + "/"):
            if process.poll() is not None:
                pytest.fail(f"`museum serve` exited with status {process.returncode}; its stderr:\n"
                            f"{server.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"`museum serve` did not answer within {live.START_TIMEOUT:.0f} s; its stderr:\n"
                            f"{server.stderr()}")
            time.sleep(0.25)
        added = subprocess.run(
            [*command, "user", "add", USERNAME, "--role", "curator", "--name", DISPLAY_NAME],
            input=PASSWORD + "\n", capture_output=True, text=True, cwd=base, timeout=60, check=False,
            env=_clean_env({**extra_env, "MUSEUM_DATA_DIR": str(data_dir)}))
        assert added.returncode == 0, f"`museum user add` failed:\n{added.stdout}\n{added.stderr}"
        assert f"curator {USERNAME}" in added.stdout, added.stdout
        yield server
    finally:
        live._stop(process)


def _new_context(browser: Browser, server: live.LiveServer, viewport: browse.Viewport) -> BrowserContext:
    """Return a fresh browser context (no cookies) for a device, based at the server."""
    ctx = browser.new_context(base_url=server.url, **viewport.options)
    ctx.set_default_timeout(15_000)
    return ctx


def _watch(context: BrowserContext, watch: JourneyWatch) -> Page:
    """Return a new page of context whose errors, failures and outside requests go to watch."""

    def block_outside(route: Route) -> None:
        if browse._is_local(route.request.url):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(f"{message.text} @ {message.location.get('url')}")

    def on_request(request: Request) -> None:
        if watch.shooting:
            watch.started_while_shooting.add(request)

    def on_failed(request: Request) -> None:
        if not browse._is_local(request.url):
            return
        seen = f"{request.method} {request.url}: {request.failure} (on {page.url})"
        if (request in watch.started_while_shooting and request.resource_type == "image"
                and "ERR_ABORTED" in (request.failure or "")):
            watch.screenshot_aborts.append(seen)
        else:
            watch.failed.append(seen)

    context.route("**/*", block_outside)
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    return page


@pytest.fixture
def watch() -> JourneyWatch:
    """Return one record of errors for the whole journey, curator and visitors alike."""
    return JourneyWatch()


@pytest.fixture
def curator(browser: Browser, journey_server: live.LiveServer, watch: JourneyWatch) -> Iterator[Page]:
    """Return the curator's page: a desktop browser (traditional Chinese), not logged in yet."""
    ctx = _new_context(browser, journey_server, browse.DESKTOP)
    try:
        yield _watch(ctx, watch)
    finally:
        ctx.close()


@pytest.fixture
def visitors(browser: Browser, journey_server: live.LiveServer, watch: JourneyWatch
             ) -> Iterator[dict[str, tuple[Page, browse.Viewport]]]:
    """Return a visitor's page on a desktop (traditional) and on a phone (simplified), without login."""
    contexts = {vp.name: (_new_context(browser, journey_server, vp), vp) for vp in (browse.DESKTOP, browse.PHONE)}
    try:
        yield {name: (_watch(ctx, watch), vp) for name, (ctx, vp) in contexts.items()}
    finally:
        for ctx, _vp in contexts.values():
            ctx.close()


# ----- helpers ------------------------------------------------------------------------------


def _assert_images_loaded(page: Page, step: str) -> int:
    """Scroll every image into view, wait for all to finish, fail on a broken one; return how many.

    As browse._assert_images_loaded, but waiting inside one evaluate: its wait_for_function is
    given an expression (not a function), which Playwright evals while polling, and the site's CSP
    (script-src 'self', no 'unsafe-eval') refuses that whenever an image is still loading.
    """
    images: list[dict[str, object]] = page.evaluate("""async () => {
        for (const img of document.images) {
            img.scrollIntoView({block: 'center'});
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        }
        window.scrollTo(0, document.body.scrollHeight);
        const deadline = Date.now() + 15000;
        while (!Array.from(document.images).every(img => img.complete) && Date.now() < deadline) {
            await new Promise(r => setTimeout(r, 50));
        }
        window.scrollTo(0, 0);
        return Array.from(document.images).map(img => ({
            src: img.currentSrc || img.src, width: img.naturalWidth, complete: img.complete}));
    }""")
    unfinished = [img["src"] for img in images if not img["complete"]]
    assert not unfinished, f"{step}: images still loading after 15 s: {unfinished}"
    broken = [img["src"] for img in images if not isinstance(img["width"], int) or img["width"] <= 0]
    assert not broken, f"{step}: images that did not load: {broken}"
    return len(images)



# A full-page capture keeps sticky boxes where the viewport had them (the header mid-page, the
# editor's save bar over a field); in the saved picture they stay where the page flows them. Set
# through the CSSOM, which the site's Content-Security-Policy (style-src 'self') allows.
STICKY = ".site-header, .form-actions"


def _shot(page: Page, watch: JourneyWatch, folder: Path, name: str) -> None:
    """Save a full-page screenshot as journey-<name>.png, every (lazy) image loaded and none broken."""
    _assert_images_loaded(page, f"screenshot {name}")
    unstick = "([sel, on]) => document.querySelectorAll(sel).forEach(el => on ? " \
              "el.style.setProperty('position', 'static', 'important') : el.style.removeProperty('position'))"
    page.evaluate(unstick, [STICKY, True])
    watch.shooting = True
    try:
        page.screenshot(path=str(folder / f"journey-{name}.png"), full_page=True)
    finally:
        watch.shooting = False
        page.evaluate(unstick, [STICKY, False])


def _submit(page: Page, button: Locator) -> None:
    """Click a form's submit button once the page is idle, and wait for the next page to load."""
    browse._settle(page)
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state("load")


def _goto(page: Page, path: str) -> None:
    """Open a path once the current page is idle, and fail unless it answers 200."""
    browse._settle(page)
    response = page.goto(path)
    assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"


def _expect_flash(page: Page, category: str = "success") -> None:
    """Check that the curation page shows a flashed message of this category and no error."""
    expect(page.locator(f".flash-{category}").first).to_be_visible()
    expect(page.locator(".flash-error")).to_have_count(0)
    expect(page.locator(".form-error")).to_have_count(0)


def _drop_files(page: Page, zone: Locator, names: tuple[str, ...],
                shot: Callable[[], object] | None = None) -> None:
    """Drag files from the desktop onto zone: dragenter, dragover (then shot()), drop, carrying File objects."""
    files = [{"name": name, "data": base64.b64encode((IMAGES / name).read_bytes()).decode("ascii")}
             for name in names]
    transfer = page.evaluate_handle("""files => {
        const transfer = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, {type: 'image/jpeg'}));
        }
        return transfer;
    }""", files)
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile(r"\bdrop-active\b"))  # the zone shows it will take them
    if shot is not None:
        shot()
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(zone).not_to_have_class(re.compile(r"\bdrop-active\b"))
    transfer.dispose()


def _search(page: Page, query: str) -> Locator:
    """Search the public site from the header's box (the search page's own form there); return the first hit."""
    box = page.locator(".search-bar input[name=q], .search-form input[name=q]")
    box.fill(query)
    browse._settle(page)
    with page.expect_navigation():
        box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.locator(".search-form input[name=q]")).to_have_value(query)
    return page.locator(".results .card").first


def _check_public_item(page: Page, item_id: str, title_alt: str, step: str) -> None:
    """Open the item's public page and check its title, other title and both images."""
    _goto(page, f"/items/{item_id}")
    expect(page.locator(".item-head h1")).to_have_text(TITLE)
    expect(page.locator(".item-head .title-alt")).to_have_text(title_alt)
    expect(page.locator(".gallery .thumbs a")).to_have_count(2)
    expect(page.locator("section.details")).to_contain_text(DATE_TEXT)
    _assert_images_loaded(page, step)


def _fill_languages(page: Page, form_id: str, prefix: str, texts: dict[str, str]) -> None:
    """Fill a per-language field of the exhibition editor (ids like new-heading-zh-Hant)."""
    for lang in LANGUAGES:
        page.locator(f"#{form_id}-{prefix}-{lang}").fill(texts[lang])


# ----- the journey ------------------------------------------------------------------------------


def test_curator_journey(curator: Page, visitors: dict[str, tuple[Page, browse.Viewport]],
                         watch: JourneyWatch, screenshot_dir: Path) -> None:
    """Log in, create, drop images, publish, find, edit, restore, build an exhibition; visitors see each."""
    page = curator
    desktop, _ = visitors["desktop"]

    # 1. Log in through the form.
    _goto(page, "/curate/")  # not logged in: sent to the login page, back here afterwards
    page.wait_for_url(re.compile(r"/curate/login\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(PASSWORD)
    _shot(page, watch, screenshot_dir, "01-login")
    _submit(page, page.locator(".narrow-form button[type=submit]"))
    assert urlsplit(page.url).path == "/curate/"
    nav = page.locator("nav.curate-nav")
    expect(nav).to_be_visible()
    expect(nav.locator(".curate-who")).to_contain_text(DISPLAY_NAME)
    _shot(page, watch, screenshot_dir, "01-dashboard")
    watch.assert_clean("log in")

    # 2. A new item, saved as a draft.
    _submit(page, nav.locator('a[href="/curate/items/new"]'))
    form = page.locator("form.edit-form")
    form.locator("#field-title").fill(TITLE)
    form.locator("#field-title_alt").fill(TITLE_ALT)
    form.locator("#field-creator").fill(CREATOR)
    form.locator("#field-object_type").fill("鼎")
    form.locator("#field-date_display").fill(DATE_TEXT)
    form.locator("#field-medium").fill("青銅")
    form.locator("#field-description").fill(DESCRIPTION)
    _submit(page, form.locator(".form-actions button[type=submit]"))
    found = re.search(r"/curate/items/(.+)/edit$", urlsplit(page.url).path)
    assert found, f"not the new item's editor: {page.url}"
    item_id = unquote(found[1])
    _expect_flash(page)
    expect(page.locator(".editor-head h1")).to_have_text(TITLE)
    expect(page.locator(".editor-head .status-badge")).to_have_class(re.compile(r"\bstatus-draft\b"))
    expect(page.locator(".editor-head code")).to_have_text(item_id)
    for name, value in (("title", TITLE), ("title_alt", TITLE_ALT), ("creator", CREATOR),
                        ("date_display", DATE_TEXT), ("description", DESCRIPTION)):
        expect(form.locator(f"#field-{name}")).to_have_value(value)
    # The years were read from the reign name (乾隆, 1736–1795) and are offered as placeholders.
    expect(form.locator("#field-begin_year")).to_have_attribute("placeholder", "1736")
    expect(form.locator("#field-end_year")).to_have_attribute("placeholder", "1795")
    expect(page.locator("[data-image-list] .image-row")).to_have_count(0)
    _shot(page, watch, screenshot_dir, "02-item-draft-saved")
    watch.assert_clean("new item")

    # 3. Two images dropped on the drop zone: one progress bar each, both done, both listed.
    expect(page.locator("[data-upload-submit]")).to_be_hidden()  # the script runs: no upload button
    zone = page.locator("[data-drop-zone]")
    zone.scroll_into_view_if_needed()
    _drop_files(page, zone, UPLOADS, shot=lambda: zone.screenshot(
        path=str(screenshot_dir / "journey-03-drop-zone-active.png")))
    rows = page.locator("[data-upload-list] li")
    expect(rows).to_have_count(len(UPLOADS))
    for n, name in enumerate(UPLOADS):
        expect(rows.nth(n).locator(".upload-name")).to_have_text(name)
        expect(rows.nth(n)).to_have_class("upload-ok", timeout=60_000)
        expect(rows.nth(n).locator("progress")).to_have_js_property("value", 100)
        expect(rows.nth(n).locator(".upload-status")).to_contain_text(name)
    images = page.locator("[data-image-list] .image-row")
    expect(images).to_have_count(len(UPLOADS))
    for n, name in enumerate(UPLOADS):
        expect(images.nth(n).locator(".image-info")).to_contain_text(name)
    _assert_images_loaded(page, "uploaded images")
    _shot(page, watch, screenshot_dir, "03-images-dropped")
    # They are stored, in the order dropped: the editor shows them again after a reload.
    browse._settle(page)
    page.reload()
    expect(images).to_have_count(len(UPLOADS))
    for n, name in enumerate(UPLOADS):
        expect(images.nth(n).locator(".image-info")).to_contain_text(name)
    watch.assert_clean("drag-and-drop upload")

    # 4. Publish; visitors find it in both scripts, first, with the match highlighted.
    _submit(page, page.locator(".status-actions form:has(input[name=action][value=publish]) button"))
    _expect_flash(page)
    expect(page.locator(".editor-head .status-badge")).to_have_class(re.compile(r"\bstatus-published\b"))
    public_link = page.locator(".editor-meta a[href^='/items/']")
    expect(public_link).to_have_count(1)
    _shot(page, watch, screenshot_dir, "04-published")
    watch.assert_clean("publish")

    hits: dict[str, str] = {}
    for name, (visitor, viewport) in visitors.items():
        _goto(visitor, "/")
        for label, query in (("hant", TITLE), ("hans", TITLE_HANS)):
            first = _search(visitor, query)
            expect(first.locator(".card-title")).to_have_text(TITLE)
            expect(first.locator(".snippet")).to_contain_text(TITLE)  # the text as written, marked
            marks = first.locator(".snippet mark")
            expect(marks.first).to_be_visible()
            assert any(set(m) & set(TITLE) for m in marks.all_inner_texts()), marks.all_inner_texts()
            hits[f"{name}-{label}"] = unquote(first.locator("a.card-link").get_attribute("href") or "")
            _assert_images_loaded(visitor, f"search {label} ({name})")
            browse._assert_fits_width(visitor, f"search {label} ({name})")
            _shot(visitor, watch, screenshot_dir, f"04-search-{label}-{viewport.name}")
        watch.assert_clean(f"public search ({name})")
    assert set(hits.values()) == {f"/items/{item_id}"}, hits
    _check_public_item(desktop, item_id, TITLE_ALT, "public item")
    watch.assert_clean("public item")

    # 5. Edit the other title; the public page shows it at once.
    form.locator("#field-title_alt").fill(TITLE_ALT_EDITED)
    _submit(page, form.locator(".form-actions button[type=submit]"))
    _expect_flash(page)
    expect(form.locator("#field-title_alt")).to_have_value(TITLE_ALT_EDITED)
    _shot(page, watch, screenshot_dir, "05-edited")
    _check_public_item(desktop, item_id, TITLE_ALT_EDITED, "public item after the edit")
    watch.assert_clean("edit")

    # 6. The history: restore the version before the edit, itself recorded as a new version.
    _submit(page, page.locator('.editor-meta a[href$="/history"]'))
    entries = page.locator("ol.history > li.history-entry")
    before = entries.count()
    newest = entries.first
    expect(newest.locator("tr", has_text=TITLE_ALT_EDITED).locator("td.before")).to_have_text(TITLE_ALT)
    expect(newest.locator("tr", has_text=TITLE_ALT_EDITED).locator("td.after")).to_have_text(TITLE_ALT_EDITED)
    expect(newest.locator("form")).to_have_count(0)  # the current version has nothing to restore
    earlier = entries.nth(1)
    restore_form = earlier.locator("form[action*='/restore']")
    seq_match = re.search(r"/history/(\d+)/restore$", restore_form.get_attribute("action") or "")
    assert seq_match, "the version before the edit has no restore button"
    restored_seq = int(seq_match[1])
    _submit(page, restore_form.locator("button[type=submit]"))
    page.wait_for_url(re.compile(r"/history$"))
    _expect_flash(page)
    expect(page.locator(".flash-success")).to_contain_text(str(restored_seq))
    expect(entries).to_have_count(before + 1)
    newest_seq = int(re.sub(r"\D", "", newest.locator(".history-title").inner_text().split("·")[0]) or 0)
    assert newest_seq > restored_seq, f"the restore is not the newest version: {newest_seq} vs {restored_seq}"
    change = newest.locator("tr", has_text=TITLE_ALT_EDITED)
    expect(change.locator("td.before")).to_have_text(TITLE_ALT_EDITED)
    expect(change.locator("td.after")).to_have_text(TITLE_ALT)
    expect(newest.locator("form")).to_have_count(0)
    expect(entries.nth(1).locator("form[action*='/restore']")).to_have_count(1)  # the edit can come back
    _shot(page, watch, screenshot_dir, "06-history-restored")
    _check_public_item(desktop, item_id, TITLE_ALT, "public item after the restore")
    _goto(page, f"/curate/items/{item_id}/edit")
    expect(page.locator(".editor-head .status-badge")).to_have_class(re.compile(r"\bstatus-published\b"))
    expect(page.locator("[data-image-list] .image-row")).to_have_count(len(UPLOADS))
    watch.assert_clean("history and restore")

    # 7. An exhibition in two sections, built in the curation UI, then published.
    _submit(page, nav.locator('a[href="/curate/exhibitions"]'))
    _submit(page, page.locator('a[href="/curate/exhibitions/new"]'))
    _fill_languages(page, "details", "title", EXHIBITION_TITLE)
    _fill_languages(page, "details", "summary", EXHIBITION_SUMMARY)
    page.locator("#details-slug").fill(SLUG)
    _submit(page, page.locator(".admin-form form button[type=submit]"))
    found = re.search(r"/curate/exhibitions/(\d+)$", urlsplit(page.url).path)
    assert found, f"not the new exhibition's editor: {page.url}"
    _expect_flash(page)
    expect(page.locator(".ex-head h1")).to_have_text(EXHIBITION_TITLE["zh-Hant"])
    expect(page.locator(".ex-meta")).to_contain_text(f"/exhibitions/{SLUG}")

    sections = page.locator("#sections > section.ex-section:not(.ex-new-section)")
    for number, section in enumerate(SECTIONS, start=1):
        _fill_languages(page, "new", "heading", section["heading"])
        _fill_languages(page, "new", "body", section["body"])
        _submit(page, page.locator("#new-section button[type=submit]"))
        _expect_flash(page)
        expect(sections).to_have_count(number)
        added = sections.nth(number - 1)
        expect(added.locator(".ex-section-head h3")).to_contain_text(section["heading"]["zh-Hant"])
        section_id = (added.get_attribute("id") or "").removeprefix("section-")
        if number == 1:
            # The new item, found by its title with the editor's finder.
            added.locator(f"#find-{section_id}").fill(TITLE)
            _submit(page, added.locator(".ex-find-form button[type=submit]"))
            choice = page.locator(f"#add-{section_id} .ex-found li", has=page.locator("code", has_text=item_id))
            expect(choice).to_have_count(1)
            _shot(page, watch, screenshot_dir, "07-exhibition-finder")
            _submit(page, choice.locator("button[type=submit]"))
            expected_id = item_id
        else:
            # An item of the test exhibit, by its id.
            added.locator(f"#a{section_id}-item_id").fill(HARVESTERS)
            _submit(page, page.locator(f"#add-{section_id} .ex-add-form button[type=submit]"))
            expected_id = HARVESTERS
        _expect_flash(page)
        entry = sections.nth(number - 1).locator("ol.ex-entries > li.ex-entry")
        expect(entry).to_have_count(1)
        expect(entry.locator(".ex-entry-title code")).to_have_text(expected_id)
        entry_id = (entry.get_attribute("id") or "").removeprefix("entry-")
        entry.locator("details.ex-caption summary").click()
        _fill_languages(page, f"e{entry_id}", "caption", section["caption"])
        _submit(page, entry.locator("details.ex-caption button[type=submit]"))
        _expect_flash(page)
        expect(sections.nth(number - 1).locator("details.ex-caption summary")).to_contain_text(
            section["caption"]["zh-Hant"])
        _assert_images_loaded(page, f"exhibition editor, section {number}")
        _shot(page, watch, screenshot_dir, f"07-exhibition-section-{number}")

    _submit(page, page.locator(".ex-status-form button[name=status][value=published]"))
    _expect_flash(page)
    expect(page.locator(".ex-meta .ex-status")).to_have_class(re.compile(r"\bex-status-published\b"))
    expect(page.locator(f'.ex-meta a[href="/exhibitions/{SLUG}"]')).to_be_visible()
    expect(sections).to_have_count(2)
    _shot(page, watch, screenshot_dir, "07-exhibition-published")
    watch.assert_clean("exhibition editor")

    # 8. Visitors read it: both sections, pictures, Markdown rendered; then walk to the next stop.
    for name, (visitor, viewport) in visitors.items():
        lang = viewport.script
        _goto(visitor, f"/exhibitions/{SLUG}")
        article = visitor.locator("article.exhibition")
        expect(article.locator(".exhibition-intro h1")).to_have_text(EXHIBITION_TITLE[lang])
        expect(article.locator(".exhibition-summary")).to_have_text(EXHIBITION_SUMMARY[lang])
        expect(article.locator(".exhibition-contents li")).to_have_count(2)
        shown = article.locator("section.exhibition-section")
        expect(shown).to_have_count(2)
        for n, (section, item_title) in enumerate(zip(SECTIONS, (TITLE, "The Harvesters"), strict=True)):
            part = shown.nth(n)
            expect(part.locator("h2")).to_have_text(section["heading"][lang])
            expect(part.locator("figure.exhibition-figure")).to_have_count(1)
            expect(part.locator(".figure-title a")).to_have_text(item_title)
            expect(part.locator(".figure-caption")).to_have_text(section["caption"][lang])
            expect(part.locator(".figure-media img")).to_have_count(1)
        text = shown.nth(0).locator(".exhibition-text")
        expect(text.locator("strong")).to_have_text(SECTIONS[0]["bold"][lang])
        expect(text.locator("a")).to_have_text(SECTIONS[0]["link"][lang])
        expect(text.locator("a")).to_have_attribute("href", LINK)
        expect(shown.nth(1).locator(".exhibition-text em")).to_have_count(1)
        assert "**" not in article.inner_text(), "Markdown shown as typed, not rendered"
        expect(shown.nth(0).locator(".figure-title .figure-alt")).to_have_text(TITLE_ALT)
        assert _assert_images_loaded(visitor, f"exhibition ({name})") >= 3  # cover and two figures
        browse._assert_fits_width(visitor, f"exhibition ({name})")
        _shot(visitor, watch, screenshot_dir, f"08-exhibition-{name}")

        browse._settle(visitor)
        visitor.locator(".exhibition-start a.button-link").click()
        visitor.wait_for_url(re.compile(rf"/exhibitions/{SLUG}/walk/1$"))
        expect(visitor.locator(".walk-title")).to_have_text(TITLE)
        expect(visitor.locator(".walk-caption")).to_have_text(SECTIONS[0]["caption"][lang])
        _assert_images_loaded(visitor, f"walk 1 ({name})")
        browse._settle(visitor)
        visitor.locator(".walk-nav a.walk-next").click()
        visitor.wait_for_url(re.compile(rf"/exhibitions/{SLUG}/walk/2$"))
        expect(visitor.locator(".walk-title")).to_have_text("The Harvesters")
        expect(visitor.locator(".walk-caption")).to_have_text(SECTIONS[1]["caption"][lang])
        expect(visitor.locator(".walk-progress a")).to_have_text(SECTIONS[1]["heading"][lang])
        expect(visitor.locator(".walk-end")).to_be_visible()  # the last stop
        _assert_images_loaded(visitor, f"walk 2 ({name})")
        browse._assert_fits_width(visitor, f"walk 2 ({name})")
        _shot(visitor, watch, screenshot_dir, f"08-walk-next-{name}")
        watch.assert_clean(f"exhibition for visitors ({name})")

    # 9. The curator's pages at phone width: nothing wider than the screen.
    exhibition_editor = urlsplit(page.url).path
    page.set_viewport_size(browse.PHONE.options["viewport"])
    for label, path in (("dashboard", "/curate/"), ("item-editor", f"/curate/items/{item_id}/edit"),
                        ("history", f"/curate/items/{item_id}/history"), ("exhibition-editor", exhibition_editor)):
        _goto(page, path)
        browse._assert_fits_width(page, f"curation at phone width: {label}")
        _shot(page, watch, screenshot_dir, f"09-{label}-phone-width")
    watch.assert_clean("curation at phone width")
