"""Site notices: the admin's use cases and pages, their time windows, the revision log, and the
banner on every public page (in three languages, escaped, and right on cached pages at once)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from museum.catalogue.models import Revision, SiteNotice
from museum.catalogue.notices import NoticeBoard, active_notices
from museum.catalogue.service import Catalogue, catalogue_revision
from museum.curation import notices
from museum.curation.notices import NoticeDraft, NoticeError
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory
from tests.curate.helpers import add_user, csrf_token, log_in

UTC = dt.UTC
PUBLIC_PAGES = ("/", "/collections", "/collections/test-paintings", "/items/met:435809", "/search?q=x",
                "/missing-page")
CLOSED = {"zh-Hans": "各馆暂停开放，欢迎参观线上展览", "zh-Hant": "各館暫停開放，歡迎參觀線上展覽",
          "en": "The museums are closed; visit our online exhibitions"}


def _cat(app: Flask) -> Catalogue:
    return app.extensions[CATALOGUE_KEY]  # type: ignore[no-any-return]


def _admin(app: Flask) -> FlaskClient:
    add_user(app, "ada", role="admin")
    client = app.test_client()
    assert log_in(client, "ada") == 302
    return client


def _page(client: FlaskClient, url: str) -> str:
    with client.get(url) as response:
        return response.get_data(as_text=True)


def _banner(page: str) -> str:
    """Return the notice banner of a page, "" when it has none."""
    start = page.find('<div class="site-notice"')
    return page[start:page.index("</div>", start)] if start >= 0 else ""


def _utc_field(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _post_notice(client: FlaskClient, path: str, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, path), "active": "1", **fields}
    return client.post(path, data=data)


@contextmanager
def _sql_statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run through the catalogue's engine inside the block."""
    seen: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = _cat(app).engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


# ----- use cases, with the clock passed in -------------------------------------------------


def test_a_notice_is_shown_only_between_its_start_and_end(app: Flask) -> None:
    cat = _cat(app)
    noon = dt.datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    windowed = notices.create_notice(cat, NoticeDraft(message=CLOSED, starts_at=noon,
                                                      ends_at=noon + dt.timedelta(hours=2)), actor="ada")
    open_ended = notices.create_notice(cat, NoticeDraft(message={"en": "From three"},
                                                        starts_at=noon + dt.timedelta(hours=3)), actor="ada")
    always = notices.create_notice(cat, NoticeDraft(message={"en": "Always"}), actor="ada")
    switched_off = notices.create_notice(cat, NoticeDraft(message={"en": "Off"}, active=False), actor="ada")

    def shown(moment: dt.datetime) -> list[int]:
        return [n.id for n in active_notices(cat, moment)]

    assert shown(noon - dt.timedelta(seconds=1)) == [always.id]
    assert shown(noon) == [windowed.id, always.id]                        # the start is included
    assert shown(noon + dt.timedelta(hours=1, minutes=59)) == [windowed.id, always.id]
    assert shown(noon + dt.timedelta(hours=2)) == [always.id]             # the end is not
    assert shown(noon + dt.timedelta(days=400)) == [open_ended.id, always.id]
    # A time given in another zone is the same moment.
    taipei = dt.timezone(dt.timedelta(hours=8))
    assert shown(dt.datetime(2030, 5, 1, 21, 0, tzinfo=taipei)) == [windowed.id, always.id]
    assert switched_off.id not in shown(noon)
    assert windowed.state_at(noon - dt.timedelta(hours=1)) == "scheduled"
    assert windowed.state_at(noon) == "showing"
    assert windowed.state_at(noon + dt.timedelta(hours=5)) == "ended"
    assert switched_off.state_at(noon) == "off"


