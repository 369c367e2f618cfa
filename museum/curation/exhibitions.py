"""Curators' use cases for exhibitions: create and edit, sections and their items, publishing, history
and restore. Every write is one transaction holding the change and one revision with the whole
exhibition (sections and entries included), so public pages, which are cached under the newest
revision, show it at once.

Who may do what: every curator may build any exhibition (exhibitions tell stories across
institutions). An item may be shown in an exhibition, or be its cover, when it is published, or
when the curator may edit it (a draft of one of their own institutions, for them to publish
later); trashed items never. Visitors only ever see the published items.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from museum.catalogue import store
from museum.catalogue.exhibitions import (
    all_exhibitions,
    exhibition_by_id,
    exhibition_revision,
    exhibition_revisions,
    find_items,
    latest_exhibition_revision,
    slug_taken,
)
from museum.catalogue.fields import clean_text, slugify
from museum.catalogue.models import (
    EXHIBITION_STATUSES,
    Exhibition,
    ExhibitionEntry,
    ExhibitionSection,
    Image,
    Item,
    utcnow,
)
from museum.catalogue.revisions import record_revision
from museum.catalogue.service import Catalogue
from museum.curation.accounts import Account

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
MAX_SLUG = 100
MAX_TITLE = 300
MAX_SUMMARY = 2_000
MAX_HEADING = 300
MAX_BODY = 20_000          # Markdown per language; rendering stays well under a second
MAX_CAPTION = 2_000
MAX_ITEM_ID = 200          # the item.id column
MAX_SECTIONS = 50
MAX_ENTRIES = 100          # per section
MAX_POSITION = 100_000
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PUBLISHED = "published"
TRASHED = "trashed"


# ----- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what a curator typed: the field, a reason code and its details."""

    field_name: str        # "title.en", "slug", "item_id" … (or "form" for the whole form)
    code: str
    params: dict[str, Any] = field(default_factory=dict)


ENGLISH = {
    "title_required": "Give a title in at least one language.",
    "too_long": "At most {n} characters.",
    "slug_required": "Give the exhibition an address.",
    "slug_form": "Use lowercase letters, digits and single hyphens, e.g. spring-landscapes.",
    "slug_taken": "Another exhibition already uses this address.",
    "date_form": "Enter a date as YYYY-MM-DD.",
    "date_order": "The closing date cannot be before the opening date.",
    "position_form": "Enter a whole number.",
    "item_required": "Give an item id.",
    "no_item": "There is no item {item_id}.",
    "item_trashed": "Item {item_id} is in the trash.",
    "item_not_allowed": "Item {item_id} is a draft of another institution; only published items or your own "
                        "institutions' items can be added.",
    "already_here": "Item {item_id} is already in this section.",
    "too_many_sections": "An exhibition has at most {n} sections.",
    "too_many_entries": "A section has at most {n} items.",
    "conflict": "The exhibition was changed elsewhere (another curator or another tab) meanwhile.",
    "status": "Unknown status.",
}


class ExhibitionError(ValueError):
    """A change that cannot be made; `problems` say what and where, for messages next to the fields."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        """Keep the problems; the English text (str()) is for the command line and logs."""
        super().__init__(" ".join(ENGLISH.get(p.code, p.code).format(**p.params) for p in problems))
        self.problems = list(problems)


class ExhibitionNotFound(LookupError):
    """No such exhibition, or no such section, entry or revision of it."""


# ----- what the editor shows ---------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    """An item placed in a section, as the editor lists it."""

    id: int
    item_id: str
    title: str
    title_alt: str
    item_status: str
    thumbnail: Image | None        # only for published items: drafts' images are never served
    caption: dict[str, str]


@dataclass(frozen=True)
class SectionView:
    """A section as the editor shows it: the curator's text as typed, and its entries."""

    id: int
    heading: dict[str, str]
    body: dict[str, str]
    entries: list[EntryView]


