"""Queries over the catalogue tables; every function takes the caller's session and never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from museum.catalogue.models import (
    Collection,
    Exhibition,
    ExhibitionEntry,
    ExhibitionSection,
    Image,
    Institution,
    Item,
    Revision,
)

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


# ----- curation: the curators' item lists, revisions of one item, the activity log --------


def _curation_where(*, institution_ids: Sequence[int] | None, collection_id: int | None, missing_image: bool,
                    changed_since: datetime | None, terms: Sequence[Sequence[str]]) -> list[ColumnElement[bool]]:
    """Return the conditions of a curators' item list (the caller joins Collection)."""
    where: list[ColumnElement[bool]] = []
    if institution_ids is not None:
        # An item is held by its own institution, else by its collection's.
        where.append(func.coalesce(Item.institution_id, Collection.institution_id).in_(list(institution_ids)))
    if collection_id is not None:
        where.append(Item.collection_id == collection_id)
    if missing_image:
        where.append(~select(Image.id).where(Image.item_id == Item.id).exists())
    if changed_since is not None:
        where.append(Item.updated_at >= changed_since)
    columns = (Item.id, Item.accession_number, Item.title, Item.title_alt, Item.creator)
    # Every word must match some column, in any of its spellings (as typed, simplified, traditional).
    for spellings in terms:
        patterns = ["%" + s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for s in spellings]
        where.append(or_(*(column.ilike(p, escape="\\") for column in columns for p in patterns)))
    return where


CURATION_SORTS = ("updated", "title", "id")


def curation_page(session: Session, *, institution_ids: Sequence[int] | None, statuses: Sequence[str],
                  collection_id: int | None, missing_image: bool, changed_since: datetime | None,
                  terms: Sequence[Sequence[str]], sort: str, offset: int, limit: int) -> list[Item]:
    """Return one page of the items a curator may edit, matching the filters (counts: curation_status_counts)."""
    where = _curation_where(institution_ids=institution_ids, collection_id=collection_id,
                            missing_image=missing_image, changed_since=changed_since, terms=terms)
    where.append(Item.status.in_(list(statuses)))
    base = select(Item.id).join(Collection, Item.collection_id == Collection.id).where(*where)
    if sort == "title":
        ordered = base.order_by(Item.sort_title, Item.id)
    elif sort == "id":
        ordered = base.order_by(Item.id)
    else:
        ordered = base.order_by(Item.updated_at.desc(), Item.id)
    page_ids = list(session.scalars(ordered.offset(offset).limit(limit)).all())
    loaded = items_in(session, page_ids)
    return [loaded[i] for i in page_ids if i in loaded]


