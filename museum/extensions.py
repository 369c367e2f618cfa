"""Unbound Flask extension singletons, initialised by create_app."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache

babel = Babel()
# Public pages, keyed by revision, date, notices, locale and URL (museum.web.page_cache_key).
cache = Cache()
# Rendered IIIF images, keyed by revision and URL: apart from the pages so that a viewer's
# dozens of tiles never push pages out.
tile_cache = Cache()