@dataclass(frozen=True)
class ExhibitionView:
    """An exhibition as curators see it, whatever its status, with the revision it was read at."""

    id: int
    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    cover_item_id: str
    status: str
    opens_on: dt.date | None
    closes_on: dt.date | None
    position: int
    updated_at: dt.datetime
    revision: int
    sections: list[SectionView]

    @property
    def item_count(self) -> int:
        """Return the number of entries in every section."""
        return sum(len(section.entries) for section in self.sections)


@dataclass(frozen=True)
class ItemChoice:
    """An item a curator may add, as the search shows it."""

    id: str
    title: str
    title_alt: str
    status: str
    holder: dict[str, str]
    thumbnail: Image | None


@dataclass(frozen=True)
class HistoryEntry:
    """One revision of an exhibition, as its history lists it."""

    seq: int
    action: str
    actor: str
    created_at: dt.datetime
    title: dict[str, str]
    status: str
    section_count: int
    item_count: int
    is_current: bool


@dataclass(frozen=True)
class ExhibitionForm:
    """What a curator typed for an exhibition's own fields, as raw text; checked by the use cases."""

    slug: str = ""
    title: Mapping[str, str] = field(default_factory=dict)
    summary: Mapping[str, str] = field(default_factory=dict)
    cover_item_id: str = ""
    opens_on: str = ""
    closes_on: str = ""
    position: str = "0"


# ----- snapshots ---------------------------------------------------------------------------


def exhibition_snapshot(exhibition: Exhibition) -> dict[str, Any]:
    """Return the full state of an exhibition, sections and entries included, as the revision log keeps it."""
    return {
        "id": exhibition.id,
        "slug": exhibition.slug,
        "title": dict(exhibition.title),
        "summary": dict(exhibition.summary),
        "cover_item_id": exhibition.cover_item_id,
        "status": exhibition.status,
        "opens_on": exhibition.opens_on.isoformat() if exhibition.opens_on else None,
        "closes_on": exhibition.closes_on.isoformat() if exhibition.closes_on else None,
        "position": exhibition.position,
        "sections": [
            {"heading": dict(section.heading), "body": dict(section.body),
             "entries": [{"item_id": entry.item_id, "caption": dict(entry.caption)} for entry in section.entries]}
            for section in exhibition.sections
        ],
    }


# ----- reading and checking what was typed -------------------------------------------------


def _text(value: str, single_line: bool) -> str:
    """Return typed text cleaned of control characters (and line breaks, for one-line fields)."""
    cleaned = clean_text(value or "")
    return " ".join(cleaned.split()) if single_line else cleaned


def _labels(raw: Mapping[str, str], name: str, limit: int, single_line: bool,
            problems: list[Problem]) -> dict[str, str]:
    """Return a label map of the non-empty languages typed, noting any that is too long."""
    labels: dict[str, str] = {}
    for lang in LANGUAGES:
        value = _text(raw.get(lang, ""), single_line)
        if len(value) > limit:
            problems.append(Problem(f"{name}.{lang}", "too_long", {"n": limit}))
        elif value:
            labels[lang] = value
    return labels


def _date(raw: str, name: str, problems: list[Problem]) -> dt.date | None:
    """Return a typed YYYY-MM-DD date, None when empty, noting one that is not a real date."""
    value = raw.strip()
    if not value:
        return None
    if DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(name, "date_form"))
    return None


def _item_holder(item: Item) -> str | None:
    """Return the slug of the institution holding an item (its own, else its collection's)."""
    holder = item.institution or item.collection.institution
    return holder.slug if holder is not None else None


def _usable_item(session: Session, account: Account, raw_id: str, name: str,
                 problems: list[Problem]) -> Item | None:
    """Return the item a curator named if they may show it, else note why not."""
    item_id = _text(raw_id, single_line=True)
    if not item_id:
        problems.append(Problem(name, "item_required"))
        return None
    if len(item_id) > MAX_ITEM_ID:
        problems.append(Problem(name, "too_long", {"n": MAX_ITEM_ID}))
        return None
    item = store.item_by_id(session, item_id)
    if item is None:
        problems.append(Problem(name, "no_item", {"item_id": item_id}))
    elif item.status == TRASHED:
        problems.append(Problem(name, "item_trashed", {"item_id": item_id}))
    elif item.status != PUBLISHED and not account.may_edit(_item_holder(item)):
        problems.append(Problem(name, "item_not_allowed", {"item_id": item_id}))
    else:
        return item
    return None


