"""The museum exhibit server: create_app builds the Flask application in a short list of steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from museum.config import PROJECT_ROOT, ensure_secret_key, load_settings


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application over the configured data directory."""
    from museum import web
    from museum.api import bp as api_bp
    from museum.catalogue.service import open_catalogue
    from museum.curate import bp as curate_bp
    from museum.curate.auth import init_auth, template_globals
    from museum.iiif import bp as iiif_bp
    from museum.oai import bp as oai_bp
    from museum.opendata import bp as opendata_bp
    from museum.public import bp as public_bp

    settings = ensure_secret_key(load_settings(overrides))
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    web.configure(app, settings)
    catalogue = open_catalogue(settings)
    web.prepare_catalogue(app, catalogue)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(iiif_bp)
    app.register_blueprint(opendata_bp)
    init_auth(app)
    app.register_blueprint(curate_bp)
    app.register_blueprint(oai_bp)  # after init_auth: it exempts itself from CSRF checks
    app.context_processor(template_globals)
    web.register_error_pages(app)
    web.refuse_nul_characters(app)
    web.add_security_headers(app)
    return app
