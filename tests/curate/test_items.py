"""The curator's dashboard and item editor: create, edit, publish, withdraw, trash, restore, purge,
image uploads (every odd file, oversized bodies), image order and texts, and who may edit what.

Every write is checked in the database, on the public item page and in the public search.
"""

from __future__ import annotations

import hashlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from museum.catalogue import store
from museum.catalogue.models import Item, Revision
from museum.i18n import LANG_COOKIE
from museum.images.ingest import original_path
from museum.web import CATALOGUE_KEY
from tests.conftest import IMAGES, AppFactory
from tests.curate.helpers import add_user, csrf_token, log_in

HARVESTERS = "met:435809"      # published, one image
HIBISCUS = "met:13503"         # published, two images
SHEEP = "met:36004"            # published, no image
XISHAN = "npm:1195"            # published, held by npm (its collection is met's)
HIPPO = "met:544227"           # draft, one image


# ----- helpers shared by the curation test modules ----------------------------------------


class _FormReader(HTMLParser):
    """Collect the fields of the forms on a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._field: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") != "file":
                self.forms[-1][1][a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._field, self._text = a.get("name"), []
        elif tag == "select":
            self._select = a.get("name")
            self.forms[-1][1].setdefault(self._select or "", "")
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1][1][self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._field:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._field:
            # Browsers drop one newline right after <textarea>.
            self.forms[-1][1][self._field] = "".join(self._text).removeprefix("\n")
            self._field = None
        elif tag == "select":
            self._select = None


def page(client: FlaskClient, url: str) -> tuple[int, str]:
    """Return the status and text of a GET."""
    with client.get(url) as response:
        return response.status_code, response.get_data(as_text=True)


def forms(client: FlaskClient, url: str) -> list[tuple[str, dict[str, str]]]:
    """Return (action, fields) of every form on the page at url."""
    status, html = page(client, url)
    assert status == 200, (url, status)
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def editor_values(client: FlaskClient, item_id: str) -> dict[str, str]:
    """Return the fields of an item's editor form as the page shows them."""
    url = f"/curate/items/{item_id}/edit"
    return next(fields for action, fields in forms(client, url) if unquote(action) == url)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, *, multipart: bool = False,
         **kwargs: Any) -> tuple[int, str, str]:
    """POST with a fresh CSRF token; return status, text and Location."""
    fields = {"csrf_token": csrf_token(client, "/curate/"), **(data or {})}
    if multipart:
        kwargs["content_type"] = "multipart/form-data"
    with client.post(url, data=fields, **kwargs) as response:
        return response.status_code, response.get_data(as_text=True), response.headers.get("Location", "")


def save(client: FlaskClient, item_id: str, **changes: str) -> tuple[int, str]:
    """Submit an item's editor with some fields changed; return status and page text."""
    values = {**editor_values(client, item_id), **changes}
    status, text, _ = post(client, f"/curate/items/{item_id}/edit", values, multipart=True, follow_redirects=True)
    return status, text


def set_status(client: FlaskClient, item_id: str, action: str) -> int:
    """Press a status button (publish, withdraw, trash, untrash); return the status code."""
    return post(client, f"/curate/items/{item_id}/status", {"action": action})[0]


def upload(client: FlaskClient, item_id: str, path: Path, name: str | None = None) -> tuple[int, dict[str, Any]]:
    """Upload one file the way the upload script does; return the status and the JSON answer."""
    token = csrf_token(client, f"/curate/items/{item_id}/edit")
    body, content_type = multipart_body({"images": (path.read_bytes(), name or path.name)})
    with client.post(f"/curate/items/{item_id}/images", data=body, content_type=content_type,
                     headers={"Accept": "application/json", "X-CSRFToken": token}) as response:
        return response.status_code, response.get_json()


def multipart_body(fields: dict[str, Any]) -> tuple[bytes, str]:
    """Return a multipart body built in memory and its content type.

    (The test client would spool a large body to a temporary file that it never closes.)
    """
    values = {name: FileStorage(io.BytesIO(value[0]), value[1], content_type="application/octet-stream")
              if isinstance(value, tuple) else value for name, value in fields.items()}
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def item_row(app: Flask, item_id: str) -> Item | None:
    """Return the item as stored, with its images."""
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        return store.item_by_id(session, item_id)


