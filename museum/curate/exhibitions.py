"""The exhibition editor under /curate/exhibitions: the list, the fields, sections and their items,
publishing, history and restore, and a preview of the story as visitors will read it.

Every change is a plain POST form (CSRF-checked) that works without scripts; on a refusal the
editor is shown again with the curator's typed values kept and each message beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from museum.catalogue.exhibitions import exhibition_preview, today_utc
from museum.curate import add_nav, bp
from museum.curate.auth import curator_required, current_account
from museum.curation import exhibitions as use
from museum.curation.exhibitions import ExhibitionError, ExhibitionNotFound, ExhibitionView, Problem
from museum.web import current_catalogue, whole_number

add_nav("curate.exhibitions", lazy_gettext("Exhibitions"), order=30)

# Each language in its own script, so a curator finds theirs whatever the interface language.
LANGUAGE_NAMES = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
MESSAGES = {
    "title_required": lazy_gettext("Give a title in at least one language."),
    "too_long": lazy_gettext("At most %(n)s characters."),
    "slug_required": lazy_gettext("Give the exhibition an address."),
    "slug_form": lazy_gettext("Use lowercase letters, digits and single hyphens, for example spring-landscapes."),
    "slug_taken": lazy_gettext("Another exhibition already uses this address."),
    "date_form": lazy_gettext("Enter a date as YYYY-MM-DD."),
    "date_order": lazy_gettext("The closing date cannot be before the opening date."),
    "position_form": lazy_gettext("Enter a whole number."),
    "item_required": lazy_gettext("Give an item id."),
    "no_item": lazy_gettext("There is no item %(item_id)s."),
    "item_trashed": lazy_gettext("Item %(item_id)s is in the trash."),
    "item_not_allowed": lazy_gettext("Item %(item_id)s is a draft of another institution: you may add published "
                                     "items and your own institutions' items."),
    "already_here": lazy_gettext("Item %(item_id)s is already in this section."),
    "too_many_sections": lazy_gettext("An exhibition has at most %(n)s sections."),
    "too_many_entries": lazy_gettext("A section has at most %(n)s items."),
    "conflict": lazy_gettext("The exhibition was changed elsewhere (by another curator or in another tab) while "
                             "you were editing. Your text is kept below: compare it with the current version and "
                             "save again."),
    "status": lazy_gettext("Unknown status."),
}
STATUS_MESSAGES = {
    "published": lazy_gettext("The exhibition is published."),
    "draft": lazy_gettext("The exhibition is a draft now; visitors no longer see it."),
    "trashed": lazy_gettext("The exhibition is in the trash."),
}


@dataclass
class FormState:
    """What a curator typed into one form and the messages for its fields, to show the form again."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _messages(problems: list[Problem]) -> dict[str, list[str]]:
    """Return the problems' messages in the curator's language, by field name."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        template = MESSAGES.get(problem.code)
        text = str(template) % problem.params if template is not None else problem.code
        errors.setdefault(problem.field_name, []).append(text)
    return errors


def _typed(*prefixes: str) -> dict[str, str]:
    """Return the form's values of the per-language fields with these prefixes (title.en …)."""
    return {f"{prefix}.{lang}": request.form.get(f"{prefix}.{lang}", "") for prefix in prefixes
            for lang in use.LANGUAGES}


def _labels(values: dict[str, str], prefix: str) -> dict[str, str]:
    """Return the language map typed for one prefix."""
    return {lang: values.get(f"{prefix}.{lang}", "") for lang in use.LANGUAGES}


def _exhibition_form() -> tuple[use.ExhibitionForm, dict[str, str]]:
    """Return the exhibition fields typed, as the use case takes them and as the form shows them."""
    values = _typed("title", "summary")
    for name in ("slug", "cover_item_id", "opens_on", "closes_on", "position"):
        values[name] = request.form.get(name, "")
    form = use.ExhibitionForm(slug=values["slug"], title=_labels(values, "title"), summary=_labels(values, "summary"),
                              cover_item_id=values["cover_item_id"], opens_on=values["opens_on"],
                              closes_on=values["closes_on"], position=values["position"] or "0")
    return form, values


