"""IIIF Image API 3.0 routes under /iiif/3: info.json, image requests, the base URI redirect and errors.

Every response under /iiif/3/, errors included, carries CORS so viewers on other sites can use it.
"""

from __future__ import annotations

import json

from flask import Response, redirect, request, send_file, url_for
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Response as AnyResponse

from museum.catalogue import service
from museum.iiif import bp
from museum.web import current_catalogue

IMAGE_API_PATH = "/iiif/3/"
JSON_LD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
PROFILE_LINK = '<http://iiif.io/api/image/3/level2.json>;rel="profile"'
ONE_YEAR = 365 * 24 * 3600
# Image information is small and may change (e.g. when limits change), so it is kept for a day.
INFO_MAX_AGE = 24 * 3600


def _error(status: int, message: str) -> Response:
    """Return a short plain-text error that no cache keeps."""
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found() -> Response:
    """Return the one answer for unknown, unpublished and trashed images alike."""
    return _error(404, "no such image")


def _service_id(identifier: str) -> str:
    """Return the absolute base URI of an image (right behind a proxy when ProxyFix is on)."""
    return url_for("iiif.base_uri", identifier=identifier, _external=True)


@bp.get("/3/<identifier>")
def base_uri(identifier: str) -> AnyResponse:
    """Send the bare image URI to its info.json, as the Image API asks."""
    if service.public_image(current_catalogue(), identifier) is None:
        return _not_found()
    response = redirect(url_for("iiif.info", identifier=identifier, _external=True), code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/3/<identifier>/info.json")
def info(identifier: str) -> AnyResponse:
    """Serve the image information document, as JSON-LD when the client asks for it."""
    document = service.iiif_info(current_catalogue(), identifier, _service_id(identifier))
    if document is None:
        return _not_found()
    wants_ld = request.accept_mimetypes["application/ld+json"] > request.accept_mimetypes["application/json"]
    response = Response(json.dumps(document, ensure_ascii=False),
                        content_type=JSON_LD if wants_ld else "application/json")
    response.vary.add("Accept")
    response.cache_control.public = True
    response.cache_control.max_age = INFO_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/3/<identifier>/<region>/<size>/<rotation>/<quality_format>")
def image(identifier: str, region: str, size: str, rotation: str, quality_format: str) -> AnyResponse:
    """Serve one image request, rendered once and cached, with validators and a year of caching."""
    cat = current_catalogue()
    quality, dot, fmt = quality_format.rpartition(".")
    try:
        plan = service.iiif_image_plan(cat, identifier, region, size, rotation, quality if dot else "",
                                       fmt if dot else quality_format)
    except service.IiifRequestError as exc:
        return _error(exc.status, str(exc))
    if plan is None:
        return _not_found()
    links = f'<{_service_id(plan.sha256)}/{plan.canonical}>;rel="canonical",{PROFILE_LINK}'
    response: AnyResponse
    if not is_resource_modified(request.environ, etag=plan.etag, last_modified=plan.last_modified):
        # The client's copy is current: answer without rendering (or even finding) the file.
        # Typed like the image so no HTML-only header (Vary: Accept-Language, Cookie) is added.
        response = Response(status=304, mimetype=plan.media_type)
        response.set_etag(plan.etag)
    else:
        path = service.iiif_image_file(cat, plan)
        response = send_file(path, mimetype=plan.media_type, conditional=True, etag=plan.etag,
                             last_modified=plan.last_modified, max_age=ONE_YEAR)
    response.headers["Link"] = links
    response.last_modified = plan.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    return response


@bp.route("/3/", defaults={"rest": ""})
@bp.route("/3/<path:rest>")
def unknown(rest: str) -> Response:
    """Answer any other path under /iiif/3/ (wrong number of segments, slashes in ids) with 404."""
    return _not_found()


@bp.after_app_request
def _cors(response: Response) -> Response:
    """Allow every origin on Image API responses, errors and 405s included."""
    if request.path.startswith(IMAGE_API_PATH):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "Link, ETag, Last-Modified"
    return response