def revisions(app: Flask, item_id: str) -> list[Revision]:
    """Return the item's revisions, oldest first."""
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        return store.item_revisions(session, item_id)


def public(client: FlaskClient, item_id: str) -> tuple[int, str]:
    """Return the status and text of the public item page."""
    return page(client, f"/items/{item_id}")


def found(client: FlaskClient, query: str, item_id: str) -> bool:
    """Tell whether the public search for query lists the item."""
    status, html = page(client, "/search?q=" + quote(query))
    assert status == 200
    return f"/items/{item_id}\"" in html or f"/items/{quote(item_id)}\"" in html


def english(client: FlaskClient) -> FlaskClient:
    """Return the client with English chosen, so messages can be compared whatever is translated."""
    client.set_cookie(LANG_COOKIE, "en")
    return client


def admin_client(app: Flask, name: str = "ada") -> FlaskClient:
    """Return a client logged in as a new administrator (in English)."""
    add_user(app, name, role="admin")
    client = english(app.test_client())
    assert log_in(client, name) == 302
    return client


def dashboard_ids(client: FlaskClient, query: str = "") -> list[str]:
    """Return the item ids the dashboard lists for a query string."""
    status, html = page(client, "/curate/" + query)
    assert status == 200, query
    return [unquote(i) for i in re.findall(r'href="/curate/items/([^"]+)/edit"', html)]


# ----- the dashboard ----------------------------------------------------------------------


def test_the_dashboard_lists_filters_searches_pages_and_counts(database_url: str, make_app: AppFactory) -> None:
    app = make_app(database_url=database_url)
    client = admin_client(app)
    status, html = page(client, "/curate/")
    # Drafts and published items, four to a page (page_size 4), counted per status.
    assert "Draft (1)" in html and "Published (5)" in html and "Trash (0)" in html
    assert "6 items" in html
    first, second = dashboard_ids(client), dashboard_ids(client, "?page=2")
    assert len(first) == 4 and len(second) == 2 and set(first) | set(second) >= {SHEEP, HIPPO, XISHAN}
    assert dashboard_ids(client, "?status=draft") == [HIPPO]
    assert set(dashboard_ids(client, "?missing=image")) == {SHEEP, XISHAN, "si:F1906.261"}
    assert set(dashboard_ids(client, "?missing=image&status=published&sort=title&changed=7")) == \
        {SHEEP, XISHAN, "si:F1906.261"}
    # Search runs in SQL over drafts too, in either Chinese script, over ids and accession numbers.
    assert dashboard_ids(client, "?q=" + quote("牧羊图")) == [SHEEP]      # stored as 牧羊圖
    assert dashboard_ids(client, "?q=" + quote("谿山行旅")) == [XISHAN]
    assert dashboard_ids(client, "?q=hippopotamus") == [HIPPO]
    assert dashboard_ids(client, "?q=19.164") == [HARVESTERS]
    assert dashboard_ids(client, "?q=met:13503") == [HIBISCUS]
    assert dashboard_ids(client, "?q=" + quote("bruegel harvesters")) == [HARVESTERS]
    assert dashboard_ids(client, "?q=" + quote("%")) == []               # LIKE wildcards are literal
    assert dashboard_ids(client, "?q=_") == []
    assert dashboard_ids(client, "?collection=test-paintings&sort=id") == sorted(first + second)[:4]
    assert "6 items" in page(client, "/curate/?collection=test-paintings")[1]
    # Odd arguments still give a page.
    for query in ("?page=-3", "?page=99999999", "?status=bogus", "?changed=abc", "?sort=%00", "?q=" + "x" * 5000,
                  "?collection=nope", "?q=%E2%80%AE"):
        assert page(client, "/curate/" + query)[0] == 200, query
    assert page(client, "/curate/trash")[0] == 200