def _expected_revision() -> int | None:
    """Return the revision the submitted form was made from, None when it did not say."""
    return whole_number(request.form.get("revision", ""), None, max_digits=11)


def _fields_of(exhibition: ExhibitionView) -> dict[str, str]:
    """Return the fields form's values for an exhibition as stored."""
    values = {f"title.{lang}": exhibition.title.get(lang, "") for lang in use.LANGUAGES}
    values |= {f"summary.{lang}": exhibition.summary.get(lang, "") for lang in use.LANGUAGES}
    values |= {"slug": exhibition.slug, "cover_item_id": exhibition.cover_item_id,
               "opens_on": exhibition.opens_on.isoformat() if exhibition.opens_on else "",
               "closes_on": exhibition.closes_on.isoformat() if exhibition.closes_on else "",
               "position": str(exhibition.position)}
    return values


def _editor(exhibition_id: int, status: int = 200, **state: Any) -> ResponseReturnValue:
    """Render the editor of an exhibition, with any forms to show again as typed."""
    exhibition = use.exhibition_for_editing(current_catalogue(), exhibition_id)
    if exhibition is None:
        abort(404)
    fields = state.pop("fields", None) or FormState(values=_fields_of(exhibition))
    find_section = whole_number(request.args.get("section", ""), None, max_digits=11)
    find_text = request.args.get("find", "").strip()[:200]
    found: list[use.ItemChoice] = []
    if find_text and find_section is not None:
        found = use.choose_items(current_catalogue(), current_account(), find_text)
    today = today_utc()
    open_today = ((exhibition.opens_on is None or exhibition.opens_on <= today)
                  and (exhibition.closes_on is None or today <= exhibition.closes_on))
    context = {
        "exhibition": exhibition, "fields": fields, "languages": use.LANGUAGES, "language_names": LANGUAGE_NAMES,
        "section_forms": {}, "caption_forms": {}, "add_forms": {}, "new_section": FormState(),
        "find_section": find_section, "find_text": find_text,
        "found": found, "open_today": open_today, "limits": _limits(),
    }
    context.update(state)
    return render_template("curate/exhibitions/edit.html", **context), status


def _limits() -> dict[str, int]:
    """Return the field lengths the forms announce (the use cases enforce them)."""
    return {"slug": use.MAX_SLUG, "title": use.MAX_TITLE, "summary": use.MAX_SUMMARY, "heading": use.MAX_HEADING,
            "body": use.MAX_BODY, "caption": use.MAX_CAPTION, "item_id": use.MAX_ITEM_ID}


def _back(exhibition_id: int, anchor: str = "") -> ResponseReturnValue:
    """Redirect to the editor, at an anchor of the page if given."""
    return redirect(url_for("curate.edit_exhibition", exhibition_id=exhibition_id) + (f"#{anchor}" if anchor else ""))


def _offset() -> int:
    """Return -1 to move up, +1 to move down, from the form's direction."""
    return -1 if request.form.get("direction") == "up" else 1


# ----- the list and a new exhibition ----------------------------------------------------


@bp.get("/exhibitions")
@curator_required
def exhibitions() -> ResponseReturnValue:
    """List every exhibition with its status, dates and size."""
    return render_template("curate/exhibitions/list.html",
                           exhibitions=use.exhibitions_for_editing(current_catalogue()))


@bp.route("/exhibitions/new", methods=["GET", "POST"])
@curator_required
def new_exhibition() -> ResponseReturnValue:
    """Show the form for a new exhibition and create it as a draft."""
    state = FormState()
    status = 200
    if request.method == "POST":
        form, state.values = _exhibition_form()
        try:
            exhibition_id = use.create_exhibition(current_catalogue(), current_account(), form)
        except ExhibitionError as exc:
            state.errors = _messages(exc.problems)
            status = 400
        else:
            flash(_("The exhibition was created as a draft. Now add its sections."), "success")
            return _back(exhibition_id, "sections")
    return render_template("curate/exhibitions/new.html", fields=state, languages=use.LANGUAGES,
                           language_names=LANGUAGE_NAMES, limits=_limits()), status


