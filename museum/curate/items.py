"""The item editor: create and edit items, change their status, upload and arrange images, read
an item's history and restore an earlier version (views only; the use cases are curation.editing).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import RequestEntityTooLarge

from museum.curate import add_nav, bp
from museum.curate.auth import csrf, curator_required, current_account
from museum.curation import editing
from museum.curation.editing import EditingError, Invalid, NotAllowed, NotFound, Problem
from museum.web import current_catalogue, whole_number

add_nav("curate.new_item", lazy_gettext("New item"), order=10)

# Labels of the item's fields, shared by the editor and the history (same words as the public page).
FIELD_LABELS = {
    "id": lazy_gettext("Id"),
    "title": lazy_gettext("Title"),
    "title_alt": lazy_gettext("Other title"),
    "creator": lazy_gettext("Creator"),
    "date_display": lazy_gettext("Date"),
    "begin_year": lazy_gettext("Begin year"),
    "end_year": lazy_gettext("End year"),
    "period": lazy_gettext("Period"),
    "object_type": lazy_gettext("Object type"),
    "medium": lazy_gettext("Material and technique"),
    "dimensions": lazy_gettext("Dimensions"),
    "description": lazy_gettext("Description"),
    "inscriptions": lazy_gettext("Inscriptions"),
    "provenance": lazy_gettext("Provenance"),
    "accession_number": lazy_gettext("Accession number"),
    "credit_line": lazy_gettext("Credit line"),
    "rights": lazy_gettext("Rights"),
    "rights_url": lazy_gettext("Rights statement link"),
    "source_url": lazy_gettext("Link to the original record"),
    "subjects": lazy_gettext("Subjects"),
    "collection": lazy_gettext("Collection"),
    "institution": lazy_gettext("Holding institution"),
    "featured": lazy_gettext("Featured"),
    "status": lazy_gettext("Status"),
    "caption": lazy_gettext("Caption"),
    "alt_text": lazy_gettext("Alt text"),
}

STATUS_LABELS = {
    "draft": lazy_gettext("Draft"),
    "published": lazy_gettext("Published"),
    "trashed": lazy_gettext("In the trash"),
    "purged": lazy_gettext("Purged"),
}

# What each revision action is called in histories and the activity log.
ACTION_LABELS = {
    "create": lazy_gettext("Created"),
    "update": lazy_gettext("Edited"),
    "published": lazy_gettext("Published"),
    "draft": lazy_gettext("Set to draft"),
    "trashed": lazy_gettext("Moved to the trash"),
    "restore": lazy_gettext("Restored an earlier version"),
    "purge": lazy_gettext("Purged"),
    "image-add": lazy_gettext("Images added"),
    "image-move": lazy_gettext("Images reordered"),
    "image-edit": lazy_gettext("Image text edited"),
    "image-remove": lazy_gettext("Image removed"),
}

PROBLEM_MESSAGES = {
    "control": lazy_gettext("This text contains invisible control characters; remove them and save again."),
    "too_long": lazy_gettext("This is too long: at most %(n)s characters."),
    "year": lazy_gettext("A year is a whole number from -10000 to 2100 (negative for BCE)."),
    "url": lazy_gettext("A link must start with http:// or https://."),
    "required": lazy_gettext("This field is required."),
    "id_form": lazy_gettext("An id is made of ASCII letters, digits and . _ : - (no spaces), starts and ends "
                            "with a letter or digit, and has at most %(n)s characters."),
    "id_taken": lazy_gettext("There is already an item with the id %(id)s."),
    "choose": lazy_gettext("Choose one of the options."),
    "holder": lazy_gettext("You may only edit items held by your institutions: choose one of them as the "
                           "holding institution."),
    "row": lazy_gettext("The begin year must not be after the end year."),
    "conflict": lazy_gettext("%(actor)s saved this item after you opened it. Your changes are kept below: "
                             "compare them with the history, then save again to overwrite."),
}

ERROR_MESSAGES = {
    "not_trashed": lazy_gettext("This item is not in the trash."),
    "trashed": lazy_gettext("This item is in the trash: restore it first."),
    "purge_not_trashed": lazy_gettext("Only items in the trash can be purged."),
    "in_exhibitions": lazy_gettext("This item is shown in exhibitions (%(names)s): take it out of them first."),
    "collection_gone": lazy_gettext("That version's collection (%(slug)s) no longer exists."),
    "institution_gone": lazy_gettext("That version's holding institution (%(slug)s) no longer exists."),
    "original_missing": lazy_gettext("The original file of the image %(name)s is missing, so that version "
                                     "cannot be restored."),
    "action": lazy_gettext("Unknown action."),
}


def problem_message(problem: Problem) -> str:
    """Return a field problem in the visitor's language."""
    message = PROBLEM_MESSAGES.get(problem.code)
    return str(message) % problem.params if message is not None else problem.english


