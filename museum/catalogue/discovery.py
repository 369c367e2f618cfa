"""What search engines and feed readers need: sitemap chunks with their last changes, recent items.

Sitemaps hold at most SITEMAP_SIZE URLs each (the protocol allows 50,000; smaller files are
cheaper to build and to re-fetch). Chunks are fixed ranges of the published items in id order,
so an item stays in the same file as the catalogue grows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from museum.catalogue import store
from museum.catalogue.models import Collection, Image, Item
from museum.catalogue.service import Catalogue

SITEMAP_SIZE = 10_000


@dataclass(frozen=True)
class SitemapChunk:
    """One sitemap file of items: its number (from 1) and the newest change in it."""

    number: int
    lastmod: dt.datetime | None


@dataclass(frozen=True)
class SitemapEntry:
    """One item URL of a sitemap, with its last change and its first image (for the image extension)."""

    item_id: str
    lastmod: dt.datetime | None
    image_sha256: str | None
    title: str


def sitemap_chunks(cat: Catalogue, size: int = SITEMAP_SIZE) -> list[SitemapChunk]:
    """Return the item sitemap files: one per `size` published items in id order."""
    numbered = (select(Item.updated_at, (func.row_number().over(order_by=Item.id) - 1).label("n"))
                .where(Item.status == store.PUBLISHED).subquery())
    chunk = (numbered.c.n // size).label("chunk")  # integer division: the file each item falls in
    query = select(chunk, func.max(numbered.c.updated_at)).group_by(chunk).order_by(chunk)
    with cat.sessions() as session:
        return [SitemapChunk(number=int(c) + 1, lastmod=last) for c, last in session.execute(query).all()]


def sitemap_entries(cat: Catalogue, number: int, size: int = SITEMAP_SIZE) -> list[SitemapEntry] | None:
    """Return the entries of item sitemap `number`, or None if there is no such file."""
    if number < 1:
        return None
    first_image = (select(Image.sha256).where(Image.item_id == Item.id).order_by(Image.position).limit(1)
                   .correlate(Item).scalar_subquery())
    query = (select(Item.id, Item.updated_at, first_image, Item.title).where(Item.status == store.PUBLISHED)
             .order_by(Item.id).offset((number - 1) * size).limit(size))
    with cat.sessions() as session:
        rows = session.execute(query).all()
    if not rows and number > 1:
        return None
    return [SitemapEntry(item_id=i, lastmod=u, image_sha256=s, title=t) for i, u, s, t in rows]


def collection_slugs(cat: Catalogue) -> list[tuple[str, dt.datetime | None]]:
    """Return every collection slug with the newest change among its published items."""
    query = (select(Collection.slug, func.max(Item.updated_at)).outerjoin(
        Item, (Item.collection_id == Collection.id) & (Item.status == store.PUBLISHED))
        .group_by(Collection.slug).order_by(Collection.slug))
    with cat.sessions() as session:
        return [(slug, last) for slug, last in session.execute(query).all()]


def recently_published(cat: Catalogue, limit: int = 50) -> list[Item]:
    """Return the most recently changed published items, newest first, with images loaded."""
    with cat.sessions() as session:
        ids = list(session.scalars(select(Item.id).where(Item.status == store.PUBLISHED)
                                   .order_by(Item.updated_at.desc(), Item.id).limit(limit)).all())
        return store.items_by_ids(session, ids)