def test_every_notice_write_is_one_revision_that_moves_the_catalogue_revision(app: Flask) -> None:
    cat = _cat(app)
    start = catalogue_revision(cat)
    created = notices.create_notice(cat, NoticeDraft(message={"en": " Closed\n today "}), actor="ada")
    assert created.message == {"en": "Closed today"}          # spaces and line breaks tidied
    edited = notices.update_notice(cat, created.id, NoticeDraft(message={"en": "Closed", "zh-Hans": "闭馆"},
                                                                ends_at=dt.datetime(2031, 1, 1, tzinfo=UTC)),
                                   actor="bea")
    assert edited is not None and edited.message == {"en": "Closed", "zh-Hans": "闭馆"}
    assert notices.deactivate_notice(cat, created.id, actor="ada") is not None
    assert notices.deactivate_notice(cat, created.id, actor="ada") is not None   # already off: no write
    assert notices.delete_notice(cat, created.id, actor="ada")
    assert not notices.delete_notice(cat, created.id, actor="ada")
    assert notices.update_notice(cat, created.id, NoticeDraft(message={"en": "x"}), actor="ada") is None
    with cat.sessions() as session:
        revisions = session.scalars(select(Revision).where(Revision.seq > start).order_by(Revision.seq)).all()
        assert session.get(SiteNotice, created.id) is None
    assert [(r.entity, r.entity_id, r.action, r.actor) for r in revisions] == [
        ("notice", str(created.id), "create", "ada"),
        ("notice", str(created.id), "update", "bea"),
        ("notice", str(created.id), "deactivate", "ada"),
        ("notice", str(created.id), "delete", "ada"),
    ]
    assert revisions[1].snapshot["ends_at"] == "2031-01-01T00:00:00+00:00"
    assert revisions[-1].snapshot["message"] == {"en": "Closed", "zh-Hans": "闭馆"}   # what it said, kept
    assert catalogue_revision(cat) == start + 4


@pytest.mark.parametrize(("draft", "expected"), [
    (NoticeDraft(message={"en": "x"}, starts_at=dt.datetime(2030, 1, 2, tzinfo=UTC),
                 ends_at=dt.datetime(2030, 1, 1, tzinfo=UTC)), [("ends_at", "end_before_start")]),
    (NoticeDraft(message={"en": "x"}, starts_at=dt.datetime(2030, 1, 1, tzinfo=UTC),
                 ends_at=dt.datetime(2030, 1, 1, tzinfo=UTC)), [("ends_at", "end_before_start")]),
    (NoticeDraft(message={"en": "", "zh-Hans": "  ", "zh-Hant": "\n"}), [("message", "message_empty")]),
    (NoticeDraft(message={}), [("message", "message_empty")]),
    (NoticeDraft(message={"zh-Hant": "閉" * 501}), [("message:zh-Hant", "message_long")]),
])
def test_notices_that_make_no_sense_are_refused(app: Flask, draft: NoticeDraft,
                                                 expected: list[tuple[str, str]]) -> None:
    cat = _cat(app)
    before = catalogue_revision(cat)
    with pytest.raises(NoticeError) as refused:
        notices.create_notice(cat, draft, actor="ada")
    assert [(p.field, p.code) for p in refused.value.problems] == expected
    assert notices.all_notices(cat) == [] and catalogue_revision(cat) == before
    notices.create_notice(cat, NoticeDraft(message={"zh-Hant": "閉" * 500}), actor="ada")  # the limit itself


def test_the_board_reads_notices_once_per_catalogue_revision(app: Flask) -> None:
    cat = _cat(app)
    board = NoticeBoard(cat)
    now = dt.datetime.now(UTC)
    first = notices.create_notice(cat, NoticeDraft(message={"en": "One"}), actor="ada")
    revision = catalogue_revision(cat)
    assert [n.id for n in board.shown(revision, now)] == [first.id]
    with _sql_statements(app) as statements:
        for minute in range(100):
            board.shown(revision, now + dt.timedelta(minutes=minute))
    assert statements == []
    second = notices.create_notice(cat, NoticeDraft(message={"en": "Two"}, ends_at=now + dt.timedelta(hours=1)),
                                   actor="ada")
    with _sql_statements(app) as statements:
        assert [n.id for n in board.shown(catalogue_revision(cat), now)] == [first.id, second.id]
    assert len(statements) == 1
    assert [n.id for n in board.shown(catalogue_revision(cat), now + dt.timedelta(hours=2))] == [first.id]


# ----- the public banner ---------------------------------------------------------------------


def test_an_admins_notice_is_on_every_public_page_in_each_language(app: Flask) -> None:
    admin = _admin(app)
    now = dt.datetime.now(UTC)
    response = _post_notice(admin, "/curate/notices/new", **{
        "message_zh-Hans": CLOSED["zh-Hans"], "message_zh-Hant": CLOSED["zh-Hant"], "message_en": CLOSED["en"],
        "starts_at": _utc_field(now - dt.timedelta(hours=1)), "ends_at": _utc_field(now + dt.timedelta(days=1))})
    assert response.status_code == 302 and response.headers["Location"] == "/curate/notices"
    visitor = app.test_client()
    for url in PUBLIC_PAGES:
        for locale, key in (("zh_Hans", "zh-Hans"), ("zh_Hant", "zh-Hant"), ("en", "en")):
            separator = "&" if "?" in url else "?"
            banner = _banner(_page(visitor, f"{url}{separator}lang={locale}"))
            assert 'role="status"' in banner and CLOSED[key] in banner, (url, locale)
            assert all(CLOSED[other] not in banner for other in CLOSED if other != key)
    with _cat(app).sessions() as session:
        stored = session.scalars(select(SiteNotice)).one()
    assert stored.message == CLOSED and stored.active


