"""The exhibition editor through the real forms: every write shows on the public pages at once,
is recorded in the revision log, and refuses bad input with messages beside the fields."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from museum.catalogue.models import Exhibition, Revision
from museum.catalogue.service import close_catalogue, set_item_status
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory, pg_database
from tests.curate.helpers import add_user, csrf_token, log_in

HARVESTERS = "met:435809"     # published, one image
HIBISCUS = "met:13503"        # published, two images
SHEEP = "met:36004"           # published, no image
FAN_KUAN = "npm:1195"         # published, held by npm
HIPPO = "met:544227"          # draft, held by met


def _client(app: Flask, username: str = "carol", role: str = "curator",
            institutions: tuple[str, ...] = ()) -> FlaskClient:
    """Return a client logged in as a new account."""
    add_user(app, username, role=role, institutions=institutions)
    client = app.test_client()
    assert log_in(client, username) == 302
    return client


def _post(client: FlaskClient, path: str, **data: Any) -> tuple[int, str, str]:
    """POST a form with this session's CSRF token, in English; return status, Location and body."""
    data.setdefault("csrf_token", csrf_token(client, "/curate/exhibitions/new"))
    with client.post(path, data=data, query_string={"lang": "en"}) as response:
        return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def _get(client: FlaskClient, path: str) -> tuple[int, str]:
    """GET a page in English; return status and body."""
    with client.get(path + ("&" if "?" in path else "?") + "lang=en") as response:
        return response.status_code, response.get_data(as_text=True)


def _create(client: FlaskClient, **fields: str) -> int:
    """Create an exhibition through the form; return its id."""
    data = {"title.en": "Spring Landscapes", "title.zh-Hant": "春山", "title.zh-Hans": "春山",
            "summary.en": "Hills in the spring.", "slug": "spring"}
    data.update(fields)
    status, location, body = _post(client, "/curate/exhibitions/new", **data)
    assert status == 302, body
    found = re.search(r"/curate/exhibitions/(\d+)#sections$", location)
    assert found, location
    return int(found.group(1))


def _section(client: FlaskClient, exhibition_id: int, heading: str = "The fields",
             body: str = "Workers in the **wheat**.") -> int:
    """Add a section through the form; return its id."""
    status, location, page = _post(client, f"/curate/exhibitions/{exhibition_id}/sections",
                                   **{"heading.en": heading, "body.en": body, "heading.zh-Hans": "田野"})
    assert status == 302, page
    return int(location.rsplit("section-", 1)[1])


def _entry(client: FlaskClient, exhibition_id: int, section_id: int, item_id: str, caption: str = "") -> int:
    """Add an item to a section through the form; return the entry id."""
    status, location, page = _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}/items",
                                   item_id=item_id, **{"caption.en": caption})
    assert status == 302, page
    return int(location.rsplit("entry-", 1)[1])


def _status(client: FlaskClient, exhibition_id: int, status: str) -> None:
    """Change the exhibition's status with the status buttons."""
    code, _location, page = _post(client, f"/curate/exhibitions/{exhibition_id}/status", status=status)
    assert code == 302, page


def _revisions(app: Flask, exhibition_id: int) -> list[Revision]:
    """Return the exhibition's revisions, oldest first."""
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        return list(session.scalars(select(Revision).where(Revision.entity == "exhibition",
                                                           Revision.entity_id == str(exhibition_id))
                                    .order_by(Revision.seq)))


def _public(client: FlaskClient, path: str) -> tuple[int, str]:
    """GET a public page as an anonymous visitor in English (a fresh client, no curator cookie)."""
    anonymous = client.application.test_client()
    with anonymous.get(path, query_string={"lang": "en"}) as response:
        return response.status_code, response.get_data(as_text=True)


