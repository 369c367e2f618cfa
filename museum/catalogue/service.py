"""Use cases of the catalogue: open it, read pages of it, keep the index following the log, check it.

Every function takes the Catalogue handle; none reads a request or session, so the CLI, the
web views and the tests call the same code.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from museum.catalogue import store
from museum.catalogue.dates import parse_years
from museum.catalogue.db import database_lock, make_engine, make_session_factory
from museum.catalogue.materials import material_label, materials_in
from museum.catalogue.migrate import upgrade_to_head
from museum.catalogue.models import Collection, Image, Item
from museum.catalogue.periods import dynasty_of, facet_period, find_periods, period_label, period_sort_key
from museum.catalogue.revisions import (
    RevisionProbe,
    item_snapshot,
    latest_sequence,
    record_revision,
    revision_count_after,
    revisions_after,
)
from museum.config import Settings
from museum.images import iiif
from museum.images.derivatives import (
    DERIVATIVE_FORMATS,
    DERIVATIVE_SIZES,
    UnknownDerivative,
    ensure_derivative,
)
from museum.images.ingest import original_path
from museum.search.index import SearchIndex, SearchPage
from museum.search.request import SORTS, SearchRequest
from museum.search.schema import item_document

MAX_PAGE = 10_000


@dataclass
class Catalogue:
    """Everything a use case needs: settings, database sessions and this process's index handle."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    index: SearchIndex
    revision_probe: RevisionProbe
    _index_lock: threading.Lock = field(default_factory=threading.Lock)


def open_catalogue(settings: Settings, migrate: bool = True) -> Catalogue:
    """Connect to the database (creating or upgrading its tables) and open the index directory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade_to_head(engine)
    cat = Catalogue(settings=settings, engine=engine, sessions=make_session_factory(engine),
                    index=SearchIndex(settings.index_dir), revision_probe=RevisionProbe(engine))
    rebuild_index_if_outdated(cat)
    return cat


def rebuild_index_if_outdated(cat: Catalogue) -> bool:
    """Rebuild the index when it was built by a release with other fields or analysis."""
    if cat.index.schema_is_current():
        return False
    # Workers starting together take turns; the first rebuilds, the others find it current.
    with database_lock(cat.engine, "index-schema"):
        if cat.index.schema_is_current():
            return False
        reindex(cat)
        return True


def close_catalogue(cat: Catalogue) -> None:
    """Release the index handle, the probe connection and the connection pool."""
    cat.index.close()
    cat.revision_probe.close()
    cat.engine.dispose()


# ----- the catalogue revision ------------------------------------------------------------


def catalogue_revision(cat: Catalogue) -> int:
    """Return the newest revision sequence number; every write increases it."""
    return cat.revision_probe.latest()


# ----- the index follows the revision log ------------------------------------------------


def index_fields(item: Item) -> dict[str, Any]:
    """Return the plain values the index document of an item is made from."""
    institution = item.institution or item.collection.institution
    named_periods = find_periods(" ".join(filter(None, [item.period, item.date_display])), field=True)
    # Periods named in the title or creator ("unknown Chinese, Kangxi period") are searchable
    # too, read the careful way used for running text.
    for text in (item.title, item.title_alt, item.creator):
        named_periods.extend(p for p in find_periods(text or "") if p not in named_periods)
    # Every name and alias of the periods named, and of their dynasties, so that 明代, 明朝,
    # "Ming" and "Wanli" all find an item dated 明 萬曆三十年.
    period_names: list[str] = []
    for period in named_periods:
        for named in dict.fromkeys([period, dynasty_of(period)]):
            period_names.extend([*named.names.values(), *named.aliases, named.pinyin])
    materials = materials_in(" ".join(filter(None, [item.medium, item.object_type])))
    return {
        "id": item.id,
        "collection": item.collection.slug,
        "collection_title": " ".join(str(v) for v in item.collection.title.values()),
        "institution": institution.slug,
        "institution_name": " ".join(str(v) for v in institution.name.values()),
        "title": item.title,
        "title_alt": item.title_alt,
        "creator": item.creator,
        "object_type": item.object_type,
        "period": item.period,
        "date_display": item.date_display,
        "medium": item.medium,
        "dimensions": item.dimensions,
        "accession_number": item.accession_number,
        "credit_line": item.credit_line,
        "subjects": list(item.subjects or []),
        "description": item.description,
        "inscriptions": item.inscriptions,
        "provenance": item.provenance,
        "has_image": bool(item.images),
        "begin_year": item.begin_year,
        "end_year": item.end_year,
        "sort_title": item.sort_title,
        "period_facet": facet_period([item.period, item.date_display], item.begin_year, item.end_year),
        "period_names": period_names,
        "materials": [m.key for m in materials],
        "material_names": [name for m in materials for name in m.names.values()],
        "creators": creator_names(item.creator),
    }


def creator_names(creator: str) -> list[str]:
    """Return the separate names in a creator field ("A; Attributed to B") for the creator facet."""
    return [" ".join(part.split()) for part in re.split(r"[;|\n]", creator or "") if part.strip()][:10]


def _documents_for(session: Session, item_ids: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Return index documents for the published items among ids, and the ids to delete."""
    loaded = store.items_in(session, item_ids)
    upserts: list[dict[str, Any]] = []
    deletions: list[str] = []
    for item_id in item_ids:
        item = loaded.get(item_id)
        if item is None or item.status != store.PUBLISHED:
            deletions.append(item_id)
        else:
            upserts.append(item_document(index_fields(item)))
    return upserts, deletions