@dataclass(frozen=True)
class _Fields:
    """An exhibition's own fields, checked."""

    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    cover_item_id: str | None
    opens_on: dt.date | None
    closes_on: dt.date | None
    position: int


def _checked_fields(session: Session, account: Account, form: ExhibitionForm,
                    exhibition_id: int | None) -> _Fields:
    """Return the exhibition fields of a form, or raise ExhibitionError with every problem found."""
    problems: list[Problem] = []
    title = _labels(form.title, "title", MAX_TITLE, True, problems)
    if not title and not any(p.field_name.startswith("title.") for p in problems):
        problems.append(Problem("title", "title_required"))
    summary = _labels(form.summary, "summary", MAX_SUMMARY, False, problems)
    slug = _text(form.slug, single_line=True).lower()
    if not slug and exhibition_id is None:
        slug = _free_slug(session, _slug_from(title))
    if not slug:
        problems.append(Problem("slug", "slug_required"))
    elif len(slug) > MAX_SLUG:
        problems.append(Problem("slug", "too_long", {"n": MAX_SLUG}))
    elif not SLUG_RE.fullmatch(slug):
        problems.append(Problem("slug", "slug_form"))
    elif slug_taken(session, slug, exhibition_id):
        problems.append(Problem("slug", "slug_taken"))
    cover: str | None = None
    if form.cover_item_id.strip():
        item = _usable_item(session, account, form.cover_item_id, "cover_item_id", problems)
        cover = item.id if item is not None else None
    opens_on = _date(form.opens_on, "opens_on", problems)
    closes_on = _date(form.closes_on, "closes_on", problems)
    if opens_on and closes_on and closes_on < opens_on:
        problems.append(Problem("closes_on", "date_order"))
    position = 0
    raw_position = form.position.strip() or "0"
    if re.fullmatch(r"-?\d{1,6}", raw_position) and abs(int(raw_position)) <= MAX_POSITION:
        position = int(raw_position)
    else:
        problems.append(Problem("position", "position_form"))
    if problems:
        raise ExhibitionError(problems)
    return _Fields(slug=slug, title=title, summary=summary, cover_item_id=cover, opens_on=opens_on,
                   closes_on=closes_on, position=position)


def _slug_from(title: Mapping[str, str]) -> str:
    """Return a slug made from the first title given (English first, Chinese read as pinyin)."""
    for lang in LANGUAGES:
        text = title.get(lang, "")
        if re.search(r"[A-Za-z0-9\u3400-\u9fff\uf900-\ufaff]", text):
            return slugify(text)[:80].strip("-")
    return "exhibition"