def error_message(error: EditingError) -> str:
    """Return a refused request's reason in the visitor's language."""
    message = ERROR_MESSAGES.get(error.code)
    return str(message) % error.params if message is not None else str(error)


def _guarded_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a use case, turning a missing item into 404 and a forbidden one into 403."""
    try:
        return call(current_catalogue(), current_account(), *args, **kwargs)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)


def _editor_url(item_id: str, anchor: str | None = None) -> str:
    """Return the editor's address of an item."""
    return url_for("curate.edit_item", item_id=item_id, _anchor=anchor)


def _render_editor(item: editing.ItemView | None, values: dict[str, str], problems: dict[str, Problem],
                   status: int = 200, base_seq: int | None = None) -> ResponseReturnValue:
    """Render the editor (a new item's when item is None) with values and any problems."""
    choices = editing.editor_choices(current_catalogue(), current_account())
    errors = {name: problem_message(p) for name, p in problems.items()}
    derived = editing.derived_years(values.get("date_display", ""), values.get("period", ""))
    html = render_template(
        "curate/items/edit.html", item=item, values=values, errors=errors, choices=choices, derived=derived,
        limits=editing.FIELD_LIMITS, labels=FIELD_LABELS, status_labels=STATUS_LABELS,
        base_seq=base_seq if base_seq is not None else (item.seq if item else 0))
    return html, status


def _form_values() -> dict[str, str]:
    """Return the editor's fields as posted."""
    names = (*editing.TEXT_FIELDS, "id", "collection", "institution", "featured")
    return {name: request.form.get(name, "") for name in names}


@bp.route("/items/new", methods=["GET", "POST"])
@curator_required
def new_item() -> ResponseReturnValue:
    """Show the form for a new item and create it (as a draft)."""
    if request.method == "GET":
        return _render_editor(None, editing.new_item_values(current_catalogue(), current_account()), {})
    values = _form_values()
    try:
        item_id = editing.create_item(current_catalogue(), current_account(), values)
    except Invalid as exc:
        return _render_editor(None, values, exc.problems, status=400)
    flash(_("The item has been created as a draft."), "success")
    return redirect(_editor_url(item_id), code=303)


@bp.route("/items/<path:item_id>/edit", methods=["GET", "POST"])
@curator_required
def edit_item(item_id: str) -> ResponseReturnValue:
    """Show an item's editor and save it."""
    item: editing.ItemView = _guarded_call(editing.load_item, item_id)
    if request.method == "GET":
        return _render_editor(item, item.values, {})
    values = {**_form_values(), "id": item.id}
    base_seq = whole_number(request.form.get("base_seq", ""), None, max_digits=11)
    try:
        changed = _guarded_call(editing.update_item, item_id, values, base_seq)
    except Invalid as exc:
        return _render_editor(item, values, exc.problems, status=400, base_seq=exc.current_seq or base_seq)
    flash(_("Saved.") if changed else _("Nothing was changed."), "success")
    return redirect(_editor_url(item_id), code=303)


def _back(item_id: str) -> str:
    """Return the same-site page named in the form's `next` field, else the item's editor."""
    target = request.form.get("next", "")
    if target.startswith("/curate/") and not target.startswith("//") and "\\" not in target:
        return target
    return _editor_url(item_id)


@bp.post("/items/<path:item_id>/status")
@curator_required
def change_item_status(item_id: str) -> ResponseReturnValue:
    """Publish, withdraw, trash or restore an item from the trash."""
    action = request.form.get("action", "")
    try:
        status = _guarded_call(editing.change_status, item_id, action)
    except EditingError as exc:
        flash(error_message(exc), "error")
        return redirect(_back(item_id), code=303)
    flash({"published": _("The item is published."), "draft": _("The item is a draft: the public no longer "
                                                                   "sees it."),
           "trashed": _("The item is in the trash.")}.get(status, ""), "success")
    return redirect(_back(item_id), code=303)


@bp.post("/items/<path:item_id>/purge")
@curator_required
def purge_item(item_id: str) -> ResponseReturnValue:
    """Delete a trashed item for good (administrators only, after ticking the confirmation)."""
    if not current_account().is_admin:
        abort(403)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the item is to be deleted for good."), "error")
        return redirect(_back(item_id), code=303)
    try:
        _guarded_call(editing.purge_item, item_id)
    except EditingError as exc:
        flash(error_message(exc), "error")
        return redirect(_back(item_id), code=303)
    flash(_("The item %(id)s has been deleted for good; its history is kept.", id=item_id), "success")
    return redirect(url_for("curate.trash"), code=303)


# ----- images ----------------------------------------------------------------------------


def _wants_json() -> bool:
    """Tell whether the client (the upload script) asked for JSON rather than a page."""
    return request.accept_mimetypes.best == "application/json"


def _too_large() -> ResponseReturnValue:
    """Answer an upload over the size limit: JSON for the script, the error page otherwise."""
    limit = current_catalogue().settings.max_image_bytes
    message = _("The upload is too large: each file may have at most %(mb)s MB.", mb=round(limit / 2**20, 1))
    if _wants_json():
        return jsonify(ok=False, message=message, results=[]), 413
    return render_template("errors/error.html", code=413, message=message), 413