# ----- the editor -------------------------------------------------------------------------


@bp.get("/exhibitions/<int:exhibition_id>")
@curator_required
def edit_exhibition(exhibition_id: int) -> ResponseReturnValue:
    """Show the editor: fields, status, sections with their items, and the item finder."""
    return _editor(exhibition_id)


@bp.post("/exhibitions/<int:exhibition_id>")
@curator_required
def update_exhibition(exhibition_id: int) -> ResponseReturnValue:
    """Save the exhibition's own fields."""
    form, values = _exhibition_form()
    try:
        use.update_exhibition(current_catalogue(), current_account(), exhibition_id, form, _expected_revision())
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError as exc:
        return _editor(exhibition_id, 400, fields=FormState(values, _messages(exc.problems)))
    flash(_("Saved."), "success")
    return _back(exhibition_id, "fields")


@bp.post("/exhibitions/<int:exhibition_id>/status")
@curator_required
def exhibition_status(exhibition_id: int) -> ResponseReturnValue:
    """Publish, withdraw, trash or take an exhibition back out of the trash."""
    status = request.form.get("status", "")
    try:
        use.set_exhibition_status(current_catalogue(), current_account(), exhibition_id, status)
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError:
        abort(400)
    flash(str(STATUS_MESSAGES[status]), "success")
    return _back(exhibition_id)


# ----- sections ---------------------------------------------------------------------------


@bp.post("/exhibitions/<int:exhibition_id>/sections")
@curator_required
def add_section(exhibition_id: int) -> ResponseReturnValue:
    """Add a section at the end of the exhibition."""
    values = _typed("heading", "body")
    try:
        section_id = use.add_section(current_catalogue(), current_account(), exhibition_id,
                                     _labels(values, "heading"), _labels(values, "body"))
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError as exc:
        return _editor(exhibition_id, 400, new_section=FormState(values, _messages(exc.problems)))
    flash(_("Section added."), "success")
    return _back(exhibition_id, f"section-{section_id}")


@bp.post("/exhibitions/<int:exhibition_id>/sections/<int:section_id>")
@curator_required
def update_section(exhibition_id: int, section_id: int) -> ResponseReturnValue:
    """Save a section's heading and text."""
    values = _typed("heading", "body")
    try:
        use.update_section(current_catalogue(), current_account(), exhibition_id, section_id,
                           _labels(values, "heading"), _labels(values, "body"), _expected_revision())
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError as exc:
        return _editor(exhibition_id, 400, section_forms={section_id: FormState(values, _messages(exc.problems))})
    flash(_("Section saved."), "success")
    return _back(exhibition_id, f"section-{section_id}")


@bp.post("/exhibitions/<int:exhibition_id>/sections/<int:section_id>/move")
@curator_required
def move_section(exhibition_id: int, section_id: int) -> ResponseReturnValue:
    """Move a section up or down."""
    try:
        use.move_section(current_catalogue(), current_account(), exhibition_id, section_id, _offset())
    except ExhibitionNotFound:
        abort(404)
    return _back(exhibition_id, f"section-{section_id}")


@bp.post("/exhibitions/<int:exhibition_id>/sections/<int:section_id>/remove")
@curator_required
def remove_section(exhibition_id: int, section_id: int) -> ResponseReturnValue:
    """Remove a section and its items (the history can bring it back)."""
    try:
        use.remove_section(current_catalogue(), current_account(), exhibition_id, section_id)
    except ExhibitionNotFound:
        abort(404)
    flash(_("Section removed. Its earlier version stays in the history."), "success")
    return _back(exhibition_id, "sections")


