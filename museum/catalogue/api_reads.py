"""Reads behind the JSON API: published items in id order with filters and opaque cursors, collections and
institutions with their published counts, and the published uses of one image.

Nothing unpublished leaves here. No Flask: the views in `museum/api/` turn these records into JSON.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

from museum.catalogue import store
from museum.catalogue.models import Collection, Image, Institution, Item
from museum.catalogue.service import Catalogue, CollectionCard, collections_page

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Years are stored negative before the common era; these bounds hold any date a museum records.
MIN_YEAR, MAX_YEAR = -99_999, 9_999
# What a cursor looks like: unpadded URL-safe base64 (a length of 4n+1 cannot be base64).
CURSOR_PATTERN = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$"
# Ids are at most 200 characters, so at most 800 bytes of UTF-8: 1,067 characters of base64.
CURSOR_MAX_LENGTH = 1100
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
# Item ids are refused at import if they hold white space, ? or #; control characters cannot be ids either.
_NOT_IN_IDS = re.compile(r"[\s?#\x00-\x1f\x7f]")


class BadCursor(ValueError):
    """A cursor that this API did not make (not base64 of the expected length)."""


@dataclass(frozen=True)
class ItemFilters:
    """The filters of an item list; None means "any"."""

    collection: str | None = None
    institution: str | None = None
    has_image: bool | None = None
    updated_since: dt.datetime | None = None
    year_from: int | None = None
    year_to: int | None = None


@dataclass(frozen=True)
class ItemsPage:
    """One page of published items in id order, and the cursor of the next page (None on the last)."""

    items: list[Item]
    next_cursor: str | None


@dataclass(frozen=True)
class InstitutionCard:
    """An institution with its collections and the number of published items it holds."""

    institution: Institution
    collections: list[Collection]
    item_count: int


@dataclass(frozen=True)
class ImageRecord:
    """An image some published item shows, with every published use of it (rows with their items loaded)."""

    sha256: str
    width: int
    height: int
    format: str
    mime_type: str
    uses: list[Image]


def encode_cursor(item_id: str) -> str:
    """Return the opaque cursor that continues after this item id."""
    return base64.urlsafe_b64encode(item_id.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Return the item id a cursor continues after; raise BadCursor if it is not one this API makes."""
    if len(cursor) > CURSOR_MAX_LENGTH or not re.fullmatch(CURSOR_PATTERN, cursor):
        raise BadCursor("cursor is not one this API gave out; use links.next of the previous page")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not one this API gave out; use links.next of the previous page") from exc
    # Any well-formed cursor names a place in id order, so a hand-made one just starts somewhere; NUL is
    # replaced because PostgreSQL refuses it in text parameters.
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _plain(text: str | None) -> bool:
    """Tell whether a filter value or path value could name anything (no control characters)."""
    return text is None or not re.search(r"[\x00-\x1f\x7f]", text)


def items_page(cat: Catalogue, filters: ItemFilters, cursor: str | None, limit: int) -> ItemsPage:
    """Return one page of published items in id order after the cursor, matching every filter.

    Raise BadCursor for a cursor this API cannot have made. A filter naming nothing (an unknown
    collection, a year range that is empty) gives an empty page, as a filter should.
    """
    limit = min(max(limit, 1), MAX_LIMIT)
    after = decode_cursor(cursor) if cursor else None
    if not (_plain(filters.collection) and _plain(filters.institution)):
        return ItemsPage(items=[], next_cursor=None)
    if filters.year_from is not None and filters.year_to is not None and filters.year_from > filters.year_to:
        return ItemsPage(items=[], next_cursor=None)
    with cat.sessions() as session:
        # One more than asked tells whether another page follows without counting.
        found = store.published_items_after(
            session, after=after, limit=limit + 1, collection_slug=filters.collection,
            institution_slug=filters.institution, has_image=filters.has_image,
            updated_since=filters.updated_since, year_from=filters.year_from, year_to=filters.year_to)
    items = found[:limit]
    return ItemsPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(found) > limit else None)


def public_item(cat: Catalogue, item_id: str) -> Item | None:
    """Return a published item with its images, collection and institution loaded, else None."""
    if not item_id or len(item_id) > 200 or _NOT_IN_IDS.search(item_id):
        return None
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        return item if item is not None and item.status == store.PUBLISHED else None


def collection_cards(cat: Catalogue) -> list[CollectionCard]:
    """Return every collection with its published item count and cover, in display order."""
    return collections_page(cat)


def collection_card(cat: Catalogue, slug: str) -> CollectionCard | None:
    """Return one collection with its published item count and cover, else None."""
    if not _plain(slug):
        return None
    # Collections are few (tens), so the list the site shows is also the cheapest way to one card.
    return next((card for card in collections_page(cat) if card.collection.slug == slug), None)


def _institution_cards(cat: Catalogue, slug: str | None) -> list[InstitutionCard]:
    """Return the institutions (one, when slug is given) with their collections and published counts."""
    with cat.sessions() as session:
        counts = store.published_counts_by_institution(session)
        collections = store.all_collections(session)
        institutions = store.all_institutions(session)
        return [InstitutionCard(institution=inst,
                                collections=[c for c in collections if c.institution_id == inst.id],
                                item_count=counts.get(inst.id, 0))
                for inst in institutions if slug is None or inst.slug == slug]


def institution_cards(cat: Catalogue) -> list[InstitutionCard]:
    """Return every institution with its collections and published item count, ordered by slug."""
    return _institution_cards(cat, None)


def institution_card(cat: Catalogue, slug: str) -> InstitutionCard | None:
    """Return one institution with its collections and published item count, else None."""
    if not _plain(slug):
        return None
    found = _institution_cards(cat, slug)
    return found[0] if found else None


def image_record(cat: Catalogue, sha256: str) -> ImageRecord | None:
    """Return an image shown by at least one published item, with its published uses; else None."""
    if not SHA256_PATTERN.fullmatch(sha256):
        return None
    with cat.sessions() as session:
        uses = store.published_uses_of_image(session, sha256)
    if not uses:
        return None
    first = uses[0]
    return ImageRecord(sha256=first.sha256, width=first.width, height=first.height, format=first.format,
                       mime_type=first.mime_type, uses=uses)