# From this many unapplied revisions on (a large import, a restored backup), rebuilding the index
# beside the live one is several times faster than applying the revisions one by one.
BULK_CATCH_UP_REVISIONS = 5000
# Items loaded, and documents handed to an index writer, at a time during a rebuild.
REBUILD_BATCH = 500


def catch_up_index(cat: Catalogue) -> int:
    """Apply every revision newer than the index's last applied one; return the new sequence."""
    with cat._index_lock:
        applied = cat.index.applied_sequence()
        if catalogue_revision(cat) <= applied:
            # Nothing new (the usual case on a search): one cheap probe instead of an ORM query.
            return applied
        with cat.sessions() as session:
            if revision_count_after(session, applied) >= BULK_CATCH_UP_REVISIONS:
                # Another process already rebuilding will leave the index caught up: don't wait.
                with cat.index.rebuilding(wait=False) as ours:
                    if ours:
                        _rebuild_index(cat, session)
                return cat.index.applied_sequence()
            while True:
                batch = revisions_after(session, applied, limit=2000)
                if not batch:
                    return applied
                item_ids: list[str] = []
                for rev in batch:
                    if rev.entity == "item":
                        item_ids.append(rev.entity_id)
                    elif rev.entity == "collection":
                        # A collection's title is indexed with its items: refresh them all.
                        coll = store.collection_by_slug(session, rev.entity_id)
                        if coll is not None:
                            item_ids.extend(i.id for i in coll.items)
                unique_ids = list(dict.fromkeys(item_ids))
                upserts, deletions = _documents_for(session, unique_ids)
                if not cat.index.apply(upserts, deletions, batch[-1].seq):
                    # Another worker holds the writer and is applying the same log.
                    return applied
                applied = batch[-1].seq


def reindex(cat: Catalogue) -> int:
    """Rebuild the whole index beside the live one and swap it in; return the document count."""
    with cat._index_lock, cat.sessions() as session, cat.index.rebuilding():
        return _rebuild_index(cat, session)


def _rebuild_index(cat: Catalogue, session: Session) -> int:
    """Index every published item into a new generation and swap it in (rebuild lock held)."""
    seq = latest_sequence(session)
    ids = sorted(store.published_ids(session))

    def batches() -> Iterator[list[dict[str, Any]]]:
        for start in range(0, len(ids), REBUILD_BATCH):
            chunk = ids[start:start + REBUILD_BATCH]
            loaded = store.items_in(session, chunk)
            yield [item_document(index_fields(loaded[item_id])) for item_id in chunk]
            # The ORM objects of a batch are not needed again: keep the session's memory flat.
            session.expunge_all()

    return cat.index.rebuild(batches(), seq, expected=len(ids))


# ----- writes ----------------------------------------------------------------------------

ITEM_STATUSES = ("draft", "published", "trashed")


def set_item_status(cat: Catalogue, item_id: str, status: str, actor: str = "system") -> bool:
    """Publish, withdraw (draft) or trash an item, with its revision; return False if there is no such item.

    Like every write, it goes through the revision log, so the page cache key, the index and
    every worker follow at once.
    """
    if status not in ITEM_STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {', '.join(ITEM_STATUSES)}")
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        if item is None:
            return False
        if item.status != status:
            item.status = status
            item.updated_at = dt.datetime.now(dt.UTC)
            record_revision(session, entity="item", entity_id=item.id, action=status, actor=actor,
                            snapshot=item_snapshot(item, item.collection.slug,
                                                   item.institution.slug if item.institution else None))
            session.commit()
    catch_up_index(cat)
    return True


# ----- public reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionCard:
    """A collection with what its card shows."""

    collection: Collection
    item_count: int
    cover: Image | None


