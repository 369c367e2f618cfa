"""JSON API views: the same searches as the site, as JSON, with errors as JSON too."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from museum.api import bp
from museum.catalogue import service
from museum.search_form import search_request_from_args
from museum.web import current_catalogue

MAX_PER_PAGE = 100


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """Return a whole-number argument clamped to [low, high], default for anything else."""
    raw = request.args.get(name, "")
    return min(max(int(raw), low), high) if raw.isdigit() and len(raw) < 7 else default


def _item_summary(item: Any, snippet: str) -> dict[str, Any]:
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
        "url": url_for("public.item", item_id=item.id, _external=True),
        "thumbnail": url_for("public.media", sha256=first.sha256, size="thumb", fmt="jpeg", _external=True)
        if first else None,
        "snippet_html": snippet,
    }


@bp.get("/search")
def search() -> Response:
    """Return search results, facets and paging as JSON; accepts the same arguments as /search."""
    per_page = _int_arg("per_page", current_catalogue().settings.page_size, 1, MAX_PER_PAGE)
    search_request, problems = search_request_from_args(_int_arg("page", 1, 1, service.MAX_PAGE), per_page)
    results = service.search(current_catalogue(), search_request, problems)
    req = results.request
    links: dict[str, str] = {"self": request.url}
    if results.page < results.pages:
        links["next"] = _page_url(results.page + 1)
    if results.page > 1:
        links["prev"] = _page_url(results.page - 1)
    payload = {
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
        "items": [_item_summary(item, snippet) for item, snippet in results.hits],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                          for v in values] for name, values in results.facets.items()},
        "suggestion": results.suggestion or None,
        "problems": results.problems,
        "links": links,
    }
    response = jsonify(payload)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _page_url(page: int) -> str:
    """Return this request's URL for another page."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page))]
    return url_for("api.search", _external=True) + "?" + urlencode(pairs)


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> tuple[Response, int]:
    """Return API errors as JSON with a code and a message."""
    code = error.code or 500
    return jsonify({"error": {"code": code, "name": error.name, "message": error.description}}), code
