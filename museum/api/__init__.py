"""The JSON API blueprint under /api/v1: machine-readable views of the public catalogue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from museum.api import views  # noqa: E402,F401 - routes attach themselves to bp
