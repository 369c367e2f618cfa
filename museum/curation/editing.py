"""Curators' work on items: the dashboard list, create and edit, status, trash and purge, images,
history with restore, and the site-wide activity log (no Flask here).

Every write is one transaction holding the change and one revision row, then the index catches
up, so the public page, search and every page cache show the change at once. Who may do what is
decided here, inside the same transaction as the write: an account may change an item when it
may edit the item's holding institution (the item's own, else its collection's).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import opencc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from museum.catalogue import store
from museum.catalogue.fields import clean_text, sort_title
from museum.catalogue.importing import MAX_LENGTHS, MAX_TEXT, RowRefused, validate_row
from museum.catalogue.models import Collection, Image, Institution, Item, Revision, utcnow
from museum.catalogue.revisions import ITEM_FIELDS, item_snapshot, record_revision
from museum.catalogue.service import Catalogue, catch_up_index, clamp_page, set_item_status
from museum.curation.accounts import Account
from museum.images.derivatives import (
    DERIVATIVE_FORMATS,
    DERIVATIVE_SIZES,
    UnknownDerivative,
    ensure_derivative,
    make_derivatives,
)
from museum.images.ingest import ImageRejected, ingest_image, original_path

# The editor's text fields, in the order of the form; names are the item's own attributes.
TEXT_FIELDS = (
    "title", "title_alt", "creator", "date_display", "begin_year", "end_year", "period", "object_type",
    "medium", "dimensions", "description", "inscriptions", "provenance", "accession_number", "credit_line",
    "rights", "rights_url", "source_url", "subjects",
)
# Where a form field's name differs from the import column whose rules it follows.
_COLUMN = {"date_display": "date", "source_url": "url_of_source"}
# The catalogue's length rules (those of import), per form field.
FIELD_LIMITS = {name: MAX_LENGTHS.get(_COLUMN.get(name, name), MAX_TEXT) for name in (*TEXT_FIELDS, "id")}
FILENAME_LIMIT = 300   # the image table's original_filename column

# Control characters (the ones clean_text drops) and bidirectional overrides, which make text
# display in another order than it is stored, so a title could pose as another: refused, so a
# curator never has text silently altered nor a spoofed title shown.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Ids appear in URLs, file names of exports and OAI identifiers: plain ASCII, no path tricks.
ID_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:-]*[A-Za-z0-9])?")

STATUSES = ("draft", "published", "trashed")
# What a status button asks for → the status it sets (untrash: the status before the trash).
STATUS_ACTIONS = {"publish": "published", "withdraw": "draft", "trash": "trashed", "untrash": ""}
CHANGED_DAYS = (1, 7, 30)
MAX_QUERY = 200


# ----- errors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why one field (or the whole form, "_form") was refused: a code for the web layer's message."""

    code: str
    english: str
    params: dict[str, Any] = field(default_factory=dict)


class EditingError(Exception):
    """A request about items that cannot be done; `code` names the reason, `params` fill it in."""

    def __init__(self, code: str, english: str, **params: Any) -> None:
        """Keep the reason's code, English text and details."""
        super().__init__(english)
        self.code = code
        self.params = params


class NotFound(EditingError):
    """There is no such item, image or revision."""


class NotAllowed(EditingError):
    """The account may not do this to this item."""


class Invalid(EditingError):
    """The form has problems, field by field; nothing was written."""

    def __init__(self, problems: dict[str, Problem], current_seq: int | None = None) -> None:
        """Keep the problems, and the item's newest revision when it changed under the editor."""
        super().__init__("invalid", "; ".join(f"{k}: {p.english}" for k, p in problems.items()))
        self.problems = problems
        self.current_seq = current_seq


# ----- what the pages show ---------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of a menu: its value and its label in every language."""

    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class EditorChoices:
    """The collections an item may go in and the institutions the account may name as holder."""

    collections: tuple[Choice, ...]
    institutions: tuple[Choice, ...]
    collection_holders: dict[str, str]      # collection slug → its institution's slug


@dataclass(frozen=True)
class ImageView:
    """One image of an item in the editor."""

    id: int
    position: int
    sha256: str
    format: str
    width: int
    height: int
    byte_size: int
    original_filename: str
    caption: str
    alt_text: str


@dataclass(frozen=True)
class ItemView:
    """An item as the editor shows it: the form's values, its images and where it stands."""

    id: str
    status: str
    title: str
    values: dict[str, str]
    derived_years: tuple[int | None, int | None]
    holder: str
    images: tuple[ImageView, ...]
    updated_at: dt.datetime
    seq: int                       # its newest revision, so a save can tell if someone else saved since


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser gave and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class UploadResult:
    """What became of one uploaded file: accepted (with its hash) or refused with ingest's reason."""

    filename: str
    accepted: bool
    reason: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class FieldChange:
    """One field changed by a revision: its value before and after."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ImageChanges:
    """The images a revision added, removed, reordered or re-described."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reordered: bool = False
    described: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        """Tell whether anything about the images changed."""
        return bool(self.added or self.removed or self.reordered or self.described)


