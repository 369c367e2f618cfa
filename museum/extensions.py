"""Unbound Flask extension singletons, initialised by create_app."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache

babel = Babel()
cache = Cache()
