"""Bad input to the item editor: over-long, empty, control characters and script payloads in every
field, odd ids and odd requests. Each is refused with a message next to the field (the typed
values kept, nothing written) where the catalogue's rules say so, and otherwise stored and shown
escaped on every page: the editor, the history, the dashboard, the public page and search.
"""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import quote

from flask import Flask

from museum.curation.editing import FIELD_LIMITS, TEXT_FIELDS
from tests.curate.test_items import (
    HARVESTERS,
    _form_of,
    admin_client,
    editor_values,
    item_row,
    page,
    post,
    public,
    revisions,
    set_status,
)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
YEARS = ("begin_year", "end_year")
URLS = ("rights_url", "source_url")


def _submit(client: object, item_id: str, **changes: str) -> tuple[int, str]:
    """Submit the editor with some fields changed; return the status and the page."""
    values = {**editor_values(client, item_id), **changes}   # type: ignore[arg-type]
    status, text, _ = post(client, f"/curate/items/{item_id}/edit", values, multipart=True,  # type: ignore[arg-type]
                           follow_redirects=True)
    return status, text


def _assert_refused(html: str, field: str, message: str, typed: str) -> None:
    """Check a re-rendered editor: the message by the field, the field marked, what was typed kept."""
    error = re.search(rf'<p class="field-error" id="error-{field}">(.*?)</p>', html, re.S)
    assert error and message in htmllib.unescape(error.group(1)), (field, error and error.group(1))
    control = re.search(rf'<(?:input|textarea|select) id="field-{field}"[^>]*>', html)
    assert control, field
    assert 'aria-invalid="true"' in control.group(0) and f"error-{field}" in control.group(0), control.group(0)
    assert 'role="alert"' in html and f'href="#field-{field}"' in html
    kept = _form_of(html, f"/curate/items/{HARVESTERS}/edit")
    expected = typed.replace("\r\n", "\n")
    assert kept[field] == expected or kept[field].strip() == expected.strip(), (field, kept[field][:80])


def test_every_field_refuses_over_long_control_characters_and_bad_years_or_links(app: Flask) -> None:
    client = admin_client(app)
    before = item_row(app, HARVESTERS)
    count = len(revisions(app, HARVESTERS))
    for field in TEXT_FIELDS:
        limit = FIELD_LIMITS[field]
        long_value = ("https://example.org/" if field in URLS else "") + "1" * (limit + 1)
        cases = [(long_value, f"at most {limit} characters")]
        cases += [(f"a{c}b", "control characters") for c in ("\x00", "\x1b", "\u202e")]
        if field in YEARS:
            cases += [(SCRIPT, "whole number"), ("1e3", "whole number"), ("99999", "from -10000 to 2100")]
        if field in URLS:
            cases += [(SCRIPT, "http://"), ("javascript:alert(1)", "http://"), ("ftp://example.org/", "http://")]
        for value, message in cases:
            other = "dimensions" if field != "dimensions" else "medium"
            status, html = _submit(client, HARVESTERS, **{field: value, other: "kept while refused"})
            assert status == 400, (field, value[:20])
            _assert_refused(html, field, message, value)
            assert _form_of(html, f"/curate/items/{HARVESTERS}/edit")[other] == "kept while refused"
    # Nothing was written by any of it.
    after = item_row(app, HARVESTERS)
    assert before is not None and after is not None
    assert len(revisions(app, HARVESTERS)) == count
    assert all(getattr(after, f) == getattr(before, f) for f in TEXT_FIELDS)

    # Empty: the title is required; any other field may be empty.
    status, html = _submit(client, HARVESTERS, title="  \r\n ")
    assert status == 400
    _assert_refused(html, "title", "This field is required.", "")
    empties = {f: "" for f in TEXT_FIELDS if f != "title"}
    status, html = _submit(client, HARVESTERS, **empties)
    assert status == 200 and "Saved." in html
    row = item_row(app, HARVESTERS)
    assert row is not None and row.creator == "" and row.subjects == [] and row.begin_year is None
    # Years in the wrong order are refused at the begin year.
    status, html = _submit(client, HARVESTERS, begin_year="1600", end_year="1500")
    assert status == 400
    _assert_refused(html, "begin_year", "must not be after the end year", "1600")
    # Unknown collection or institution, a form missing every field: messages, no error page.
    status, html = _submit(client, HARVESTERS, collection="nope", institution="nope")
    assert status == 400 and 'id="error-collection"' in html and 'id="error-institution"' in html
    status, text, _ = post(client, f"/curate/items/{HARVESTERS}/edit", {}, multipart=True)
    assert status == 400 and 'id="error-title"' in text