def curation_status_counts(session: Session, *, institution_ids: Sequence[int] | None, collection_id: int | None,
                           missing_image: bool, changed_since: datetime | None,
                           terms: Sequence[Sequence[str]]) -> dict[str, int]:
    """Return how many items a curator may edit are in each status, under the other filters."""
    where = _curation_where(institution_ids=institution_ids, collection_id=collection_id,
                            missing_image=missing_image, changed_since=changed_since, terms=terms)
    rows = session.execute(
        select(Item.status, func.count()).join(Collection, Item.collection_id == Collection.id)
        .where(*where).group_by(Item.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def institution_ids_of(session: Session, slugs: Sequence[str]) -> list[int]:
    """Return the ids of the institutions with these slugs (unknown slugs are skipped)."""
    if not slugs:
        return []
    return list(session.scalars(select(Institution.id).where(Institution.slug.in_(list(slugs)))).all())


def item_exists(session: Session, item_id: str) -> bool:
    """Tell whether an item with this id exists."""
    return session.scalar(select(Item.id).where(Item.id == item_id)) is not None


def images_with_hash(session: Session, sha256: str) -> list[Image]:
    """Return every image row showing the original with this hash, with its item and holder loaded."""
    return list(session.scalars(
        select(Image).options(joinedload(Image.item).joinedload(Item.collection).joinedload(Collection.institution),
                              joinedload(Image.item).joinedload(Item.institution))
        .where(Image.sha256 == sha256)
    ).all())


def exhibitions_showing(session: Session, item_id: str) -> list[str]:
    """Return the slugs of the exhibitions that show this item in one of their sections."""
    return list(session.scalars(
        select(Exhibition.slug).join(ExhibitionSection).join(ExhibitionEntry)
        .where(ExhibitionEntry.item_id == item_id).distinct().order_by(Exhibition.slug)
    ).all())


def item_revisions(session: Session, item_id: str, limit: int = 1000) -> list[Revision]:
    """Return the newest revisions of one item (up to limit), oldest first."""
    newest = session.scalars(
        select(Revision).where(Revision.entity == "item", Revision.entity_id == item_id)
        .order_by(Revision.seq.desc()).limit(limit)
    ).all()
    return list(reversed(newest))


def revision_by_seq(session: Session, seq: int) -> Revision | None:
    """Return the revision with this sequence number, if any."""
    return session.get(Revision, seq)


def revisions_page(session: Session, *, actor: str, entity: str, action: str, offset: int,
                   limit: int) -> tuple[list[Revision], int]:
    """Return one page of the whole revision log, newest first, filtered by any of actor, entity, action."""
    where: list[ColumnElement[bool]] = []
    if actor:
        where.append(Revision.actor == actor)
    if entity:
        where.append(Revision.entity == entity)
    if action:
        where.append(Revision.action == action)
    total = int(session.scalar(select(func.count()).select_from(Revision).where(*where)) or 0)
    rows = session.scalars(select(Revision).where(*where).order_by(Revision.seq.desc()).offset(offset).limit(limit))
    return list(rows.all()), total


def revision_values(session: Session) -> tuple[list[str], list[str], list[str]]:
    """Return the distinct actors, entities and actions in the revision log, for filter menus."""
    def distinct(column: InstrumentedAttribute[str]) -> list[str]:
        return [str(v) for v in session.scalars(select(column).distinct().order_by(column)).all()]

    return distinct(Revision.actor), distinct(Revision.entity), distinct(Revision.action)


# ----- the JSON API: published items in id order, holders' counts, the published uses of an image ----


def published_items_after(session: Session, *, after: str | None, limit: int, collection_slug: str | None = None,
                          institution_slug: str | None = None, has_image: bool | None = None,
                          updated_since: datetime | None = None, year_from: int | None = None,
                          year_to: int | None = None) -> list[Item]:
    """Return up to limit published items with ids after `after`, in id order, matching every filter given."""
    query = select(Item.id).join(Collection, Item.collection_id == Collection.id).where(Item.status == PUBLISHED)
    if after is not None:
        query = query.where(Item.id > after)
    if collection_slug is not None:
        query = query.where(Collection.slug == collection_slug)
    if institution_slug is not None:
        # An item is held by its own institution, else by its collection's.
        holder = select(Institution.id).where(Institution.slug == institution_slug).scalar_subquery()
        query = query.where(func.coalesce(Item.institution_id, Collection.institution_id) == holder)
    if has_image is not None:
        pictured = select(Image.id).where(Image.item_id == Item.id).exists()
        query = query.where(pictured if has_image else ~pictured)
    if updated_since is not None:
        query = query.where(Item.updated_at >= updated_since)
    # Year bounds keep every item whose date range overlaps them, as search's year range does.
    if year_from is not None:
        query = query.where(func.coalesce(Item.end_year, Item.begin_year) >= year_from)
    if year_to is not None:
        query = query.where(Item.begin_year <= year_to)
    # Keyset paging over ids only (the primary key orders it), then the few rows shown are loaded.
    page_ids = list(session.scalars(query.order_by(Item.id).limit(limit)).all())
    loaded = items_in(session, page_ids)
    return [loaded[item_id] for item_id in page_ids if item_id in loaded]


def published_counts_by_institution(session: Session) -> dict[int, int]:
    """Return the number of published items each institution id holds (an item's own, else its collection's)."""
    holder = func.coalesce(Item.institution_id, Collection.institution_id)
    rows = session.execute(
        select(holder, func.count()).select_from(Item).join(Collection, Item.collection_id == Collection.id)
        .where(Item.status == PUBLISHED).group_by(holder)
    ).all()
    return {int(institution_id): int(n) for institution_id, n in rows}


def published_uses_of_image(session: Session, sha256: str) -> list[Image]:
    """Return the image rows with this hash whose items are published, items loaded, in item id order."""
    return list(session.scalars(
        select(Image).join(Item, Image.item_id == Item.id)
        .options(joinedload(Image.item).joinedload(Item.collection).joinedload(Collection.institution),
                 joinedload(Image.item).joinedload(Item.institution),
                 joinedload(Image.item).selectinload(Item.images))
        .where(Image.sha256 == sha256, Item.status == PUBLISHED)
        .order_by(Item.id, Image.position)
    ).unique().all())


# ----- OAI-PMH: harvestable records, read from the revision log -----------------------------

# One harvestable record: (seq of the item's latest revision, item id, when that revision was
# made, the item's status now or None once its row is purged, collection slug, institution slug).
HarvestRow = tuple[int, str, datetime, str | None, str | None, str | None]
HARVEST_WINDOW_CAP = 4000


def _harvest_select(session: Session, *, since: datetime | None = None, before: datetime | None = None,
                    collection: str | None = None, institution: str | None = None, any_institution: bool = False,
                    item_id: str | None = None) -> Select[*HarvestRow]:
    """Return the query of harvestable records (the latest revision of each item), unordered and unpaged.

    An item is harvestable while published, and for ever once it has been: a withdrawn, trashed
    or purged item stays as a deleted record, so the repository's deletions are persistent.
    """
    latest = Revision.__table__.alias("latest")
    newer = Revision.__table__.alias("newer")
    exposed = Revision.__table__.alias("exposed")
    own = Institution.__table__.alias("own_institution")
    holder = Institution.__table__.alias("collection_institution")
    # Looked up per record as scalar subqueries rather than joined: a page reads a few hundred
    # rows of the log, and a join let PostgreSQL hash the whole item table for them.
    of_record = Item.id == latest.c.entity_id
    status = select(Item.status).where(of_record).scalar_subquery()
    current_collection = (select(Collection.slug).join(Item, Item.collection_id == Collection.id)
                          .where(of_record).scalar_subquery())
    current_institution = (select(func.coalesce(own.c.slug, holder.c.slug)).select_from(Item)
                           .join(Collection, Item.collection_id == Collection.id)
                           .join(holder, holder.c.id == Collection.institution_id)
                           .outerjoin(own, own.c.id == Item.institution_id)
                           .where(of_record).scalar_subquery())
    old_collection, old_institution, old_holder = _last_known(latest.c.entity_id)
    collection_slug = func.coalesce(current_collection, old_collection)
    institution_slug = func.coalesce(current_institution, old_institution, old_holder)
    # Correlated over the (entity, entity_id) index: a page walks the log in seq order from the
    # token's key and stops when it is full, instead of grouping the whole log first.
    is_latest = ~select(newer.c.seq).where(newer.c.entity == "item", newer.c.entity_id == latest.c.entity_id,
                                           newer.c.seq > latest.c.seq).exists()
    was_published = select(exposed.c.seq).where(
        exposed.c.entity == "item", exposed.c.entity_id == latest.c.entity_id,
        # Always true (latest is the newest); it keeps PostgreSQL from hashing every snapshot of
        # the log up front, which made each page cost a full read of the log.
        exposed.c.seq <= latest.c.seq,
        exposed.c.snapshot["status"].as_string() == PUBLISHED).exists()
    if item_id is not None:
        # One record: the (entity, entity_id) index is the way in.
        of_items = and_(latest.c.entity == "item", latest.c.entity_id == item_id)
    elif session.get_bind().dialect.name == "sqlite":
        # `entity || ''` keeps SQLite off the (entity, entity_id) index for the outer walk: in seq
        # order the primary key yields a page at once, where that index needs the whole log
        # sorted first (200 ms a page at 100k items, against a few ms). PostgreSQL's statistics
        # choose well, and the expression would spoil them.
        of_items = (latest.c.entity + "") == "item"
    else:
        of_items = latest.c.entity == "item"
    query = (
        select(latest.c.seq, latest.c.entity_id, latest.c.created_at, status, collection_slug, institution_slug)
        # Published rows are decided without looking into the log's snapshots.
        .where(of_items, is_latest, or_(status == PUBLISHED, was_published))
    )
    return query.where(*_harvest_conditions(
        created_at=latest.c.created_at, collection_slug=collection_slug, institution_slug=institution_slug,
        since=since, before=before, collection=collection, institution=institution,
        any_institution=any_institution))


def _last_known(item_id: ColumnElement[str]) -> tuple[ColumnElement[str], ColumnElement[str], ColumnElement[str]]:
    """Return where a purged item belonged: collection and institution slugs from its last snapshot naming them,
    and that collection's institution.

    Used second in COALESCE, which stops at the first value, so these run for purged items only.
    """
    known = []
    for name in ("collection", "institution"):
        older = Revision.__table__.alias(f"known_{name}")
        value = older.c.snapshot[name].as_string()
        known.append(select(value).where(older.c.entity == "item", older.c.entity_id == item_id, value.is_not(None))
                     .order_by(older.c.seq.desc()).limit(1).scalar_subquery())
    holder = (select(Institution.slug).join(Collection, Collection.institution_id == Institution.id)
              .where(Collection.slug == known[0]).scalar_subquery())
    return known[0], known[1], holder


def _harvest_conditions(*, created_at: ColumnElement[datetime], collection_slug: ColumnElement[str],
                        institution_slug: ColumnElement[str], since: datetime | None, before: datetime | None,
                        collection: str | None, institution: str | None,
                        any_institution: bool) -> list[ColumnElement[bool]]:
    """Return the date and set conditions of a harvest."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(created_at >= since)
    if before is not None:
        conditions.append(created_at < before)
    if collection is not None:
        conditions.append(collection_slug == collection)
    if institution is not None:
        conditions.append(institution_slug == institution)
    if any_institution:
        conditions.append(institution_slug.is_not(None))
    return conditions


def harvest_page(session: Session, *, after_seq: int, limit: int, since: datetime | None = None,
                 before: datetime | None = None, collection: str | None = None, institution: str | None = None,
                 any_institution: bool = False) -> list[HarvestRow]:
    """Return up to limit harvestable records whose latest revision comes after after_seq, in seq order.

    Keyed on the sequence number, not an offset: an item changed during a harvest moves behind the
    key and is sent again later, and no other record shifts into a page already sent.
    """
    query = _harvest_select(session, since=since, before=before, collection=collection, institution=institution,
                            any_institution=any_institution)
    seq = query.selected_columns[0]
    newest = int(session.scalar(select(func.max(Revision.seq))) or 0)
    low = after_seq
    if since is not None:
        # Nothing before the first revision made since then can match: start there, found by a
        # walk of the primary key that stops at once for a recent `from`.
        first = session.scalar(select(Revision.seq).where(Revision.seq > after_seq, Revision.created_at >= since)
                               .order_by(Revision.seq).limit(1))
        low = newest if first is None else first - 1
    found: list[HarvestRow] = []
    window = max(4 * limit, 1000)
    # The log is read in windows of seq: the planners see a short primary-key range and walk it
    # in order, where a set filter alone made PostgreSQL sort the whole log for every page (0.9 s
    # at 100k items). Windows double up to a cap, so a sparse set costs a few queries, each kept
    # under PostgreSQL's default JIT threshold (compiling took longer than running).
    while low < newest and len(found) < limit:
        high = low + window
        rows = session.execute(query.where(seq > low, seq <= high).order_by(seq).limit(limit - len(found)))
        found.extend((r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows)
        low, window = high, min(window * 2, HARVEST_WINDOW_CAP)
    return found


def harvest_count(session: Session, *, since: datetime | None = None, before: datetime | None = None,
                  collection: str | None = None, institution: str | None = None,
                  any_institution: bool = False) -> int:
    """Return how many harvestable records match the filters.

    The same records as harvest_page, counted the way a count wants: the newest revision per item
    by one GROUP BY, the rows joined, the published past as one set. Per-record subqueries, right
    for a page, took 2 s at 100k items on PostgreSQL (mostly JIT compiling them); this, a few tenths.
    """
    newest = (select(Revision.entity_id, func.max(Revision.seq).label("seq")).where(Revision.entity == "item")
              .group_by(Revision.entity_id).subquery("newest"))
    latest = Revision.__table__.alias("latest")
    own = Institution.__table__.alias("own_institution")
    holder = Institution.__table__.alias("collection_institution")
    old_collection, old_institution, old_holder = _last_known(newest.c.entity_id)
    published_once = select(Revision.entity_id).where(Revision.entity == "item",
                                                      Revision.snapshot["status"].as_string() == PUBLISHED)
    query = (
        select(func.count()).select_from(newest)
        .join(latest, latest.c.seq == newest.c.seq)
        .outerjoin(Item, Item.id == newest.c.entity_id)
        .outerjoin(Collection, Collection.id == Item.collection_id)
        .outerjoin(holder, holder.c.id == Collection.institution_id)
        .outerjoin(own, own.c.id == Item.institution_id)
        .where(or_(Item.status == PUBLISHED, newest.c.entity_id.in_(published_once)))
    )
    query = query.where(*_harvest_conditions(
        created_at=latest.c.created_at, collection_slug=func.coalesce(Collection.slug, old_collection),
        institution_slug=func.coalesce(own.c.slug, holder.c.slug, old_institution, old_holder),
        since=since, before=before, collection=collection, institution=institution,
        any_institution=any_institution))
    return int(session.scalar(query) or 0)


def harvest_entry(session: Session, item_id: str) -> HarvestRow | None:
    """Return the harvestable record of one item, or None if it was never published."""
    row = session.execute(_harvest_select(session, item_id=item_id)).first()
    return (row[0], row[1], row[2], row[3], row[4], row[5]) if row is not None else None


def earliest_item_change(session: Session) -> datetime | None:
    """Return when the oldest revision of any item was made, None when there is none."""
    return session.scalar(select(func.min(Revision.created_at)).where(Revision.entity == "item"))


def ever_existed(session: Session, entity: str, slug: str) -> bool:
    """Tell whether a collection or institution with this slug has a revision, i.e. exists or once did."""
    return session.scalar(
        select(Revision.seq).where(Revision.entity == entity, Revision.entity_id == slug).limit(1)
    ) is not None