@dataclass(frozen=True)
class HistoryEntry:
    """One revision of an item, with what it changed."""

    seq: int
    action: str
    actor: str
    when: dt.datetime
    batch: str | None
    changes: tuple[FieldChange, ...]
    images: ImageChanges
    restorable: bool


@dataclass(frozen=True)
class History:
    """An item's revisions, newest first."""

    item_id: str
    title: str
    exists: bool
    status: str
    entries: tuple[HistoryEntry, ...]
    # Names (per language) of the collections and institutions the revisions name by slug.
    names: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard is asked to list."""

    status: str = ""                # "" lists drafts and published items (not the trash)
    collection: str = ""
    missing_image: bool = False
    changed_days: int = 0           # 0: any time
    q: str = ""
    sort: str = "updated"
    page: int = 1


@dataclass(frozen=True)
class DashboardRow:
    """One item in the dashboard list."""

    id: str
    title: str
    title_alt: str
    creator: str
    status: str
    collection_title: dict[str, str]
    holder_name: dict[str, str]
    image_count: int
    thumb: str | None               # hash of the first image
    updated_at: dt.datetime


@dataclass(frozen=True)
class DashboardPage:
    """One page of the items an account may edit, with counts per status and the filter menus."""

    query: DashboardQuery
    rows: tuple[DashboardRow, ...]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    collections: tuple[Choice, ...]


@dataclass(frozen=True)
class ActivityQuery:
    """Filters of the activity log."""

    actor: str = ""
    entity: str = ""
    action: str = ""
    page: int = 1


@dataclass(frozen=True)
class ActivityEntry:
    """One revision in the activity log."""

    seq: int
    entity: str
    entity_id: str
    action: str
    actor: str
    when: dt.datetime
    batch: str | None
    label: str | dict[str, str]     # the item's title or the collection's title map, as recorded


@dataclass(frozen=True)
class ActivityPage:
    """One page of the activity log with the values its filters offer."""

    query: ActivityQuery
    entries: tuple[ActivityEntry, ...]
    total: int
    page: int
    pages: int
    actors: tuple[str, ...]
    entities: tuple[str, ...]
    actions: tuple[str, ...]


# ----- helpers ---------------------------------------------------------------------------


def _holder(item: Item) -> Institution:
    """Return the institution holding an item: its own, else its collection's."""
    return item.institution or item.collection.institution


def _snapshot(item: Item) -> dict[str, Any]:
    """Return the item's state as the revision log records it."""
    return item_snapshot(item, item.collection.slug, item.institution.slug if item.institution else None)


def _record(session: Session, item: Item, action: str, account: Account) -> None:
    """Stamp the item as changed and append its revision to the open transaction."""
    item.updated_at = utcnow()
    item.sort_title = sort_title(item.title)
    record_revision(session, entity="item", entity_id=item.id, action=action, actor=account.username,
                    snapshot=_snapshot(item))


def _findable(text: str) -> bool:
    """Tell whether a looked-up key could be stored at all (PostgreSQL refuses NUL in text, even in a query)."""
    return "\x00" not in text


def _editable(session: Session, account: Account, item_id: str) -> Item:
    """Return the item if it exists and the account may edit it; raise NotFound or NotAllowed."""
    item = store.item_by_id(session, item_id) if _findable(item_id) else None
    if item is None:
        raise NotFound("no_item", f"There is no item {item_id}.")
    if not account.may_edit(_holder(item).slug):
        raise NotAllowed("not_allowed", f"{account.username} may not edit items held by {_holder(item).slug}.")
    return item


@contextmanager
def _writing(cat: Catalogue, account: Account, item_id: str) -> Iterator[tuple[Session, Item]]:
    """Open a transaction on an editable item; on success commit it and bring the index up to date."""
    with cat.sessions() as session, session.begin():
        yield session, _editable(session, account, item_id)
    catch_up_index(cat)


def _newest_seq(session: Session, item_id: str) -> int:
    """Return the sequence number of the item's newest revision, 0 if it has none."""
    newest = store.item_revisions(session, item_id, limit=1)
    return newest[-1].seq if newest else 0


def _text(value: str) -> str:
    """Return form text with the newlines browsers send (CRLF) made plain."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _text_problem(name: str, raw: str) -> Problem | None:
    """Return what is wrong with one text value by the catalogue's rules, if anything."""
    if _FORBIDDEN.search(raw):
        return Problem("control", f"{name} contains invisible control characters")
    limit = FIELD_LIMITS.get(name, MAX_TEXT)
    if len(clean_text(raw)) > limit:
        return Problem("too_long", f"{name} is longer than {limit} characters", {"n": limit})
    return None


