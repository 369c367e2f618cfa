"""The public blueprint: home, collections, items, search and image files for visitors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from museum.public import exhibitions, views  # noqa: E402,F401 - routes attach themselves to bp
