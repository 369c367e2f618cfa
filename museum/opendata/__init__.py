"""The open-data blueprint: sitemaps, robots.txt, the Atom feed and collection downloads."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("opendata", __name__)

from museum.opendata import discovery, exports  # noqa: E402,F401 - routes attach themselves to bp