def test_script_payloads_are_stored_and_shown_escaped_everywhere(app: Flask) -> None:
    client = admin_client(app)
    payload = f"lotus {SCRIPT} {ATTRIBUTE}"
    changes = {f: payload for f in TEXT_FIELDS if f not in YEARS + URLS}
    changes.update(subjects=f"{SCRIPT}\n{ATTRIBUTE}", rights_url='https://example.org/"><script>x</script>',
                   source_url="https://example.org/?a=1&b=<b>")
    status, html = _submit(client, HARVESTERS, **changes)
    assert status == 200 and "Saved." in html
    row = item_row(app, HARVESTERS)
    assert row is not None and row.title == payload and row.subjects == [SCRIPT, ATTRIBUTE]
    assert row.rights_url == 'https://example.org/"><script>x</script>'
    assert set_status(client, HARVESTERS, "publish") == 303     # already published: no change

    def check(url: str) -> str:
        status, text = page(client, url)
        assert status == 200, url
        assert SCRIPT not in text and "<img src=x" not in text and "<script>x" not in text, url
        assert "<b>" not in text, url
        return text

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check(f"/curate/items/{HARVESTERS}/edit")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check(f"/curate/items/{HARVESTERS}/history")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check("/curate/?q=lotus")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check("/curate/activity")
    text = check(f"/items/{HARVESTERS}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert 'href="https://example.org/&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in text
    text = check("/search?q=lotus")
    assert f"/items/{HARVESTERS}" in text and "alert(1)" in text and "&lt;script&gt;" in text
    assert public(client, HARVESTERS)[0] == 200
    # The payload is also what the id-less search of the dashboard and a typed query find.
    check("/curate/?q=" + quote(SCRIPT))
    check("/search?q=" + quote(SCRIPT))


def test_odd_ids_are_refused_clearly(app: Flask) -> None:
    client = admin_client(app)
    odd = ["../x", "a b", "x" * 300, "藏品:1", "a/b", "a?b", "a#b", ".x", "x..y", "x\x00y", "-x", "x:", "%2e%2e",
           "x\u202ey", "<script>"]
    for item_id in odd:
        status, html, _ = post(client, "/curate/items/new", {"id": item_id, "title": "奇怪的編號",
                                                             "collection": "test-paintings"}, multipart=True)
        assert status == 400, item_id
        error = re.search(r'<p class="field-error" id="error-id">(.*?)</p>', html, re.S)
        assert error and ("ASCII letters, digits" in error.group(1) or "control characters" in error.group(1)), \
            item_id
        kept = _form_of(html, "/curate/items/new")
        assert kept["title"] == "奇怪的編號"
        assert "<script>" not in html.split('id="main"')[1]
    status, html, _ = post(client, "/curate/items/new", {"id": HARVESTERS, "title": "Duplicate",
                                                         "collection": "test-paintings"}, multipart=True)
    assert status == 400 and f"There is already an item with the id {HARVESTERS}." in html
    assert item_row(app, HARVESTERS).title == "The Harvesters"       # type: ignore[union-attr]
    status, _, location = post(client, "/curate/items/new", {"id": "met:2024.1_a-b", "title": "Fine",
                                                             "collection": "test-paintings"}, multipart=True)
    assert status == 303 and item_row(app, "met:2024.1_a-b") is not None
    # Odd ids in addresses find nothing, and never an error page.
    for item_id in ("../x", "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 1000, "藏品"):
        for suffix in ("edit", "history"):
            assert page(client, f"/curate/items/{item_id}/{suffix}")[0] == 404, (item_id, suffix)


def test_odd_requests_get_messages_not_error_pages(app: Flask) -> None:
    client = admin_client(app)
    status, html, _ = post(client, f"/curate/items/{HARVESTERS}/status", {"action": "explode"}, follow_redirects=True)
    assert status == 200 and "Unknown action." in html
    status, html, _ = post(client, f"/curate/items/{HARVESTERS}/status", {"action": "untrash"}, follow_redirects=True)
    assert status == 200 and "This item is not in the trash." in html
    assert set_status(client, HARVESTERS, "trash") == 303
    status, html, _ = post(client, f"/curate/items/{HARVESTERS}/status", {"action": "publish"}, follow_redirects=True)
    assert "restore it first" in html and item_row(app, HARVESTERS).status == "trashed"   # type: ignore[union-attr]
    # The return address must stay on the curators' pages.
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        status, _, location = post(client, f"/curate/items/{HARVESTERS}/status", {"action": "untrash", "next": target})
        assert location.endswith(f"/curate/items/{HARVESTERS}/edit"), location
        set_status(client, HARVESTERS, "trash")
    image = item_row(app, "met:13503").images[0]        # type: ignore[union-attr]
    for suffix in ("99999/move", "99999/describe", "99999/remove"):
        assert post(client, f"/curate/items/met:13503/images/{suffix}", {"to": "0"})[0] == 404
    assert post(client, f"/curate/items/met:13503/images/{image.id}/move", {"to": "-5"})[0] == 303
    assert post(client, f"/curate/items/met:13503/images/{image.id}/move", {"to": "1" * 50})[0] == 400
    long_caption = "x" * (FIELD_LIMITS["description"] + 1)
    status, html, _ = post(client, f"/curate/items/met:13503/images/{image.id}/describe",
                           {"caption": long_caption, "alt_text": ""}, follow_redirects=True)
    assert status == 200 and "at most 100000 characters" in html
    assert page(client, "/curate/media/nothex/thumb.jpeg")[0] == 404
    assert page(client, f"/curate/media/{image.sha256}/huge.jpeg")[0] == 404
    assert page(client, f"/curate/media/{image.sha256}/thumb.exe")[0] == 404
