"""The IIIF blueprint: Image API 3.0 under /iiif/3 and Presentation API 3.0 manifests and collections."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("iiif", __name__, url_prefix="/iiif")

from museum.iiif import image_views, presentation_views  # noqa: E402,F401 - routes attach themselves to bp
