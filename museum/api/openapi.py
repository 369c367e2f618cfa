"""The OpenAPI 3.1 document of the JSON API: every path, parameter, response and field name.

It is the API's contract: `tests/web/test_api_schemathesis.py` runs schemathesis against a live server
with it, and every resource schema forbids fields it does not name, so a field cannot appear or vanish
without this document changing too.
"""

from __future__ import annotations

from typing import Any

from museum.catalogue.api_reads import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_YEAR,
    MIN_YEAR,
)
from museum.images.derivatives import DERIVATIVE_FORMATS, DERIVATIVE_SIZES
from museum.search.request import FACETS, SORTS

VERSION = "1.0.0"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    """Return a reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: Schema) -> Schema:
    """Return schema that also allows null."""
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], description: str = "") -> Schema:
    """Return a closed object schema: every property always present, no others."""
    schema: Schema = {"type": "object", "additionalProperties": False, "required": list(properties),
                      "properties": properties}
    if description:
        schema["description"] = description
    return schema


TEXT: Schema = {"type": "string"}
URL: Schema = {"type": "string", "format": "uri"}
YEAR: Schema = _or_null({"type": "integer"})
COUNT: Schema = {"type": "integer", "minimum": 0}
SHA256: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DATE: Schema = _or_null({"type": "string", "format": "date"})
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}


def _schemas() -> dict[str, Schema]:
    """Return the component schemas: the resources and their parts."""
    size_urls = _object({fmt: URL for fmt in DERIVATIVE_FORMATS})
    return {
        "LanguageMap": {
            "type": "object", "additionalProperties": {"type": "string"},
            "description": "Text by language tag (`en`, `zh-Hant`, `zh-Hans`); languages without a text are left out.",
        },
        "Error": _object({"error": _object({
            "code": {"type": "string", "description": "Stable machine-readable code: `bad_parameter`, `not_found`, "
                                                      "`method_not_allowed`, `internal_error`…"},
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "message": {"type": "string", "description": "What went wrong, in English, for people."},
        })}),
        "ImageUrls": _object({size: size_urls for size in DERIVATIVE_SIZES}, description=(
            "The site's derivatives of an image by size (longest side at most "
            + ", ".join(f"{size} {edge}" for size, edge in DERIVATIVE_SIZES.items())
            + " pixels, never enlarged), each in JPEG and WebP.")),
        "IiifImage": _object({
            "service": {**URL, "description": "IIIF Image API 3.0 (level 2) base URI."},
            "info": {**URL, "description": "The image's info.json."},
            "full": {**URL, "description": "The whole image at the largest size served, as JPEG."},
        }),
        "Cover": _or_null(_object({"sha256": SHA256, "width": COUNT, "height": COUNT,
                                   "urls": _ref("ImageUrls")})),
        "InstitutionRef": _object({
            "slug": TEXT, "name": _ref("LanguageMap"),
            "homepage": {**_or_null(URL), "description": "The institution's own website."},
            "api_url": URL,
        }),
        "CollectionRef": _object({"slug": TEXT, "title": _ref("LanguageMap"), "url": URL, "api_url": URL}),
        "ItemImage": _object({
            "sha256": {**SHA256, "description": "SHA-256 of the original file: the image's identity."},
            "width": COUNT, "height": COUNT,
            "caption": TEXT, "alt_text": TEXT, "rights": TEXT,
            "api_url": URL,
            "urls": _ref("ImageUrls"),
            "iiif": _object({
                "service": URL, "info": URL, "full": URL,
                "manifest": {**URL, "description": "The item's IIIF Presentation 3.0 Manifest."},
            }),
        }),
        "Item": _object({
            "id": {"type": "string", "description": "Stable id (may contain `:` and `/`)."},
            "url": {**URL, "description": "The item's page on the site."},
            "api_url": URL,
            "title": {**TEXT, "description": "Title as written, in its original script."},
            "title_alt": {**TEXT, "description": "Title in the other language (often English), or empty."},
            "creator": TEXT,
            "date": {**TEXT, "description": "The date as written (`清乾隆`, `c. 1565`)."},
            "begin_year": {**YEAR, "description": "First year of the date range, negative before the common era."},
            "end_year": {**YEAR, "description": "Last year of the date range."},
            "period": TEXT, "object_type": TEXT, "medium": TEXT, "dimensions": TEXT,
            "description": TEXT, "inscriptions": TEXT, "provenance": TEXT,
            "accession_number": TEXT, "credit_line": TEXT, "rights": TEXT,
            "rights_url": _or_null(URL),
            "source_url": {**_or_null(URL), "description": "The record at the holding institution."},
            "subjects": {"type": "array", "items": TEXT},
            "collection": _ref("CollectionRef"),
            "institution": {**_ref("InstitutionRef"),
                            "description": "The holder: the item's own institution, else its collection's."},
            "images": {"type": "array", "items": _ref("ItemImage")},
            "iiif_manifest": {**_or_null(URL), "description": "IIIF Manifest; null for items without images."},
            "updated_at": {**TIMESTAMP, "description": "When the item's own record last changed (UTC)."},
        }, description="A published item. Texts the record lacks are empty strings, never missing."),
        "ItemSummary": _object({
            "id": TEXT, "title": TEXT, "title_alt": TEXT, "creator": TEXT, "date": TEXT,
            "begin_year": YEAR, "end_year": YEAR, "url": URL, "api_url": URL,
            "thumbnail": {**_or_null(URL), "description": "JPEG thumbnail of the first image."},
        }),
        "ItemList": _object({
            "items": {"type": "array", "items": _ref("Item")},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "next_cursor": {**_or_null(TEXT), "description": "Pass as `cursor` for the next page; null on the last."},
            "links": {"type": "object", "additionalProperties": False, "required": ["self"],
                      "properties": {"self": URL, "next": URL}},
        }),
        "Collection": _object({
            "slug": TEXT, "title": _ref("LanguageMap"), "url": URL, "api_url": URL,
            "summary": _ref("LanguageMap"), "credits": _ref("LanguageMap"),
            "licence": _object({"name": _or_null(TEXT), "url": _or_null(URL)}),
            "institution": _ref("InstitutionRef"),
            "item_count": {**COUNT, "description": "Published items."},
            "cover": _ref("Cover"),
            "items_url": {**URL, "description": "The collection's items in this API."},
            "iiif_collection": {**URL, "description": "IIIF Presentation 3.0 Collection of its items with images."},
        }),
        "CollectionList": _object({"collections": {"type": "array", "items": _ref("Collection")}}),
        "Institution": _object({
            "slug": TEXT, "name": _ref("LanguageMap"), "homepage": _or_null(URL), "api_url": URL,
            "address": _ref("LanguageMap"),
            "item_count": {**COUNT, "description": "Published items it holds."},
            "collections": {"type": "array", "items": _object({"slug": TEXT, "title": _ref("LanguageMap"),
                                                               "api_url": URL})},
            "items_url": URL,
        }),
        "InstitutionList": _object({"institutions": {"type": "array", "items": _ref("Institution")}}),
        "ExhibitionCard": _object({
            "slug": TEXT, "title": _ref("LanguageMap"), "summary": _ref("LanguageMap"),
            "opens_on": DATE, "closes_on": DATE, "item_count": COUNT, "cover": _ref("Cover"),
            "url": {**URL, "description": "The exhibition's page on the site."},
            "api_url": URL,
        }),
        "ExhibitionList": _object({"exhibitions": {"type": "array", "items": _ref("ExhibitionCard")}}),
        "Exhibition": _object({
            "slug": TEXT, "title": _ref("LanguageMap"), "summary": _ref("LanguageMap"),
            "opens_on": DATE, "closes_on": DATE, "item_count": COUNT, "cover": _ref("Cover"),
            "url": URL, "api_url": URL, "updated_at": TIMESTAMP,
            "sections": {"type": "array", "items": _object({
                "number": {"type": "integer", "minimum": 1},
                "heading": _ref("LanguageMap"),
                "body_html": {**_ref("LanguageMap"), "description": "Sanitised HTML by language."},
                "entries": {"type": "array", "items": _object({
                    "number": {"type": "integer", "minimum": 1,
                               "description": "Place in the walk through the exhibition."},
                    "caption": _ref("LanguageMap"),
                    "walk_url": {**URL, "description": "This stop of the walk through the exhibition on the site."},
                    "item": _ref("ItemSummary"),
                })},
            })},
        }),
        "Image": _object({
            "sha256": SHA256, "width": COUNT, "height": COUNT,
            "format": {**TEXT, "description": "Format of the original (JPEG, PNG, TIFF, WEBP, GIF)."},
            "mime_type": TEXT, "api_url": URL,
            "sizes": _object({size: {"type": "integer", "const": edge} for size, edge in DERIVATIVE_SIZES.items()},
                             description="Longest side of each derivative size, in pixels."),
            "urls": _ref("ImageUrls"),
            "iiif": _ref("IiifImage"),
            "used_by": {"type": "array", "items": _object({
                "item": _ref("ItemSummary"), "position": {"type": "integer", "minimum": 0},
                "caption": TEXT, "alt_text": TEXT, "rights": TEXT, "iiif_manifest": URL,
            })},
        }),
        "SearchHit": _object({
            "id": TEXT, "title": TEXT, "title_alt": TEXT, "creator": TEXT, "date": TEXT, "period": TEXT,
            "begin_year": YEAR, "end_year": YEAR, "object_type": TEXT, "medium": TEXT,
            "collection": {**TEXT, "description": "Collection slug."},
            "url": URL, "api_url": URL, "thumbnail": _or_null(URL),
            "snippet_html": {**TEXT, "description": "Matching text with `<mark>` around hits; escaped HTML."},
        }),
        "SearchResults": _object({
            "query": _object({
                "q": TEXT, "phrase": TEXT, "any": TEXT, "exclude": TEXT,
                "fields": {"type": "object", "additionalProperties": TEXT},
                "filters": {"type": "object", "additionalProperties": {"type": "array", "items": TEXT}},
                "from": YEAR, "to": YEAR,
                "sort": {"type": "string", "enum": list(SORTS)},
            }, description="The search as it was understood."),
            "total": COUNT,
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "items": {"type": "array", "items": _ref("SearchHit")},
            "facets": {"type": "object", "additionalProperties": {"type": "array", "items": _object({
                "value": TEXT,
                "label": {"anyOf": [TEXT, _ref("LanguageMap")]},
                "count": COUNT,
                "selected": {"type": "boolean"},
            })}},
            "suggestion": {**_or_null(TEXT), "description": "A query that finds more (\"did you mean\")."},
            "problems": {"type": "array", "items": TEXT,
                         "description": "Inputs that were ignored, in the request's language."},
            "links": {"type": "object", "additionalProperties": False, "required": ["self"],
                      "properties": {"self": URL, "next": URL, "prev": URL}},
        }),
    }


def _json(schema: Schema, description: str) -> Schema:
    """Return a 200 response of JSON with the validators and CORS headers every success carries."""
    return {
        "description": description,
        "headers": {
            "ETag": {"required": True, "schema": TEXT,
                     "description": "Send it back as If-None-Match to get 304 while nothing changed."},
            "Cache-Control": {"required": True, "schema": TEXT},
            "Access-Control-Allow-Origin": {"required": True, "schema": {"type": "string", "const": "*"}},
        },
        "content": {"application/json": {"schema": schema}},
    }


def _error(description: str) -> Schema:
    """Return an error response."""
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


NOT_MODIFIED: Schema = {"description": "Not modified: If-None-Match named the current ETag."}
# Refused by the HTTP server (gunicorn, or a proxy in front) before the API sees the request, so in
# the server's own words; gunicorn's limit is 4,094 bytes for the request line.
URI_TOO_LONG: Schema = {"description": "The URL is longer than the HTTP server accepts; answered by the server.",
                        "content": {"text/html": {"schema": {"type": "string"}}}}


def _get(summary: str, schema: Schema, *, operation_id: str, tag: str, parameters: list[Schema] | None = None,
         not_found: str = "", bad_parameter: bool = False, description: str = "") -> Schema:
    """Return a GET operation."""
    responses: dict[str, Schema] = {"200": _json(schema, summary), "304": NOT_MODIFIED, "414": URI_TOO_LONG}
    if bad_parameter:
        responses["400"] = _error("A parameter could not be read (`bad_parameter`); the message says which.")
    if not_found:
        responses["404"] = _error(not_found)
    operation: Schema = {"summary": summary, "operationId": operation_id, "tags": [tag], "responses": responses}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def _query(name: str, schema: Schema, description: str, **extra: Any) -> Schema:
    """Return an optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _path(name: str, schema: Schema, description: str) -> Schema:
    """Return a path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


ITEM_PARAMETERS = [
    _query("collection", TEXT, "Only items of this collection (slug)."),
    _query("institution", TEXT, "Only items held by this institution (slug)."),
    _query("has_image", {"type": "boolean"}, "`true`: only items with images; `false`: only items without."),
    _query("updated_since",
           {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]},
           "Only items whose record changed at or after this time: an RFC 3339 date-time or a date (midnight UTC)."),
    _query("year_from", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
           "Only dated items whose date range reaches this year or later (negative: BCE)."),
    _query("year_to", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
           "Only dated items whose date range starts in this year or earlier."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
           "Items per page."),
    _query("cursor", {"type": "string", "pattern": CURSOR_PATTERN, "maxLength": CURSOR_MAX_LENGTH},
           "Where to continue: the `next_cursor` of the previous page. Opaque."),
]

_TEXT_INPUTS = {
    "q": "Words to find, in any script or in pinyin; quotes, `-word`, `OR` and `prefix*` work.",
    "phrase": "An exact phrase.", "any": "Any of these words.", "exclude": "None of these words.",
    "title": "Words in the title only.", "subject": "Words in type, period, material or subject only.",
    "description": "Words in the description or inscriptions only.",
    "from": "Earliest year (`-300`, `300 BCE`, `公元前300年`); one that cannot be read is left out with a problem.",
    "to": "Latest year, read as `from` is.",
    "sort": "`relevance` (default with words), `date`, `-date` or `title`; anything else means relevance.",
    "page": "Page number from 1; anything else means 1, and a page past the end gives the last.",
    "per_page": "Results per page, 1–100; anything else means the site's page size.",
}
SEARCH_PARAMETERS = [_query(name, TEXT, text) for name, text in _TEXT_INPUTS.items()] + [
    _query(name, {"type": "array", "items": TEXT},
           "Facet value to keep (repeat for several; values of one facet combine with OR)."
           + (" Also searches the creator field when given once." if name == "creator" else ""),
           style="form", explode=True)
    for name in FACETS
]


def document(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI document, naming server_url (…/api/v1) as the server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Museum JSON API",
            "version": VERSION,
            "description": (
                "Read-only JSON of the published catalogue: items, collections, institutions, exhibitions open "
                "today, images with their IIIF links, and search. Drafts, trashed items and exhibitions that are "
                "not open are never shown. Every success has an ETag (send If-None-Match for 304) and "
                "`Cache-Control: public, max-age=60`; every answer allows any origin. Errors are JSON: "
                "`{\"error\": {\"code\", \"status\", \"message\"}}`."),
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": name} for name in ("items", "collections", "institutions", "exhibitions", "images",
                                             "search", "meta")],
        "paths": {
            "/items": _get("Published items, filtered, in id order, a page at a time", _ref("ItemList"),
                           operation_id="listItems", tag="items", parameters=ITEM_PARAMETERS, bad_parameter=True,
                           description="Follow `links.next` (also sent as a `Link: rel=\"next\"` header) until it "
                                       "is absent. A filter that names nothing gives an empty list."),
            "/items/{item_id}": _get("One published item", _ref("Item"), operation_id="getItem", tag="items",
                                     parameters=[_path("item_id", {"type": "string", "minLength": 1},
                                                       "The item id; `/` in it may be sent as is or as %2F.")],
                                     not_found="No published item has this id (drafts and trashed items too)."),
            "/collections": _get("Every collection", _ref("CollectionList"), operation_id="listCollections",
                                 tag="collections"),
            "/collections/{slug}": _get("One collection", _ref("Collection"), operation_id="getCollection",
                                        tag="collections", parameters=[_path("slug", TEXT, "Collection slug.")],
                                        not_found="No collection has this slug."),
            "/institutions": _get("Every institution", _ref("InstitutionList"), operation_id="listInstitutions",
                                  tag="institutions"),
            "/institutions/{slug}": _get("One institution", _ref("Institution"), operation_id="getInstitution",
                                         tag="institutions", parameters=[_path("slug", TEXT, "Institution slug.")],
                                         not_found="No institution has this slug."),
            "/exhibitions": _get("The published exhibitions open today", _ref("ExhibitionList"),
                                 operation_id="listExhibitions", tag="exhibitions"),
            "/exhibitions/{slug}": _get("One open exhibition with its sections and items", _ref("Exhibition"),
                                        operation_id="getExhibition", tag="exhibitions",
                                        parameters=[_path("slug", TEXT, "Exhibition slug.")],
                                        not_found="No published exhibition open today has this slug."),
            "/images/{sha256}": _get("An image published items show, with its sizes, IIIF links and items",
                                     _ref("Image"), operation_id="getImage", tag="images",
                                     parameters=[_path("sha256", TEXT, "SHA-256 of the original, 64 hex digits.")],
                                     not_found="No published item shows this image."),
            "/search": _get("Search the published items", _ref("SearchResults"), operation_id="search",
                            tag="search", parameters=SEARCH_PARAMETERS,
                            description="Takes the arguments of the site's /search page; no value is an error."),
            "/openapi.json": _get("This document", {"type": "object"}, operation_id="openapi", tag="meta"),
        },
        "components": {"schemas": _schemas()},
    }