def _rule_problem(name: str, raw: str) -> Problem | None:
    """Return a year or URL problem found by the import's own row rules, if any."""
    if name not in ("begin_year", "end_year", "rights_url", "source_url") or not raw.strip():
        return None
    try:
        validate_row({"id": "probe", "title": "probe", _COLUMN.get(name, name): raw},
                     known_institutions=set(), bilingual_titles=False)
    except RowRefused as exc:
        code = "year" if name.endswith("_year") else "url"
        return Problem(code, str(exc))
    return None


def derived_years(date_text: str, period: str) -> tuple[int | None, int | None]:
    """Return the years the catalogue derives from a date text (or, failing that, the period)."""
    try:
        fields = validate_row({"id": "probe", "title": "probe", "date": date_text, "period": period},
                              known_institutions=set(), bilingual_titles=False)
    except RowRefused:
        return None, None
    return fields["begin_year"], fields["end_year"]


def _filename(name: str) -> str:
    """Return the last part of a browser-given file name, cleaned and cut to the column's length."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    return _FORBIDDEN.sub("", clean_text(base))[:FILENAME_LIMIT]


def _flag(value: str | None) -> bool:
    """Return a checkbox's value as a boolean."""
    return (value or "").strip().lower() in ("1", "on", "yes", "true")


def _labels(value: Any) -> dict[str, str]:
    """Return a stored label map as plain strings."""
    return {str(k): str(v) for k, v in (value or {}).items()} if isinstance(value, dict) else {}


@cache
def _converter(config: str) -> Any:
    """Return an OpenCC converter, made once per process (its dictionaries are slow to load)."""
    return opencc.OpenCC(config)


def spellings(word: str) -> list[str]:
    """Return a word as typed and in the other Chinese script(s), without repeats."""
    return list(dict.fromkeys([word, str(_converter("t2s").convert(word)), str(_converter("s2t").convert(word))]))


# ----- the editor ------------------------------------------------------------------------


def editor_choices(cat: Catalogue, account: Account) -> EditorChoices:
    """Return the collections and the institutions (those the account may edit) the editor offers."""
    with cat.sessions() as session:
        collections = store.all_collections(session)
        institutions = store.all_institutions(session)
        return EditorChoices(
            collections=tuple(Choice(c.slug, _labels(c.title)) for c in collections),
            institutions=tuple(Choice(i.slug, _labels(i.name)) for i in institutions if account.may_edit(i.slug)),
            collection_holders={c.slug: c.institution.slug for c in collections},
        )


def new_item_values(cat: Catalogue, account: Account) -> dict[str, str]:
    """Return the editor's values for a new item: a collection whose holder the account may edit if any."""
    choices = editor_choices(cat, account)
    values = dict.fromkeys((*TEXT_FIELDS, "id", "collection", "institution", "featured"), "")
    for choice in choices.collections:
        if account.may_edit(choices.collection_holders[choice.value]):
            values["collection"] = choice.value
            break
    else:
        if choices.collections:
            values["collection"] = choices.collections[0].value
            values["institution"] = choices.institutions[0].value if choices.institutions else ""
    return values


def _form_values(item: Item) -> dict[str, str]:
    """Return the editor's values for a stored item (years left blank when the date text gives them)."""
    values = {name: "" if getattr(item, name) is None else str(getattr(item, name))
              for name in TEXT_FIELDS if name != "subjects"}
    values["subjects"] = "\n".join(item.subjects or [])
    if (item.begin_year, item.end_year) == derived_years(item.date_display, item.period):
        values["begin_year"] = values["end_year"] = ""
    values.update(id=item.id, collection=item.collection.slug,
                  institution=item.institution.slug if item.institution else "",
                  featured="1" if item.featured else "")
    return values


def _image_view(image: Image) -> ImageView:
    """Return the editor's view of one image row."""
    return ImageView(id=image.id, position=image.position, sha256=image.sha256, format=image.format,
                     width=image.width, height=image.height, byte_size=image.byte_size,
                     original_filename=image.original_filename, caption=image.caption, alt_text=image.alt_text)


def load_item(cat: Catalogue, account: Account, item_id: str) -> ItemView:
    """Return an item for the editor; raise NotFound or NotAllowed."""
    with cat.sessions() as session:
        item = _editable(session, account, item_id)
        return ItemView(id=item.id, status=item.status, title=item.title, values=_form_values(item),
                        derived_years=derived_years(item.date_display, item.period), holder=_holder(item).slug,
                        images=tuple(_image_view(i) for i in item.images), updated_at=item.updated_at,
                        seq=_newest_seq(session, item.id))


