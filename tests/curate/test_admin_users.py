"""Account administration at /curate/users: listing, creating (typed or generated password),
editing, deactivating, password resets, the last-admin rule, and who may reach these pages."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from museum.catalogue.models import User
from museum.catalogue.service import Catalogue
from museum.curation import accounts, notices
from museum.curation.accounts import AccountError
from museum.curation.notices import NoticeDraft
from museum.web import CATALOGUE_KEY
from tests.curate.helpers import PASSWORD, add_user, csrf_token, log_in

NEW_PASSWORD = "a brand new passphrase"
ADMIN_GETS = ("/curate/users", "/curate/users/new", "/curate/users/{id}", "/curate/users/{id}/password",
              "/curate/notices", "/curate/notices/new", "/curate/notices/{notice}",
              "/curate/notices/{notice}/delete")
ADMIN_POSTS = ("/curate/users/new", "/curate/users/{id}", "/curate/users/{id}/password", "/curate/notices/new",
               "/curate/notices/{notice}", "/curate/notices/{notice}/deactivate",
               "/curate/notices/{notice}/delete")


def _cat(app: Flask) -> Catalogue:
    return app.extensions[CATALOGUE_KEY]  # type: ignore[no-any-return]


def _client(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, username, password) == 302
    return client


def _page(client: FlaskClient, url: str) -> str:
    with client.get(url) as response:
        return response.get_data(as_text=True)


def _post(client: FlaskClient, path: str, data: dict[str, str | list[str]]) -> tuple[int, str, str]:
    """Post a form with the page's CSRF token; return the status, the redirect target and the page."""
    with client.post(path, data={"csrf_token": csrf_token(client, path), **data}) as response:
        return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def _logged_in(client: FlaskClient) -> bool:
    with client.get("/curate/") as response:
        return response.status_code == 200


def _user_row(app: Flask, username: str) -> User:
    with _cat(app).sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """Return a client logged in as the admin "ada"."""
    add_user(app, "ada", role="admin")
    return _client(app, "ada")


def test_the_list_shows_role_institutions_state_and_last_login(app: Flask, admin: FlaskClient) -> None:
    add_user(app, "carol", institutions=("npm",))
    add_user(app, "dan")
    page = _page(admin, "/curate/users?lang=en")
    rows = {name: row for name, row in re.findall(r'<th scope="row">([a-z]+)</th>(.*?)</tr>', page, re.S)}
    assert set(rows) == {"ada", "carol", "dan"}
    assert "Administrator" in rows["ada"] and "All institutions" in rows["ada"]
    assert "Curator" in rows["carol"] and "National Palace Museum, Taipei" in rows["carol"]
    assert "All institutions" in rows["dan"] and "Never" in rows["dan"]
    assert "Active" in rows["dan"] and re.search(r"<time datetime=\"20\d\d-", rows["ada"])  # ada has logged in
    chinese = _page(admin, "/curate/users?lang=zh_Hant")
    assert "國立故宮博物院" in chinese
    # The navigation leads admins here.
    assert 'href="/curate/users"' in page and 'href="/curate/notices"' in page


