"""Admin pages: accounts (/curate/users) and site notices (/curate/notices).

Every view here is for admins only (curators get 403, anonymous visitors the login page). Views
read the form, call one use case in museum.curation and render; refusals come back as codes,
shown in the admin's language next to the field they concern.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from museum.catalogue.notices import NOTICE_LANGUAGES, Notice
from museum.curate import add_nav, bp
from museum.curate.auth import account_message, admin_required, current_account
from museum.curation import accounts, notices
from museum.curation.accounts import Account, AccountError
from museum.curation.notices import MAX_MESSAGE_LENGTH, NoticeDraft, NoticeError, NoticeProblem
from museum.web import current_catalogue

add_nav("curate.users", lazy_gettext("Accounts"), admin_only=True, order=80)
add_nav("curate.notices", lazy_gettext("Site notices"), admin_only=True, order=85)

# Which form field an account refusal belongs to, so its message is shown beside that field.
ACCOUNT_ERROR_FIELDS = {
    "username_form": "username", "username_taken": "username", "role": "role", "institution": "institutions",
    "password_short": "password", "password_long": "password", "password_blank": "password",
}
NOTICE_MESSAGES = {
    "message_empty": lazy_gettext("Write the notice in at least one language."),
    "message_long": lazy_gettext("A notice can have at most %(n)s characters."),
    "end_before_start": lazy_gettext("The end must be after the start."),
    "date_format": lazy_gettext("Enter a date and time, such as 2025-03-01 09:00."),
}
NOTICE_LANGUAGE_NAMES = {
    "zh-Hans": lazy_gettext("Simplified Chinese"),
    "zh-Hant": lazy_gettext("Traditional Chinese"),
    "en": lazy_gettext("English"),
}
# Generated passwords avoid look-alike characters (0/O, 1/l/I) because they are read off a screen.
GENERATED_CHARACTERS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _generated_password() -> str:
    """Return a new random password of four groups of four characters (about 92 bits)."""
    raw = "".join(secrets.choice(GENERATED_CHARACTERS) for _position in range(16))
    return "-".join(raw[start:start + 4] for start in range(0, 16, 4))


def _shown_once(username: str, password: str) -> Response:
    """Render the page that shows a generated password, which no cache may keep."""
    response = Response(render_template("curate/admin/password_shown.html", username=username, password=password))
    response.headers["Cache-Control"] = "no-store"
    return response


def _new_password(errors: dict[str, str]) -> tuple[str, bool]:
    """Return the password the form asks for (typed twice, or generated) and whether it was generated."""
    if request.form.get("generate") == "1":
        return _generated_password(), True
    password = request.form.get("password", "")
    if password != request.form.get("confirm_password", ""):
        errors["confirm_password"] = _("The two passwords are not the same.")
    return password, False


def _institutions_from_form() -> tuple[str, ...]:
    """Return the institution slugs ticked on an account form."""
    return tuple(sorted({slug[:64] for slug in request.form.getlist("institutions") if slug}))


# ----- accounts --------------------------------------------------------------------------


@bp.get("/users")
@admin_required
def users() -> ResponseReturnValue:
    """List every account with its role, institutions, state and last login."""
    cat = current_catalogue()
    return render_template("curate/admin/users.html", rows=accounts.account_rows(cat),
                           institutions=dict(accounts.institution_choices(cat)))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user() -> ResponseReturnValue:
    """Create an account with a password the admin types twice or has generated."""
    cat = current_catalogue()
    errors: dict[str, str] = {}
    form: dict[str, Any] = {"username": "", "display_name": "", "role": "curator", "institutions": ()}
    if request.method == "POST":
        form = {"username": request.form.get("username", "")[:64],
                "display_name": request.form.get("display_name", "")[:200],
                "role": request.form.get("role", ""), "institutions": _institutions_from_form()}
        password, generated = _new_password(errors)
        if not errors:
            try:
                account = accounts.create_user(cat, form["username"], password, role=form["role"],
                                               display_name=form["display_name"],
                                               institutions=form["institutions"])
            except AccountError as exc:
                errors[ACCOUNT_ERROR_FIELDS.get(exc.code, "form")] = account_message(exc)
            else:
                if generated:
                    return _shown_once(account.username, password)
                flash(_("The account %(username)s has been created.", username=account.username), "success")
                return redirect(url_for("curate.users"))
    return render_template("curate/admin/user_new.html", form=form, errors=errors,
                           institutions=accounts.institution_choices(cat)), (400 if errors else 200)


def _account_or_404(user_id: int) -> Account:
    """Return the account with this id, or end the request with 404."""
    account = accounts.account_by_id(current_catalogue(), user_id)
    if account is None:
        abort(404)
    return account


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int) -> ResponseReturnValue:
    """Change an account's name, role, institutions and whether it may log in."""
    cat = current_catalogue()
    account = _account_or_404(user_id)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {"display_name": account.display_name, "role": account.role,
                            "institutions": account.institutions, "active": account.active}
    if request.method == "POST":
        form = {"display_name": request.form.get("display_name", "")[:200], "role": request.form.get("role", ""),
                "institutions": _institutions_from_form(), "active": request.form.get("active") == "1"}
        try:
            accounts.update_account(cat, user_id, role=form["role"], active=form["active"],
                                    display_name=form["display_name"], institutions=form["institutions"])
        except AccountError as exc:
            if exc.code == "gone":
                abort(404)
            field = ACCOUNT_ERROR_FIELDS.get(exc.code, "form")
            if exc.code == "last_admin":
                field = "role" if form["role"] != "admin" else "active"
            errors[field] = account_message(exc)
        else:
            flash(_("The account %(username)s has been saved.", username=account.username), "success")
            return redirect(url_for("curate.users"))
    return render_template("curate/admin/user_edit.html", user=account, form=form, errors=errors,
                           institutions=accounts.institution_choices(cat),
                           is_self=account.id == current_account().id), (400 if errors else 200)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for someone else's account; every session of that account ends."""
    account = _account_or_404(user_id)
    if account.id == current_account().id:
        # One's own password is changed with the current one, which keeps this session going.
        return redirect(url_for("curate.change_password"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        password, generated = _new_password(errors)
        if not errors:
            try:
                accounts.set_password(current_catalogue(), account.username, password)
            except AccountError as exc:
                if exc.code == "no_user":
                    abort(404)
                errors[ACCOUNT_ERROR_FIELDS.get(exc.code, "form")] = account_message(exc)
            else:
                if generated:
                    return _shown_once(account.username, password)
                flash(_("The password of %(username)s has been reset; their sessions have ended.",
                        username=account.username), "success")
                return redirect(url_for("curate.users"))
    return render_template("curate/admin/user_password.html", user=account, errors=errors), (400 if errors else 200)


# ----- site notices ----------------------------------------------------------------------


def _utc_input(value: dt.datetime | None) -> str:
    """Return a UTC moment as a datetime-local input value."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


def _parse_utc(name: str, problems: list[NoticeProblem]) -> dt.datetime | None:
    """Return the UTC moment typed in a date-time field, None when empty; note a problem if unreadable."""
    raw = request.form.get(name, "").strip()[:40]
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        problems.append(NoticeProblem(name, "date_format"))
        return None
    # The form says the times are UTC; a value that names its own offset is taken at its word.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _notice_form(notice: Notice | None) -> dict[str, Any]:
    """Return the values a notice form starts with."""
    if notice is None:
        return {"message": {}, "starts_at": "", "ends_at": "", "active": True}
    return {"message": dict(notice.message), "starts_at": _utc_input(notice.starts_at),
            "ends_at": _utc_input(notice.ends_at), "active": notice.active}


def _notice_errors(problems: list[NoticeProblem]) -> dict[str, str]:
    """Return the problems as messages in the admin's language, by form field."""
    errors: dict[str, str] = {}
    for problem in problems:
        message = NOTICE_MESSAGES.get(problem.code)
        errors.setdefault(problem.field, str(message) % problem.params if message is not None else problem.code)
    return errors


def _save_notice(notice_id: int | None) -> tuple[dict[str, Any], dict[str, str], Notice | None]:
    """Read the notice form and create or update the notice; return the form, its errors and the result."""
    form: dict[str, Any] = {
        "message": {lang: request.form.get(f"message_{lang}", "")[:MAX_MESSAGE_LENGTH * 4]
                    for lang in NOTICE_LANGUAGES},
        "starts_at": request.form.get("starts_at", "")[:40], "ends_at": request.form.get("ends_at", "")[:40],
        "active": request.form.get("active") == "1",
    }
    problems: list[NoticeProblem] = []
    draft = NoticeDraft(message=form["message"], starts_at=_parse_utc("starts_at", problems),
                        ends_at=_parse_utc("ends_at", problems), active=form["active"])
    try:
        if problems:
            # Unreadable dates: still check the rest, so every problem is shown at once.
            notices.check_notice(draft)
            return form, _notice_errors(problems), None
        cat, actor = current_catalogue(), current_account().username
        if notice_id is None:
            return form, {}, notices.create_notice(cat, draft, actor)
        saved = notices.update_notice(cat, notice_id, draft, actor)
        if saved is None:
            abort(404)
        return form, {}, saved
    except NoticeError as exc:
        return form, _notice_errors(problems + exc.problems), None


def _notice_page(template: str, notice: Notice | None, form: dict[str, Any],
                 errors: dict[str, str]) -> ResponseReturnValue:
    """Render a notice form with its errors."""
    return render_template(template, notice=notice, form=form, errors=errors, languages=NOTICE_LANGUAGES,
                           language_names=NOTICE_LANGUAGE_NAMES, max_length=MAX_MESSAGE_LENGTH,
                           now_utc=dt.datetime.now(dt.UTC)), (400 if errors else 200)


@bp.get("/notices", endpoint="notices")
@admin_required
def notices_list() -> ResponseReturnValue:
    """List every site notice with whether it is showing now."""
    return render_template("curate/admin/notices.html", notices=notices.all_notices(current_catalogue()),
                           now=dt.datetime.now(dt.UTC))


@bp.route("/notices/new", methods=["GET", "POST"])
@admin_required
def new_notice() -> ResponseReturnValue:
    """Write a new site notice."""
    form, errors = _notice_form(None), dict[str, str]()
    if request.method == "POST":
        form, errors, saved = _save_notice(None)
        if saved is not None:
            flash(_("The notice has been saved."), "success")
            return redirect(url_for("curate.notices"))
    return _notice_page("curate/admin/notice_form.html", None, form, errors)


def _notice_or_404(notice_id: int) -> Notice:
    """Return the notice with this id, or end the request with 404."""
    notice = notices.notice_by_id(current_catalogue(), notice_id)
    if notice is None:
        abort(404)
    return notice


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@admin_required
def edit_notice(notice_id: int) -> ResponseReturnValue:
    """Change a site notice's text, dates or switch."""
    notice = _notice_or_404(notice_id)
    form, errors = _notice_form(notice), dict[str, str]()
    if request.method == "POST":
        form, errors, saved = _save_notice(notice_id)
        if saved is not None:
            flash(_("The notice has been saved."), "success")
            return redirect(url_for("curate.notices"))
    return _notice_page("curate/admin/notice_form.html", notice, form, errors)


@bp.post("/notices/<int:notice_id>/deactivate")
@admin_required
def deactivate_notice(notice_id: int) -> ResponseReturnValue:
    """Switch a notice off at once, keeping it to switch on again later."""
    if notices.deactivate_notice(current_catalogue(), notice_id, current_account().username) is None:
        abort(404)
    flash(_("The notice has been switched off."), "success")
    return redirect(url_for("curate.notices"))


@bp.route("/notices/<int:notice_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_notice(notice_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then delete a notice for good."""
    notice = _notice_or_404(notice_id)
    if request.method == "POST":
        notices.delete_notice(current_catalogue(), notice_id, current_account().username)
        flash(_("The notice has been deleted."), "success")
        return redirect(url_for("curate.notices"))
    return render_template("curate/admin/notice_delete.html", notice=notice)