def test_a_curator_limited_to_institutions_sees_and_changes_only_their_items(app: Flask) -> None:
    add_user(app, "nina", institutions=("npm",))
    client = english(app.test_client())
    assert log_in(client, "nina") == 302
    assert dashboard_ids(client) == [XISHAN]
    assert dashboard_ids(client, "?q=harvesters") == []
    assert page(client, f"/curate/items/{XISHAN}/edit")[0] == 200
    # The institution menu offers only npm; the curator's own item saves.
    assert save(client, XISHAN, creator="范寬 Fan Kuan")[0] == 200
    assert item_row(app, XISHAN).creator == "范寬 Fan Kuan"   # type: ignore[union-attr]
    select = re.search(r'<select id="field-institution".*?</select>', page(client, f"/curate/items/{XISHAN}/edit")[1],
                       re.S)
    assert select and re.findall(r'<option value="([^"]*)"', select.group(0)) == ["", "npm"]

    image = item_row(app, HARVESTERS).images[0]     # type: ignore[union-attr]
    token = csrf_token(client, "/curate/")
    for method, url in [
        ("get", f"/curate/items/{HARVESTERS}/edit"), ("get", f"/curate/items/{HARVESTERS}/history"),
        ("post", f"/curate/items/{HARVESTERS}/edit"), ("post", f"/curate/items/{HARVESTERS}/status"),
        ("post", f"/curate/items/{HARVESTERS}/images"), ("post", f"/curate/items/{HARVESTERS}/images/{image.id}/move"),
        ("post", f"/curate/items/{HARVESTERS}/images/{image.id}/describe"),
        ("post", f"/curate/items/{HARVESTERS}/images/{image.id}/remove"),
        ("post", f"/curate/items/{HARVESTERS}/history/1/restore"),
    ]:
        data = {"csrf_token": token, "action": "trash", "to": "0", "title": "hijacked", "collection": "test-paintings"}
        with getattr(client, method)(url, data=data if method == "post" else None,
                                     headers={"X-CSRFToken": token}) as response:
            assert response.status_code == 403, (method, url, response.status_code)
    with client.get(f"/curate/media/{image.sha256}/thumb.jpeg") as response:
        assert response.status_code == 404
    with client.post(f"/curate/items/{HARVESTERS}/purge", data={"csrf_token": token, "confirm": "yes"}) as response:
        assert response.status_code == 403
    with client.get("/curate/activity") as response:
        assert response.status_code == 403
    harvesters = item_row(app, HARVESTERS)
    assert harvesters is not None and harvesters.status == "published" and harvesters.title == "The Harvesters"

    # A new item must be held by one of the curator's institutions.
    status, html, _ = post(client, "/curate/items/new", {"title": "新藏品", "collection": "test-paintings"},
                           multipart=True)
    assert status == 400 and 'id="error-institution"' in html and "新藏品" in html
    status, _, location = post(client, "/curate/items/new", {"title": "新藏品", "collection": "test-paintings",
                                                              "institution": "npm"}, multipart=True)
    assert status == 303 and "/curate/items/npm:" in unquote(location)
    # Nor may an own item be handed to another institution.
    status, html = save(client, XISHAN, institution="met")
    assert status == 400 and 'id="error-institution"' in html
    assert item_row(app, XISHAN).institution.slug == "npm"   # type: ignore[union-attr]


def test_pages_need_a_login_and_writes_need_post_and_the_token(app: Flask) -> None:
    client = english(app.test_client())
    for url in ("/curate/items/new", f"/curate/items/{SHEEP}/edit", f"/curate/items/{SHEEP}/history",
                "/curate/trash", "/curate/activity"):
        with client.get(url) as response:
            assert response.status_code == 302 and "/curate/login" in response.headers["Location"], url
    with client.post(f"/curate/items/{SHEEP}/status", data={"action": "trash"}) as response:
        assert response.status_code in (400, 401)
    client = admin_client(app)
    with client.get(f"/curate/items/{SHEEP}/status") as response:
        assert response.status_code == 405
    for url in (f"/curate/items/{SHEEP}/status", f"/curate/items/{SHEEP}/images", f"/curate/items/{SHEEP}/edit"):
        with client.post(url, data={"action": "trash", "title": "x"}) as response:
            assert response.status_code == 400, url          # no CSRF token
    assert item_row(app, SHEEP).status == "published"     # type: ignore[union-attr]
    assert page(client, "/curate/items/no:such/edit")[0] == 404
    assert page(client, "/curate/items/no:such/history")[0] == 404
    # Curators (not admins) cannot purge or read the activity log.
    add_user(app, "carl")
    carl = english(app.test_client())
    assert log_in(carl, "carl") == 302
    assert page(carl, "/curate/activity")[0] == 403
    assert set_status(carl, SHEEP, "trash") == 303
    assert post(carl, f"/curate/items/{SHEEP}/purge", {"confirm": "yes"})[0] == 403
    assert item_row(app, SHEEP) is not None