def test_create_build_publish_and_read_it(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    section_id = _section(client, exhibition_id)
    _entry(client, exhibition_id, section_id, HARVESTERS, "Harvest time.")
    _entry(client, exhibition_id, section_id, SHEEP)
    # A draft the unlimited curator may add: kept in the editor, never shown to visitors.
    _entry(client, exhibition_id, section_id, HIPPO)

    # Still a draft: nothing public yet.
    assert _public(client, "/exhibitions/spring")[0] == 404
    assert "Spring Landscapes" not in _public(client, "/exhibitions")[1]
    _status(client, exhibition_id, "published")

    status, listing = _public(client, "/exhibitions")
    assert status == 200 and 'href="/exhibitions/spring"' in listing and "Spring Landscapes" in listing
    status, page = _public(client, "/exhibitions/spring")
    assert status == 200
    assert "<h1>Spring Landscapes</h1>" in page and "Hills in the spring." in page
    assert "The fields" in page and "Workers in the <strong>wheat</strong>." in page
    assert "The Harvesters" in page and "Harvest time." in page and f'href="/items/{HARVESTERS}"' in page
    assert "/media/" in page and 'srcset="' in page            # the responsive picture
    assert "Hippopotamus" not in page and HIPPO not in page    # the draft item is left out
    assert 'href="/exhibitions/spring/walk/1"' in page

    # Database: each write made exactly one revision holding the whole exhibition.
    revisions = _revisions(app, exhibition_id)
    assert [r.action for r in revisions] == ["create", "add-section", "add-item", "add-item", "add-item", "publish"]
    assert {r.actor for r in revisions} == {"carol"}
    last = revisions[-1].snapshot
    assert last["status"] == "published" and last["slug"] == "spring" and last["title"]["zh-Hant"] == "春山"
    assert [e["item_id"] for e in last["sections"][0]["entries"]] == [HARVESTERS, SHEEP, HIPPO]
    assert last["sections"][0]["entries"][0]["caption"] == {"en": "Harvest time."}


def test_an_edit_shows_at_once_on_cached_pages(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    section_id = _section(client, exhibition_id)
    entry_id = _entry(client, exhibition_id, section_id, HARVESTERS, "Old caption.")
    _status(client, exhibition_id, "published")
    anonymous = app.test_client()
    for path in ("/exhibitions/spring?lang=en", "/exhibitions?lang=en", "/exhibitions/spring/walk/1?lang=en"):
        assert anonymous.get(path).status_code == 200     # now cached

    status, _location, body = _post(client, f"/curate/exhibitions/{exhibition_id}",
                                    **{"title.en": "Summer Fields", "slug": "spring", "summary.en": "New summary."})
    assert status == 302, body
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}",
          **{"heading.en": "New heading", "body.en": "New *text*."})
    _post(client, f"/curate/exhibitions/{exhibition_id}/items/{entry_id}", **{"caption.en": "New caption."})
    page = anonymous.get("/exhibitions/spring?lang=en").get_data(as_text=True)
    assert "Summer Fields" in page and "New summary." in page and "New heading" in page
    assert "New <em>text</em>." in page and "New caption." in page and "Old caption." not in page
    assert "Summer Fields" in anonymous.get("/exhibitions?lang=en").get_data(as_text=True)
    assert "New caption." in anonymous.get("/exhibitions/spring/walk/1?lang=en").get_data(as_text=True)

    # A new address moves the page.
    _post(client, f"/curate/exhibitions/{exhibition_id}", **{"title.en": "Summer Fields", "slug": "summer"})
    assert anonymous.get("/exhibitions/spring?lang=en").status_code == 404
    assert anonymous.get("/exhibitions/summer?lang=en").status_code == 200


