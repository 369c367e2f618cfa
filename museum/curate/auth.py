"""Logging in and out, changing one's password, and the decorators that guard curation views.

Sessions live in Flask's signed cookie (HttpOnly, SameSite=Lax, Secure whenever the request came
over HTTPS). A session ends after IDLE_LIMIT without a request, after ABSOLUTE_LIMIT in any case,
and at once when the account's password changes or it is deactivated (its session version moves).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from museum.curate import bp
from museum.curation import accounts
from museum.curation.accounts import Account, AccountError
from museum.web import current_catalogue

IDLE_LIMIT = dt.timedelta(hours=2)
ABSOLUTE_LIMIT = dt.timedelta(hours=12)
P = ParamSpec("P")
R = TypeVar("R")

login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser:
    """The Flask-Login user: an Account plus the session version it was logged in with."""

    def __init__(self, account: Account) -> None:
        """Wrap an account."""
        self.account = account
        self.is_authenticated = True
        self.is_active = account.active
        self.is_anonymous = False

    def get_id(self) -> str:
        """Return the id kept in the session: the user id and the session version."""
        return f"{self.account.id}:{self.account.session_version}"


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return True for HTTPS requests (behind a proxy, with MUSEUM_PROXY_HOPS set)."""
        return bool(request.is_secure) or bool(app.config.get("SESSION_COOKIE_SECURE"))


def init_auth(app: Flask) -> None:
    """Set up login, sessions and CSRF protection on the app."""
    app.session_interface = HttpsAwareSessionInterface()
    app.config.update(PERMANENT_SESSION_LIFETIME=IDLE_LIMIT, SESSION_REFRESH_EACH_REQUEST=True,
                      WTF_CSRF_TIME_LIMIT=int(ABSOLUTE_LIMIT.total_seconds()))
    login_manager.init_app(app)
    login_manager.login_view = "curate.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)

    def _load(user_key: str) -> SessionUser | None:
        user_id, _, version = user_key.partition(":")
        if not user_id.isdecimal():
            return None
        account = accounts.account_by_id(current_catalogue(), int(user_id))
        if account is None or not account.active or str(account.session_version) != version:
            return None
        started = session.get("login_at", 0)
        if not isinstance(started, (int, float)) or time.time() - started > ABSOLUTE_LIMIT.total_seconds():
            return None
        return SessionUser(account)

    login_manager.user_loader(_load)

    def _unauthorized() -> ResponseReturnValue:
        if request.method != "GET":
            abort(401)
        flash(_("Please log in to continue."), "info")
        return redirect(url_for("curate.login", next=request.full_path.rstrip("?")))

    login_manager.unauthorized_handler(_unauthorized)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = _("This form has expired or did not come from this site. Go back, reload the page and try again; "
                    "nothing was changed.")
        return render_template("errors/error.html", code=400, title=_("Form expired"), message=message), 400


ACCOUNT_MESSAGES = {
    "password_short": lazy_gettext("The password must have at least %(n)s characters."),
    "password_long": lazy_gettext("The password must have at most %(n)s characters."),
    "password_blank": lazy_gettext("The password cannot be only spaces."),
    "username_form": lazy_gettext("A user name is 2–64 lowercase letters, digits, dots, hyphens or underscores."),
    "role": lazy_gettext("The role must be one of: %(roles)s."),
    "username_taken": lazy_gettext("There is already a user called %(username)s."),
    "institution": lazy_gettext("No such institution: %(names)s."),
    "gone": lazy_gettext("This account no longer exists."),
    "current_password": lazy_gettext("The current password is not right."),
    "no_user": lazy_gettext("There is no user called %(username)s."),
    "last_admin": lazy_gettext("This is the last active administrator: make another account an administrator "
                               "first."),
}


def account_message(error: AccountError) -> str:
    """Return an account error in the visitor's language."""
    message = ACCOUNT_MESSAGES.get(error.code)
    return str(message) % error.params if message is not None else str(error)


def current_account() -> Account:
    """Return the logged-in account (views behind the decorators only)."""
    return cast(SessionUser, current_user).account


def curator_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Let only logged-in curators and admins through; others go to the login page."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if not current_user.is_authenticated:
            return cast(ResponseReturnValue, login_manager.unauthorized())
        g.account = current_account()
        return view(*args, **kwargs)

    return guarded


def admin_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Let only admins through: anonymous visitors go to the login page, curators get 403."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if not current_user.is_authenticated:
            return cast(ResponseReturnValue, login_manager.unauthorized())
        account = current_account()
        if not account.is_admin:
            abort(403)
        g.account = account
        return view(*args, **kwargs)

    return guarded


def _safe_next(target: str | None) -> str:
    """Return a same-site path to go to after login, or the dashboard."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("curate.dashboard")


def _client_address() -> str:
    """Return the address failed logins are counted against (ProxyFix supplies the real one)."""
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form and log a curator in."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = ""
    status = 200
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")
        result = accounts.authenticate(current_catalogue(), username, password, _client_address())
        if result.account is not None:
            session.clear()
            session.permanent = True
            session["login_at"] = time.time()
            login_user(SessionUser(result.account))
            return redirect(_safe_next(request.args.get("next")))
        if result.retry_after:
            error = _("Too many failed attempts. Try again in %(seconds)s seconds.", seconds=result.retry_after)
            status = 429
        else:
            error = _("The user name or password is not right.")
            status = 401
    response = Response(render_template("curate/login.html", error=error, username=username), status=status)
    if status == 429:
        response.headers["Retry-After"] = str(max(1, int(error and result.retry_after)))
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST with the CSRF token, so another site cannot log a curator out)."""
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("curate.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@curator_required
def change_password() -> ResponseReturnValue:
    """Let a curator change their own password; their other sessions end."""
    error = ""
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            error = _("The two new passwords are not the same.")
        else:
            try:
                account = accounts.change_password(current_catalogue(), current_account().id,
                                                   request.form.get("current_password", ""), new)
            except AccountError as exc:
                error = account_message(exc)
            else:
                login_user(SessionUser(account))
                session["login_at"] = time.time()
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("curate.dashboard"))
    return render_template("curate/password.html", error=error), (400 if error else 200)


def template_globals() -> dict[str, Any]:
    """Return what every curation template may use."""
    from museum.curate import NAV

    return {"account": current_account() if current_user.is_authenticated else None, "curate_nav": NAV}