@dataclass(frozen=True)
class HomePage:
    """What the home page shows."""

    featured: list[Item]
    collections: list[CollectionCard]
    item_total: int


@dataclass(frozen=True)
class CollectionPage:
    """One page of a collection's grid."""

    collection: Collection
    items: list[Item]
    total: int
    page: int
    pages: int
    sort: str


@dataclass(frozen=True)
class ItemPage:
    """An item with its neighbours in the collection."""

    item: Item
    previous: Item | None
    next: Item | None
    related: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class FacetValue:
    """One value offered by a facet: its label (a language map or plain text) and its count."""

    value: str
    label: dict[str, str] | str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResults:
    """One page of search results with the items loaded, the facets and any suggestion."""

    request: SearchRequest
    hits: list[tuple[Item, str]]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        """Return what was typed in the search box."""
        return self.request.parts.text

    @property
    def searched(self) -> bool:
        """Tell whether anything was asked: words, an advanced input, a filter or a year range."""
        r = self.request
        return not r.parts.is_empty() or any(r.filters.values()) or r.year_from is not None \
            or r.year_to is not None


def _cover(session: Session, collection: Collection) -> Image | None:
    """Return the cover image of a collection: the chosen item's, else any published item's."""
    if collection.cover_item_id:
        item = store.item_by_id(session, collection.cover_item_id)
        if item is not None and item.status == store.PUBLISHED and item.images:
            return item.images[0]
    items, _ = store.published_page(session, collection.id, "title", 0, 50)
    for item in items:
        if item.images:
            return item.images[0]
    return None


def _cards(session: Session) -> list[CollectionCard]:
    """Return every collection as a card with its published count and cover."""
    counts = store.published_counts(session)
    return [CollectionCard(collection=c, item_count=counts.get(c.id, 0), cover=_cover(session, c))
            for c in store.all_collections(session)]


def home_page(cat: Catalogue, featured_limit: int = 8) -> HomePage:
    """Return the featured items and the collections for the home page."""
    with cat.sessions() as session:
        cards = _cards(session)
        return HomePage(featured=store.featured_items(session, featured_limit), collections=cards,
                        item_total=sum(card.item_count for card in cards))


def collections_page(cat: Catalogue) -> list[CollectionCard]:
    """Return every collection as a card."""
    with cat.sessions() as session:
        return _cards(session)


def clamp_page(page: int) -> int:
    """Return page bounded to 1..MAX_PAGE so odd URLs still get a page."""
    return min(max(page, 1), MAX_PAGE)


