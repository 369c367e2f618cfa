"""The curators' blueprint under /curate: login, dashboard, item editor, import, exhibitions, admin.

Every view here needs a logged-in account (`auth.curator_required` / `auth.admin_required`), every
state change is a POST checked for a CSRF token, and nothing here is ever page-cached.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("curate", __name__, url_prefix="/curate")

from museum.curate import auth, dashboard  # noqa: E402,F401 - routes attach themselves to bp
