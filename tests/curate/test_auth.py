"""Accounts and sessions: the first admin from the command line, login, throttling, logout,
password change, session expiry, cookie flags and CSRF."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from flask import Flask

from museum.cli import main
from museum.curation import accounts
from museum.curation.accounts import AccountError
from museum.web import CATALOGUE_KEY
from tests.conftest import TEST_EXHIBIT, AppFactory
from tests.curate.helpers import PASSWORD, add_user, csrf_token, log_in


def test_the_first_admin_is_created_from_the_command_line(tmp_path: object, monkeypatch: pytest.MonkeyPatch,
                                                         make_app: AppFactory) -> None:
    app = make_app()
    data_dir = str(app.extensions[CATALOGUE_KEY].settings.data_dir)
    runner = CliRunner()
    env = {"MUSEUM_DATA_DIR": data_dir, "MUSEUM_EXHIBIT_DIR": str(TEST_EXHIBIT)}
    # The password comes from stdin, never from an argument.
    result = runner.invoke(main, ["user", "add", "ada", "--role", "admin", "--name", "Ada"],
                           input=f"{PASSWORD}\n", env=env)
    assert result.exit_code == 0, result.output
    assert "Created admin ada" in result.output
    listed = runner.invoke(main, ["user", "list"], env=env)
    assert "ada\tadmin\tall institutions" in listed.output
    weak = runner.invoke(main, ["user", "add", "bob"], input="short\n", env=env)
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    taken = runner.invoke(main, ["user", "add", "ada"], input=f"{PASSWORD}\n", env=env)
    assert taken.exit_code != 0 and "already a user called ada" in taken.output
    client = app.test_client()
    assert log_in(client, "ada") == 302
    assert "Ada" in client.get("/curate/").get_data(as_text=True)


def test_passwords_are_hashed_with_argon2id(app: Flask) -> None:
    add_user(app, "carol")
    from sqlalchemy import select

    from museum.catalogue.models import User
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "carol"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_logout_and_the_pages_behind_it(app: Flask) -> None:
    add_user(app, "carol")
    client = app.test_client()
    with client.get("/curate/") as response:
        assert response.status_code == 302 and "/curate/login" in response.headers["Location"]
    assert log_in(client, "carol", "wrong password") == 401
    assert log_in(client, "nobody", PASSWORD) == 401
    assert log_in(client, "CAROL") == 302          # user names are case-insensitive
    with client.get("/curate/") as response:
        assert response.status_code == 200
    # Logging out is a POST with the token; a GET does nothing.
    with client.get("/curate/logout") as response:
        assert response.status_code == 405
    token = csrf_token(client, "/curate/")
    with client.post("/curate/logout", data={"csrf_token": token}) as response:
        assert response.status_code == 302
    with client.get("/curate/") as response:
        assert response.status_code == 302


def test_login_redirects_only_to_this_site(app: Flask) -> None:
    add_user(app, "carol")
    client = app.test_client()
    token = csrf_token(client, "/curate/login")
    for target, expected in (("/curate/account/password", "/curate/account/password"),
                             ("https://evil.example/", "/curate/"), ("//evil.example/x", "/curate/")):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        with client.post("/curate/login", query_string={"next": target},
                         data={"username": "carol", "password": PASSWORD, "csrf_token": token}) as response:
            assert response.status_code == 302
            assert response.headers["Location"].endswith(expected), (target, response.headers["Location"])
        token = csrf_token(client, "/curate/account/password")
        client.post("/curate/logout", data={"csrf_token": token}).close()
        token = csrf_token(client, "/curate/login")


def test_repeated_failures_are_slowed_then_refused(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(app, "dave")
    cat = app.extensions[CATALOGUE_KEY]
    clock = [1_000_000.0]
    real_now = accounts._now

    def fake_now() -> object:
        import datetime as dt
        return dt.datetime.fromtimestamp(clock[0], dt.UTC)

    monkeypatch.setattr(accounts, "_now", fake_now)
    for _ in range(accounts.FREE_FAILURES):
        assert accounts.authenticate(cat, "dave", "nope", "10.0.0.1").retry_after == 0
    # After the free attempts each failure makes the next attempt wait, even with the right password.
    assert accounts.authenticate(cat, "dave", "nope", "10.0.0.1").account is None
    waiting = accounts.authenticate(cat, "dave", PASSWORD, "10.0.0.1")
    assert waiting.account is None and waiting.retry_after > 0
    clock[0] += 60
    # Many failures lock the account for a while, from any address.
    for _ in range(accounts.LOCK_AFTER):
        clock[0] += 600
        accounts.authenticate(cat, "dave", "nope", "10.0.0.2")
    locked = accounts.authenticate(cat, "dave", PASSWORD, "10.0.0.3")
    assert locked.account is None and locked.retry_after > 0
    clock[0] += accounts.LOCK_FOR.total_seconds() + 1
    assert accounts.authenticate(cat, "dave", PASSWORD, "10.0.0.3").account is not None
    monkeypatch.setattr(accounts, "_now", real_now)


def test_the_login_page_says_when_to_try_again(app: Flask) -> None:
    add_user(app, "erin")
    client = app.test_client()
    statuses = [log_in(client, "erin", "wrong password") for _ in range(accounts.FREE_FAILURES + 2)]
    assert statuses[:accounts.FREE_FAILURES] == [401] * accounts.FREE_FAILURES
    assert statuses[-1] == 429
    token = csrf_token(client, "/curate/login")
    with client.post("/curate/login", data={"username": "erin", "password": PASSWORD,
                                            "csrf_token": token}) as response:
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_changing_the_password_ends_other_sessions(app: Flask) -> None:
    add_user(app, "fay")
    laptop, phone = app.test_client(), app.test_client()
    assert log_in(laptop, "fay") == 302 and log_in(phone, "fay") == 302
    token = csrf_token(laptop, "/curate/account/password")
    with laptop.post("/curate/account/password", data={
            "csrf_token": token, "current_password": PASSWORD, "new_password": "another long secret",
            "confirm_password": "another long secret"}) as response:
        assert response.status_code == 302
    with laptop.get("/curate/") as response:
        assert response.status_code == 200          # this session continues
    with phone.get("/curate/") as response:
        assert response.status_code == 302          # the other one has ended
    bad = [("wrong current", "another long secret 2", "another long secret 2"),
           ("another long secret", "short", "short"), ("another long secret", "mismatch one!", "mismatch two!")]
    for current, new, confirm in bad:
        token = csrf_token(laptop, "/curate/account/password")
        with laptop.post("/curate/account/password", data={
                "csrf_token": token, "current_password": current, "new_password": new,
                "confirm_password": confirm}) as response:
            assert response.status_code == 400 and 'class="form-error"' in response.get_data(as_text=True)


def test_sessions_expire(app: Flask) -> None:
    add_user(app, "gus")
    client = app.test_client()
    assert log_in(client, "gus") == 302
    with client.session_transaction() as session:
        session["login_at"] = time.time() - 13 * 3600     # logged in yesterday
    with client.get("/curate/") as response:
        assert response.status_code == 302


def test_cookies_are_httponly_samesite_and_secure_over_https(app: Flask) -> None:
    add_user(app, "hal")
    client = app.test_client()
    with client.get("/curate/login", base_url="https://museum.example") as response:
        token = response.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    # Over HTTPS the CSRF check also wants the request to come from our own pages.
    with client.post("/curate/login", data={"username": "hal", "password": PASSWORD, "csrf_token": token},
                     base_url="https://museum.example",
                     headers={"Referer": "https://museum.example/curate/login"}) as response:
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    plain = app.test_client()
    with plain.get("/curate/login") as response:
        assert "Secure" not in response.headers["Set-Cookie"]


def test_forged_or_missing_csrf_tokens_change_nothing(app: Flask) -> None:
    add_user(app, "ivy")
    client = app.test_client()
    client.set_cookie("lang", "en")
    for token in ("", "forged-token"):
        with client.post("/curate/login", data={"username": "ivy", "password": PASSWORD,
                                                "csrf_token": token}) as response:
            assert response.status_code == 400
            assert "nothing was changed" in response.get_data(as_text=True)
    with client.get("/curate/") as response:
        assert response.status_code == 302


def test_account_rules(app: Flask) -> None:
    cat = app.extensions[CATALOGUE_KEY]
    for name in ("", "a", "UPPER CASE", "x" * 65, "../etc", "名字"):
        with pytest.raises(AccountError):
            accounts.create_user(cat, name, PASSWORD)
    with pytest.raises(AccountError, match="No such institution"):
        accounts.create_user(cat, "jane", PASSWORD, institutions=("nowhere",))
    limited = accounts.create_user(cat, "jane", PASSWORD, institutions=("met",))
    assert limited.may_edit("met") and not limited.may_edit("npm") and not limited.may_edit(None)
    everyone = accounts.create_user(cat, "kim", PASSWORD)
    assert everyone.may_edit("npm")
