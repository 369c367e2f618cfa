"""Bulk import pages: upload a table (and a ZIP of images), read the dry run, run it, follow its
progress, read the report and undo a whole import (views only; the use cases are curation.bulk_import).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import RequestEntityTooLarge

from museum.curate import add_nav, bp
from museum.curate.auth import csrf, curator_required, current_account
from museum.curate.items import FIELD_LABELS
from museum.curation import bulk_import
from museum.curation.bulk_import import JobView, NewCollection, Upload, UploadRefused
from museum.web import current_catalogue, whole_number

add_nav("curate.imports", lazy_gettext("Imports"), order=30)

ROWS_PER_PAGE = 200

STATE_LABELS = {
    "uploaded": lazy_gettext("Checking"),
    "checked": lazy_gettext("Checked, not imported yet"),
    "running": lazy_gettext("Importing"),
    "done": lazy_gettext("Imported"),
    "failed": lazy_gettext("Failed"),
    "undoing": lazy_gettext("Undoing"),
    "undone": lazy_gettext("Undone"),
    "interrupted": lazy_gettext("Interrupted"),
}

ACTION_LABELS = {
    "create": lazy_gettext("New"),
    "change": lazy_gettext("Changed"),
    "unchanged": lazy_gettext("Unchanged"),
    "refused": lazy_gettext("Refused"),
}

# Why a row is refused (codes from catalogue.importing and curation.bulk_import).
ROW_REASONS = {
    "row_unreadable": lazy_gettext("The row cannot be read (%(error)s)."),
    "too_many_cells": lazy_gettext("The row has %(cells)s cells but the header has %(columns)s columns."),
    "too_long": lazy_gettext("%(column)s is longer than %(limit)s characters."),
    "id_empty": lazy_gettext("The id is empty."),
    "id_chars": lazy_gettext("The id must not contain spaces, ? or #."),
    "title_empty": lazy_gettext("The title is empty."),
    "year_form": lazy_gettext("%(column)s must be a whole year (negative for BCE), not “%(value)s”."),
    "year_range": lazy_gettext("%(column)s %(year)s is outside the years -10000 to 2100."),
    "year_order": lazy_gettext("begin_year %(begin)s is after end_year %(end)s."),
    "status": lazy_gettext("status must be published or draft, not “%(value)s”."),
    "featured": lazy_gettext("featured must be yes or empty, not “%(value)s”."),
    "institution_unknown": lazy_gettext("There is no institution “%(institution)s” in the catalogue."),
    "url_scheme": lazy_gettext("%(column)s must start with http:// or https://."),
    "duplicate_id": lazy_gettext("This id was already used on line %(line)s."),
    "image_path": lazy_gettext("The image name “%(name)s” must be a plain file name."),
    "image_missing": lazy_gettext("The image “%(name)s” is not in the ZIP file."),
    "image_refused": lazy_gettext("The image “%(name)s” was refused: %(reason)s"),
    "database": lazy_gettext("The database refused the row (%(error)s)."),
    "not_your_institution": lazy_gettext("You may not import items of the institution “%(institution)s”."),
    "not_your_item": lazy_gettext("An item with this id is held by “%(institution)s”, which you may not edit."),
}

# Why an upload, or a request about a job, is refused.
UPLOAD_REASONS = {
    "too_large": lazy_gettext("The file is larger than %(megabytes)s MB."),
    "encoding": lazy_gettext("The table is not text in UTF-8, GB18030 or Big5. Save it as “CSV UTF-8” and "
                             "upload it again."),
    "empty": lazy_gettext("The table file is empty."),
    "no_rows": lazy_gettext("The table has a header but no rows."),
    "header_unreadable": lazy_gettext("The header row cannot be read (%(error)s)."),
    "header_columns": lazy_gettext("The header must have at least the columns id and title (found: %(found)s)."),
    "header_duplicates": lazy_gettext("These columns appear twice in the header: %(columns)s."),
    "xlsx_broken": lazy_gettext("The file is not a readable XLSX workbook."),
    "xlsx_too_large": lazy_gettext("The workbook unpacks to more than %(megabytes)s MB."),
    "too_many_rows": lazy_gettext("The table has more than %(limit)s rows. Split it into smaller files."),
    "not_table": lazy_gettext("This file is not a table. Upload a .csv file or an .xlsx workbook."),
    "xls": lazy_gettext("This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx or "
                        "as “CSV UTF-8”."),
    "utf16": lazy_gettext("This is UTF-16 text. Save it as “CSV UTF-8”."),
    "table_required": lazy_gettext("Choose a table file (.csv or .xlsx)."),
    "table_type": lazy_gettext("Upload the table as a .csv or .xlsx file (“%(name)s” is neither)."),
    "zip_type": lazy_gettext("The images must be uploaded as one .zip file (“%(name)s” is not one)."),
    "zip_broken": lazy_gettext("The images file is not a readable ZIP archive."),
    "zip_entries": lazy_gettext("The ZIP is refused: it holds more than %(limit)s files."),
    "zip_path": lazy_gettext("The ZIP is refused: the entry “%(name)s” points outside the archive (an absolute "
                             "path, a drive letter or ..)."),
    "zip_symlink": lazy_gettext("The ZIP is refused: the entry “%(name)s” is a symbolic link."),
    "zip_encrypted": lazy_gettext("The ZIP is refused: the entry “%(name)s” is encrypted."),
    "zip_duplicate": lazy_gettext("The ZIP is refused: the name “%(name)s” appears more than once."),
    "zip_nested": lazy_gettext("The ZIP is refused: “%(name)s” is an archive inside the archive."),
    "zip_total": lazy_gettext("The ZIP is refused: it would unpack to more than %(gigabytes)s GB."),
    "zip_ratio": lazy_gettext("The ZIP is refused: “%(name)s” is compressed more than %(ratio)s to 1, like a "
                              "zip bomb."),
    "zip_entry_too_large": lazy_gettext("The ZIP is refused: “%(name)s” is larger than %(megabytes)s MB."),
    "zip_damaged": lazy_gettext("The ZIP is damaged: “%(name)s” cannot be unpacked."),
    "collection_required": lazy_gettext("Choose a collection, or describe a new one."),
    "collection_unknown": lazy_gettext("There is no collection “%(slug)s”."),
    "collection_forbidden": lazy_gettext("You may not import into the collection “%(slug)s”."),
    "collection_missing": lazy_gettext("The collection “%(collection)s” no longer exists."),
    "slug_form": lazy_gettext("A collection's short name is lowercase letters, digits and hyphens (at most 100)."),
    "slug_taken": lazy_gettext("There is already a collection “%(slug)s”."),
    "title_required": lazy_gettext("Give the new collection a title."),
    "title_long": lazy_gettext("The title is longer than %(limit)s characters."),
    "institution_missing": lazy_gettext("There is no institution “%(institution)s”."),
    "institution_forbidden": lazy_gettext("You may not create collections for “%(institution)s”."),
    "job_missing": lazy_gettext("There is no such import."),
    "job_conflict": lazy_gettext("This import has already moved on; the page shows where it is now."),
}

EXTRA_FIELD_LABELS = {"images": lazy_gettext("Images")}


def reason_text(reason: dict[str, Any] | None) -> str:
    """Return a stored refusal (code, details, English text) in the curator's language."""
    if not reason:
        return ""
    message = ROW_REASONS.get(str(reason.get("code"))) or UPLOAD_REASONS.get(str(reason.get("code")))
    if message is None:
        return str(reason.get("text", ""))
    try:
        return str(message) % dict(reason.get("params") or {})
    except (KeyError, TypeError, ValueError):
        return str(reason.get("text", ""))