def test_notices_outside_their_window_are_not_shown(app: Flask) -> None:
    cat = _cat(app)
    now = dt.datetime.now(UTC)
    hour = dt.timedelta(hours=1)
    notices.create_notice(cat, NoticeDraft(message={"en": "Past notice"}, starts_at=now - 3 * hour,
                                           ends_at=now - hour), actor="ada")
    notices.create_notice(cat, NoticeDraft(message={"en": "Future notice"}, starts_at=now + hour), actor="ada")
    notices.create_notice(cat, NoticeDraft(message={"en": "Switched-off notice"}, active=False), actor="ada")
    notices.create_notice(cat, NoticeDraft(message={"en": "Current notice"}, starts_at=now - hour,
                                           ends_at=now + hour), actor="ada")
    visitor = app.test_client()
    for url in PUBLIC_PAGES:
        banner = _banner(_page(visitor, url + ("&" if "?" in url else "?") + "lang=en"))
        assert "Current notice" in banner
        assert "Past notice" not in banner and "Future notice" not in banner and "Switched-off" not in banner


def test_a_notice_in_one_language_is_shown_to_readers_of_the_others(app: Flask) -> None:
    notices.create_notice(_cat(app), NoticeDraft(message={"en": "Closed for the holiday"}), actor="ada")
    notices.create_notice(_cat(app), NoticeDraft(message={"zh-Hant": "春節休館"}), actor="ada")
    visitor = app.test_client()
    simplified = _banner(_page(visitor, "/?lang=zh_Hans"))
    # Simplified readers get the traditional text first, then English; each marked with its language.
    assert '<p lang="en">Closed for the holiday</p>' in simplified
    assert '<p lang="zh-Hant">春節休館</p>' in simplified
    english = _banner(_page(visitor, "/?lang=en"))
    assert "<p>Closed for the holiday</p>" in english and '<p lang="zh-Hant">春節休館</p>' in english


def test_the_configured_notice_stays_on_beside_the_admins_ones(make_app: AppFactory) -> None:
    app = make_app(site_notice="Configured notice")
    visitor = app.test_client()
    assert "Configured notice" in _banner(_page(visitor, "/"))
    notices.create_notice(_cat(app), NoticeDraft(message={"zh-Hans": "后台通知"}), actor="ada")
    banner = _banner(_page(visitor, "/?lang=zh_Hans"))
    assert banner.index("Configured notice") < banner.index("后台通知")


def test_script_in_a_notice_is_shown_as_text(app: Flask) -> None:
    admin = _admin(app)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert _post_notice(admin, "/curate/notices/new", message_en=payload).status_code == 302
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    for page in (_page(app.test_client(), "/?lang=en"), _page(admin, "/curate/notices?lang=en")):
        assert escaped in page
        assert "<script>alert" not in page and "<img src=x" not in page
    notice_id = notices.all_notices(_cat(app))[0].id
    assert escaped in _page(admin, f"/curate/notices/{notice_id}")          # the edit form's textarea
    assert escaped in _page(admin, f"/curate/notices/{notice_id}/delete")   # the confirmation


# ----- cached pages --------------------------------------------------------------------------