# ----- the life of an item, seen by the public at every step -------------------------------


def test_create_publish_edit_withdraw_trash_restore_and_purge_show_at_once(database_url: str,
                                                                          make_app: AppFactory) -> None:
    app = make_app(database_url=database_url)
    client = admin_client(app)
    viewer = app.test_client()        # a visitor, whose pages are cached between the writes
    status, _, location = post(client, "/curate/items/new", {
        "id": "met:new-1", "title": "青花纏枝蓮紋盤", "title_alt": "Blue-and-white dish", "creator": "景德鎮窯",
        "date_display": "明 宣德", "collection": "test-paintings", "subjects": "ceramics\nporcelain",
        "description": "A dish with lotus scrolls.", "rights_url": "https://example.org/rights"}, multipart=True)
    assert status == 303 and unquote(location).endswith("/curate/items/met:new-1/edit")
    item = item_row(app, "met:new-1")
    assert item is not None and item.status == "draft" and item.subjects == ["ceramics", "porcelain"]
    assert (item.begin_year, item.end_year) == (1426, 1435)          # read from 明 宣德
    assert [r.action for r in revisions(app, "met:new-1")] == ["create"]
    assert public(viewer, "met:new-1")[0] == 404 and not found(viewer, "lotus", "met:new-1")
    assert "met:new-1" in dashboard_ids(client, "?status=draft")

    assert set_status(client, "met:new-1", "publish") == 303
    status, html = public(viewer, "met:new-1")
    assert status == 200 and "青花纏枝蓮紋盤" in html
    assert found(viewer, "lotus", "met:new-1") and found(viewer, "青花", "met:new-1")

    assert save(client, "met:new-1", title="青花纏枝牡丹紋盤")[0] == 200
    assert item_row(app, "met:new-1").title == "青花纏枝牡丹紋盤"   # type: ignore[union-attr]
    assert "青花纏枝牡丹紋盤" in public(viewer, "met:new-1")[1]
    assert found(viewer, "牡丹", "met:new-1") and not found(viewer, "蓮紋", "met:new-1")

    status, answer = upload(client, "met:new-1", IMAGES / "hibiscus.regular.png")
    assert status == 200 and answer["ok"] and "hibiscus.regular.png" in answer["images_html"]
    sha = hashlib.sha256((IMAGES / "hibiscus.regular.png").read_bytes()).hexdigest()
    assert [i.sha256 for i in item_row(app, "met:new-1").images] == [sha]   # type: ignore[union-attr]
    assert sha in public(viewer, "met:new-1")[1]
    with viewer.get(f"/media/{sha}/thumb.jpeg") as response:
        assert response.status_code == 200

    assert set_status(client, "met:new-1", "withdraw") == 303
    assert item_row(app, "met:new-1").status == "draft"          # type: ignore[union-attr]
    assert public(viewer, "met:new-1")[0] == 404 and not found(viewer, "牡丹", "met:new-1")
    with viewer.get(f"/media/{sha}/thumb.jpeg") as response:
        assert response.status_code == 404
    # Curators still see the draft's images.
    with client.get(f"/curate/media/{sha}/thumb.jpeg") as response:
        assert response.status_code == 200 and "private" in response.headers["Cache-Control"]

    assert set_status(client, "met:new-1", "publish") == 303
    assert set_status(client, "met:new-1", "trash") == 303
    assert item_row(app, "met:new-1").status == "trashed"        # type: ignore[union-attr]
    assert public(viewer, "met:new-1")[0] == 404 and not found(viewer, "牡丹", "met:new-1")
    assert "met:new-1" not in dashboard_ids(client) and "met:new-1" in dashboard_ids(client, "trash")
    status, html = page(client, "/curate/trash")
    assert "Trash (1)" in html and 'value="untrash"' in html
    # A trashed item cannot be published until it is restored.
    status, html, _ = post(client, "/curate/items/met:new-1/status", {"action": "publish"})
    assert item_row(app, "met:new-1").status == "trashed"        # type: ignore[union-attr]

    # Restoring from the trash brings back the status it had (published).
    assert post(client, "/curate/items/met:new-1/status", {"action": "untrash", "next": "/curate/trash"})[2] \
        == "/curate/trash"
    assert item_row(app, "met:new-1").status == "published"      # type: ignore[union-attr]
    assert public(viewer, "met:new-1")[0] == 200 and found(viewer, "牡丹", "met:new-1")

    # Purge: admins only, from the trash, with the box ticked; history and originals stay.
    status, _, _ = post(client, "/curate/items/met:new-1/purge", {"confirm": "yes"})
    assert item_row(app, "met:new-1") is not None                # not in the trash: refused
    assert set_status(client, "met:new-1", "trash") == 303
    post(client, "/curate/items/met:new-1/purge", {})
    assert item_row(app, "met:new-1") is not None                # not confirmed: refused
    status, _, location = post(client, "/curate/items/met:new-1/purge", {"confirm": "yes"})
    assert status == 303 and location.endswith("/curate/trash")
    assert item_row(app, "met:new-1") is None
    assert [r.action for r in revisions(app, "met:new-1")][-2:] == ["trashed", "purge"]
    assert public(viewer, "met:new-1")[0] == 404 and not found(viewer, "牡丹", "met:new-1")
    settings = app.extensions[CATALOGUE_KEY].settings
    assert original_path(settings.originals_dir, sha, "PNG").is_file()
    status, html = page(client, "/curate/items/met:new-1/history")
    assert status == 200 and "Purged" in html and "青花纏枝牡丹紋盤" in html