def refusal_text(error: UploadRefused) -> str:
    """Return a refused upload's reason in the curator's language."""
    return reason_text({"code": error.code, "params": error.params, "text": str(error)})


def field_label(name: str) -> str:
    """Return the label of an item field named in a plan."""
    return str(FIELD_LABELS.get(name) or EXTRA_FIELD_LABELS.get(name) or name)


def state_label(job: JobView) -> str:
    """Return what a job's state is called, "interrupted" included."""
    return str(STATE_LABELS["interrupted" if job.interrupted else job.state])


def _job_or_404(job_id: str) -> JobView:
    """Return a job the curator may see, or answer 404 (others' jobs are not even acknowledged)."""
    job = bulk_import.get_job(current_catalogue(), current_account(), job_id)
    if job is None:
        abort(404)
    return job


def _job_url(job_id: str) -> str:
    """Return the page of a job."""
    return url_for("curate.import_job", job_id=job_id)


def _render_form(error: str = "", status: int = 200) -> ResponseReturnValue:
    """Render the upload form with the collections and institutions the curator may use."""
    cat, account = current_catalogue(), current_account()
    values = {name: request.form.get(name, "") for name in ("target", "collection", "new_slug", "new_title",
                                                            "new_institution")}
    html = render_template(
        "curate/imports/new.html", error=error, values=values,
        collections=bulk_import.collection_choices(cat, account),
        institutions=bulk_import.institution_choices(cat, account),
        max_rows=bulk_import.MAX_ROWS, max_megabytes=round(_upload_limit() / 2**20),
        zip_entries=bulk_import.ZIP_MAX_ENTRIES)
    return html, status


