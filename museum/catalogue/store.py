"""Queries over the catalogue tables; every function takes the caller's session and never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from museum.catalogue.models import Collection, Image, Institution, Item

T = TypeVar("T")
PUBLISHED = "published"
ITEM_SORTS = ("title", "date", "-date")


def institution_by_slug(session: Session, slug: str) -> Institution | None:
    """Return the institution with this slug, if any."""
    return session.scalar(select(Institution).where(Institution.slug == slug))


def collection_by_slug(session: Session, slug: str) -> Collection | None:
    """Return the collection with this slug with its institution loaded, if any."""
    return session.scalar(
        select(Collection).options(joinedload(Collection.institution)).where(Collection.slug == slug)
    )


def all_collections(session: Session) -> Sequence[Collection]:
    """Return every collection in display order."""
    return session.scalars(
        select(Collection).options(joinedload(Collection.institution))
        .order_by(Collection.position, Collection.slug)
    ).all()


def all_institutions(session: Session) -> Sequence[Institution]:
    """Return every institution ordered by slug."""
    return session.scalars(select(Institution).order_by(Institution.slug)).all()


def published_counts(session: Session) -> dict[int, int]:
    """Return the number of published items per collection id."""
    rows = session.execute(
        select(Item.collection_id, func.count()).where(Item.status == PUBLISHED)
        .group_by(Item.collection_id)
    ).all()
    return {int(cid): int(n) for cid, n in rows}


def item_by_id(session: Session, item_id: str) -> Item | None:
    """Return one item with its images, collection and institutions loaded, if any."""
    return session.scalar(
        select(Item)
        .options(
            selectinload(Item.images),
            joinedload(Item.collection).joinedload(Collection.institution),
            joinedload(Item.institution),
        )
        .where(Item.id == item_id)
    )


def items_by_ids(session: Session, item_ids: Sequence[str]) -> list[Item]:
    """Return the items with these ids, in the order given, skipping ids that do not exist."""
    if not item_ids:
        return []
    found = session.scalars(
        select(Item).options(selectinload(Item.images), joinedload(Item.collection))
        .where(Item.id.in_(list(item_ids)))
    ).all()
    by_id = {item.id: item for item in found}
    return [by_id[i] for i in item_ids if i in by_id]


def _ordered(query: Select[T], sort: str) -> Select[T]:
    """Apply one of ITEM_SORTS to an item query, with the id as a stable tie-breaker."""
    if sort == "date":
        return query.order_by(Item.begin_year.is_(None), Item.begin_year, Item.sort_title, Item.id)
    if sort == "-date":
        return query.order_by(Item.begin_year.is_(None), Item.begin_year.desc(), Item.sort_title,
                              Item.id)
    return query.order_by(Item.sort_title, Item.id)


def published_page(session: Session, collection_id: int, sort: str, offset: int,
                   limit: int) -> tuple[list[Item], int]:
    """Return one page of a collection's published items and the total count."""
    where = and_(Item.collection_id == collection_id, Item.status == PUBLISHED)
    total = int(session.scalar(select(func.count()).select_from(Item).where(where)) or 0)
    # Sort and page over ids only (covered by an index), then load the few rows shown: sorting
    # whole rows with their long texts made deep pages of big collections slow.
    page_ids = list(session.scalars(_ordered(select(Item.id).where(where), sort)
                                    .offset(offset).limit(limit)).all())
    return items_by_ids(session, page_ids), total


def neighbours(session: Session, item: Item) -> tuple[Item | None, Item | None]:
    """Return the previous and next published items of the same collection in title order."""
    same = and_(Item.collection_id == item.collection_id, Item.status == PUBLISHED)
    before = or_(Item.sort_title < item.sort_title,
                 and_(Item.sort_title == item.sort_title, Item.id < item.id))
    after = or_(Item.sort_title > item.sort_title,
                and_(Item.sort_title == item.sort_title, Item.id > item.id))
    prev_item = session.scalar(
        select(Item).where(same, before).order_by(Item.sort_title.desc(), Item.id.desc()).limit(1)
    )
    next_item = session.scalar(
        select(Item).where(same, after).order_by(Item.sort_title, Item.id).limit(1)
    )
    return prev_item, next_item


def featured_items(session: Session, limit: int) -> list[Item]:
    """Return published featured items, those with images first."""
    has_image = select(Image.id).where(Image.item_id == Item.id).exists()
    return list(session.scalars(
        select(Item).options(selectinload(Item.images), joinedload(Item.collection))
        .where(Item.status == PUBLISHED, Item.featured.is_(True))
        .order_by(has_image.desc(), Item.collection_id, Item.sort_title)
        .limit(limit)
    ).all())


def items_in(session: Session, item_ids: Iterable[str]) -> dict[str, Item]:
    """Return a map of id → item for the existing items among item_ids, images loaded."""
    ids = list(item_ids)
    result: dict[str, Item] = {}
    # Chunked so very large imports stay under the backends' bound-parameter limits.
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for item in session.scalars(
            select(Item)
            .options(selectinload(Item.images),
                     joinedload(Item.collection).joinedload(Collection.institution),
                     joinedload(Item.institution))
            .where(Item.id.in_(chunk))
        ):
            result[item.id] = item
    return result


def all_images(session: Session) -> Sequence[Image]:
    """Return every image row (for consistency checks)."""
    return session.scalars(select(Image).order_by(Image.item_id, Image.position)).all()



def published_image_by_hash(session: Session, sha256: str) -> Image | None:
    """Return an image with this hash that belongs to a published item, if any."""
    return session.scalar(
        select(Image).join(Item).where(Image.sha256 == sha256, Item.status == PUBLISHED).limit(1)
    )


def published_image_modified(session: Session, sha256: str) -> datetime | None:
    """Return when the newest published item showing this image last changed."""
    return session.scalar(
        select(func.max(Item.updated_at)).join(Image).where(Image.sha256 == sha256, Item.status == PUBLISHED)
    )


def published_ids(session: Session) -> set[str]:
    """Return the ids of every published item."""
    return set(session.scalars(select(Item.id).where(Item.status == PUBLISHED)).all())


def undated_items(session: Session) -> list[tuple[str, str]]:
    """Return (id, date text) of items whose date text gave no years (kept as text only)."""
    rows = session.execute(
        select(Item.id, Item.date_display).where(Item.begin_year.is_(None), Item.date_display != "")
        .order_by(Item.id)
    ).all()
    return [(str(item_id), str(text)) for item_id, text in rows]