def test_the_editor_keeps_values_derives_years_and_notices_other_saves(app: Flask) -> None:
    client = admin_client(app)
    values = editor_values(client, HARVESTERS)
    assert values["title"] == "The Harvesters" and values["collection"] == "test-paintings"
    # Years the date text gives are left blank (and shown as the placeholder), so editing the
    # date moves them; typed years win.
    assert save(client, HARVESTERS, date_display="明 萬曆三十年", begin_year="", end_year="")[0] == 200
    row = item_row(app, HARVESTERS)
    assert row is not None and (row.begin_year, row.end_year) == (1602, 1602)
    assert editor_values(client, HARVESTERS)["begin_year"] == ""
    assert save(client, HARVESTERS, begin_year="-300", end_year="-250")[0] == 200
    row = item_row(app, HARVESTERS)
    assert row is not None and (row.begin_year, row.end_year) == (-300, -250)
    assert editor_values(client, HARVESTERS)["begin_year"] == "-300"
    assert found(client, "Harvesters", HARVESTERS)
    assert "明 萬曆三十年" in public(client, HARVESTERS)[1]

    # Saving without a change writes no revision.
    before = len(revisions(app, HARVESTERS))
    status, html = save(client, HARVESTERS)
    assert status == 200 and "Nothing was changed." in html
    assert len(revisions(app, HARVESTERS)) == before

    # Two editors open; the second to save is told, keeps what was typed, and may then overwrite.
    mine = editor_values(client, HARVESTERS)
    other = admin_client(app, "bob")
    assert save(other, HARVESTERS, creator="Pieter Bruegel the Elder (Netherlandish)")[0] == 200
    status, html, _ = post(client, f"/curate/items/{HARVESTERS}/edit", {**mine, "title": "Die Kornernte"},
                           multipart=True)
    assert status == 400 and "bob saved this item after you opened it" in html and "Die Kornernte" in html
    assert item_row(app, HARVESTERS).title == "The Harvesters"     # type: ignore[union-attr]
    kept = _form_of(html, f"/curate/items/{HARVESTERS}/edit")
    assert kept["title"] == "Die Kornernte" and int(kept["base_seq"]) > int(mine["base_seq"])
    status, _, _ = post(client, f"/curate/items/{HARVESTERS}/edit", kept, multipart=True)
    assert status == 303 and item_row(app, HARVESTERS).title == "Die Kornernte"   # type: ignore[union-attr]
    assert found(client, "Kornernte", HARVESTERS) and "Die Kornernte" in public(client, HARVESTERS)[1]

    # Every field round-trips through the form unchanged (featured, subjects, selects included).
    assert save(client, HIBISCUS, featured="", subjects="birds\nflowers", institution="nmaa")[0] == 200
    row = item_row(app, HIBISCUS)
    assert row is not None and not row.featured and row.subjects == ["birds", "flowers"]
    assert row.institution is not None and row.institution.slug == "nmaa"
    values = editor_values(client, HIBISCUS)
    assert values["subjects"] == "birds\nflowers" and "featured" not in values and values["institution"] == "nmaa"