def collection_page(cat: Catalogue, slug: str, page: int, sort: str) -> CollectionPage | None:
    """Return one page of a collection's published items, or None if there is no such collection."""
    per_page = cat.settings.page_size
    sort = sort if sort in store.ITEM_SORTS else "title"
    page = clamp_page(page)
    with cat.sessions() as session:
        collection = store.collection_by_slug(session, slug)
        if collection is None:
            return None
        items, total = store.published_page(session, collection.id, sort,
                                            (page - 1) * per_page, per_page)
        pages = max(1, -(-total // per_page))
        return CollectionPage(collection=collection, items=items, total=total, page=page,
                              pages=pages, sort=sort)


def item_page(cat: Catalogue, item_id: str) -> ItemPage | None:
    """Return a published item with its neighbours, or None if the public may not see it."""
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        if item is None or item.status != store.PUBLISHED:
            return None
        previous, following = store.neighbours(session, item)
    return ItemPage(item=item, previous=previous, next=following, related=related_items(cat, item_id))


FACET_VALUES_SHOWN = 12
MAX_FILTER_VALUES = 20


def year_bound(text: str) -> int | None:
    """Return the year a visitor typed in a year-range box ("-300", "300 BCE", "公元前300年", "1880")."""
    cleaned = text.strip()[:40]
    if re.fullmatch(r"[-−]\d{1,5}", cleaned):
        return -int(cleaned[1:])
    begin, _end = parse_years(cleaned)
    return begin


def _facet_labels(session: Session, facets: dict[str, list[tuple[str, int]]],
                  selected: dict[str, tuple[str, ...]]) -> dict[str, list[FacetValue]]:
    """Return the facet counts with display labels, selected values always included."""
    collections = {c.slug: c.title for c in store.all_collections(session)}
    institutions = {i.slug: i.name for i in store.all_institutions(session)}
    shown: dict[str, list[FacetValue]] = {}
    for name, counts in facets.items():
        chosen = set(selected.get(name, ()))
        top = counts[:FACET_VALUES_SHOWN] + [c for c in counts[FACET_VALUES_SHOWN:] if c[0] in chosen]
        if name == "period":
            top.sort(key=lambda c: period_sort_key(c[0]))
        values: list[FacetValue] = []
        for value, count in top:
            label: dict[str, str] | str = value
            if name == "collection":
                label = dict(collections.get(value) or {"en": value})
            elif name == "institution":
                label = dict(institutions.get(value) or {"en": value})
            elif name == "period":
                label = {loc: period_label(value, loc) for loc in ("en", "zh-Hant", "zh-Hans")}
            elif name == "material":
                label = {loc: material_label(value, loc) for loc in ("en", "zh-Hant", "zh-Hans")}
            values.append(FacetValue(value=value, label=label, count=count, selected=value in chosen))
        # A selected value with no hits left still shows, so it can be removed.
        for value in chosen - {v.value for v in values}:
            values.append(FacetValue(value=value, label=value, count=0, selected=True))
        shown[name] = values
    return shown


def _suggestion(cat: Catalogue, request: SearchRequest, found: SearchPage) -> str:
    """Return a better query to offer: misspelt Latin words corrected, or fewer words when nothing matched."""
    text = request.parts.text
    candidates: list[str] = []
    corrections = cat.index.suggest_words(found.latin_words)
    if corrections:
        corrected = text
        for wrong, right in corrections.items():
            corrected = re.sub(rf"(?<!\w){re.escape(wrong)}(?!\w)", right, corrected)
        candidates.append(corrected)
    words = text.split()
    if found.total == 0 and 1 < len(words) <= 6:
        candidates.extend(" ".join(words[:i] + words[i + 1:]) for i in reversed(range(len(words))))
    for candidate in candidates[:6]:
        if candidate.strip() and candidate != text:
            probe = replace(request, parts=replace(request.parts, text=candidate), page=1, per_page=1)
            if cat.index.search(probe).total > found.total:
                return candidate
    return ""


def search(cat: Catalogue, request: SearchRequest, problems: list[str] | None = None) -> SearchResults:
    """Return one page of published items for a search, with facets, snippets and a suggestion."""
    per_page = request.per_page or cat.settings.page_size
    request = replace(
        request, page=clamp_page(request.page), per_page=per_page,
        sort=request.sort if request.sort in SORTS else "relevance",
        parts=replace(request.parts, text=request.parts.text.strip()[:500]),
        filters={k: tuple(v[:MAX_FILTER_VALUES]) for k, v in request.filters.items() if v},
    )
    catch_up_index(cat)
    found: SearchPage = cat.index.search(request)
    pages = max(1, -(-found.total // per_page))
    if found.total and request.page > pages:
        request = replace(request, page=pages)
        found = cat.index.search(request)
    with cat.sessions() as session:
        items = {i.id: i for i in store.items_by_ids(session, found.ids)}
        facets = _facet_labels(session, found.facets, request.filters)
    hits = [(items[h.item_id], h.snippet) for h in found.hits
            if h.item_id in items and items[h.item_id].status == store.PUBLISHED]
    suggestion = _suggestion(cat, request, found) if request.parts.text else ""
    return SearchResults(request=request, hits=hits, total=found.total, page=request.page, pages=pages,
                         facets=facets, suggestion=suggestion, problems=list(problems or []))


def related_items(cat: Catalogue, item_id: str, limit: int = 6) -> list[Item]:
    """Return published items most like item_id ("more like this")."""
    catch_up_index(cat)
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        if item is None:
            return []
        document = item_document(index_fields(item))
    texts = {name: str(document.get(name) or "") for name in ("title", "title_alt", "creator", "meta", "body")}
    ids = cat.index.related(item_id, texts, limit)
    with cat.sessions() as session:
        items = {i.id: i for i in store.items_by_ids(session, ids)}
    return [items[i] for i in ids if i in items and items[i].status == store.PUBLISHED]


# ----- images for the public -------------------------------------------------------------


@dataclass(frozen=True)
class PublicImage:
    """An original image the public may see (it belongs to at least one published item)."""

    sha256: str
    format: str
    width: int
    height: int
    path: Path
    modified: dt.datetime   # when the newest published item showing it last changed


_PUBLIC_IMAGES: dict[tuple[int, str], PublicImage | None] = {}
_PUBLIC_IMAGES_LOCK = threading.Lock()
_PUBLIC_IMAGES_MAX = 4096


def public_image(cat: Catalogue, sha256: str) -> PublicImage | None:
    """Return the original with this hash if a published item shows it, else None (never a draft's).

    Remembered per catalogue revision: a viewer asks for dozens of tiles of one image, and two
    ORM queries per tile cost more than serving the cached tile itself. Any write changes the
    revision, so a withdrawn item's image is refused at once.
    """
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    key = (catalogue_revision(cat), sha256)
    with _PUBLIC_IMAGES_LOCK:
        if key in _PUBLIC_IMAGES:
            return _PUBLIC_IMAGES[key]
    found = _load_public_image(cat, sha256)
    with _PUBLIC_IMAGES_LOCK:
        if len(_PUBLIC_IMAGES) >= _PUBLIC_IMAGES_MAX or any(k[0] != key[0] for k in list(_PUBLIC_IMAGES)[:1]):
            _PUBLIC_IMAGES.clear()   # a new revision (or too many): start afresh
        _PUBLIC_IMAGES[key] = found
    return found


def _load_public_image(cat: Catalogue, sha256: str) -> PublicImage | None:
    """Read a public original's facts from the database."""
    with cat.sessions() as session:
        image = store.published_image_by_hash(session, sha256)
        if image is None:
            return None
        modified = store.published_image_modified(session, sha256)
        found = PublicImage(sha256=image.sha256, format=image.format, width=image.width, height=image.height,
                            path=original_path(cat.settings.originals_dir, image.sha256, image.format),
                            modified=modified or image.item.updated_at)
    return found if found.path.is_file() else None


def published_item(cat: Catalogue, item_id: str) -> Item | None:
    """Return a published item with its images, collection and institution loaded, else None."""
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        return item if item is not None and item.status == store.PUBLISHED else None


def published_collection(cat: Catalogue, slug: str) -> tuple[Collection, list[Item]] | None:
    """Return a collection and all its published items (with images) in title order, else None."""
    with cat.sessions() as session:
        collection = store.collection_by_slug(session, slug)
        if collection is None:
            return None
        items, _total = store.published_page(session, collection.id, "title", 0, 1_000_000)
        return collection, list(items)


def public_derivative(cat: Catalogue, sha256: str, size: str, fmt: str) -> Path | None:
    """Return a derivative file of a published item's image, rendering it if needed; else None."""
    if size not in DERIVATIVE_SIZES or fmt not in DERIVATIVE_FORMATS or len(sha256) != 64:
        return None
    with cat.sessions() as session:
        image = store.published_image_by_hash(session, sha256)
        if image is None:
            return None
        fmt_name = image.format
    original = original_path(cat.settings.originals_dir, sha256, fmt_name)
    if not original.is_file():
        return None
    try:
        return ensure_derivative(original, cat.settings.derivatives_dir, sha256, size, fmt)
    except UnknownDerivative:
        return None


# The IIIF views answer with its status and message; re-exported so they need not import images.
IiifRequestError = iiif.IiifRequestError


@dataclass(frozen=True)
class IiifImagePlan:
    """A checked IIIF image request for a public image: what to send and how to validate it."""

    sha256: str
    original: Path
    original_format: str
    width: int
    height: int
    request: iiif.ImageRequest
    canonical: str          # region/size/rotation/quality.format in canonical form
    media_type: str
    etag: str
    last_modified: dt.datetime


def iiif_info(cat: Catalogue, sha256: str, service_id: str) -> dict[str, Any] | None:
    """Return the IIIF info.json document of a public image served at service_id, else None."""
    image = public_image(cat, sha256)
    if image is None:
        return None
    return iiif.info_document(service_id, image.width, image.height)


def iiif_image_plan(cat: Catalogue, sha256: str, region: str, size: str, rotation: str,
                    quality: str, fmt: str) -> IiifImagePlan | None:
    """Check an IIIF image request for a public image; None if the image is not public.

    Raise IiifRequestError (status 400 or 501) for parameters the Image API refuses. Nothing is
    rendered yet, so a client revalidating its copy costs no decoding.
    """
    image = public_image(cat, sha256)
    if image is None:
        return None
    request = iiif.resolve_request(region, size, rotation, quality, fmt, image.width, image.height)
    # The rendering depends only on the original's bytes, which never change under its hash.
    stored = dt.datetime.fromtimestamp(int(image.path.stat().st_mtime), tz=dt.UTC)
    return IiifImagePlan(sha256=image.sha256, original=image.path, original_format=image.format,
                         width=image.width, height=image.height, request=request,
                         canonical=request.canonical, media_type=request.media_type,
                         etag=iiif.etag(image.sha256, request), last_modified=stored)


def iiif_image_file(cat: Catalogue, plan: IiifImagePlan) -> Path:
    """Return the rendered file of a checked IIIF request, rendering and caching it if needed."""
    return iiif.ensure_rendition(plan.original, plan.original_format, cat.settings.derivatives_dir,
                                 plan.sha256, plan.request, plan.width, plan.height)
