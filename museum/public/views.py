"""Views of the public site: parse the request, call one service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any, ParamSpec
from urllib.parse import urlencode, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from werkzeug.datastructures import MultiDict

from museum.catalogue import citation, service
from museum.i18n import HTML_LANG, LANG_COOKIE, LOCALES, localised
from museum.public import bp
from museum.search.request import FACETS, SORTS
from museum.search_form import ADVANCED_INPUTS, search_request_from_args
from museum.web import cached_page, current_catalogue, whole_number

ONE_YEAR = 365 * 24 * 3600
P = ParamSpec("P")


@bp.app_template_global()
def url_with(**changes: Any) -> str:
    """Return the current page's URL with some arguments replaced (None removes one), keeping repeats."""
    args = MultiDict(request.args)
    for name, value in changes.items():
        args.poplist(name)
        if value is not None:
            args.add(name, value)
    if "page" not in changes:
        args.poplist("page")
    return url_for(str(request.endpoint), **(request.view_args or {})) + _query_string(args)


@bp.app_template_global()
def url_toggle(name: str, value: str) -> str:
    """Return the current search with one facet value added, or removed if it is already chosen."""
    args = MultiDict(request.args)
    values = args.poplist(name)
    if value in values:
        values = [v for v in values if v != value]
    else:
        values.append(value)
    for kept in values:
        args.add(name, kept)
    args.poplist("page")
    return url_for(str(request.endpoint), **(request.view_args or {})) + _query_string(args)


def _query_string(args: MultiDict[str, str]) -> str:
    """Return ?a=1&b=2 for args (empty values dropped), or "" when none remain."""
    pairs = [(k, v) for k, v in args.items(multi=True) if v != ""]
    return "?" + urlencode(pairs) if pairs else ""


def _page_arg() -> int:
    """Return the ?page= number, 1 for anything that is not a positive whole number."""
    return whole_number(request.args.get("page", "1"), 1)


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
    """Show an item: its gallery, metadata, rights, citations and structured data."""
    page = service.item_page(current_catalogue(), item_id)
    if page is None:
        abort(404)
    shown = whole_number(request.args.get("image", "0"), 0)
    if shown >= len(page.item.images):
        shown = 0
    accessed = dt.date.today().isoformat()
    described = _describe(page.item, accessed)
    return render_template("public/item.html", page=page, shown=shown, accessed=accessed, **described)


def _describe(item: Any, accessed: str) -> dict[str, Any]:
    """Return the item's canonical URL, citations and schema.org JSON-LD for the page."""
    locale = str(get_locale() or "zh_Hans")
    holder = item.institution or item.collection.institution
    url = url_for("public.item", item_id=item.id, _external=True)
    site = localised({"en": current_app.config["MUSEUM_SETTINGS"].site_name_en,
                      "zh-Hant": current_app.config["MUSEUM_SETTINGS"].site_name_zh_hant,
                      "zh-Hans": current_app.config["MUSEUM_SETTINGS"].site_name_zh_hans}, locale)
    images = [{"contentUrl": url_for("public.media", sha256=image.sha256, size="large", fmt="jpeg",
                                     _external=True),
               "thumbnailUrl": url_for("public.media", sha256=image.sha256, size="thumb", fmt="jpeg",
                                       _external=True),
               "width": image.width, "height": image.height, "caption": image.caption or item.title}
              for image in item.images]
    cited = citation.citations(
        creator=item.creator, title=item.title, title_alt=item.title_alt, date=item.date_display,
        medium=item.medium, institution=localised(holder.name, locale), accession=item.accession_number,
        url=url, accessed=accessed, site=site)
    structured = citation.schema_org(
        url=url, title=item.title, title_alt=item.title_alt, creator=item.creator, date=item.date_display,
        begin_year=item.begin_year, end_year=item.end_year, medium=item.medium, object_type=item.object_type,
        description=item.description, accession=item.accession_number, images=images,
        institution={"name": localised(holder.name, locale), "url": holder.url},
        collection={"name": localised(item.collection.title, locale),
                    "url": url_for("public.collection", slug=item.collection.slug, _external=True)},
        rights=item.rights, rights_url=item.rights_url, credit_line=item.credit_line,
        language=HTML_LANG.get(locale, "zh-Hans"))
    return {"canonical_url": url, "citations": cited, "structured_data": structured, "site_title": site}


@bp.get("/search")
@cached_page
def search() -> ResponseReturnValue:
    """Show search results for ?q= and the advanced inputs, with facets and highlighted snippets."""
    search_request, problems = search_request_from_args(_page_arg())
    results = service.search(current_catalogue(), search_request, problems)
    return render_template("public/search.html", results=results, facet_names=FACETS,
                           advanced_fields=ADVANCED_INPUTS, sorts=SORTS)


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