def _form_of(html: str, action: str) -> dict[str, str]:
    """Return the fields of the form with this action in an HTML page."""
    reader = _FormReader()
    reader.feed(html)
    return next(fields for act, fields in reader.forms if unquote(act) == action)


# ----- images -------------------------------------------------------------------------------


def test_images_upload_without_script_reorder_describe_and_remove(app: Flask) -> None:
    client = admin_client(app)
    files = [IMAGES / "mona-lisa.21x32.q50.jpeg", IMAGES / "transparent.webp", IMAGES / "truncated_jpeg.jpg"]
    token = csrf_token(client, f"/curate/items/{SHEEP}/edit")
    handles = [p.open("rb") for p in files]
    try:
        with client.post(f"/curate/items/{SHEEP}/images", data={
                "csrf_token": token, "images": [(fh, p.name) for fh, p in zip(handles, files, strict=True)]},
                follow_redirects=True) as response:
            html = response.get_data(as_text=True)
    finally:
        for fh in handles:
            fh.close()
    assert "mona-lisa.21x32.q50.jpeg: added." in html and "transparent.webp: added." in html
    assert "truncated_jpeg.jpg was refused: truncated image" in html
    shas = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files[:2]]
    row = item_row(app, SHEEP)
    assert row is not None and [i.sha256 for i in row.images] == shas
    assert [r.action for r in revisions(app, SHEEP)][-1] == "image-add"
    assert shas[0] in public(client, SHEEP)[1]

    # Move the second image up: it becomes the primary image, first in the public gallery.
    second = row.images[1]
    assert post(client, f"/curate/items/{SHEEP}/images/{second.id}/move", {"to": "0"})[0] == 303
    assert [i.sha256 for i in item_row(app, SHEEP).images] == shas[::-1]     # type: ignore[union-attr]
    status, html = public(client, SHEEP)
    assert html.index(shas[1]) < html.index(shas[0])
    first = item_row(app, SHEEP).images[0]     # type: ignore[union-attr]
    assert post(client, f"/curate/items/{SHEEP}/images/{first.id}/move", {"to": "1"})[0] == 303
    assert [i.sha256 for i in item_row(app, SHEEP).images] == shas          # type: ignore[union-attr]
    assert post(client, f"/curate/items/{SHEEP}/images/{first.id}/move", {"to": "abc"})[0] == 400
    assert post(client, f"/curate/items/{SHEEP}/images/{first.id}/move", {"to": "99"})[0] == 303   # clamped

    # Caption and alt text.
    image = item_row(app, SHEEP).images[0]      # type: ignore[union-attr]
    assert post(client, f"/curate/items/{SHEEP}/images/{image.id}/describe",
                {"caption": "蒙娜麗莎 <b>detail</b>", "alt_text": "A woman's face, very small"})[0] == 303
    image = item_row(app, SHEEP).images[0]      # type: ignore[union-attr]
    assert (image.caption, image.alt_text) == ("蒙娜麗莎 <b>detail</b>", "A woman's face, very small")
    status, html = public(client, SHEEP)
    assert "蒙娜麗莎 &lt;b&gt;detail&lt;/b&gt;" in html and "<b>detail</b>" not in html
    assert "A woman&#39;s face, very small" in html
    status, html, _ = post(client, f"/curate/items/{SHEEP}/images/{image.id}/describe",
                           {"caption": "bad \x1b caption", "alt_text": ""}, follow_redirects=True)
    assert "control characters" in html and item_row(app, SHEEP).images[0].caption.startswith("蒙娜")  # type: ignore[union-attr]

    # Remove: the image leaves the item, its original stays on disk.
    assert post(client, f"/curate/items/{SHEEP}/images/{image.id}/remove", {})[0] == 303
    row = item_row(app, SHEEP)
    assert row is not None and [i.sha256 for i in row.images] == shas[1:] and row.images[0].position == 0
    assert shas[0] not in public(client, SHEEP)[1]
    settings = app.extensions[CATALOGUE_KEY].settings
    assert original_path(settings.originals_dir, shas[0], "JPEG").is_file()
    # Another item's image id is not this item's.
    other = item_row(app, HIBISCUS).images[0]   # type: ignore[union-attr]
    assert post(client, f"/curate/items/{SHEEP}/images/{other.id}/remove", {})[0] == 404
    # No file chosen.
    status, html, _ = post(client, f"/curate/items/{SHEEP}/images", {}, follow_redirects=True)
    assert "Choose one or more image files." in html


