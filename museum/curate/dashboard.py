"""The curators' lists: the dashboard of the items one may edit (with filters, search and counts),
the trash, and the administrators' site-wide activity log.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext

from museum.curate import add_nav, bp
from museum.curate.auth import admin_required, curator_required, current_account
from museum.curate.items import ACTION_LABELS, STATUS_LABELS
from museum.curation import editing
from museum.web import current_catalogue, whole_number

add_nav("curate.trash", lazy_gettext("Trash"), order=15)
add_nav("curate.activity", lazy_gettext("Activity log"), admin_only=True, order=80)

SORT_LABELS = {
    "updated": lazy_gettext("Recently changed first"),
    "title": lazy_gettext("Title"),
    "id": lazy_gettext("Id"),
}


def _page_arg() -> int:
    """Return the ?page= number, 1 for anything that is not a positive whole number."""
    return whole_number(request.args.get("page", "1"), 1)


def _dashboard(status: str) -> ResponseReturnValue:
    """Render the dashboard list for a status ("" for drafts and published items)."""
    query = editing.DashboardQuery(
        status=status, collection=request.args.get("collection", "")[:100],
        missing_image=request.args.get("missing") == "image",
        changed_days=whole_number(request.args.get("changed", ""), 0, max_digits=3),
        q=request.args.get("q", ""), sort=request.args.get("sort", "updated"), page=_page_arg())
    page = editing.dashboard(current_catalogue(), current_account(), query)
    return render_template("curate/dashboard.html", page=page, status_labels=STATUS_LABELS,
                           sort_labels=SORT_LABELS, changed_days=editing.CHANGED_DAYS)


@bp.get("/")
@curator_required
def dashboard() -> ResponseReturnValue:
    """List the items the curator may edit: filters, search over drafts too, counts per status."""
    status = request.args.get("status", "")
    return _dashboard(status if status in editing.STATUSES else "")


@bp.get("/trash")
@curator_required
def trash() -> ResponseReturnValue:
    """List the curator's items in the trash, to restore them (or, for admins, purge them)."""
    return _dashboard("trashed")


@bp.get("/activity")
@admin_required
def activity() -> ResponseReturnValue:
    """Show every revision of the site, newest first, filtered by actor, entity and action."""
    query = editing.ActivityQuery(actor=request.args.get("actor", ""), entity=request.args.get("entity", ""),
                                  action=request.args.get("action", ""), page=_page_arg())
    try:
        page = editing.activity_log(current_catalogue(), current_account(), query)
    except editing.NotAllowed:
        abort(403)
    return render_template("curate/activity.html", page=page, action_labels=ACTION_LABELS)