def test_a_notice_change_shows_at_once_on_cached_pages(app: Flask) -> None:
    admin = _admin(app)
    visitor = app.test_client()
    assert _banner(_page(visitor, "/?lang=en")) == ""
    with _sql_statements(app) as statements:
        assert _banner(_page(visitor, "/?lang=en")) == ""
    assert statements == [], "a cached page (and its notices) must cost no query"

    assert _post_notice(admin, "/curate/notices/new", message_en="Closed today").status_code == 302
    assert "Closed today" in _banner(_page(visitor, "/?lang=en"))
    notice_id = notices.all_notices(_cat(app))[0].id
    assert _post_notice(admin, f"/curate/notices/{notice_id}", message_en="Closed until Monday").status_code == 302
    assert "Closed until Monday" in _banner(_page(visitor, "/?lang=en"))

    token = csrf_token(admin, "/curate/notices")
    assert admin.post(f"/curate/notices/{notice_id}/deactivate", data={"csrf_token": token}).status_code == 302
    assert _banner(_page(visitor, "/?lang=en")) == ""
    assert notices.notice_by_id(_cat(app), notice_id).active is False  # type: ignore[union-attr]
    assert "Switched off" in _page(admin, "/curate/notices?lang=en")

    assert _post_notice(admin, f"/curate/notices/{notice_id}", message_en="Open again").status_code == 302
    assert "Open again" in _banner(_page(visitor, "/?lang=en"))
    confirm = _page(admin, f"/curate/notices/{notice_id}/delete?lang=en")
    assert "Delete this notice?" in confirm and "Open again" in confirm
    assert "Open again" in _banner(_page(visitor, "/?lang=en"))          # asking deletes nothing
    token = csrf_token(admin, f"/curate/notices/{notice_id}/delete")
    assert admin.post(f"/curate/notices/{notice_id}/delete", data={"csrf_token": token}).status_code == 302
    assert _banner(_page(visitor, "/?lang=en")) == ""
    assert notices.all_notices(_cat(app)) == []
    assert admin.get(f"/curate/notices/{notice_id}").status_code == 404


def test_cached_pages_follow_a_notices_start_and_end_with_no_write_between(app: Flask) -> None:
    cat = _cat(app)
    edge = dt.datetime.now(UTC) + dt.timedelta(seconds=1.5)
    notices.create_notice(cat, NoticeDraft(message={"en": "Starting soon"}, starts_at=edge), actor="ada")
    notices.create_notice(cat, NoticeDraft(message={"en": "Ending soon"}, ends_at=edge), actor="ada")
    revision = catalogue_revision(cat)
    visitor = app.test_client()
    before = _banner(_page(visitor, "/?lang=en"))
    assert "Ending soon" in before and "Starting soon" not in before
    assert _banner(_page(visitor, "/?lang=en")) == before                    # cached
    time.sleep(max(0.0, (edge - dt.datetime.now(UTC)).total_seconds()) + 0.05)
    after = _banner(_page(visitor, "/?lang=en"))
    assert "Starting soon" in after and "Ending soon" not in after
    assert catalogue_revision(cat) == revision


# ----- the admin's form ----------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field_id", "message"), [
    ({"message_en": "Closed", "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T09:00"},
     "ends_at-error", "The end must be after the start."),
    ({"message_en": " ", "message_zh-Hans": "", "message_zh-Hant": ""},
     "message-error", "Write the notice in at least one language."),
    ({"message_en": "x" * 501}, "message-en-error", "A notice can have at most 500 characters."),
    ({"message_en": "Closed", "starts_at": "next Tuesday"},
     "starts_at-error", "Enter a date and time, such as 2025-03-01 09:00."),
])
def test_the_notice_form_says_what_is_wrong_next_to_the_field(app: Flask, fields: dict[str, str], field_id: str,
                                                              message: str) -> None:
    admin = _admin(app)
    before = catalogue_revision(_cat(app))
    with _post_notice(admin, "/curate/notices/new?lang=en", **fields) as response:
        page = response.get_data(as_text=True)
        assert response.status_code == 400
    assert f'<p class="field-error" id="{field_id}">{message}</p>' in page
    assert 'role="alert"' in page
    assert notices.all_notices(_cat(app)) == [] and catalogue_revision(_cat(app)) == before


def test_the_notice_form_shows_every_problem_at_once_in_chinese(app: Flask) -> None:
    admin = _admin(app)
    with _post_notice(admin, "/curate/notices/new?lang=zh_Hant", ends_at="someday") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="message-error"' in page and 'id="ends_at-error"' in page
    assert "Write the notice" not in page      # said in the admin's language


def test_the_notice_form_keeps_times_in_utc(app: Flask) -> None:
    admin = _admin(app)
    response = _post_notice(admin, "/curate/notices/new", message_en="Renovation",
                            starts_at="2030-03-01T09:00", ends_at="2030-03-02T18:30")
    assert response.status_code == 302
    saved = notices.all_notices(_cat(app))[0]
    assert saved.starts_at == dt.datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    assert saved.ends_at == dt.datetime(2030, 3, 2, 18, 30, tzinfo=UTC)
    form = _page(admin, f"/curate/notices/{saved.id}?lang=en")
    assert 'value="2030-03-01T09:00"' in form and 'value="2030-03-02T18:30"' in form and "UTC" in form
    listing = _page(admin, "/curate/notices?lang=en")
    assert "2030-03-01 09:00" in listing and "Scheduled" in listing