# What ingest says about the sample files it refuses (everything else is accepted).
REFUSED = {
    "SOURCES.txt": "not an image",
    "decompression_bomb_extents.gif": "decompression bomb",
    "hippopotamus.regular.truncated.png": "truncated",
    "truncated_jpeg.jpg": "truncated",
}


def test_every_odd_image_file_is_accepted_or_refused_clearly(app: Flask) -> None:
    client = admin_client(app)
    files = sorted(IMAGES.iterdir())
    assert len(files) >= 22
    accepted = []
    for path in files:
        status, answer = upload(client, HIPPO, path)
        assert status in (200, 422), (path.name, status)
        assert answer["results"][0]["file"] == path.name
        if path.name in REFUSED:
            assert status == 422 and not answer["ok"], path.name
            assert f"{path.name} was refused: " in answer["message"] and REFUSED[path.name] in answer["message"], \
                answer["message"]
        else:
            assert status == 200 and answer["ok"] and answer["message"] == f"{path.name}: added.", answer
            accepted.append(hashlib.sha256(path.read_bytes()).hexdigest())
    row = item_row(app, HIPPO)
    assert row is not None and [i.sha256 for i in row.images][1:] == accepted
    # Every accepted image shows in the editor, and its thumbnail renders.
    status, html = page(client, f"/curate/items/{HIPPO}/edit")
    for sha in accepted:
        with client.get(f"/curate/media/{sha}/thumb.jpeg") as response:
            assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert sha in html
    # A file named with a path and control characters keeps only a clean last part.
    status, answer = upload(client, HIPPO, IMAGES / "hibiscus.regular.jpeg", name="..\\..\\evil\x1b/x\u202e.jpg")
    assert status == 200 and item_row(app, HIPPO).images[-1].original_filename == "x.jpg"  # type: ignore[union-attr]


def test_oversized_uploads_are_answered_413_with_a_clear_message(make_app: AppFactory) -> None:
    app = make_app(max_image_bytes=100_000)
    client = admin_client(app)
    big = IMAGES / "cmx3g8_wv_1998.260_0745_mcidas.tiff"       # 1.4 MB: over the 1.1 MB body limit
    assert big.stat().st_size > app.config["MAX_CONTENT_LENGTH"]
    status, answer = upload(client, SHEEP, big)
    assert status == 413 and not answer["ok"] and "at most 0.1 MB" in answer["message"]
    token = csrf_token(client, f"/curate/items/{SHEEP}/edit")
    body, content_type = multipart_body({"csrf_token": token, "images": (big.read_bytes(), big.name)})
    with client.post(f"/curate/items/{SHEEP}/images", data=body, content_type=content_type) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 413 and "at most 0.1 MB" in html and "<html" in html
    # Under the body limit but over the image limit: ingest's own refusal.
    status, answer = upload(client, SHEEP, IMAGES / "harvesters.jpeg")
    assert status == 422 and "file too large" in answer["message"]
    assert item_row(app, SHEEP).images == []          # type: ignore[union-attr]
    assert public(client, SHEEP)[0] == 200