def _new_id(session: Session, holder: str) -> str:
    """Return an unused id made of the holding institution's slug and a short random part."""
    prefix = re.sub(r"[^A-Za-z0-9._-]", "-", holder).strip(".-_") or "item"
    while True:
        candidate = f"{prefix[:60]}:{uuid.uuid4().hex[:8]}"
        if not store.item_exists(session, candidate):
            return candidate


def _checked(session: Session, account: Account, values: Mapping[str, str],
             item_id: str | None) -> tuple[dict[str, Any], Collection, Institution | None]:
    """Return an item's fields, collection and own institution from the form, or raise Invalid.

    item_id is None for a new item, whose id comes from the form (or is made up when blank).
    """
    problems: dict[str, Problem] = {}
    texts: dict[str, str] = {}
    for name in TEXT_FIELDS:
        raw = _text(values.get(name, ""))
        if name == "subjects":
            raw = " | ".join(line.strip() for line in raw.split("\n") if line.strip())
        texts[name] = raw
        problem = _text_problem(name, raw) or _rule_problem(name, raw)
        if problem:
            problems[name] = problem
    if "title" not in problems and not clean_text(texts["title"]):
        problems["title"] = Problem("required", "title is empty")

    new_id = ""
    if item_id is None:
        new_id = values.get("id", "").strip()
        if new_id and (len(new_id) > FIELD_LIMITS["id"] or not ID_PATTERN.fullmatch(new_id) or ".." in new_id):
            problems["id"] = Problem("id_form", "an id is letters, digits and . _ : - (no spaces, at most "
                                     f"{FIELD_LIMITS['id']} characters)", {"n": FIELD_LIMITS["id"]})
        elif new_id and store.item_exists(session, new_id):
            problems["id"] = Problem("id_taken", f"there is already an item {new_id}", {"id": new_id})

    wanted = values.get("collection", "")
    collection = store.collection_by_slug(session, wanted) if _findable(wanted) else None
    if collection is None:
        problems["collection"] = Problem("choose", "choose a collection")
    institution: Institution | None = None
    if values.get("institution"):
        wanted = values["institution"]
        institution = store.institution_by_slug(session, wanted) if _findable(wanted) else None
        if institution is None:
            problems["institution"] = Problem("choose", "choose a holding institution")
    holder = institution or (collection.institution if collection is not None else None)
    if holder is not None and not account.may_edit(holder.slug):
        problems["institution"] = Problem("holder", f"{account.username} may not edit items held by {holder.slug}",
                                          {"slug": holder.slug})
    if problems or collection is None or holder is None:
        raise Invalid(problems or {"_form": Problem("choose", "choose a collection")})

    row = {"id": item_id or new_id or _new_id(session, holder.slug), "title": texts["title"],
           "featured": "yes" if _flag(values.get("featured")) else "", "status": "draft"}
    row.update({_COLUMN.get(name, name): texts[name] for name in TEXT_FIELDS if name != "title"})
    try:
        fields = validate_row(row, known_institutions=set(), bilingual_titles=False)
    except RowRefused as exc:
        # Only the rules between fields are left here (a begin year after the end year).
        problems["begin_year" if str(exc).startswith("begin_year") else "_form"] = Problem("row", str(exc))
        raise Invalid(problems) from None
    return fields, collection, institution


def _assign(item: Item, fields: Mapping[str, Any], collection: Collection, institution: Institution | None) -> None:
    """Copy checked fields (all but id and status), the collection and the institution onto an item."""
    for name in ITEM_FIELDS:
        if name not in ("id", "status"):
            setattr(item, name, fields[name])
    item.collection = collection
    item.institution = institution


def create_item(cat: Catalogue, account: Account, values: Mapping[str, str]) -> str:
    """Create a draft item from the editor's values and return its id; raise Invalid or NotAllowed."""
    try:
        with cat.sessions() as session, session.begin():
            fields, collection, institution = _checked(session, account, values, None)
            item = Item(id=fields["id"], status="draft", created_at=utcnow())
            _assign(item, fields, collection, institution)
            session.add(item)
            _record(session, item, "create", account)
    except IntegrityError:
        # Another curator took the same id in the same moment.
        raise Invalid({"id": Problem("id_taken", "there is already an item with this id",
                                     {"id": values.get("id", "")})}) from None
    catch_up_index(cat)
    return item.id