@bp.post("/items/<path:item_id>/images")
@curator_required
def upload_item_images(item_id: str) -> ResponseReturnValue:
    """Add uploaded images to an item: one file per request from the script, several from the plain form."""
    try:
        csrf.protect()
        _guarded_call(editing.load_item, item_id)     # 404 or 403 before anything is read or stored
        files = request.files.getlist("images")
        uploads = [editing.Upload(f.filename or "", f.read()) for f in files if f.filename or f.content_length]
    except RequestEntityTooLarge:
        return _too_large()
    if not uploads:
        message = _("Choose one or more image files.")
        if _wants_json():
            return jsonify(ok=False, message=message, results=[]), 400
        flash(message, "error")
        return redirect(_editor_url(item_id, "images"), code=303)
    results: list[editing.UploadResult] = _guarded_call(editing.add_images, item_id, uploads)
    messages = [
        {"file": r.filename, "ok": r.accepted,
         "message": _("%(name)s: added.", name=r.filename) if r.accepted else
         _("%(name)s was refused: %(reason)s", name=r.filename, reason=r.reason)}
        for r in results]
    if _wants_json():
        item = _guarded_call(editing.load_item, item_id)
        accepted = any(r.accepted for r in results)
        return jsonify(ok=accepted, results=messages, message=" ".join(m["message"] for m in messages),
                       images_html=render_template("curate/items/_images.html", item=item)), \
            (200 if accepted else 422)
    for entry in messages:
        flash(entry["message"], "success" if entry["ok"] else "error")
    return redirect(_editor_url(item_id, "images"), code=303)


# The token is checked inside the view instead, where a body over the size limit (which Flask-WTF
# would meet first, reading the form) can still be answered in JSON for the upload script.
csrf.exempt(upload_item_images)


def _image_change(item_id: str, call: Any, *args: Any) -> ResponseReturnValue:
    """Run an image use case and go back to the editor's images."""
    try:
        _guarded_call(call, item_id, *args)
    except Invalid as exc:
        for name, problem in exc.problems.items():
            flash(f"{FIELD_LABELS.get(name, name)}: {problem_message(problem)}", "error")
    return redirect(_editor_url(item_id, "images"), code=303)


@bp.post("/items/<path:item_id>/images/<int:image_id>/move")
@curator_required
def move_item_image(item_id: str, image_id: int) -> ResponseReturnValue:
    """Move an image to another place (0 makes it the primary image)."""
    raw = request.form.get("to", "")
    if not raw.lstrip("-").isdecimal() or len(raw) > 6:
        abort(400)
    return _image_change(item_id, editing.move_image, image_id, int(raw))


@bp.post("/items/<path:item_id>/images/<int:image_id>/describe")
@curator_required
def describe_item_image(item_id: str, image_id: int) -> ResponseReturnValue:
    """Set an image's caption and alt text."""
    return _image_change(item_id, editing.describe_image, image_id, request.form.get("caption", ""),
                         request.form.get("alt_text", ""))


@bp.post("/items/<path:item_id>/images/<int:image_id>/remove")
@curator_required
def remove_item_image(item_id: str, image_id: int) -> ResponseReturnValue:
    """Take an image off the item (its original file is kept)."""
    return _image_change(item_id, editing.remove_image, image_id)


@bp.get("/media/<sha256>/<size>.<fmt>")
@curator_required
def item_media(sha256: str, size: str, fmt: str) -> Response:
    """Serve a derivative of an image of an item the curator may edit, drafts included, never cached publicly."""
    path = _guarded_call(editing.curator_image, sha256, size, fmt)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=f"image/{fmt}", conditional=True, etag=True, max_age=3600)
    response.cache_control.private = True
    return response


# ----- history ---------------------------------------------------------------------------


@bp.get("/items/<path:item_id>/history")
@curator_required
def item_history(item_id: str) -> ResponseReturnValue:
    """Show an item's revisions with what each changed, and restore buttons."""
    history = _guarded_call(editing.item_history, item_id)
    return render_template("curate/items/history.html", history=history, labels=FIELD_LABELS,
                           action_labels=ACTION_LABELS, status_labels=STATUS_LABELS)


@bp.post("/items/<path:item_id>/history/<int:seq>/restore")
@curator_required
def restore_item_revision(item_id: str, seq: int) -> ResponseReturnValue:
    """Bring an item back to an earlier version (itself recorded as a new revision)."""
    try:
        changed = _guarded_call(editing.restore_revision, item_id, seq)
    except EditingError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("curate.item_history", item_id=item_id), code=303)
    flash(_("Version %(seq)s has been restored.", seq=seq) if changed
          else _("The item is already as in version %(seq)s.", seq=seq), "success")
    return redirect(url_for("curate.item_history", item_id=item_id), code=303)
