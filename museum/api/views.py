"""JSON API views under /api/v1: published items, collections, institutions, exhibitions and images, the
search, and the OpenAPI document that describes them all.

Every answer is JSON, errors included (`{"error": {"code", "status", "message"}}`), open to any origin,
with an ETag over the body (304 on If-None-Match) and a short public cache lifetime. The field names are
those of `museum/api/openapi.py`; the tests check every response against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import PathConverter, Rule

from museum.api import bp, openapi
from museum.catalogue import api_reads, exhibitions, service
from museum.extensions import cache
from museum.images.derivatives import DERIVATIVE_FORMATS, DERIVATIVE_SIZES
from museum.search_form import search_request_from_args
from museum.web import current_catalogue, whole_number

MAX_PER_PAGE = 100
# Short: a curator's edit should reach clients within a minute, and the ETag makes revalidation cheap.
MAX_AGE = 60
READ_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Link",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": ", ".join(READ_METHODS),
    "Access-Control-Allow-Headers": "Accept, If-None-Match",
    "Access-Control-Max-Age": "86400",
}
ITEM_FILTERS = ("collection", "institution", "has_image", "updated_since", "year_from", "year_to")
_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_DATE_TIME = re.compile(_DATE + r"[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


class BadParameter(BadRequest):
    """A query parameter this API cannot read; the message says which and what it accepts."""

    api_code = "bad_parameter"


# ----- reading parameters ----------------------------------------------------------------


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """Return a whole-number argument of /search clamped to [low, high], default for anything else."""
    value = whole_number(request.args.get(name, ""), None)
    return default if value is None else min(max(value, low), high)


def _whole_number(name: str, low: int, high: int) -> int | None:
    """Return a whole-number parameter within [low, high], None when absent; BadParameter otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _boolean(name: str) -> bool | None:
    """Return a true/false parameter, None when absent; BadParameter otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise BadParameter(f"{name} must be true or false.")
    return raw == "true"


def _text(name: str) -> str | None:
    """Return a text parameter, None when absent or empty (so a form's empty field means "any")."""
    return request.args.get(name) or None


def _since(name: str) -> dt.datetime | None:
    """Return an RFC 3339 date or date-time parameter as UTC, None when absent; BadParameter otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return None
    problem = BadParameter(f"{name} must be a date (2024-05-01) or an RFC 3339 date-time (2024-05-01T08:00:00Z).")
    timed = _DATE_TIME.fullmatch(raw)
    dated = re.fullmatch(_DATE, raw)
    match = timed or dated
    if match is None:
        raise problem
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    hour, minute, second, offset = 0, 0, 0, dt.timedelta(0)
    if timed is not None:
        hour, minute, second = (int(timed.group(i)) for i in (4, 5, 6))
        zone = timed.group(7)
        if zone not in ("Z", "z"):
            zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
            if zone_hours > 23 or zone_minutes > 59:
                raise problem
            offset = dt.timedelta(hours=zone_hours, minutes=zone_minutes) * (1 if zone[0] == "+" else -1)
        if second == 60:
            second = 59   # RFC 3339 allows a leap second; the one before it is as good a bound
    try:
        # Year 0000 is valid RFC 3339 (a leap year) but not a Python year: year 4 checks the rest.
        local = dt.datetime(year or 4, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        raise problem from None
    if year == 0:
        return dt.datetime.min.replace(tzinfo=dt.UTC)   # every record changed after it
    try:
        return local - offset
    except OverflowError:
        # A bound past either end of the calendar after the offset: every item, or none.
        return dt.datetime.min.replace(tzinfo=dt.UTC) if offset > dt.timedelta(0) \
            else dt.datetime.max.replace(tzinfo=dt.UTC)


# ----- responses: JSON, caching, validators, CORS -----------------------------------------


def _dumps(payload: Any) -> bytes:
    """Return payload as compact UTF-8 JSON (Chinese text unescaped: a third of the bytes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _cache_key() -> str:
    """Return the cache key of this GET: catalogue revision, date, locale and the full URL (host included)."""
    revision = service.catalogue_revision(current_catalogue())
    # The date too: exhibitions open and close on dates, with no write to change the revision. The
    # locale for search, whose `problems` are in the visitor's language.
    today = dt.datetime.now(dt.UTC).date().isoformat()
    raw = f"{revision}|{today}|{get_locale()}|{request.url}"
    return "api:" + hashlib.sha256(raw.encode()).hexdigest()


def _json_ok(build: Callable[[], dict[str, Any]], links: Callable[[dict[str, Any]], str] | None = None) -> Response:
    """Answer a GET with the JSON build() returns, cached under the catalogue revision, with an ETag.

    build may raise NotFound or BadParameter; only successes are cached.
    """
    key = _cache_key()
    body = cache.get(key)
    if body is None:
        payload = build()
        body = _dumps(payload)
        link_header = links(payload) if links else ""
        cache.set(key, (body, link_header))
    else:
        body, link_header = body
    response = Response(body, mimetype="application/json")
    if link_header:
        response.headers["Link"] = link_header
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.add_etag()
    response.make_conditional(request)
    return response


def _error_code(error: HTTPException) -> str:
    """Return the stable machine-readable code of an HTTP error ("not_found", "bad_parameter"…)."""
    code = getattr(error, "api_code", None)
    if isinstance(code, str):
        return code
    return re.sub(r"[^a-z0-9]+", "_", (error.name or "error").lower()).strip("_")


def _error_response(error: HTTPException) -> Response:
    """Return an HTTP error as JSON with its code, status and message."""
    status = error.code or 500
    payload = {"error": {"code": _error_code(error), "status": status, "message": error.description or ""}}
    response = Response(_dumps(payload), status=status, mimetype="application/json")
    for name, value in error.get_headers():
        if name.lower() == "allow":
            response.headers["Allow"] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found_or_not_allowed() -> HTTPException:
    """Return the error for a request that reached no API view: 405 on a known path, else 404."""
    if request.method not in READ_METHODS:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        try:
            rule, _ = adapter.match(method="GET", return_rule=True)
        except HTTPException:
            rule = None
        if rule is not None and rule.endpoint != "api.unknown":
            return MethodNotAllowed(valid_methods=list(READ_METHODS),
                                    description=f"{request.method} is not allowed here; the API is read-only.")
    return NotFound("There is nothing at this address in the API; see /api/v1/openapi.json for what there is.")


@bp.before_request
def _preflight() -> Response | None:
    """Answer CORS preflight (OPTIONS) on every API path that exists."""
    if request.method != "OPTIONS" or request.endpoint == "api.unknown":
        return None
    response = Response(status=204)
    del response.headers["Content-Type"]   # nothing follows, so nothing to type
    response.headers.update(PREFLIGHT_HEADERS)
    response.headers["Allow"] = ", ".join(READ_METHODS)
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    """Let pages on any site read every API answer, errors and 304s included."""
    response.headers.update(CORS_HEADERS)
    return response


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> Response:
    """Return API errors as JSON with a code and a message."""
    return _error_response(error)


@bp.errorhandler(CSRFError)
def _unsafe_method(error: CSRFError) -> Response:
    """Answer a POST, PUT, PATCH or DELETE as 405 (or 404), never as a form that expired.

    The site's CSRF check runs before any view and refuses such requests first; nothing in the
    API changes state, so the right answer is the method's, not the form's.
    """
    return _error_response(_not_found_or_not_allowed())


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    """Log an unexpected failure and answer it as JSON."""
    current_app.logger.exception("unhandled error on %s", request.path)
    payload = {"error": {"code": "internal_error", "status": 500, "message": "Something went wrong on our side."}}
    response = Response(_dumps(payload), status=500, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


class _RestOfPath(PathConverter):
    """Whatever follows /api/v1/, even nothing or line breaks (the path converter's `.` stops at those)."""

    regex = r"[\s\S]*"
    # Werkzeug guesses from the regex (no "/" in it) that it matches one segment; it matches many.
    part_isolating = False


def unknown(rest: str) -> Response:
    """Answer any other path or method under /api/v1 as JSON (404, or 405 on a known path)."""
    return _error_response(_not_found_or_not_allowed())


@bp.record_once
def _add_catch_all(state: BlueprintSetupState) -> None:
    """Route every other path under /api/v1, with any method at all, to `unknown`.

    Without it, a path or method that matches no rule fails in routing, before any blueprint is
    chosen, and gets the site's HTML error page. Flask always gives its rules a method list, and
    clients send methods no list names (QUERY, PROPFIND…), so this rule is Werkzeug's own with no
    method list: it matches every method.
    """
    state.app.url_map.converters["api_rest"] = _RestOfPath
    state.app.url_map.add(Rule(f"{state.url_prefix}/<api_rest:rest>", endpoint="api.unknown", merge_slashes=False))
    state.app.view_functions["api.unknown"] = unknown


# ----- links ------------------------------------------------------------------------------


def _url(endpoint: str, **values: Any) -> str:
    """Return the absolute URL of an endpoint (scheme and host as the client sees them)."""
    return url_for(endpoint, _external=True, **values)


def _timestamp(value: dt.datetime | None) -> str | None:
    """Return a time as RFC 3339 in UTC ("2024-05-01T08:00:00Z"); SQLite hands back naive UTC times."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_urls(sha256: str) -> dict[str, dict[str, str]]:
    """Return the site's derivative URLs of an image: size name → format → URL."""
    return {size: {fmt: _url("public.media", sha256=sha256, size=size, fmt=fmt) for fmt in DERIVATIVE_FORMATS}
            for size in DERIVATIVE_SIZES}


def _iiif_image(sha256: str) -> dict[str, str]:
    """Return the IIIF Image API links of an image: its service, info.json and the full image."""
    return {
        "service": _url("iiif.base_uri", identifier=sha256),
        "info": _url("iiif.info", identifier=sha256),
        "full": _url("iiif.image", identifier=sha256, region="full", size="max", rotation="0",
                     quality_format="default.jpg"),
    }


def _manifest(item: Any) -> str | None:
    """Return the IIIF Manifest URL of an item; items without images have none."""
    return _url("iiif.manifest", item_id=item.id) if item.images else None


# ----- resources ----------------------------------------------------------------------------


def _institution_ref(institution: Any) -> dict[str, Any]:
    """Return the short form of an institution used inside other resources."""
    return {"slug": institution.slug, "name": dict(institution.name or {}), "homepage": institution.url or None,
            "api_url": _url("api.institution", slug=institution.slug)}


def _collection_ref(collection: Any) -> dict[str, Any]:
    """Return the short form of a collection used inside other resources."""
    return {"slug": collection.slug, "title": dict(collection.title or {}),
            "url": _url("public.collection", slug=collection.slug),
            "api_url": _url("api.collection", slug=collection.slug)}


def _item_image(image: Any, item: Any) -> dict[str, Any]:
    """Return one image of an item: size, texts, derivative URLs and IIIF links."""
    return {
        "sha256": image.sha256, "width": image.width, "height": image.height,
        "caption": image.caption, "alt_text": image.alt_text, "rights": image.rights,
        "api_url": _url("api.image", sha256=image.sha256),
        "urls": _image_urls(image.sha256),
        "iiif": {**_iiif_image(image.sha256), "manifest": _url("iiif.manifest", item_id=item.id)},
    }


def _item_resource(item: Any) -> dict[str, Any]:
    """Return the full record of a published item."""
    holder = item.institution or item.collection.institution
    return {
        "id": item.id,
        "url": _url("public.item", item_id=item.id),
        "api_url": _url("api.item", item_id=item.id),
        "title": item.title,
        "title_alt": item.title_alt,
        "creator": item.creator,
        "date": item.date_display,
        "begin_year": item.begin_year,
        "end_year": item.end_year,
        "period": item.period,
        "object_type": item.object_type,
        "medium": item.medium,
        "dimensions": item.dimensions,
        "description": item.description,
        "inscriptions": item.inscriptions,
        "provenance": item.provenance,
        "accession_number": item.accession_number,
        "credit_line": item.credit_line,
        "rights": item.rights,
        "rights_url": item.rights_url or None,
        "source_url": item.source_url or None,
        "subjects": [str(s) for s in item.subjects or []],
        "collection": _collection_ref(item.collection),
        "institution": _institution_ref(holder),
        "images": [_item_image(image, item) for image in item.images],
        "iiif_manifest": _manifest(item),
        "updated_at": _timestamp(item.updated_at),
    }


def _item_summary_ref(item: Any) -> dict[str, Any]:
    """Return the short form of an item used in exhibitions and image records."""
    first = item.images[0] if item.images else None
    return {
        "id": item.id, "title": item.title, "title_alt": item.title_alt, "creator": item.creator,
        "date": item.date_display, "begin_year": item.begin_year, "end_year": item.end_year,
        "url": _url("public.item", item_id=item.id), "api_url": _url("api.item", item_id=item.id),
        "thumbnail": _url("public.media", sha256=first.sha256, size="thumb", fmt="jpeg") if first else None,
    }


def _cover(image: Any) -> dict[str, Any] | None:
    """Return a cover image's hash, size and derivative URLs, or None."""
    if image is None:
        return None
    return {"sha256": image.sha256, "width": image.width, "height": image.height,
            "urls": _image_urls(image.sha256)}


def _collection_resource(card: Any) -> dict[str, Any]:
    """Return a collection with its holder, licence, cover and published item count."""
    collection = card.collection
    return {
        **_collection_ref(collection),
        "summary": dict(collection.summary or {}),
        "credits": dict(collection.credits or {}),
        "licence": {"name": collection.licence_name or None, "url": collection.licence_url or None},
        "institution": _institution_ref(collection.institution),
        "item_count": card.item_count,
        "cover": _cover(card.cover),
        "items_url": _url("api.items", collection=collection.slug),
        "iiif_collection": _url("iiif.collection", slug=collection.slug),
    }


def _institution_resource(card: api_reads.InstitutionCard) -> dict[str, Any]:
    """Return an institution with its address, collections and published item count."""
    institution = card.institution
    return {
        **_institution_ref(institution),
        "address": dict(institution.address or {}),
        "item_count": card.item_count,
        "collections": [{"slug": c.slug, "title": dict(c.title or {}), "api_url": _url("api.collection", slug=c.slug)}
                        for c in card.collections],
        "items_url": _url("api.items", institution=institution.slug),
    }


def _exhibition_card(card: exhibitions.ExhibitionCard) -> dict[str, Any]:
    """Return an exhibition as it appears in the list."""
    return {
        "slug": card.slug, "title": dict(card.title), "summary": dict(card.summary),
        "opens_on": card.opens_on.isoformat() if card.opens_on else None,
        "closes_on": card.closes_on.isoformat() if card.closes_on else None,
        "item_count": card.item_count, "cover": _cover(card.cover),
        "url": _url("public.exhibition", slug=card.slug), "api_url": _url("api.exhibition", slug=card.slug),
    }


def _exhibition_resource(page: exhibitions.ExhibitionPage) -> dict[str, Any]:
    """Return an exhibition's story: its sections (HTML already sanitised) and their published items."""
    return {
        "slug": page.slug, "title": dict(page.title), "summary": dict(page.summary),
        "opens_on": page.opens_on.isoformat() if page.opens_on else None,
        "closes_on": page.closes_on.isoformat() if page.closes_on else None,
        "item_count": len(page.entries), "cover": _cover(page.cover),
        "url": _url("public.exhibition", slug=page.slug), "api_url": _url("api.exhibition", slug=page.slug),
        "updated_at": _timestamp(page.updated_at),
        "sections": [
            {"number": section.number, "heading": dict(section.heading), "body_html": dict(section.body_html),
             "entries": [{"number": entry.number, "caption": dict(entry.caption),
                          "walk_url": _url("public.exhibition_walk", slug=page.slug, number=entry.number),
                          "item": _item_summary_ref(entry.item)}
                         for entry in section.entries]}
            for section in page.sections
        ],
    }


def _image_resource(record: api_reads.ImageRecord) -> dict[str, Any]:
    """Return an image with its sizes, IIIF links and every published item that shows it."""
    return {
        "sha256": record.sha256, "width": record.width, "height": record.height,
        "format": record.format, "mime_type": record.mime_type,
        "api_url": _url("api.image", sha256=record.sha256),
        "sizes": {size: edge for size, edge in DERIVATIVE_SIZES.items()},
        "urls": _image_urls(record.sha256),
        "iiif": _iiif_image(record.sha256),
        "used_by": [{"item": _item_summary_ref(use.item), "position": use.position, "caption": use.caption,
                     "alt_text": use.alt_text, "rights": use.rights,
                     "iiif_manifest": _url("iiif.manifest", item_id=use.item.id)} for use in record.uses],
    }


# ----- routes -------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """Return the OpenAPI 3.1 document of this API, with this server's address in it."""
    return _json_ok(lambda: openapi.document(_url("api.unknown", rest="").rstrip("/")))


def _item_args() -> dict[str, str]:
    """Return the item-list parameters of this request that the API reads, as given."""
    return {name: request.args[name] for name in (*ITEM_FILTERS, "limit", "cursor") if name in request.args}


def _items_payload() -> dict[str, Any]:
    """Read the item-list parameters, fetch the page and return it with its links."""
    filters = api_reads.ItemFilters(
        collection=_text("collection"), institution=_text("institution"), has_image=_boolean("has_image"),
        updated_since=_since("updated_since"),
        year_from=_whole_number("year_from", api_reads.MIN_YEAR, api_reads.MAX_YEAR),
        year_to=_whole_number("year_to", api_reads.MIN_YEAR, api_reads.MAX_YEAR))
    limit = _whole_number("limit", 1, api_reads.MAX_LIMIT) or api_reads.DEFAULT_LIMIT
    try:
        page = api_reads.items_page(current_catalogue(), filters, request.args.get("cursor") or None, limit)
    except api_reads.BadCursor as exc:
        raise BadParameter(str(exc)) from None
    args = _item_args()
    links = {"self": _url("api.items", **args)}
    if page.next_cursor is not None:
        links["next"] = _url("api.items", **{**args, "cursor": page.next_cursor})
    return {"items": [_item_resource(item) for item in page.items], "limit": limit,
            "next_cursor": page.next_cursor, "links": links}


def _next_link(payload: dict[str, Any]) -> str:
    """Return the Link header of a list page: its next page, if any."""
    following = payload.get("links", {}).get("next")
    return f'<{following}>; rel="next"' if following else ""


@bp.get("/items")
def items() -> Response:
    """Return published items in id order, filtered, a page at a time with an opaque cursor."""
    return _json_ok(_items_payload, links=_next_link)


@bp.get("/items/<path:item_id>", merge_slashes=False)
def item(item_id: str) -> Response:
    """Return one published item; drafts, trashed and unknown ids are 404."""
    def build() -> dict[str, Any]:
        found = api_reads.public_item(current_catalogue(), item_id)
        if found is None:
            raise NotFound("No published item has this id.")
        return _item_resource(found)
    return _json_ok(build)


@bp.get("/collections")
def collections() -> Response:
    """Return every collection with its published item count."""
    return _json_ok(lambda: {"collections": [_collection_resource(card)
                                             for card in api_reads.collection_cards(current_catalogue())]})


@bp.get("/collections/<slug>")
def collection(slug: str) -> Response:
    """Return one collection."""
    def build() -> dict[str, Any]:
        card = api_reads.collection_card(current_catalogue(), slug)
        if card is None:
            raise NotFound("There is no collection with this slug.")
        return _collection_resource(card)
    return _json_ok(build)


@bp.get("/institutions")
def institutions() -> Response:
    """Return every institution with its collections and published item count."""
    return _json_ok(lambda: {"institutions": [_institution_resource(card)
                                              for card in api_reads.institution_cards(current_catalogue())]})


@bp.get("/institutions/<slug>")
def institution(slug: str) -> Response:
    """Return one institution."""
    def build() -> dict[str, Any]:
        card = api_reads.institution_card(current_catalogue(), slug)
        if card is None:
            raise NotFound("There is no institution with this slug.")
        return _institution_resource(card)
    return _json_ok(build)


@bp.get("/exhibitions")
def exhibition_list() -> Response:
    """Return the published exhibitions open today."""
    return _json_ok(lambda: {"exhibitions": [_exhibition_card(card)
                                             for card in exhibitions.published_exhibitions(current_catalogue())]})


@bp.get("/exhibitions/<slug>")
def exhibition(slug: str) -> Response:
    """Return one open exhibition with its sections and published items; others are 404."""
    def build() -> dict[str, Any]:
        page = exhibitions.exhibition_page(current_catalogue(), slug) if "\x00" not in slug else None
        if page is None:
            raise NotFound("There is no open exhibition with this slug.")
        return _exhibition_resource(page)
    return _json_ok(build)


@bp.get("/images/<sha256>")
def image(sha256: str) -> Response:
    """Return an image that published items show, with its sizes, IIIF links and those items."""
    def build() -> dict[str, Any]:
        record = api_reads.image_record(current_catalogue(), sha256)
        if record is None:
            raise NotFound("No published item shows an image with this SHA-256.")
        return _image_resource(record)
    return _json_ok(build)


# ----- search -------------------------------------------------------------------------------


def _search_hit(item: Any, snippet: str) -> dict[str, Any]:
    """Return the JSON summary of one item in a result list."""
    first = item.images[0] if item.images else None
    return {
        "id": item.id,
        "title": item.title,
        "title_alt": item.title_alt,
        "creator": item.creator,
        "date": item.date_display,
        "period": item.period,
        "begin_year": item.begin_year,
        "end_year": item.end_year,
        "object_type": item.object_type,
        "medium": item.medium,
        "collection": item.collection.slug,
        "url": _url("public.item", item_id=item.id),
        "api_url": _url("api.item", item_id=item.id),
        "thumbnail": _url("public.media", sha256=first.sha256, size="thumb", fmt="jpeg") if first else None,
        "snippet_html": snippet,
    }


def _page_url(page: int) -> str:
    """Return this request's URL for another page."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page))]
    return _url("api.search") + "?" + urlencode(pairs)


def _search_payload() -> dict[str, Any]:
    """Run the search the query string asks for and return results, facets and paging."""
    per_page = _int_arg("per_page", current_catalogue().settings.page_size, 1, MAX_PER_PAGE)
    search_request, problems = search_request_from_args(_int_arg("page", 1, 1, service.MAX_PAGE), per_page)
    results = service.search(current_catalogue(), search_request, problems)
    req = results.request
    links: dict[str, str] = {"self": _page_url(results.page)}
    if results.page < results.pages:
        links["next"] = _page_url(results.page + 1)
    if results.page > 1:
        links["prev"] = _page_url(results.page - 1)
    return {
        "query": {
            "q": req.parts.text, "phrase": req.parts.phrase, "any": req.parts.any_words,
            "exclude": req.parts.exclude, "fields": req.parts.fields,
            "filters": {k: list(v) for k, v in req.filters.items()},
            "from": req.year_from, "to": req.year_to, "sort": req.sort,
        },
        "total": results.total,
        "page": results.page,
        "pages": results.pages,
        "per_page": req.per_page,
        "items": [_search_hit(item, snippet) for item, snippet in results.hits],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                          for v in values] for name, values in results.facets.items()},
        "suggestion": results.suggestion or None,
        "problems": results.problems,
        "links": links,
    }


@bp.get("/search")
def search() -> Response:
    """Return search results, facets and paging as JSON; accepts the same arguments as /search."""
    response = _json_ok(_search_payload, links=_next_link)
    # Messages about ignored inputs are in the visitor's language (?lang=, cookie or Accept-Language).
    response.vary.update(("Accept-Language", "Cookie"))
    return response