def update_item(cat: Catalogue, account: Account, item_id: str, values: Mapping[str, str],
                base_seq: int | None = None) -> bool:
    """Save the editor's values over an item; return False if nothing changed.

    base_seq is the item's newest revision when the editor was opened: if someone saved since,
    Invalid says so (with the newer sequence, so saving again overwrites knowingly).
    """
    with cat.sessions() as session, session.begin():
        item = _editable(session, account, item_id)
        newest = store.item_revisions(session, item_id, limit=50)
        # Image changes the same curator made from this very editor (drag-and-drop uploads,
        # captions) do not touch the fields being saved, so they are no conflict.
        others = [r for r in newest if base_seq is not None and r.seq > base_seq
                  and not (r.actor == account.username and r.action.startswith("image-"))]
        if others:
            raise Invalid({"_form": Problem("conflict", f"changed by {others[-1].actor} since the editor opened",
                                            {"actor": others[-1].actor})}, current_seq=newest[-1].seq)
        fields, collection, institution = _checked(session, account, values, item_id)
        before = _snapshot(item)
        _assign(item, fields, collection, institution)
        if _snapshot(item) == before:
            # Nothing to record, so nothing may be written either: every write has its revision.
            session.rollback()
            return False
        _record(session, item, "update", account)
    catch_up_index(cat)
    return True


# ----- status, trash, purge ----------------------------------------------------------------


def _status_before_trash(session: Session, item_id: str) -> str:
    """Return the status an item had before it was last moved to the trash (draft if unknown)."""
    revisions = store.item_revisions(session, item_id)
    for index in range(len(revisions) - 1, 0, -1):
        if revisions[index].snapshot.get("status") == "trashed" \
                and revisions[index - 1].snapshot.get("status") in ("draft", "published"):
            return str(revisions[index - 1].snapshot["status"])
    return "draft"


def change_status(cat: Catalogue, account: Account, item_id: str, action: str) -> str:
    """Publish, withdraw (to draft), trash or restore from the trash; return the new status."""
    if action not in STATUS_ACTIONS:
        raise EditingError("action", f"unknown action {action!r}")
    with cat.sessions() as session:
        item = _editable(session, account, item_id)
        if action == "untrash":
            if item.status != "trashed":
                raise EditingError("not_trashed", "the item is not in the trash")
            target = _status_before_trash(session, item_id)
        elif item.status == "trashed" and action != "trash":
            raise EditingError("trashed", "restore the item from the trash first")
        else:
            target = STATUS_ACTIONS[action]
    # The service records the revision and catches the index up, as for every status change.
    set_item_status(cat, item_id, target, actor=account.username)
    return target


def purge_item(cat: Catalogue, account: Account, item_id: str) -> None:
    """Delete a trashed item for good (admins only); its history stays in the log and its originals on disk."""
    if not account.is_admin:
        raise NotAllowed("admin_only", "only an administrator may purge items")
    with _writing(cat, account, item_id) as (session, item):
        if item.status != "trashed":
            raise EditingError("purge_not_trashed", "only items in the trash can be purged")
        shown = store.exhibitions_showing(session, item_id)
        if shown:
            raise EditingError("in_exhibitions", f"shown in exhibitions: {', '.join(shown)}", names=", ".join(shown))
        # The last state goes in the log first, so the history (and a restore) outlives the row.
        record_revision(session, entity="item", entity_id=item.id, action="purge", actor=account.username,
                        snapshot=_snapshot(item))
        session.delete(item)


# ----- images ------------------------------------------------------------------------------