# ----- items in sections ------------------------------------------------------------------


@bp.post("/exhibitions/<int:exhibition_id>/sections/<int:section_id>/items")
@curator_required
def add_entry(exhibition_id: int, section_id: int) -> ResponseReturnValue:
    """Add an item, by its id, at the end of a section."""
    values = _typed("caption")
    values["item_id"] = request.form.get("item_id", "")
    try:
        entry_id = use.add_entry(current_catalogue(), current_account(), exhibition_id, section_id,
                                 values["item_id"], _labels(values, "caption"))
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError as exc:
        return _editor(exhibition_id, 400, add_forms={section_id: FormState(values, _messages(exc.problems))})
    flash(_("Item added."), "success")
    return _back(exhibition_id, f"entry-{entry_id}")


@bp.post("/exhibitions/<int:exhibition_id>/items/<int:entry_id>")
@curator_required
def update_entry(exhibition_id: int, entry_id: int) -> ResponseReturnValue:
    """Save the caption of an item in a section."""
    values = _typed("caption")
    try:
        use.update_entry(current_catalogue(), current_account(), exhibition_id, entry_id,
                         _labels(values, "caption"), _expected_revision())
    except ExhibitionNotFound:
        abort(404)
    except ExhibitionError as exc:
        return _editor(exhibition_id, 400, caption_forms={entry_id: FormState(values, _messages(exc.problems))})
    flash(_("Caption saved."), "success")
    return _back(exhibition_id, f"entry-{entry_id}")


@bp.post("/exhibitions/<int:exhibition_id>/items/<int:entry_id>/move")
@curator_required
def move_entry(exhibition_id: int, entry_id: int) -> ResponseReturnValue:
    """Move an item up or down within its section."""
    try:
        use.move_entry(current_catalogue(), current_account(), exhibition_id, entry_id, _offset())
    except ExhibitionNotFound:
        abort(404)
    return _back(exhibition_id, f"entry-{entry_id}")


@bp.post("/exhibitions/<int:exhibition_id>/items/<int:entry_id>/remove")
@curator_required
def remove_entry(exhibition_id: int, entry_id: int) -> ResponseReturnValue:
    """Take an item out of its section."""
    try:
        use.remove_entry(current_catalogue(), current_account(), exhibition_id, entry_id)
    except ExhibitionNotFound:
        abort(404)
    flash(_("Item removed from the section."), "success")
    return _back(exhibition_id, "sections")


# ----- history and preview ----------------------------------------------------------------


@bp.get("/exhibitions/<int:exhibition_id>/history")
@curator_required
def exhibition_history(exhibition_id: int) -> ResponseReturnValue:
    """List the exhibition's revisions, each with a way to restore it."""
    exhibition = use.exhibition_for_editing(current_catalogue(), exhibition_id)
    if exhibition is None:
        abort(404)
    history = use.exhibition_history(current_catalogue(), exhibition_id)
    return render_template("curate/exhibitions/history.html", exhibition=exhibition, history=history)


@bp.post("/exhibitions/<int:exhibition_id>/history/<int:seq>/restore")
@curator_required
def restore_revision(exhibition_id: int, seq: int) -> ResponseReturnValue:
    """Bring the exhibition back to an earlier revision (itself a new revision)."""
    try:
        use.restore_revision(current_catalogue(), current_account(), exhibition_id, seq)
    except ExhibitionNotFound:
        abort(404)
    flash(_("The exhibition was restored to revision %(seq)s; its status is unchanged.", seq=seq), "success")
    return _back(exhibition_id)


@bp.get("/exhibitions/<int:exhibition_id>/preview")
@curator_required
def preview_exhibition(exhibition_id: int) -> ResponseReturnValue:
    """Show the story as visitors will read it once published and open (published items only)."""
    page = exhibition_preview(current_catalogue(), exhibition_id)
    if page is None:
        abort(404)
    return render_template("public/exhibition.html", page=page, preview_of=exhibition_id)