def _free_slug(session: Session, base: str) -> str:
    """Return base, or base-2, base-3 … whichever no exhibition uses yet."""
    candidate, n = base or "exhibition", 1
    while slug_taken(session, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# ----- writing -----------------------------------------------------------------------------


def _record(session: Session, exhibition: Exhibition, action: str, account: Account) -> None:
    """Stamp the exhibition changed and append its revision to the current transaction."""
    exhibition.updated_at = utcnow()
    record_revision(session, entity="exhibition", entity_id=str(exhibition.id), action=action,
                    actor=account.username, snapshot=exhibition_snapshot(exhibition))


def _change(cat: Catalogue, account: Account, exhibition_id: int, action: str,
            change: Callable[[Session, Exhibition], bool], expected_revision: int | None = None) -> None:
    """Load an exhibition, apply a change and, if anything changed, commit it with its revision.

    With expected_revision, refuse (a "conflict" problem) when someone else wrote since the
    curator's form was made, so their text is not silently overwritten.
    """
    with cat.sessions() as session:
        exhibition = exhibition_by_id(session, exhibition_id)
        if exhibition is None:
            raise ExhibitionNotFound(exhibition_id)
        if expected_revision is not None and latest_exhibition_revision(session, exhibition_id) != expected_revision:
            raise ExhibitionError([Problem("form", "conflict")])
        if change(session, exhibition):
            _record(session, exhibition, action, account)
            session.commit()


_Row = TypeVar("_Row", ExhibitionSection, ExhibitionEntry)


def _renumber(rows: Sequence[_Row]) -> None:
    """Make the stored positions follow the list order."""
    for position, row in enumerate(rows):
        row.position = position


def create_exhibition(cat: Catalogue, account: Account, form: ExhibitionForm) -> int:
    """Create a draft exhibition from a form; return its id. Raise ExhibitionError for bad input."""
    with cat.sessions() as session:
        checked = _checked_fields(session, account, form, None)
        exhibition = Exhibition(slug=checked.slug, title=checked.title, summary=checked.summary,
                                cover_item_id=checked.cover_item_id, status="draft", opens_on=checked.opens_on,
                                closes_on=checked.closes_on, position=checked.position)
        exhibition.sections = []
        session.add(exhibition)
        session.flush()    # the id names the revision
        _record(session, exhibition, "create", account)
        session.commit()
        return exhibition.id


def update_exhibition(cat: Catalogue, account: Account, exhibition_id: int, form: ExhibitionForm,
                      expected_revision: int | None = None) -> None:
    """Change an exhibition's own fields (title, summary, address, cover, dates, order)."""

    def change(session: Session, exhibition: Exhibition) -> bool:
        checked = _checked_fields(session, account, form, exhibition.id)
        before = exhibition_snapshot(exhibition)
        exhibition.slug = checked.slug
        exhibition.title = checked.title
        exhibition.summary = checked.summary
        exhibition.cover_item_id = checked.cover_item_id
        exhibition.opens_on = checked.opens_on
        exhibition.closes_on = checked.closes_on
        exhibition.position = checked.position
        return exhibition_snapshot(exhibition) != before

    _change(cat, account, exhibition_id, "update", change, expected_revision)


STATUS_ACTIONS = {PUBLISHED: "publish", "draft": "unpublish", TRASHED: "trash"}


def set_exhibition_status(cat: Catalogue, account: Account, exhibition_id: int, status: str) -> None:
    """Publish, withdraw (draft), trash, or take back from the trash (draft) an exhibition."""
    if status not in EXHIBITION_STATUSES:
        raise ExhibitionError([Problem("status", "status")])
    with cat.sessions() as session:
        exhibition = exhibition_by_id(session, exhibition_id)
        if exhibition is None:
            raise ExhibitionNotFound(exhibition_id)
        if exhibition.status == status:
            return
        action = "untrash" if exhibition.status == TRASHED else STATUS_ACTIONS[status]
        exhibition.status = status
        _record(session, exhibition, action, account)
        session.commit()


# ----- sections ----------------------------------------------------------------------------


def _section(exhibition: Exhibition, section_id: int) -> ExhibitionSection:
    """Return the exhibition's section with this id; raise ExhibitionNotFound for another's or none."""
    for section in exhibition.sections:
        if section.id == section_id:
            return section
    raise ExhibitionNotFound(section_id)


def _section_text(heading: Mapping[str, str], body: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Return a section's checked heading and Markdown body, or raise ExhibitionError."""
    problems: list[Problem] = []
    checked_heading = _labels(heading, "heading", MAX_HEADING, True, problems)
    checked_body = _labels(body, "body", MAX_BODY, False, problems)
    if problems:
        raise ExhibitionError(problems)
    return checked_heading, checked_body


def add_section(cat: Catalogue, account: Account, exhibition_id: int, heading: Mapping[str, str],
                body: Mapping[str, str]) -> int:
    """Add a section (heading and Markdown text per language) at the end; return its id."""
    checked_heading, checked_body = _section_text(heading, body)
    added: list[ExhibitionSection] = []

    def change(session: Session, exhibition: Exhibition) -> bool:
        if len(exhibition.sections) >= MAX_SECTIONS:
            raise ExhibitionError([Problem("section", "too_many_sections", {"n": MAX_SECTIONS})])
        section = ExhibitionSection(heading=checked_heading, body=checked_body, position=len(exhibition.sections))
        section.entries = []
        exhibition.sections.append(section)
        session.flush()
        added.append(section)
        return True

    _change(cat, account, exhibition_id, "add-section", change)
    return added[0].id


def update_section(cat: Catalogue, account: Account, exhibition_id: int, section_id: int,
                   heading: Mapping[str, str], body: Mapping[str, str],
                   expected_revision: int | None = None) -> None:
    """Change a section's heading and text."""
    checked_heading, checked_body = _section_text(heading, body)

    def change(_session: Session, exhibition: Exhibition) -> bool:
        section = _section(exhibition, section_id)
        if section.heading == checked_heading and section.body == checked_body:
            return False
        section.heading, section.body = checked_heading, checked_body
        return True

    _change(cat, account, exhibition_id, "edit-section", change, expected_revision)


def _moved(rows: list[_Row], row: _Row, offset: int) -> bool:
    """Move row by offset places within rows (not past either end); tell whether it moved."""
    index = rows.index(row)
    target = min(max(index + offset, 0), len(rows) - 1)
    if target == index:
        return False
    rows.insert(target, rows.pop(index))
    _renumber(rows)
    return True


def move_section(cat: Catalogue, account: Account, exhibition_id: int, section_id: int, offset: int) -> None:
    """Move a section up (negative offset) or down (positive) in the exhibition."""

    def change(_session: Session, exhibition: Exhibition) -> bool:
        return _moved(exhibition.sections, _section(exhibition, section_id), offset)

    _change(cat, account, exhibition_id, "move-section", change)


def remove_section(cat: Catalogue, account: Account, exhibition_id: int, section_id: int) -> None:
    """Remove a section and its entries (the items themselves stay; history can bring it back)."""

    def change(_session: Session, exhibition: Exhibition) -> bool:
        exhibition.sections.remove(_section(exhibition, section_id))
        _renumber(exhibition.sections)
        return True

    _change(cat, account, exhibition_id, "remove-section", change)


# ----- entries: items in a section ---------------------------------------------------------


def _entry(exhibition: Exhibition, entry_id: int) -> tuple[ExhibitionSection, ExhibitionEntry]:
    """Return the section and entry with this id in the exhibition; raise ExhibitionNotFound otherwise."""
    for section in exhibition.sections:
        for entry in section.entries:
            if entry.id == entry_id:
                return section, entry
    raise ExhibitionNotFound(entry_id)


def _caption(caption: Mapping[str, str]) -> dict[str, str]:
    """Return a checked caption map, or raise ExhibitionError."""
    problems: list[Problem] = []
    checked = _labels(caption, "caption", MAX_CAPTION, False, problems)
    if problems:
        raise ExhibitionError(problems)
    return checked


def add_entry(cat: Catalogue, account: Account, exhibition_id: int, section_id: int, item_id: str,
              caption: Mapping[str, str] | None = None) -> int:
    """Add an item, with an optional caption per language, at the end of a section; return the entry id."""
    checked_caption = _caption(caption or {})
    added: list[ExhibitionEntry] = []

    def change(session: Session, exhibition: Exhibition) -> bool:
        section = _section(exhibition, section_id)
        problems: list[Problem] = []
        item = _usable_item(session, account, item_id, "item_id", problems)
        if item is not None and any(entry.item_id == item.id for entry in section.entries):
            problems.append(Problem("item_id", "already_here", {"item_id": item.id}))
        if len(section.entries) >= MAX_ENTRIES:
            problems.append(Problem("item_id", "too_many_entries", {"n": MAX_ENTRIES}))
        if problems or item is None:
            raise ExhibitionError(problems)
        entry = ExhibitionEntry(item_id=item.id, item=item, caption=checked_caption, position=len(section.entries))
        section.entries.append(entry)
        session.flush()
        added.append(entry)
        return True

    _change(cat, account, exhibition_id, "add-item", change)
    return added[0].id


def update_entry(cat: Catalogue, account: Account, exhibition_id: int, entry_id: int,
                 caption: Mapping[str, str], expected_revision: int | None = None) -> None:
    """Change the caption of an item in a section."""
    checked = _caption(caption)

    def change(_session: Session, exhibition: Exhibition) -> bool:
        _section_of, entry = _entry(exhibition, entry_id)
        if entry.caption == checked:
            return False
        entry.caption = checked
        return True

    _change(cat, account, exhibition_id, "edit-caption", change, expected_revision)


def move_entry(cat: Catalogue, account: Account, exhibition_id: int, entry_id: int, offset: int) -> None:
    """Move an item up (negative offset) or down (positive) within its section."""

    def change(_session: Session, exhibition: Exhibition) -> bool:
        section, entry = _entry(exhibition, entry_id)
        return _moved(section.entries, entry, offset)

    _change(cat, account, exhibition_id, "move-item", change)


def remove_entry(cat: Catalogue, account: Account, exhibition_id: int, entry_id: int) -> None:
    """Take an item out of its section (the item itself is untouched)."""

    def change(_session: Session, exhibition: Exhibition) -> bool:
        section, entry = _entry(exhibition, entry_id)
        section.entries.remove(entry)
        _renumber(section.entries)
        return True

    _change(cat, account, exhibition_id, "remove-item", change)


# ----- history and restore -----------------------------------------------------------------


def exhibition_history(cat: Catalogue, exhibition_id: int) -> list[HistoryEntry]:
    """Return an exhibition's revisions, newest first; raise ExhibitionNotFound if there is no such exhibition."""
    with cat.sessions() as session:
        if exhibition_by_id(session, exhibition_id) is None:
            raise ExhibitionNotFound(exhibition_id)
        revisions = exhibition_revisions(session, exhibition_id)
        history: list[HistoryEntry] = []
        for index, revision in enumerate(revisions):
            snap = revision.snapshot or {}
            sections = snap.get("sections") or []
            history.append(HistoryEntry(
                seq=revision.seq, action=revision.action, actor=revision.actor, created_at=revision.created_at,
                title=dict(snap.get("title") or {}), status=str(snap.get("status", "")),
                section_count=len(sections), item_count=sum(len(s.get("entries") or []) for s in sections),
                is_current=index == 0))
        return history


def _snapshot_date(value: object) -> dt.date | None:
    """Return a date kept in a snapshot (ISO text), None when absent or unreadable."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _snapshot_labels(value: object) -> dict[str, str]:
    """Return a label map kept in a snapshot, only its text values."""
    return {str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def restore_revision(cat: Catalogue, account: Account, exhibition_id: int, seq: int) -> None:
    """Bring an exhibition's texts, dates, cover, sections and items back to a revision, as a new revision.

    Its status stays as it is now (publishing is its own decision, made with the status buttons);
    so does its address if another exhibition has taken it since. Items deleted since are left out.
    """
    with cat.sessions() as session:
        exhibition = exhibition_by_id(session, exhibition_id)
        revision = exhibition_revision(session, exhibition_id, seq) if exhibition is not None else None
        if exhibition is None or revision is None:
            raise ExhibitionNotFound(seq)
        snap = revision.snapshot or {}
        slug = str(snap.get("slug") or "")
        if SLUG_RE.fullmatch(slug) and not slug_taken(session, slug, exhibition.id):
            exhibition.slug = slug
        exhibition.title = _snapshot_labels(snap.get("title"))
        exhibition.summary = _snapshot_labels(snap.get("summary"))
        cover = snap.get("cover_item_id")
        cover_item = _usable_item(session, account, str(cover), "cover_item_id", []) if cover else None
        exhibition.cover_item_id = cover_item.id if cover_item is not None else None
        exhibition.opens_on = _snapshot_date(snap.get("opens_on"))
        exhibition.closes_on = _snapshot_date(snap.get("closes_on"))
        position = snap.get("position")
        exhibition.position = position if isinstance(position, int) else exhibition.position
        kept_sections = [s for s in snap.get("sections") or [] if isinstance(s, dict)]
        item_ids = [str(e.get("item_id")) for s in kept_sections for e in s.get("entries") or []
                    if isinstance(e, dict)]
        items = store.items_in(session, item_ids)
        exhibition.sections.clear()
        session.flush()    # the old rows go before the new ones are numbered
        for index, saved in enumerate(kept_sections):
            section = ExhibitionSection(position=index, heading=_snapshot_labels(saved.get("heading")),
                                        body=_snapshot_labels(saved.get("body")))
            section.entries = []
            for saved_entry in saved.get("entries") or []:
                item = items.get(str(saved_entry.get("item_id"))) if isinstance(saved_entry, dict) else None
                if item is not None and _usable_item(session, account, item.id, "item_id", []) is not None:
                    section.entries.append(ExhibitionEntry(item_id=item.id, item=item,
                                                           position=len(section.entries),
                                                           caption=_snapshot_labels(saved_entry.get("caption"))))
            exhibition.sections.append(section)
        _record(session, exhibition, "revert", account)
        session.commit()


# ----- reading for the editor ---------------------------------------------------------------


def _thumbnail(item: Item) -> Image | None:
    """Return the image the editor may show for an item: the first of a published one only."""
    return item.images[0] if item.status == PUBLISHED and item.images else None


def _view(session: Session, exhibition: Exhibition) -> ExhibitionView:
    """Return the editor's view of a loaded exhibition."""
    sections = [
        SectionView(id=section.id, heading=dict(section.heading), body=dict(section.body), entries=[
            EntryView(id=entry.id, item_id=entry.item_id, title=entry.item.title, title_alt=entry.item.title_alt,
                      item_status=entry.item.status, thumbnail=_thumbnail(entry.item), caption=dict(entry.caption))
            for entry in section.entries])
        for section in exhibition.sections
    ]
    return ExhibitionView(id=exhibition.id, slug=exhibition.slug, title=dict(exhibition.title),
                          summary=dict(exhibition.summary), cover_item_id=exhibition.cover_item_id or "",
                          status=exhibition.status, opens_on=exhibition.opens_on, closes_on=exhibition.closes_on,
                          position=exhibition.position, updated_at=exhibition.updated_at,
                          revision=latest_exhibition_revision(session, exhibition.id), sections=sections)


def exhibition_for_editing(cat: Catalogue, exhibition_id: int) -> ExhibitionView | None:
    """Return an exhibition, whatever its status, with everything the editor shows; None if there is none."""
    with cat.sessions() as session:
        exhibition = exhibition_by_id(session, exhibition_id)
        return _view(session, exhibition) if exhibition is not None else None


def exhibitions_for_editing(cat: Catalogue) -> list[ExhibitionView]:
    """Return every exhibition, trashed ones included, in display order."""
    with cat.sessions() as session:
        return [_view(session, exhibition) for exhibition in all_exhibitions(session)]


def choose_items(cat: Catalogue, account: Account, text: str, limit: int = 20) -> list[ItemChoice]:
    """Return items matching typed words or an id that this curator may add to an exhibition."""
    text = _text(text, single_line=True)[:MAX_ITEM_ID]
    unlimited = account.is_admin or not account.institutions
    with cat.sessions() as session:
        found = find_items(session, text, unlimited, account.institutions, limit)
        choices: list[ItemChoice] = []
        for item in found:
            holder = item.institution or item.collection.institution
            choices.append(ItemChoice(id=item.id, title=item.title, title_alt=item.title_alt, status=item.status,
                                      holder=dict(holder.name) if holder is not None else {},
                                      thumbnail=_thumbnail(item)))
        return choices
