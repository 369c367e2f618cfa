"""Exhibitions as visitors see them: the ones open today, one exhibition's story and its walk.

Also the queries that load exhibitions, shared with the curators' use cases
(`museum/curation/exhibitions.py`), so every exhibition query lives here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from museum.catalogue import store
from museum.catalogue.markdown import render_markdown
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
from museum.catalogue.service import Catalogue

PUBLISHED = "published"


def today_utc() -> dt.date:
    """Return today's date as the page cache key counts it (UTC), so cached pages and visibility agree."""
    return dt.datetime.now(dt.UTC).date()


# ----- queries (take the caller's session, never commit) ----------------------------------


def _with_content(query: Select[Exhibition]) -> Select[Exhibition]:
    """Load sections, entries, their items with images and holders along with the exhibitions."""
    return query.options(
        selectinload(Exhibition.sections)
        .selectinload(ExhibitionSection.entries)
        .joinedload(ExhibitionEntry.item)
        .options(selectinload(Item.images),
                 joinedload(Item.collection).joinedload(Collection.institution),
                 joinedload(Item.institution)),
    )


def exhibition_by_id(session: Session, exhibition_id: int) -> Exhibition | None:
    """Return the exhibition with this id, its sections, entries and items loaded, if any."""
    return session.scalar(_with_content(select(Exhibition)).where(Exhibition.id == exhibition_id))


def exhibition_by_slug(session: Session, slug: str) -> Exhibition | None:
    """Return the exhibition with this slug, its sections, entries and items loaded, if any."""
    return session.scalar(_with_content(select(Exhibition)).where(Exhibition.slug == slug))


def slug_taken(session: Session, slug: str, other_than: int | None = None) -> bool:
    """Tell whether another exhibition already uses this slug."""
    query = select(Exhibition.id).where(Exhibition.slug == slug)
    if other_than is not None:
        query = query.where(Exhibition.id != other_than)
    return session.scalar(query.limit(1)) is not None


def all_exhibitions(session: Session) -> Sequence[Exhibition]:
    """Return every exhibition (any status) in display order, with their content."""
    return session.scalars(
        _with_content(select(Exhibition)).order_by(Exhibition.position, Exhibition.created_at.desc(),
                                                   Exhibition.id.desc())
    ).all()


def visible_exhibitions(session: Session, today: dt.date) -> Sequence[Exhibition]:
    """Return the published exhibitions open on this date, in display order."""
    return session.scalars(
        _with_content(select(Exhibition)).where(
            Exhibition.status == PUBLISHED,
            or_(Exhibition.opens_on.is_(None), Exhibition.opens_on <= today),
            or_(Exhibition.closes_on.is_(None), Exhibition.closes_on >= today),
        ).order_by(Exhibition.position, Exhibition.created_at.desc(), Exhibition.id.desc())
    ).all()


def is_visible(exhibition: Exhibition, today: dt.date) -> bool:
    """Tell whether visitors may see this exhibition on this date."""
    return (exhibition.status == PUBLISHED
            and (exhibition.opens_on is None or exhibition.opens_on <= today)
            and (exhibition.closes_on is None or today <= exhibition.closes_on))


# ----- what visitors see -------------------------------------------------------------------


@dataclass(frozen=True)
class ShownEntry:
    """One published item in a section, numbered in walk order (1, 2, …) across the exhibition."""

    number: int
    item: Item
    caption: dict[str, str]

    @property
    def image(self) -> Image | None:
        """Return the item's first image, if it has one."""
        return self.item.images[0] if self.item.images else None


@dataclass(frozen=True)
class ShownSection:
    """A section as visitors read it: heading, sanitised HTML per language and its shown entries."""

    number: int
    heading: dict[str, str]
    body_html: dict[str, str]       # language → sanitised HTML from the curator's Markdown
    entries: list[ShownEntry]


@dataclass(frozen=True)
class ExhibitionCard:
    """An exhibition in a list: what its card shows."""

    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    cover: Image | None
    opens_on: dt.date | None
    closes_on: dt.date | None
    item_count: int


@dataclass(frozen=True)
class ExhibitionPage:
    """An exhibition's story: its fields, cover and sections with only published items."""

    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    cover: Image | None
    cover_item: Item | None
    opens_on: dt.date | None
    closes_on: dt.date | None
    updated_at: dt.datetime
    sections: list[ShownSection] = field(default_factory=list)

    @property
    def entries(self) -> list[ShownEntry]:
        """Return every shown entry in walk order."""
        return [entry for section in self.sections for entry in section.entries]


@dataclass(frozen=True)
class WalkStop:
    """One step of the walk through an exhibition: an entry, its section and where to go next."""

    exhibition: ExhibitionPage
    section: ShownSection
    entry: ShownEntry
    total: int

    @property
    def previous(self) -> int | None:
        """Return the number of the previous stop, None at the first."""
        return self.entry.number - 1 if self.entry.number > 1 else None

    @property
    def next(self) -> int | None:
        """Return the number of the next stop, None at the last."""
        return self.entry.number + 1 if self.entry.number < self.total else None