def add_images(cat: Catalogue, account: Account, item_id: str, uploads: Sequence[Upload]) -> list[UploadResult]:
    """Ingest uploaded files and append the accepted ones to the item; report every file's fate."""
    with cat.sessions() as session:
        _editable(session, account, item_id)   # checked before anything is stored
    settings = cat.settings
    results: list[UploadResult] = []
    accepted = []
    for upload in uploads:
        name = _filename(upload.filename)
        try:
            stored = ingest_image(upload.data, settings.originals_dir, filename=name,
                                  max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
        except ImageRejected as exc:
            results.append(UploadResult(name, False, exc.reason))
            continue
        make_derivatives(stored.path, settings.derivatives_dir, stored.sha256)
        accepted.append((stored, name))
        results.append(UploadResult(name, True, sha256=stored.sha256))
    if accepted:
        # Originals are stored before the transaction: content-addressed, so a failed write
        # leaves at most an unreferenced file, which is harmless.
        with _writing(cat, account, item_id) as (session, item):
            for stored, name in accepted:
                item.images.append(Image(
                    position=len(item.images), sha256=stored.sha256, format=stored.format,
                    mime_type=stored.mime_type, width=stored.width, height=stored.height,
                    byte_size=stored.byte_size, original_filename=name, caption="", alt_text="",
                    rights=item.rights))
            _record(session, item, "image-add", account)
    return results


def _image_of(item: Item, image_id: int) -> Image:
    """Return the item's image with this id, or raise NotFound."""
    for image in item.images:
        if image.id == image_id:
            return image
    raise NotFound("no_image", f"item {item.id} has no image {image_id}")


def _reorder(session: Session, item: Item, ordered: list[Image]) -> None:
    """Give the images positions 0..n-1 in this order."""
    # (item, position) is unique and rows are updated one by one, so every image first steps
    # aside to a negative position; otherwise swapping two would collide halfway.
    for index, image in enumerate(ordered):
        image.position = -1 - index
    session.flush()
    for index, image in enumerate(ordered):
        image.position = index
    item.images.sort(key=lambda image: image.position)


def move_image(cat: Catalogue, account: Account, item_id: str, image_id: int, to: int) -> None:
    """Move an image to position `to` (clamped; 0 makes it the primary image)."""
    with _writing(cat, account, item_id) as (session, item):
        image = _image_of(item, image_id)
        ordered = [i for i in item.images if i is not image]
        to = min(max(to, 0), len(ordered))
        if item.images.index(image) == to:
            return
        ordered.insert(to, image)
        _reorder(session, item, ordered)
        _record(session, item, "image-move", account)


def describe_image(cat: Catalogue, account: Account, item_id: str, image_id: int, caption: str,
                   alt_text: str) -> bool:
    """Set an image's caption and alt text; return False if nothing changed; raise Invalid."""
    problems = {name: p for name, raw in (("caption", caption), ("alt_text", alt_text))
                if (p := _text_problem(name, _text(raw)))}
    if problems:
        raise Invalid(problems)
    with _writing(cat, account, item_id) as (session, item):
        image = _image_of(item, image_id)
        caption, alt_text = clean_text(_text(caption)), clean_text(_text(alt_text))
        if (image.caption, image.alt_text) == (caption, alt_text):
            return False
        image.caption, image.alt_text = caption, alt_text
        _record(session, item, "image-edit", account)
    return True


def remove_image(cat: Catalogue, account: Account, item_id: str, image_id: int) -> None:
    """Take an image off the item; its original stays on disk (originals are never deleted)."""
    with _writing(cat, account, item_id) as (session, item):
        image = _image_of(item, image_id)
        item.images.remove(image)
        session.flush()
        _reorder(session, item, list(item.images))
        _record(session, item, "image-remove", account)


def curator_image(cat: Catalogue, account: Account, sha256: str, size: str, fmt: str) -> Path | None:
    """Return a derivative of an image shown by any item the account may edit (drafts too), else None."""
    if size not in DERIVATIVE_SIZES or fmt not in DERIVATIVE_FORMATS or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    with cat.sessions() as session:
        images = [i for i in store.images_with_hash(session, sha256) if account.may_edit(_holder(i.item).slug)]
        if not images:
            return None
        original = original_path(cat.settings.originals_dir, sha256, images[0].format)
    if not original.is_file():
        return None
    try:
        return ensure_derivative(original, cat.settings.derivatives_dir, sha256, size, fmt)
    except UnknownDerivative:
        return None


# ----- history and restore -----------------------------------------------------------------


COMPARED_FIELDS = tuple(name for name in (*ITEM_FIELDS, "collection", "institution") if name != "id")


def _image_name(image: Mapping[str, Any]) -> str:
    """Return how an image is named in a history: its file name, else the start of its hash."""
    return str(image.get("original_filename") or str(image.get("sha256", ""))[:12])


def compare_images(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> ImageChanges:
    """Summarise how an item's image list changed between two snapshots."""
    old = [str(i.get("sha256")) for i in before]
    new = [str(i.get("sha256")) for i in after]
    added = tuple(_image_name(i) for i in after if str(i.get("sha256")) not in old)
    removed = tuple(_image_name(i) for i in before if str(i.get("sha256")) not in new)
    kept_old = [s for s in old if s in new]
    kept_new = [s for s in new if s in old]
    texts = {str(i.get("sha256")): (i.get("caption"), i.get("alt_text")) for i in before}
    described = tuple(_image_name(i) for i in after
                      if str(i.get("sha256")) in texts and texts[str(i.get("sha256"))] != (i.get("caption"),
                                                                                          i.get("alt_text")))
    return ImageChanges(added=added, removed=removed, reordered=kept_old != kept_new, described=described)


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Return the fields that differ between two item snapshots (a first one: those it sets)."""
    changes = []
    for name in COMPARED_FIELDS:
        old, new = before.get(name), after.get(name)
        if not before and new in (None, "", [], False):
            continue
        if old != new:
            changes.append(FieldChange(name, old, new))
    return tuple(changes)


def _holder_of_snapshot(session: Session, snapshot: Mapping[str, Any]) -> str | None:
    """Return the holding institution recorded in a snapshot (its own, else its collection's)."""
    if snapshot.get("institution"):
        return str(snapshot["institution"])
    collection = store.collection_by_slug(session, str(snapshot.get("collection") or ""))
    return collection.institution.slug if collection is not None else None


def _viewable_history(session: Session, account: Account, item_id: str) -> tuple[Item | None, list[Revision]]:
    """Return an item (None once purged) and its revisions if the account may see them."""
    if not _findable(item_id):
        raise NotFound("no_item", "There is no such item.")
    item = store.item_by_id(session, item_id)
    revisions = store.item_revisions(session, item_id)
    if item is None and not revisions:
        raise NotFound("no_item", f"There is no item {item_id}.")
    holder = _holder(item).slug if item is not None else _holder_of_snapshot(session, revisions[-1].snapshot)
    if not account.may_edit(holder):
        raise NotAllowed("not_allowed", f"{account.username} may not edit items held by {holder}.")
    return item, revisions


def item_history(cat: Catalogue, account: Account, item_id: str) -> History:
    """Return an item's revisions, newest first, each with the fields and images it changed."""
    with cat.sessions() as session:
        item, revisions = _viewable_history(session, account, item_id)
    entries = []
    previous: dict[str, Any] = {}
    for index, rev in enumerate(revisions):
        snapshot = rev.snapshot or {}
        newest = index == len(revisions) - 1
        # The newest revision is the current state, unless the item was purged: then any
        # state may bring it back (an admin's undo).
        restorable = bool(snapshot) and (not newest or item is None) and (item is not None or account.is_admin)
        entries.append(HistoryEntry(
            seq=rev.seq, action=rev.action, actor=rev.actor, when=rev.created_at, batch=rev.batch,
            changes=compare(previous, snapshot) if rev.action != "purge" else (),
            images=compare_images(previous.get("images") or [], snapshot.get("images") or []),
            restorable=restorable))
        previous = snapshot
    last = revisions[-1].snapshot if revisions else {}
    with cat.sessions() as session:
        # Snapshots name a collection and an institution by slug; curators know them by name.
        names = {"collection": {c.slug: dict(c.title) for c in store.all_collections(session)},
                 "institution": {i.slug: dict(i.name) for i in store.all_institutions(session)}}
    return History(item_id=item_id, title=item.title if item is not None else str(last.get("title", "")),
                   exists=item is not None, status=item.status if item is not None else "purged",
                   entries=tuple(reversed(entries)), names=names)


def restore_revision(cat: Catalogue, account: Account, item_id: str, seq: int) -> bool:
    """Bring an item back to the state recorded in revision seq (its status stays); return False if no change.

    Restoring is itself a revision ("restore"). Images come back by their hash, their originals
    never having been deleted. A purged item comes back as a draft (admins only).
    """
    with cat.sessions() as session, session.begin():
        item, _revisions = _viewable_history(session, account, item_id)
        rev = store.revision_by_seq(session, seq)
        if rev is None or rev.entity != "item" or rev.entity_id != item_id or not rev.snapshot:
            raise NotFound("no_revision", f"item {item_id} has no revision {seq}")
        snapshot = rev.snapshot
        if not account.may_edit(_holder_of_snapshot(session, snapshot)):
            raise NotAllowed("not_allowed", f"{account.username} may not edit the institution of that version")
        collection = store.collection_by_slug(session, str(snapshot.get("collection") or ""))
        if collection is None:
            raise EditingError("collection_gone", f"the collection {snapshot.get('collection')} no longer exists",
                               slug=str(snapshot.get("collection")))
        institution = None
        if snapshot.get("institution"):
            institution = store.institution_by_slug(session, str(snapshot["institution"]))
            if institution is None:
                raise EditingError("institution_gone", f"the institution {snapshot['institution']} no longer exists",
                                   slug=str(snapshot["institution"]))
        images = list(snapshot.get("images") or [])
        for image in images:
            if not original_path(cat.settings.originals_dir, image["sha256"], image["format"]).is_file():
                raise EditingError("original_missing", f"the original of {_image_name(image)} is missing",
                                   name=_image_name(image))
        if item is None:
            if not account.is_admin:
                raise NotAllowed("admin_only", "only an administrator may bring back a purged item")
            item = Item(id=item_id, status="draft", created_at=utcnow())
            session.add(item)
            before: dict[str, Any] = {}
        else:
            before = _snapshot(item)
        fields = {name: snapshot.get(name) for name in ITEM_FIELDS}
        fields["subjects"] = list(fields["subjects"] or [])
        fields["featured"] = bool(fields["featured"])
        _assign(item, fields, collection, institution)
        wanted = [(i["sha256"], i.get("original_filename", ""), i.get("caption", ""), i.get("alt_text", ""),
                   i.get("rights", "")) for i in images]
        have = [(i.sha256, i.original_filename, i.caption, i.alt_text, i.rights) for i in item.images]
        if wanted != have:
            if item.images:
                item.images.clear()
                # The old rows go before the restored ones take their (item, position) slots.
                session.flush()
            for position, image in enumerate(images):
                item.images.append(Image(
                    position=position, sha256=image["sha256"], format=image["format"],
                    mime_type=image.get("mime_type", ""), width=image.get("width", 0),
                    height=image.get("height", 0), byte_size=image.get("byte_size", 0),
                    original_filename=image.get("original_filename", ""), caption=image.get("caption", ""),
                    alt_text=image.get("alt_text", ""), rights=image.get("rights", "")))
        if before and _snapshot(item) == before:
            session.rollback()
            return False
        _record(session, item, "restore", account)
    catch_up_index(cat)
    return True


# ----- lists: the dashboard and the activity log -------------------------------------------


def search_terms(text: str) -> list[list[str]]:
    """Return the words of a dashboard search, each with its spellings in both Chinese scripts."""
    return [spellings(word) for word in clean_text(text)[:MAX_QUERY].split()[:8]]


def dashboard(cat: Catalogue, account: Account, query: DashboardQuery) -> DashboardPage:
    """Return one page of the items the account may edit, filtered, with counts per status."""
    per_page = cat.settings.page_size
    status = query.status if query.status in STATUSES else ""
    days = query.changed_days if query.changed_days in CHANGED_DAYS else 0
    sort = query.sort if query.sort in store.CURATION_SORTS else "updated"
    query = DashboardQuery(status=status, collection=query.collection, missing_image=query.missing_image,
                           changed_days=days, q=clean_text(query.q)[:MAX_QUERY], sort=sort,
                           page=clamp_page(query.page))
    with cat.sessions() as session:
        limited = not (account.is_admin or not account.institutions)
        institution_ids = store.institution_ids_of(session, account.institutions) if limited else None
        collections = store.all_collections(session)
        chosen = next((c for c in collections if c.slug == query.collection), None)
        filters: dict[str, Any] = {
            "institution_ids": institution_ids,
            "collection_id": chosen.id if chosen is not None else None,
            "missing_image": query.missing_image,
            "changed_since": dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days else None,
            "terms": search_terms(query.q),
        }
        statuses = [status] if status else ["draft", "published"]
        counts = store.curation_status_counts(session, **filters)
        total = sum(counts.get(s, 0) for s in statuses)
        pages = max(1, -(-total // per_page))
        page = min(query.page, pages)
        items = store.curation_page(session, statuses=statuses, sort=sort, offset=(page - 1) * per_page,
                                           limit=per_page, **filters)
        rows = tuple(DashboardRow(
            id=i.id, title=i.title, title_alt=i.title_alt, creator=i.creator, status=i.status,
            collection_title=_labels(i.collection.title), holder_name=_labels(_holder(i).name),
            image_count=len(i.images), thumb=i.images[0].sha256 if i.images else None,
            updated_at=i.updated_at) for i in items)
        return DashboardPage(
            query=replace(query, page=page), rows=rows, total=total, page=page,
            pages=pages, counts={s: counts.get(s, 0) for s in STATUSES},
            collections=tuple(Choice(c.slug, _labels(c.title)) for c in collections))


def activity_log(cat: Catalogue, account: Account, query: ActivityQuery, per_page: int = 50) -> ActivityPage:
    """Return one page of every revision, newest first, filtered by actor, entity and action (admins only)."""
    if not account.is_admin:
        raise NotAllowed("admin_only", "only an administrator may read the activity log")
    query = ActivityQuery(actor=clean_text(query.actor)[:100], entity=clean_text(query.entity)[:30],
                          action=clean_text(query.action)[:30], page=clamp_page(query.page))
    with cat.sessions() as session:
        rows, total = store.revisions_page(session, actor=query.actor, entity=query.entity, action=query.action,
                                           offset=(query.page - 1) * per_page, limit=per_page)
        actors, entities, actions = store.revision_values(session)
    entries = []
    for rev in rows:
        snapshot = rev.snapshot or {}
        label = snapshot.get("title") or snapshot.get("name") or snapshot.get("slug") or ""
        entries.append(ActivityEntry(seq=rev.seq, entity=rev.entity, entity_id=rev.entity_id, action=rev.action,
                                     actor=rev.actor, when=rev.created_at, batch=rev.batch,
                                     label=_labels(label) if isinstance(label, dict) else str(label)))
    return ActivityPage(query=query, entries=tuple(entries), total=total, page=query.page,
                        pages=max(1, -(-total // per_page)), actors=tuple(actors), entities=tuple(entities),
                        actions=tuple(actions))