def test_withdrawing_or_trashing_takes_it_down_and_back(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    _entry(client, exhibition_id, _section(client, exhibition_id), HARVESTERS)
    _status(client, exhibition_id, "published")
    assert _public(client, "/exhibitions/spring")[0] == 200
    _status(client, exhibition_id, "draft")
    for path in ("/exhibitions/spring", "/exhibitions/spring/walk/1"):
        assert _public(client, path)[0] == 404
    assert "Spring Landscapes" not in _public(client, "/exhibitions")[1]
    _status(client, exhibition_id, "trashed")
    assert "In the trash" in _get(client, "/curate/exhibitions")[1]
    _status(client, exhibition_id, "draft")       # out of the trash: a draft again
    _status(client, exhibition_id, "published")
    assert _public(client, "/exhibitions/spring")[0] == 200
    actions = [r.action for r in _revisions(app, exhibition_id)]
    assert actions[-5:] == ["publish", "unpublish", "trash", "untrash", "publish"]
    assert _post(client, f"/curate/exhibitions/{exhibition_id}/status", status="gone")[0] == 400


def test_dates_decide_what_visitors_see(app: Flask) -> None:
    client = _client(app)
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    cases = {"future": (today + day, None), "past": (None, today - day), "now": (today, today),
             "open": (today - day, today + 30 * day)}
    for slug, (opens, closes) in cases.items():
        exhibition_id = _create(client, slug=slug, **{"title.en": f"Show {slug}",
                                                      "opens_on": opens.isoformat() if opens else "",
                                                      "closes_on": closes.isoformat() if closes else ""})
        _status(client, exhibition_id, "published")
    listing = _public(client, "/exhibitions")[1]
    assert "Show now" in listing and "Show open" in listing
    assert "Show future" not in listing and "Show past" not in listing
    assert _public(client, "/exhibitions/future")[0] == 404 and _public(client, "/exhibitions/past")[0] == 404
    page = _public(client, "/exhibitions/open")[1]
    # Dates shown to visitors in their language's long form.
    assert (today + 30 * day).strftime("%B") in page and "On view" in page


def test_bad_dates_and_addresses_are_refused_beside_their_fields(app: Flask) -> None:
    client = _client(app)
    _create(client, slug="taken")
    status, _location, page = _post(client, "/curate/exhibitions/new", **{
        "title.en": "Kept title", "slug": "taken", "opens_on": "2030-05-02", "closes_on": "2030-05-01",
        "cover_item_id": "no:such-item", "position": "first"})
    assert status == 400
    assert "Another exhibition already uses this address." in page
    assert "The closing date cannot be before the opening date." in page
    assert "There is no item no:such-item." in page and "Enter a whole number." in page
    # What was typed is kept, and each message is tied to its field.
    assert 'value="Kept title"' in page and 'value="2030-05-01"' in page and 'value="first"' in page
    assert re.search(r'id="details-closes_on"[^>]*aria-invalid="true"', page)
    for bad in ("Has Spaces", "ünïcode", "-leading", "double--hyphen", "a" * 101):
        status, _location, page = _post(client, "/curate/exhibitions/new", **{"title.en": "X", "slug": bad})
        assert status == 400, bad
    status, _location, page = _post(client, "/curate/exhibitions/new", **{"opens_on": "2030-02-30"})
    assert "Give a title in at least one language." in page and "Enter a date as YYYY-MM-DD." in page
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        assert session.scalars(select(Exhibition.slug)).all() == ["taken"]


def test_an_empty_address_is_made_from_the_title(app: Flask) -> None:
    client = _client(app)
    _create(client, slug="", **{"title.en": "Ink & Colour!"})
    _create(client, slug="", **{"title.en": "Ink & Colour!"})
    _create(client, slug="", **{"title.en": "", "title.zh-Hant": "", "title.zh-Hans": "山水"})
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        assert sorted(session.scalars(select(Exhibition.slug)).all()) == ["ink-colour", "ink-colour-2", "shan-shui"]


PAYLOADS = {
    "script": '<script>alert("x")</script>',
    "control": "bad\x00\x07\x1b[31mtext\u0008",
    "attr": '" onmouseover="alert(1)" x="',
}


def test_hostile_text_is_cleaned_limited_and_shown_escaped_everywhere(app: Flask) -> None:
    client = _client(app)
    fields = {f"{name}.{lang}": PAYLOADS["script"] + PAYLOADS["attr"]
              for name in ("title", "summary") for lang in ("en", "zh-Hant", "zh-Hans")}
    exhibition_id = _create(client, slug="hostile", **fields)
    section_id = _section(client, exhibition_id, heading=PAYLOADS["script"] + PAYLOADS["control"],
                          body=PAYLOADS["script"] + "\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))")
    entry_id = _entry(client, exhibition_id, section_id, HARVESTERS, PAYLOADS["script"] + PAYLOADS["attr"])
    _status(client, exhibition_id, "published")
    pages = [_get(client, f"/curate/exhibitions/{exhibition_id}")[1],
             _get(client, f"/curate/exhibitions/{exhibition_id}/history")[1],
             _get(client, "/curate/exhibitions")[1],
             _get(client, f"/curate/exhibitions/{exhibition_id}/preview")[1]]
    pages += [_public(client, path)[1] for path in ("/exhibitions", "/exhibitions/hostile",
                                                    "/exhibitions/hostile/walk/1")]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript:' not in page
        assert '" onmouseover="' not in page and "\x00" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(" in pages[4]
    # Control characters are removed before storing.
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        snapshot = _revisions(app, exhibition_id)[-1].snapshot
        assert snapshot["sections"][0]["heading"]["en"] == PAYLOADS["script"] + "bad[31mtext"
        assert session.get(Exhibition, exhibition_id) is not None
    # Over-long text in any field is refused with the typed value kept.
    long_caption = "長" * 2001
    status, _location, page = _post(client, f"/curate/exhibitions/{exhibition_id}/items/{entry_id}",
                                    **{"caption.zh-Hant": long_caption})
    assert status == 400 and "At most 2000 characters." in page and long_caption in page
    for path, field, limit in ((f"/curate/exhibitions/{exhibition_id}", "title.en", 300),
                               (f"/curate/exhibitions/{exhibition_id}", "summary.zh-Hans", 2000),
                               (f"/curate/exhibitions/{exhibition_id}/sections", "heading.zh-Hant", 300),
                               (f"/curate/exhibitions/{exhibition_id}/sections/{section_id}", "body.en", 20000)):
        data = {"title.en": "T", "slug": "hostile", field: "x" * (limit + 1)}
        status, _location, page = _post(client, path, **data)
        assert status == 400 and f"At most {limit} characters." in page, (path, field)


def test_sections_and_items_move_and_go(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    first = _section(client, exhibition_id, heading="First part")
    second = _section(client, exhibition_id, heading="Second part")
    a = _entry(client, exhibition_id, first, HARVESTERS, "Caption A")
    b = _entry(client, exhibition_id, first, HIBISCUS, "Caption B")
    _entry(client, exhibition_id, second, SHEEP, "Caption C")
    _status(client, exhibition_id, "published")

    def order(page: str, *texts: str) -> list[int]:
        story = page[page.index('class="exhibition-section"'):]    # after the list of contents
        return [story.index(text) for text in texts]

    page = _public(client, "/exhibitions/spring")[1]
    assert order(page, "First part", "Caption A", "Caption B", "Second part", "Caption C") == sorted(
        order(page, "First part", "Caption A", "Caption B", "Second part", "Caption C"))
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{second}/move", direction="up")
    _post(client, f"/curate/exhibitions/{exhibition_id}/items/{b}/move", direction="up")
    page = _public(client, "/exhibitions/spring")[1]
    positions = order(page, "Second part", "Caption C", "First part", "Caption B", "Caption A")
    assert positions == sorted(positions)
    # The walk follows the same order: Sheep, Hibiscus, Harvesters.
    assert "牧羊圖" in _public(client, "/exhibitions/spring/walk/1")[1]
    assert "Hibiscus and Parrots" in _public(client, "/exhibitions/spring/walk/2")[1]
    # Moving past an end changes nothing and records nothing.
    count = len(_revisions(app, exhibition_id))
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{second}/move", direction="up")
    assert len(_revisions(app, exhibition_id)) == count
    _post(client, f"/curate/exhibitions/{exhibition_id}/items/{a}/remove")
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{second}/remove")
    page = _public(client, "/exhibitions/spring")[1]
    assert "Caption A" not in page and "Second part" not in page and "Caption B" in page
    assert [r.action for r in _revisions(app, exhibition_id)][-2:] == ["remove-item", "remove-section"]
    # Ids of another exhibition's sections and entries are not found here.
    other = _create(client, slug="other")
    assert _post(client, f"/curate/exhibitions/{other}/items/{b}/remove")[0] == 404
    assert _post(client, f"/curate/exhibitions/{other}/sections/{first}/move", direction="up")[0] == 404
    assert _get(client, "/curate/exhibitions/999")[0] == 404


def test_history_restore_brings_old_text_back_as_a_new_revision(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    section_id = _section(client, exhibition_id, heading="Original heading", body="Original text.")
    _entry(client, exhibition_id, section_id, HARVESTERS, "Original caption.")
    _status(client, exhibition_id, "published")
    good = _revisions(app, exhibition_id)[-1].seq
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}",
          **{"heading.en": "Vandalised", "body.en": "Oops."})
    _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}/remove")
    assert "Vandalised" not in _public(client, "/exhibitions/spring")[1]

    status, history = _get(client, f"/curate/exhibitions/{exhibition_id}/history")
    assert status == 200 and f"/history/{good}/restore" in history and "Section removed" in history
    status, _location, _body = _post(client, f"/curate/exhibitions/{exhibition_id}/history/{good}/restore")
    assert status == 302
    page = _public(client, "/exhibitions/spring")[1]
    assert "Original heading" in page and "Original text." in page and "Original caption." in page
    revisions = _revisions(app, exhibition_id)
    assert revisions[-1].action == "revert" and revisions[-1].snapshot["sections"] == revisions[-4].snapshot["sections"]
    # Restoring never changes the status: restoring the first (draft) revision keeps it published.
    first = revisions[0].seq
    _post(client, f"/curate/exhibitions/{exhibition_id}/history/{first}/restore")
    status, page = _public(client, "/exhibitions/spring")
    assert status == 200 and "Original heading" not in page
    # A sequence number of another entity is not this exhibition's revision.
    assert _post(client, f"/curate/exhibitions/{exhibition_id}/history/1/restore")[0] == 404


def test_who_may_add_which_items(app: Flask) -> None:
    admin = _client(app, "ada", role="admin")
    limited = _client(app, "nina", institutions=("npm",))
    exhibition_id = _create(limited)
    section_id = _section(limited, exhibition_id)
    # Published items of any institution, and npm's own items: yes.
    _entry(limited, exhibition_id, section_id, HARVESTERS)
    _entry(limited, exhibition_id, section_id, FAN_KUAN)
    # Another institution's draft: no, said beside the field, the typed id kept.
    status, _location, page = _post(limited, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}/items",
                                    item_id=HIPPO)
    assert status == 400 and f"Item {HIPPO} is a draft of another institution" in page
    assert f'value="{HIPPO}"' in page
    status, _location, page = _post(limited, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}/items",
                                    item_id=HARVESTERS)
    assert status == 400 and "already in this section" in page
    # The search offers what each may add.
    page = _get(limited, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=met")[1]
    assert "Hibiscus and Parrots" in page and "Hippopotamus" not in page
    page = _get(admin, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=Hippo")[1]
    assert "Hippopotamus" in page and "Add to this section" in page
    _entry(admin, exhibition_id, section_id, HIPPO)
    # Trashed items: no one.
    set_item_status(app.extensions[CATALOGUE_KEY], SHEEP, "trashed")
    status, _location, page = _post(admin, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}/items",
                                    item_id=SHEEP)
    assert status == 400 and "is in the trash" in page
    assert SHEEP not in _get(admin, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=36004")[1]
    # The editor marks what visitors will not see.
    assert "Not published: visitors do not see this item" in _get(admin, f"/curate/exhibitions/{exhibition_id}")[1]


def test_search_finds_by_id_title_and_accession_number_with_a_preview(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    section_id = _section(client, exhibition_id)
    for text, expected in (("harvesters", "The Harvesters"), (HARVESTERS, "The Harvesters"), ("谿山", "谿山行旅圖"),
                           ("F1906.261", "達摩圖像"), ("收割", "The Harvesters")):
        page = _get(client, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find={text}")[1]
        results = page.split('aria-label="Items found"', 1)
        assert len(results) == 2 and expected in results[1], text
    page = _get(client, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=%25_%25")[1]
    assert "No item you may add matches" in page        # LIKE wildcards are searched for literally
    page = _get(client, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=Harvesters")[1]
    assert "/media/" in page.split('aria-label="Items found"', 1)[1]   # a thumbnail preview


def test_a_stale_form_does_not_overwrite_someone_elses_change(app: Flask) -> None:
    client = _client(app)
    other = _client(app, "dora")
    exhibition_id = _create(client)
    section_id = _section(client, exhibition_id, heading="Heading")
    page = _get(client, f"/curate/exhibitions/{exhibition_id}")[1]
    revision = re.search(r'name="revision" value="(\d+)"', page)
    assert revision
    _post(other, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}", **{"heading.en": "Dora's"})
    status, _location, page = _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}",
                                    revision=revision.group(1), **{"heading.en": "Carol's"})
    assert status == 400 and "The exhibition was changed elsewhere" in page and 'value="Carol&#39;s"' in page
    assert _revisions(app, exhibition_id)[-1].snapshot["sections"][0]["heading"] == {"en": "Dora's"}


def test_preview_of_a_draft_is_for_curators_only(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    _entry(client, exhibition_id, _section(client, exhibition_id, heading="Draft heading"), HARVESTERS)
    status, page = _get(client, f"/curate/exhibitions/{exhibition_id}/preview")
    assert status == 200 and "Draft heading" in page and "Preview" in page and "/walk/" not in page
    anonymous = app.test_client()
    with anonymous.get(f"/curate/exhibitions/{exhibition_id}/preview") as response:
        assert response.status_code == 302 and "/curate/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/curate/exhibitions/new", "/curate/exhibitions/1", "/curate/exhibitions/1/status",
                                  "/curate/exhibitions/1/sections", "/curate/exhibitions/1/history/1/restore"])
def test_writes_need_a_login_and_the_forms_token(app: Flask, path: str) -> None:
    client = _client(app)
    _create(client)
    anonymous = app.test_client()
    with anonymous.post(path, data={"title.en": "x", "status": "published"}) as response:
        assert response.status_code in (400, 401)
    with client.post(path, data={"title.en": "x", "status": "published"}, query_string={"lang": "en"}) as response:
        assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        assert session.scalars(select(Exhibition.status)).all() == ["draft"]


@pytest.mark.postgres
def test_the_editor_works_the_same_on_postgresql(make_app: AppFactory) -> None:
    with pg_database() as url:
        app = make_app(database_url=url)
        client = _client(app)
        exhibition_id = _create(client)
        section_id = _section(client, exhibition_id, heading="Original heading")
        _entry(client, exhibition_id, section_id, HARVESTERS, "Harvest.")
        _entry(client, exhibition_id, section_id, HIBISCUS)
        _post(client, f"/curate/exhibitions/{exhibition_id}/items/{_entry(client, exhibition_id, section_id, SHEEP)}"
                      "/move", direction="up")
        _status(client, exhibition_id, "published")
        good = _revisions(app, exhibition_id)[-1].seq
        _post(client, f"/curate/exhibitions/{exhibition_id}/sections/{section_id}", **{"heading.en": "Changed"})
        page = _get(client, f"/curate/exhibitions/{exhibition_id}?section={section_id}&find=HARVEST")[1]
        assert "The Harvesters" in page.split('aria-label="Items found"', 1)[1]   # ILIKE: any case
        _post(client, f"/curate/exhibitions/{exhibition_id}/history/{good}/restore")
        page = _public(client, "/exhibitions/spring")[1]
        assert "Original heading" in page and "Harvest." in page
        story = page[page.index('class="exhibition-section"'):]
        assert story.index("The Harvesters") < story.index("牧羊圖") < story.index("Hibiscus and Parrots")
        assert [r.action for r in _revisions(app, exhibition_id)][-2:] == ["edit-section", "revert"]
        close_catalogue(app.extensions[CATALOGUE_KEY])


def test_odd_section_numbers_in_the_finder_give_the_editor_not_an_error(app: Flask) -> None:
    client = _client(app)
    exhibition_id = _create(client)
    # 5,000 digits is more than int() reads; full-width and signed numbers are not section ids.
    for section in ("9" * 5000, "１２", "-3", "", "abc"):
        status, page = _get(client, f"/curate/exhibitions/{exhibition_id}?section={section}&find=Harvesters")
        assert status == 200 and 'aria-label="Items found"' not in page, section