def _labels(value: object) -> dict[str, str]:
    """Return a stored label map with only non-empty text values."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str) and v}


def _shown_sections(exhibition: Exhibition) -> list[ShownSection]:
    """Return the sections with their published items numbered in walk order."""
    sections: list[ShownSection] = []
    number = 0
    for index, section in enumerate(exhibition.sections, start=1):
        entries: list[ShownEntry] = []
        for entry in section.entries:
            # A withdrawn or trashed item is left out of the story, never shown.
            if entry.item is None or entry.item.status != PUBLISHED:
                continue
            number += 1
            entries.append(ShownEntry(number=number, item=entry.item, caption=_labels(entry.caption)))
        body = _labels(section.body)
        sections.append(ShownSection(number=index, heading=_labels(section.heading),
                                     body_html={lang: render_markdown(text) for lang, text in body.items()},
                                     entries=entries))
    return sections


def _cover(session: Session, exhibition: Exhibition,
           sections: list[ShownSection]) -> tuple[Image | None, Item | None]:
    """Return the cover image and its item: the chosen item's, else the first shown item with an image."""
    if exhibition.cover_item_id:
        chosen = store.item_by_id(session, exhibition.cover_item_id)
        if chosen is not None and chosen.status == PUBLISHED and chosen.images:
            return chosen.images[0], chosen
    for section in sections:
        for entry in section.entries:
            if entry.image is not None:
                return entry.image, entry.item
    return None, None


def _page(session: Session, exhibition: Exhibition) -> ExhibitionPage:
    """Return the visitors' view of a loaded exhibition."""
    sections = _shown_sections(exhibition)
    cover, cover_item = _cover(session, exhibition, sections)
    return ExhibitionPage(slug=exhibition.slug, title=_labels(exhibition.title), summary=_labels(exhibition.summary),
                          cover=cover, cover_item=cover_item, opens_on=exhibition.opens_on,
                          closes_on=exhibition.closes_on, updated_at=exhibition.updated_at, sections=sections)


def published_exhibitions(cat: Catalogue, today: dt.date | None = None) -> list[ExhibitionCard]:
    """Return the published exhibitions open today (or on the given date) as cards."""
    with cat.sessions() as session:
        cards: list[ExhibitionCard] = []
        for exhibition in visible_exhibitions(session, today or today_utc()):
            page = _page(session, exhibition)
            cards.append(ExhibitionCard(slug=page.slug, title=page.title, summary=page.summary, cover=page.cover,
                                        opens_on=page.opens_on, closes_on=page.closes_on,
                                        item_count=len(page.entries)))
        return cards


def exhibition_page(cat: Catalogue, slug: str, today: dt.date | None = None) -> ExhibitionPage | None:
    """Return a published exhibition open today with its sections and published items, else None."""
    with cat.sessions() as session:
        exhibition = exhibition_by_slug(session, slug)
        if exhibition is None or not is_visible(exhibition, today or today_utc()):
            return None
        return _page(session, exhibition)


def exhibition_walk(cat: Catalogue, slug: str, number: int, today: dt.date | None = None) -> WalkStop | None:
    """Return stop `number` (from 1) of the walk through a visible exhibition, else None."""
    page = exhibition_page(cat, slug, today)
    if page is None:
        return None
    entries = page.entries
    if not 1 <= number <= len(entries):
        return None
    entry = entries[number - 1]
    section = next(s for s in page.sections if any(e is entry for e in s.entries))
    return WalkStop(exhibition=page, section=section, entry=entry, total=len(entries))


def exhibition_preview(cat: Catalogue, exhibition_id: int) -> ExhibitionPage | None:
    """Return how an exhibition will read once published and open, whatever its status and dates."""
    with cat.sessions() as session:
        exhibition = exhibition_by_id(session, exhibition_id)
        return _page(session, exhibition) if exhibition is not None else None


# ----- items curators may choose -----------------------------------------------------------


def find_items(session: Session, text: str, any_draft: bool, institutions: Sequence[str],
               limit: int = 20) -> list[Item]:
    """Return items whose id, accession number or titles contain text, exact id first.

    Trashed items never; drafts only when any_draft, or when held by one of the institutions.
    """
    text = text.strip()
    if not text:
        return []
    query = (select(Item).join(Item.collection)
             .options(selectinload(Item.images), joinedload(Item.collection).joinedload(Collection.institution),
                      joinedload(Item.institution))
             .where(Item.status != "trashed",
                    or_(Item.id == text, Item.id.icontains(text, autoescape=True),
                        Item.accession_number.icontains(text, autoescape=True),
                        Item.title.icontains(text, autoescape=True),
                        Item.title_alt.icontains(text, autoescape=True))))
    if not any_draft:
        # An item's holder is its own institution, else its collection's (as Account.may_edit reads it).
        held = Institution.slug.in_(list(institutions))
        own = or_(Item.institution.has(held),
                  and_(Item.institution_id.is_(None), Item.collection.has(Collection.institution.has(held))))
        query = query.where(or_(Item.status == PUBLISHED, own))
    found = list(session.scalars(query.order_by((Item.id == text).desc(), Item.sort_title, Item.id).limit(limit))
                 .unique().all())
    return found


# ----- the revision log of one exhibition --------------------------------------------------


def exhibition_revisions(session: Session, exhibition_id: int, limit: int = 500) -> Sequence[Revision]:
    """Return the revisions of an exhibition, newest first."""
    return session.scalars(
        select(Revision).where(Revision.entity == "exhibition", Revision.entity_id == str(exhibition_id))
        .order_by(Revision.seq.desc()).limit(limit)
    ).all()


def exhibition_revision(session: Session, exhibition_id: int, seq: int) -> Revision | None:
    """Return one revision of an exhibition, if that sequence number is one of its own."""
    return session.scalar(
        select(Revision).where(Revision.seq == seq, Revision.entity == "exhibition",
                               Revision.entity_id == str(exhibition_id))
    )


def latest_exhibition_revision(session: Session, exhibition_id: int) -> int:
    """Return the sequence number of an exhibition's newest revision, 0 if it has none."""
    return int(session.scalar(
        select(func.coalesce(func.max(Revision.seq), 0))
        .where(Revision.entity == "exhibition", Revision.entity_id == str(exhibition_id))
    ) or 0)
