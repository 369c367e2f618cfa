"""The curators' blueprint under /curate: login, dashboard, item editor, import, exhibitions, admin.

Every view here needs a logged-in account (`auth.curator_required` / `auth.admin_required`), every
state change is a POST checked for a CSRF token, and nothing here is ever page-cached. Each
module adds its pages to the curators' navigation with `add_nav`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

bp = Blueprint("curate", __name__, url_prefix="/curate")


@dataclass(frozen=True)
class NavEntry:
    """One link of the curators' navigation."""

    endpoint: str
    label: object          # a lazy_gettext string, translated when the page renders
    admin_only: bool = False
    order: int = 50


NAV: list[NavEntry] = []


def add_nav(endpoint: str, label: object, admin_only: bool = False, order: int = 50) -> None:
    """Add a link to the curators' navigation (called once by each module at import)."""
    NAV.append(NavEntry(endpoint, label, admin_only, order))
    NAV.sort(key=lambda entry: entry.order)


from museum.curate import (  # noqa: E402,F401 - routes attach themselves to bp
    admin,
    auth,
    dashboard,
    exhibitions,
    imports,
    items,
)
