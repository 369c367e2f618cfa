"""IIIF Presentation API 3.0 views: Manifests of published items and Collections, as JSON(-LD) with CORS."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as translate
from werkzeug.http import parse_options_header

from museum.catalogue import service
from museum.i18n import HTML_LANG
from museum.iiif import bp, presentation
from museum.images.derivatives import DERIVATIVE_SIZES
from museum.web import current_catalogue

JSON_LD = f'application/ld+json;profile="{presentation.CONTEXT}"'
# Short: documents change when a curator edits an item, and the ETag makes revalidation cheap.
MAX_AGE = 300
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    # Browsers preflight an Accept header naming the JSON-LD profile (it holds quotes).
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, If-None-Match",
    "Access-Control-Expose-Headers": "ETag",
    "Access-Control-Max-Age": "86400",
}


class SiteLinks:
    """The site's absolute URLs for the current request (scheme, host and prefix as the client sees them)."""

    thumbnail_edge = DERIVATIVE_SIZES["thumb"]

    def manifest(self, item_id: str) -> str:
        """Return the URL of an item's Manifest."""
        return url_for("iiif.manifest", item_id=item_id, _external=True)

    def collection(self, slug: str) -> str:
        """Return the URL of a collection's IIIF Collection."""
        return url_for("iiif.collection", slug=slug, _external=True)

    def collections(self) -> str:
        """Return the URL of the IIIF Collection of all collections."""
        return url_for("iiif.collections", _external=True)

    def item_page(self, item_id: str) -> str:
        """Return the URL of an item's page."""
        return url_for("public.item", item_id=item_id, _external=True)

    def collection_page(self, slug: str) -> str:
        """Return the URL of a collection's page."""
        return url_for("public.collection", slug=slug, _external=True)

    def collections_page(self) -> str:
        """Return the URL of the page listing the collections."""
        return url_for("public.collections", _external=True)

    def image_service(self, sha256: str) -> str:
        """Return the base URI of an image's IIIF Image API service."""
        # The Image API views own /iiif/3/<identifier>/…; the base URI is the identifier's path.
        return f"{request.url_root.rstrip('/')}/iiif/3/{sha256}"

    def thumbnail(self, sha256: str) -> str:
        """Return the URL of an image's JPEG thumbnail."""
        return url_for("public.media", sha256=sha256, size="thumb", fmt="jpeg", _external=True)


def ui_labels() -> dict[str, presentation.LanguageMap]:
    """Return every label the documents use, translated into each UI language."""
    labels: dict[str, presentation.LanguageMap] = {}
    for locale, language in HTML_LANG.items():
        with force_locale(locale):
            for msgid in presentation.MESSAGES:
                # Without arguments gettext leaves %(name)s placeholders for the builders to fill.
                labels.setdefault(msgid, {})[language] = [str(translate(msgid))]
    return labels


def wants_json_ld() -> bool:
    """Tell whether the client asked for JSON-LD (at least as much as for plain JSON)."""
    best_ld = 0.0
    for value, quality in request.accept_mimetypes:
        mimetype, options = parse_options_header(value)
        profile = options.get("profile")
        if mimetype == "application/ld+json" and profile in (None, presentation.CONTEXT):
            best_ld = max(best_ld, quality)
    explicit_json = max((q for v, q in request.accept_mimetypes if parse_options_header(v)[0] == "application/json"),
                        default=0.0)
    return best_ld > 0 and best_ld >= explicit_json


def _json_response(payload: dict[str, Any], status: int = 200) -> Response:
    """Return payload as a JSON (or JSON-LD) response with CORS headers and validators."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, status=status, content_type=JSON_LD if wants_json_ld() else "application/json")
    response.headers.update(CORS_HEADERS)
    response.vary.add("Accept")
    if status == 200:
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.add_etag()
        response.make_conditional(request)
    return response


def not_found(message: str) -> Response:
    """Return a 404 as JSON, as a IIIF client can read it."""
    return _json_response({"error": {"code": 404, "name": "Not Found", "message": message}}, 404)


def preflight() -> Response:
    """Answer a CORS preflight request."""
    response = Response(status=204)
    response.headers.update(CORS_HEADERS)
    return response


@bp.route("/manifest/<path:item_id>", methods=["GET", "OPTIONS"])
def manifest(item_id: str) -> Response:
    """Return the Manifest of a published item with at least one image."""
    if request.method == "OPTIONS":
        return preflight()
    item = service.published_item(current_catalogue(), item_id)
    if item is None:
        return not_found("No published item has this id.")
    if not item.images:
        # Presentation 3.0: a Manifest MUST have at least one Canvas; this item has no image to paint.
        return not_found("This item has no images, so it has no IIIF Manifest.")
    return _json_response(presentation.manifest(item, SiteLinks(), ui_labels()))


@bp.route("/collection/<slug>", methods=["GET", "OPTIONS"])
def collection(slug: str) -> Response:
    """Return the Collection of a collection: its published items that have images."""
    if request.method == "OPTIONS":
        return preflight()
    found = service.published_collection(current_catalogue(), slug)
    if found is None:
        return not_found("There is no collection with this name.")
    coll, items = found
    return _json_response(presentation.collection(coll, items, SiteLinks(), ui_labels()))


@bp.route("/collection", methods=["GET", "OPTIONS"])
def collections() -> Response:
    """Return the top Collection listing every collection."""
    if request.method == "OPTIONS":
        return preflight()
    settings = current_catalogue().settings
    names = {"zh-Hans": settings.site_name_zh_hans, "zh-Hant": settings.site_name_zh_hant, "en": settings.site_name_en}
    site_name = {language: [name] for language, name in names.items() if name} or {"none": [request.host]}
    cards = service.collections_page(current_catalogue())
    return _json_response(presentation.collections(cards, site_name, SiteLinks()))