def _upload_limit() -> int:
    """Return the largest request body the app accepts, in bytes."""
    from flask import current_app

    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


@bp.get("/imports")
@curator_required
def imports() -> ResponseReturnValue:
    """List the curator's imports (an admin sees everyone's)."""
    jobs = bulk_import.list_jobs(current_catalogue(), current_account())
    return render_template("curate/imports/list.html", jobs=jobs, state_label=state_label,
                           progress_text=progress_text)


@bp.route("/imports/new", methods=["GET", "POST"])
@curator_required
def new_import() -> ResponseReturnValue:
    """Show the upload form, and store an upload as a job whose dry run starts at once."""
    if request.method == "GET":
        return _render_form()
    try:
        # Checked here rather than before the view, so an oversized upload gets this page's answer.
        csrf.protect()
        files = request.files
        form = request.form
    except RequestEntityTooLarge:
        message = _("The upload is too large: the table and the ZIP together may have at most %(mb)s MB.",
                    mb=round(_upload_limit() / 2**20))
        return render_template("errors/error.html", code=413, message=message), 413
    table, images = files.get("table"), files.get("images")
    new = None
    if form.get("target") == "new":
        new = NewCollection(slug=form.get("new_slug", "")[:200], title=form.get("new_title", "")[:1000],
                            institution=form.get("new_institution", "")[:200])
    try:
        job_id = bulk_import.create_job(
            current_catalogue(), current_account(),
            table=Upload(table.filename or "", table.stream) if table is not None and table.filename else None,
            images=Upload(images.filename or "", images.stream) if images is not None and images.filename else None,
            collection=form.get("collection", "")[:200], new_collection=new)
    except UploadRefused as exc:
        return _render_form(refusal_text(exc), 400)
    flash(_("The files were received. The dry run is checking every row; nothing has been imported yet."), "info")
    return redirect(_job_url(job_id), code=303)


csrf.exempt(new_import)


