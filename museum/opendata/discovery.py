"""Sitemaps (an index of paged files), robots.txt and the Atom feed of recently published items.

All three are cached like public pages (catalogue revision + date + path), so crawlers polling
them cost one cache lookup until something changes.
"""

from __future__ import annotations

import datetime as dt
from typing import ParamSpec
from xml.sax.saxutils import escape, quoteattr

from flask import Response, abort, url_for
from flask.typing import ResponseReturnValue

from museum.catalogue import discovery
from museum.i18n import localised
from museum.opendata import bp
from museum.web import cached_page, current_catalogue

P = ParamSpec("P")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"


def _w3c(moment: dt.datetime | None) -> str:
    """Return a W3C datetime in UTC (SQLite gives naive datetimes, which are UTC here)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml(body: str, mimetype: str = "application/xml") -> Response:
    """Return an XML document response declared as UTF-8."""
    response = Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, mimetype=mimetype)
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    return response


@bp.get("/robots.txt")
@cached_page
def robots() -> ResponseReturnValue:
    """Let crawlers see the public site but not the curators' pages; point them at the sitemap."""
    lines = ["User-agent: *", "Disallow: /curate/", "Allow: /", "",
             f"Sitemap: {url_for('opendata.sitemap_index', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/sitemap.xml")
@cached_page
def sitemap_index() -> ResponseReturnValue:
    """Return the sitemap index: the pages sitemap and one sitemap per chunk of items."""
    cat = current_catalogue()
    chunks = discovery.sitemap_chunks(cat)
    newest = max((c.lastmod for c in chunks if c.lastmod), default=None)
    parts = [f'<sitemapindex xmlns="{SITEMAP_NS}">',
             f"<sitemap><loc>{escape(url_for('opendata.sitemap_pages', _external=True))}</loc>"
             + (f"<lastmod>{_w3c(newest)}</lastmod>" if newest else "") + "</sitemap>"]
    for chunk in chunks:
        loc = url_for("opendata.sitemap_items", number=chunk.number, _external=True)
        lastmod = f"<lastmod>{_w3c(chunk.lastmod)}</lastmod>" if chunk.lastmod else ""
        parts.append(f"<sitemap><loc>{escape(loc)}</loc>{lastmod}</sitemap>")
    parts.append("</sitemapindex>")
    return _xml("\n".join(parts))


@bp.get("/sitemaps/pages.xml")
@cached_page
def sitemap_pages() -> ResponseReturnValue:
    """Return the sitemap of the site's own pages: home, collections and each collection."""
    cat = current_catalogue()
    collections = discovery.collection_slugs(cat)
    newest = max((last for _, last in collections if last), default=None)
    urls = [(url_for("public.home", _external=True), newest),
            (url_for("public.collections", _external=True), newest)]
    urls += [(url_for("public.collection", slug=slug, _external=True), last) for slug, last in collections]
    parts = [f'<urlset xmlns="{SITEMAP_NS}">']
    for loc, last in urls:
        lastmod = f"<lastmod>{_w3c(last)}</lastmod>" if last else ""
        parts.append(f"<url><loc>{escape(loc)}</loc>{lastmod}</url>")
    parts.append("</urlset>")
    return _xml("\n".join(parts))


@bp.get("/sitemaps/items-<int:number>.xml")
@cached_page
def sitemap_items(number: int) -> ResponseReturnValue:
    """Return one sitemap of item pages with their last change and first image."""
    entries = discovery.sitemap_entries(current_catalogue(), number)
    if entries is None:
        abort(404)
    parts = [f'<urlset xmlns="{SITEMAP_NS}" xmlns:image="{IMAGE_NS}">']
    for entry in entries:
        loc = url_for("public.item", item_id=entry.item_id, _external=True)
        lastmod = f"<lastmod>{_w3c(entry.lastmod)}</lastmod>" if entry.lastmod else ""
        image = ""
        if entry.image_sha256:
            image_loc = url_for("public.media", sha256=entry.image_sha256, size="large", fmt="jpeg", _external=True)
            image = f"<image:image><image:loc>{escape(image_loc)}</image:loc></image:image>"
        parts.append(f"<url><loc>{escape(loc)}</loc>{lastmod}{image}</url>")
    parts.append("</urlset>")
    return _xml("\n".join(parts))


@bp.get("/feed.atom")
@cached_page
def feed() -> ResponseReturnValue:
    """Return an Atom feed of the most recently published or changed items."""
    cat = current_catalogue()
    items = discovery.recently_published(cat)
    settings = cat.settings
    title = localised({"en": settings.site_name_en, "zh-Hant": settings.site_name_zh_hant,
                       "zh-Hans": settings.site_name_zh_hans}, "zh_Hans")
    home = url_for("public.home", _external=True)
    self_url = url_for("opendata.feed", _external=True)
    updated = max((i.updated_at for i in items if i.updated_at), default=dt.datetime.now(dt.UTC))
    parts = ['<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<id>{escape(self_url)}</id>", f"<title>{escape(title)}</title>",
             f"<updated>{_w3c(updated)}</updated>",
             f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(self_url)}/>",
             f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(home)}/>",
             f"<author><name>{escape(title)}</name></author>"]
    for item in items:
        link = url_for("public.item", item_id=item.id, _external=True)
        summary = " · ".join(p for p in (item.title_alt, item.creator, item.date_display or item.period) if p)
        parts.append("<entry>")
        parts.append(f"<id>{escape(link)}</id>")
        parts.append(f"<title>{escape(item.title)}</title>")
        parts.append(f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(link)}/>")
        parts.append(f"<updated>{_w3c(item.updated_at)}</updated>")
        if item.created_at:
            parts.append(f"<published>{_w3c(item.created_at)}</published>")
        if summary:
            parts.append(f"<summary>{escape(summary)}</summary>")
        if item.images:
            thumb = url_for("public.media", sha256=item.images[0].sha256, size="medium", fmt="jpeg", _external=True)
            parts.append(f"<link rel=\"enclosure\" type=\"image/jpeg\" href={quoteattr(thumb)}/>")
        parts.append("</entry>")
    parts.append("</feed>")
    return _xml("\n".join(parts), mimetype="application/atom+xml")