def test_an_admin_creates_an_account_with_a_typed_password(app: Flask, admin: FlaskClient) -> None:
    status, location, _ = _post(admin, "/curate/users/new", {
        "username": "Erin", "display_name": "Erin Wu", "role": "curator", "institutions": ["met", "npm"],
        "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert status == 302 and location == "/curate/users"
    erin = _user_row(app, "erin")
    assert (erin.display_name, erin.role, erin.active) == ("Erin Wu", "curator", True)
    account = accounts.account_by_id(_cat(app), erin.id)
    assert account is not None and account.institutions == ("met", "npm")
    assert "erin" in _page(admin, "/curate/users")
    client = _client(app, "erin", NEW_PASSWORD)
    assert "Erin Wu" in _page(client, "/curate/")


def test_a_generated_password_is_shown_once_and_works(app: Flask, admin: FlaskClient) -> None:
    path = "/curate/users/new?lang=en"
    with admin.post(path, data={"csrf_token": csrf_token(admin, path), "username": "fay", "role": "admin",
                                "generate": "1"}) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        page = response.get_data(as_text=True)
    found = re.search(r'<p class="admin-password"><code>([^<]+)</code></p>', page)
    assert found and "shown only this once" in page
    generated = found.group(1)
    assert re.fullmatch(r"[a-zA-Z2-9]{4}(-[a-zA-Z2-9]{4}){3}", generated)
    assert _user_row(app, "fay").role == "admin"
    assert generated not in _page(admin, "/curate/users")
    _client(app, "fay", generated)


@pytest.mark.parametrize(("form", "field_id", "message"), [
    ({"username": "gil", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"},
     "confirm_password-error", "The two passwords are not the same."),
    ({"username": "gil", "password": "short", "confirm_password": "short"},
     "password-error", "The password must have at least 10 characters."),
    ({"username": "G i l", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "username-error", "A user name is 2–64 lowercase letters, digits, dots, hyphens or underscores."),
    ({"username": "ada", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "username-error", "There is already a user called ada."),
    ({"username": "gil", "role": "owner", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "role-error", "The role must be one of: admin, curator."),
    ({"username": "gil", "institutions": "louvre", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "institutions-error", "No such institution: louvre."),
])
def test_account_form_messages_are_next_to_their_field(app: Flask, admin: FlaskClient, form: dict[str, str],
                                                       field_id: str, message: str) -> None:
    status, _, page = _post(admin, "/curate/users/new?lang=en", {"role": "curator", **form})
    assert status == 400
    assert f'<p class="field-error" id="{field_id}">{message}</p>' in page
    assert "gil" not in {a.username for a in accounts.all_accounts(_cat(app))}
    assert 'value="gil"' in page or form["username"] != "gil"    # what was typed is kept


def test_an_admin_edits_name_role_and_institutions(app: Flask, admin: FlaskClient) -> None:
    carol = add_user(app, "carol")
    form = _page(admin, f"/curate/users/{carol.id}")
    assert 'name="active" value="1" checked' in form
    status, location, _ = _post(admin, f"/curate/users/{carol.id}", {
        "display_name": "Carol Chen", "role": "admin", "institutions": ["nmaa"], "active": "1"})
    assert status == 302 and location == "/curate/users"
    edited = accounts.account_by_id(_cat(app), carol.id)
    assert edited is not None
    assert (edited.display_name, edited.role, edited.institutions, edited.active) == \
        ("Carol Chen", "admin", ("nmaa",), True)
    status, _, page = _post(admin, f"/curate/users/{carol.id}?lang=en", {
        "display_name": "Carol", "role": "curator", "institutions": ["nowhere"], "active": "1"})
    assert status == 400 and 'id="institutions-error">No such institution: nowhere.' in page
    unchanged = accounts.account_by_id(_cat(app), carol.id)
    assert unchanged is not None and unchanged.role == "admin" and unchanged.display_name == "Carol Chen"
    assert admin.get("/curate/users/9999").status_code == 404


def test_deactivating_an_account_ends_its_session_at_once(app: Flask, admin: FlaskClient) -> None:
    carol = add_user(app, "carol")
    carols_browser = _client(app, "carol")
    assert _logged_in(carols_browser)
    status, _, _ = _post(admin, f"/curate/users/{carol.id}", {"display_name": "carol", "role": "curator"})
    assert status == 302
    assert _user_row(app, "carol").active is False
    assert not _logged_in(carols_browser)
    assert log_in(app.test_client(), "carol") == 401
    assert "Deactivated" in _page(admin, "/curate/users?lang=en")
    # Switched on again, the account logs in afresh.
    _post(admin, f"/curate/users/{carol.id}", {"display_name": "carol", "role": "curator", "active": "1"})
    assert log_in(app.test_client(), "carol") == 302


def test_resetting_a_password_ends_the_accounts_sessions(app: Flask, admin: FlaskClient) -> None:
    carol = add_user(app, "carol")
    carols_browser = _client(app, "carol")
    status, _, page = _post(admin, f"/curate/users/{carol.id}/password?lang=en",
                            {"password": NEW_PASSWORD, "confirm_password": "something else"})
    assert status == 400 and 'id="confirm_password-error">The two passwords are not the same.' in page
    assert _logged_in(carols_browser)
    status, location, _ = _post(admin, f"/curate/users/{carol.id}/password",
                                {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert status == 302 and location == "/curate/users"
    assert not _logged_in(carols_browser)
    assert log_in(app.test_client(), "carol", PASSWORD) == 401
    assert log_in(app.test_client(), "carol", NEW_PASSWORD) == 302
    assert _logged_in(admin)                                   # the admin's own session goes on
    # A generated one, shown once.
    path = f"/curate/users/{carol.id}/password"
    with admin.post(path, data={"csrf_token": csrf_token(admin, path), "generate": "1"}) as response:
        found = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True))
        assert response.headers["Cache-Control"] == "no-store"
    assert found and log_in(app.test_client(), "carol", found.group(1)) == 302
    # One's own password is changed with the current one instead.
    ada = _user_row(app, "ada")
    with admin.get(f"/curate/users/{ada.id}/password") as response:
        assert response.status_code == 302 and response.headers["Location"] == "/curate/account/password"


def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(app: Flask, admin: FlaskClient) -> None:
    ada = _user_row(app, "ada")
    status, _, page = _post(admin, f"/curate/users/{ada.id}?lang=en",
                            {"display_name": "Ada", "role": "curator", "active": "1"})
    assert status == 400
    assert ('id="role-error">This is the last active administrator: make another account an administrator '
            'first.</p>') in page
    status, _, page = _post(admin, f"/curate/users/{ada.id}?lang=en", {"display_name": "Ada", "role": "admin"})
    assert status == 400 and 'id="active-error">This is the last active administrator' in page
    still = _user_row(app, "ada")
    assert (still.role, still.active, still.display_name) == ("admin", True, "")    # nothing saved
    assert _logged_in(admin)
    # The use case holds the rule whoever calls it (the command line too).
    with pytest.raises(AccountError) as refused:
        accounts.update_account(_cat(app), ada.id, active=False)
    assert refused.value.code == "last_admin"
    # A deactivated admin does not count; with a second active admin, ada may step down.
    bea = add_user(app, "bea", role="admin")
    accounts.update_account(_cat(app), bea.id, active=False)
    with pytest.raises(AccountError):
        accounts.update_account(_cat(app), ada.id, role="curator")
    accounts.update_account(_cat(app), bea.id, active=True)
    status, _, _ = _post(admin, f"/curate/users/{ada.id}", {"display_name": "Ada", "role": "curator", "active": "1"})
    assert status == 302 and _user_row(app, "ada").role == "curator"
    assert admin.get("/curate/users").status_code == 403           # no longer an admin, at once
    with pytest.raises(AccountError) as refused:
        accounts.update_account(_cat(app), bea.id, role="curator")
    assert refused.value.code == "last_admin"


def _admin_urls(app: Flask) -> tuple[list[str], list[str]]:
    """Return every admin page's URL for GET and for POST, about a real account and notice."""
    target = add_user(app, "target")
    notice = notices.create_notice(_cat(app), NoticeDraft(message={"en": "Kept"}), actor="test")
    return ([p.format(id=target.id, notice=notice.id) for p in ADMIN_GETS],
            [p.format(id=target.id, notice=notice.id) for p in ADMIN_POSTS])


def test_curators_get_403_on_every_admin_page(app: Flask) -> None:
    add_user(app, "carol")
    curator = _client(app, "carol")
    token = csrf_token(curator, "/curate/")
    gets, posts = _admin_urls(app)
    for url in gets:
        assert curator.get(url).status_code == 403, url
    for url in posts:
        with curator.post(url, data={"csrf_token": token, "username": "mallory", "role": "admin",
                                     "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                     "message_en": "Hacked", "active": "1"}) as response:
            assert response.status_code == 403, url
    assert "mallory" not in {a.username for a in accounts.all_accounts(_cat(app))}
    assert [n.message for n in notices.all_notices(_cat(app))] == [{"en": "Kept"}]
    assert log_in(app.test_client(), "target") == 302              # the password was not reset
    assert "Hacked" not in app.test_client().get("/?lang=en").get_data(as_text=True)
    page = _page(curator, "/curate/")
    assert 'href="/curate/users"' not in page and 'href="/curate/notices"' not in page


def test_anonymous_visitors_are_sent_to_the_login_page(app: Flask) -> None:
    visitor = app.test_client()
    gets, posts = _admin_urls(app)
    for url in gets:
        with visitor.get(url) as response:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/curate/login?next=")
    for url in posts:
        with visitor.post(url, data={"username": "mallory", "role": "admin", "password": NEW_PASSWORD,
                                     "confirm_password": NEW_PASSWORD, "message_en": "Hacked"}) as response:
            assert response.status_code in (400, 401), url     # no CSRF token, no session
    assert "mallory" not in {a.username for a in accounts.all_accounts(_cat(app))}
