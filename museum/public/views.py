"""Views of the public site: parse the request, call one service, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ParamSpec, cast
from urllib.parse import urlsplit

from flask import Response, abort, make_response, redirect, render_template, request, send_file
from flask.typing import ResponseReturnValue

from museum.catalogue import service
from museum.extensions import cache
from museum.i18n import LANG_COOKIE, LOCALES
from museum.public import bp
from museum.web import current_catalogue, page_cache_key

ONE_YEAR = 365 * 24 * 3600
P = ParamSpec("P")


def _page_arg() -> int:
    """Return the ?page= number, 1 for anything that is not a positive whole number."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


def cached_page(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Cache a GET view under the catalogue revision, locale and full query string."""
    return cast(Callable[P, ResponseReturnValue],
                cache.cached(make_cache_key=lambda *a, **k: page_cache_key())(view))


@bp.get("/")
@cached_page
def home() -> ResponseReturnValue:
    """Show featured items, the collections and the search box."""
    page = service.home_page(current_catalogue())
    return render_template("public/home.html", page=page)


@bp.get("/collections")
@cached_page
def collections() -> ResponseReturnValue:
    """List every collection with its cover and size."""
    cards = service.collections_page(current_catalogue())
    return render_template("public/collections.html", cards=cards)


@bp.get("/collections/<slug>")
@cached_page
def collection(slug: str) -> ResponseReturnValue:
    """Show one page of a collection's image grid."""
    page = service.collection_page(current_catalogue(), slug, _page_arg(),
                                   request.args.get("sort", "title"))
    if page is None:
        abort(404)
    return render_template("public/collection.html", page=page)


@bp.get("/items/<path:item_id>")
@cached_page
def item(item_id: str) -> ResponseReturnValue:
    """Show an item: its gallery, metadata, rights and citation."""
    page = service.item_page(current_catalogue(), item_id)
    if page is None:
        abort(404)
    raw_index = request.args.get("image", "0")
    shown = int(raw_index) if raw_index.isdigit() and int(raw_index) < len(page.item.images) else 0
    return render_template("public/item.html", page=page, shown=shown,
                           accessed=dt.date.today().isoformat())


@bp.get("/search")
@cached_page
def search() -> ResponseReturnValue:
    """Show search results for ?q= with highlighted snippets."""
    query = request.args.get("q", "")
    results = service.search(current_catalogue(), query, _page_arg())
    return render_template("public/search.html", results=results)


@bp.get("/media/<sha256>/<size>.<fmt>")
def media(sha256: str, size: str, fmt: str) -> Response:
    """Serve a derivative of a published item's image with long-lived caching."""
    path = service.public_derivative(current_catalogue(), sha256, size, fmt)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=f"image/{fmt}", conditional=True, etag=True,
                         max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Remember the visitor's language choice and return to the page they came from."""
    if code not in LOCALES:
        abort(404)
    target = request.args.get("next", "/")
    parts = urlsplit(target)
    # Only same-site paths: an open redirect would let others borrow our address.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = make_response(redirect(target, code=303))
    response.set_cookie(LANG_COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response