def _rows_page(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str, int, int]:
    """Return the rows to show (filtered by ?show= and paged by ?page=), the filter, page and pages."""
    show = request.args.get("show", "all")
    if show not in ("all", *ACTION_LABELS):
        show = "all"
    chosen = rows if show == "all" else [r for r in rows if r.get("action") == show]
    pages = max(1, -(-len(chosen) // ROWS_PER_PAGE))
    page = min(max(whole_number(request.args.get("page", "1"), 1), 1), pages)
    return chosen[(page - 1) * ROWS_PER_PAGE:page * ROWS_PER_PAGE], show, page, pages


@bp.get("/imports/<job_id>")
@curator_required
def import_job(job_id: str) -> ResponseReturnValue:
    """Show a job: its progress, its dry run, or its report, with what can be done next."""
    job = _job_or_404(job_id)
    source = job.report if job.state in ("done", "undoing", "undone") or (job.state == "failed" and job.ran) \
        else job.plan
    rows, show, page, pages = _rows_page(list(source.get("rows") or []))
    preview = bulk_import.undo_preview(current_catalogue(), job) if job.may_undo else None
    if preview is not None and not (preview.created or preview.changed):
        preview = None      # an import that wrote nothing has nothing to undo
    return render_template(
        "curate/imports/job.html", job=job, rows=rows, counts=source.get("counts") or {}, show=show, page=page,
        pages=pages, preview=preview, state_label=state_label, action_labels=ACTION_LABELS,
        progress_text=progress_text,
        reason_text=reason_text, field_label=field_label, error_text=_error_text(job))


def _error_text(job: JobView) -> str:
    """Return why a job's work failed, in the curator's language where the reason is known."""
    if not job.error:
        return ""
    stored = job.report.get("error") or {}
    known = reason_text({**stored, "text": job.error}) if stored.get("code") else ""
    return known or job.error


@bp.get("/imports/<job_id>/progress")
@curator_required
def import_progress(job_id: str) -> ResponseReturnValue:
    """Answer the progress of a job as JSON, for the page's script."""
    job = _job_or_404(job_id)
    return jsonify(state=job.state, rows_done=job.rows_done, rows_total=job.rows_total,
                   interrupted=job.interrupted, active=job.active, text=progress_text(job))


def progress_text(job: JobView) -> str:
    """Return how far a job's work has come, in words."""
    if job.state == "undoing":
        return str(_("%(percent)s%% undone", percent=job.rows_done * 100 // max(job.rows_total, 1)))
    return str(_("%(done)s of %(total)s rows", done=job.rows_done, total=job.rows_total))


def _act(job_id: str, action: Any, done_message: str) -> ResponseReturnValue:
    """Run one of the job actions and go back to the job's page with what happened."""
    _job_or_404(job_id)
    try:
        action(current_catalogue(), current_account(), job_id)
    except UploadRefused as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(done_message, "success")
    return redirect(_job_url(job_id), code=303)


@bp.post("/imports/<job_id>/run")
@curator_required
def run_import(job_id: str) -> ResponseReturnValue:
    """Start the real import of a checked job."""
    return _act(job_id, bulk_import.start_run,
                _("The import has started. You can leave this page and come back later."))


@bp.post("/imports/<job_id>/resume")
@curator_required
def resume_import(job_id: str) -> ResponseReturnValue:
    """Start again the work of an interrupted or failed job."""
    return _act(job_id, bulk_import.resume,
                _("The work has started again. Rows already done are recognised and not written twice."))


@bp.post("/imports/<job_id>/undo")
@curator_required
def undo_import(job_id: str) -> ResponseReturnValue:
    """Undo everything an import wrote."""
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the whole import is to be undone."), "error")
        return redirect(_job_url(job_id), code=303)
    return _act(job_id, bulk_import.start_undo,
                _("Undoing the import has started: new items go to the trash and changed items get back "
                  "their earlier version."))


@bp.post("/imports/<job_id>/discard")
@curator_required
def discard_import(job_id: str) -> ResponseReturnValue:
    """Throw away a job that wrote nothing, with its uploaded files."""
    _job_or_404(job_id)
    try:
        bulk_import.discard(current_catalogue(), current_account(), job_id)
    except UploadRefused as exc:
        flash(refusal_text(exc), "error")
        return redirect(_job_url(job_id), code=303)
    flash(_("The upload has been thrown away; nothing was imported."), "success")
    return redirect(url_for("curate.imports"), code=303)
