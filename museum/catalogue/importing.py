"""Import use case: collection folders and CSV files into the catalogue, upserting by record id.

Each row is validated on its own; good rows are written in batches, each batch one transaction
holding the items, their images and one revision per changed item, so no item is ever
half-written. Bad rows are reported with their line number and reason and change nothing.
"""

from __future__ import annotations

import csv
import io
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from museum.catalogue import store
from museum.catalogue.dates import parse_years
from museum.catalogue.db import database_lock
from museum.catalogue.fields import (
    clean_text,
    slugify,
    sort_title,
    split_bilingual_title,
    split_list,
)
from museum.catalogue.models import Collection, Image, Institution, Item, utcnow
from museum.catalogue.revisions import (
    ITEM_FIELDS,
    collection_snapshot,
    institution_snapshot,
    item_snapshot,
    record_revision,
)
from museum.catalogue.service import Catalogue, catch_up_index
from museum.images.derivatives import make_derivatives
from museum.images.ingest import ImageRejected, StoredOriginal, ingest_image

ProgressCallback = Callable[[int, int], None]

LOCALES = ("en", "zh-Hant", "zh-Hans")
NATIVE_COLUMNS = (
    "id", "title", "title_alt", "creator", "date", "begin_year", "end_year", "period",
    "object_type", "medium", "dimensions", "description", "inscriptions", "provenance",
    "accession_number", "credit_line", "institution", "subjects", "rights", "rights_url",
    "url_of_source", "featured", "status", "image_filename", "image_caption",
)
TWELVE_COLUMNS = (
    "id", "title", "creator", "date", "medium", "dimensions", "description", "collection",
    "accession_number", "credit_line", "url_of_source", "image_filename",
)
KNOWN_COLUMNS = frozenset(NATIVE_COLUMNS) | frozenset(TWELVE_COLUMNS) | {"source_name"}
# Column limits mirror the database columns; PostgreSQL would refuse longer values mid-batch.
MAX_LENGTHS = {"id": 200, "accession_number": 200, "object_type": 200, "period": 200,
               "date": 300, "rights_url": 500, "url_of_source": 1000}
MAX_TEXT = 100_000
MAX_FILE_BYTES = 200 * 1024 * 1024
BATCH_SIZE = 200
TRUE_WORDS = {"yes", "y", "true", "1", "x", "是"}
FALSE_WORDS = {"", "no", "n", "false", "0", "否"}
DEFAULT_INSTITUTION = {"slug": "imported", "url": "",
                       "name": {"en": "Imported records", "zh-Hant": "匯入資料",
                                "zh-Hans": "导入资料"}}


class ImportFailed(Exception):
    """A whole file or folder cannot be imported; the message says why, nothing was written."""


@dataclass(frozen=True)
class RowProblem:
    """A refused row: where it is and why."""

    source: str
    line: int
    item_id: str
    reason: str

    def __str__(self) -> str:
        """Return 'file, line N (id): reason'."""
        ident = f" ({self.item_id})" if self.item_id else ""
        return f"{self.source}, line {self.line}{ident}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did."""

    batch: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    images_stored: int = 0

    @property
    def rows(self) -> int:
        """Return how many rows were read."""
        return self.created + self.updated + self.unchanged + len(self.refused)

    def summary(self) -> str:
        """Return a one-line summary of the counts."""
        return (f"{self.rows} rows: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.refused)} refused; "
                f"{self.images_stored} images stored; collections: {', '.join(self.collections)}")


@dataclass
class ItemSpec:
    """A validated row: the item fields, where it goes and its images."""

    line: int
    fields: dict[str, Any]
    collection_slug: str
    institution_slug: str | None
    images: list[tuple[StoredOriginal, str, str]]  # original, filename, caption


@dataclass
class CollectionSpec:
    """A validated collection.toml."""

    slug: str
    institution: str
    title: dict[str, str]
    summary: dict[str, str]
    credits: dict[str, str]
    licence_name: str
    licence_url: str
    position: int
    cover: str | None
    featured: list[str]
    institutions: list[dict[str, Any]]


# ----- reading files ---------------------------------------------------------------------


def decode_table(data: bytes, source: str) -> str:
    """Decode a CSV file's bytes: UTF-8 (with or without BOM), else GB18030 or Big5 as detected."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            candidates.append((encoding, data.decode(encoding)))
        except UnicodeDecodeError:
            continue
    if len(candidates) == 1:
        return candidates[0][1]
    if candidates:
        best = charset_normalizer.from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
        chosen = best.encoding if best is not None else "gb18030"
        for encoding, text in candidates:
            if encoding == chosen:
                return text
        return candidates[0][1]
    raise ImportFailed(f"{source}: the file is not text in UTF-8, GB18030 or Big5")


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Return the header of a CSV file and an iterator of (line number, row) pairs."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(f"{path.name}: the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    text = decode_table(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [clean_text(h).lower() for h in next(reader)]
    except StopIteration:
        raise ImportFailed(f"{path.name}: the file is empty") from None
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}: the header row cannot be read ({exc})") from None
    if "id" not in header or "title" not in header:
        raise ImportFailed(f"{path.name}: the header must have at least the columns id and title "
                           f"(found: {', '.join(header[:15])})")
    duplicates = {h for h in header if header.count(h) > 1 and h}
    if duplicates:
        raise ImportFailed(f"{path.name}: duplicate columns in the header: {', '.join(sorted(duplicates))}")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        previous_end = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield previous_end + 1, {"__error__": f"the row cannot be read ({exc})"}
                previous_end = reader.line_num
                continue
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                yield line, {"__error__": f"{len(values)} cells but the header has {len(header)} columns"}
                continue
            yield line, dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))

    return header, rows()


def _localised(table: Any, key: str, source: str, required: bool) -> dict[str, str]:
    """Return a {locale: text} table from collection.toml, checking its shape."""
    if table is None:
        if required:
            raise ImportFailed(f"{source}: [{key}] is required with en, zh-Hant and zh-Hans")
        return {}
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ImportFailed(f"{source}: [{key}] must map locales (en, zh-Hant, zh-Hans) to text")
    if required and not any(table.get(loc) for loc in LOCALES):
        raise ImportFailed(f"{source}: [{key}] needs at least one of en, zh-Hant, zh-Hans")
    return {k: clean_text(v) for k, v in table.items()}


def read_collection_toml(folder: Path) -> CollectionSpec:
    """Read and validate a collection folder's collection.toml."""
    path = folder / "collection.toml"
    source = f"{folder.name}/collection.toml"
    try:
        raw = tomllib.loads(decode_table(path.read_bytes(), source))
    except FileNotFoundError:
        raise ImportFailed(f"{folder}: no collection.toml in this folder") from None
    except tomllib.TOMLDecodeError as exc:
        raise ImportFailed(f"{source}: not valid TOML ({exc})") from None
    slug = str(raw.get("slug") or folder.name)
    if slug != slugify(slug) or len(slug) > 100:
        raise ImportFailed(f"{source}: slug {slug!r} must be lowercase letters, digits and hyphens")
    institutions = raw.get("institutions") or []
    if not isinstance(institutions, list):
        raise ImportFailed(f"{source}: [[institutions]] must be a list of tables")
    for inst in institutions:
        if not isinstance(inst, dict) or not inst.get("slug"):
            raise ImportFailed(f"{source}: every [[institutions]] entry needs a slug")
        inst["name"] = _localised(inst.get("name"), "institutions.name", source, True)
    institution = str(raw.get("institution") or (institutions[0]["slug"] if institutions else ""))
    if not institution:
        raise ImportFailed(f"{source}: name the holding institution (institution = \"slug\")")
    licence = raw.get("licence") or {}
    try:
        position = int(raw.get("position", 0))
    except (TypeError, ValueError):
        raise ImportFailed(f"{source}: position must be a whole number") from None
    featured = raw.get("featured") or []
    if not isinstance(featured, list):
        raise ImportFailed(f"{source}: featured must be a list of item ids")
    return CollectionSpec(
        slug=slug, institution=institution,
        title=_localised(raw.get("title"), "title", source, True),
        summary=_localised(raw.get("summary"), "summary", source, False),
        credits=_localised(raw.get("credits"), "credits", source, False),
        licence_name=str(licence.get("name", "")), licence_url=str(licence.get("url", "")),
        position=position, cover=str(raw["cover"]) if raw.get("cover") else None,
        featured=[str(f) for f in featured], institutions=institutions,
    )


# ----- validating rows -------------------------------------------------------------------


class RowRefused(Exception):
    """A row cannot be imported; the message is the reason."""


def _year(value: str, column: str) -> int | None:
    """Return a year cell as an integer, or None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        year = int(value)
    except ValueError:
        raise RowRefused(f"{column} must be a whole year (negative for BCE), got {value!r}") from None
    if not -10000 <= year <= 2100:
        raise RowRefused(f"{column} {year} is outside -10000..2100")
    return year


def _url(value: str, column: str) -> str:
    """Return an http(s) URL cell, refusing other schemes (javascript: in a link is an attack)."""
    value = value.strip()
    if value and not value.lower().startswith(("http://", "https://")):
        raise RowRefused(f"{column} must start with http:// or https://")
    return value


def validate_row(row: dict[str, str], *, known_institutions: set[str],
                 bilingual_titles: bool) -> dict[str, Any]:
    """Return the item fields of a row, or raise RowRefused with the reason."""
    if "__error__" in row:
        raise RowRefused(row["__error__"])
    cells = {k: clean_text(v) for k, v in row.items() if k}
    for column, value in cells.items():
        limit = MAX_LENGTHS.get(column, MAX_TEXT)
        if len(value) > limit:
            raise RowRefused(f"{column} is longer than {limit} characters")
    item_id = cells.get("id", "")
    if not item_id:
        raise RowRefused("id is empty")
    if any(ch.isspace() for ch in item_id) or "?" in item_id or "#" in item_id:
        raise RowRefused("id must not contain spaces, ? or #")
    title, title_alt = cells.get("title", ""), cells.get("title_alt", "")
    if bilingual_titles and not title_alt:
        title, title_alt = split_bilingual_title(title)
    if not title:
        raise RowRefused("title is empty")
    date_text = cells.get("date", "")
    begin, end = _year(cells.get("begin_year", ""), "begin_year"), _year(cells.get("end_year", ""), "end_year")
    if begin is None and end is None and date_text:
        begin, end = parse_years(date_text)
    if begin is None and end is None and cells.get("period", ""):
        # No usable date: the period ("商 Shang dynasty", "清乾隆") still places the object in time.
        begin, end = parse_years(cells.get("period", ""))
    if begin is None and end is not None:
        begin = end
    if end is None and begin is not None:
        end = begin
    if begin is not None and end is not None and begin > end:
        raise RowRefused(f"begin_year {begin} is after end_year {end}")
    status = (cells.get("status") or "published").lower()
    if status not in ("published", "draft"):
        raise RowRefused(f"status must be published or draft, got {status!r}")
    featured_word = cells.get("featured", "").lower()
    if featured_word not in TRUE_WORDS | FALSE_WORDS:
        raise RowRefused(f"featured must be yes or empty, got {featured_word!r}")
    institution = cells.get("institution", "")
    if institution and institution not in known_institutions:
        raise RowRefused(f"institution {institution!r} is not listed in collection.toml")
    return {
        "id": item_id, "title": title, "title_alt": title_alt,
        "creator": cells.get("creator", ""), "date_display": date_text,
        "begin_year": begin, "end_year": end, "period": cells.get("period", ""),
        "object_type": cells.get("object_type", ""), "medium": cells.get("medium", ""),
        "dimensions": cells.get("dimensions", ""), "description": cells.get("description", ""),
        "inscriptions": cells.get("inscriptions", ""), "provenance": cells.get("provenance", ""),
        "accession_number": cells.get("accession_number", ""),
        "credit_line": cells.get("credit_line", ""), "rights": cells.get("rights", ""),
        "rights_url": _url(cells.get("rights_url", ""), "rights_url"),
        "source_url": _url(cells.get("url_of_source", ""), "url_of_source"),
        "subjects": split_list(cells.get("subjects", "")), "status": status,
        "featured": featured_word in TRUE_WORDS, "institution": institution or None,
        "image_filenames": split_list(cells.get("image_filename", "")),
        "image_captions": split_list(cells.get("image_caption", "")),
    }


# ----- the import ------------------------------------------------------------------------


class _Importer:
    """One import run: shared state for its collections, images and report."""

    def __init__(self, cat: Catalogue, actor: str, progress: ProgressCallback | None) -> None:
        """Start a run with a fresh batch id."""
        self.cat = cat
        self.actor = actor
        self.progress = progress
        self.report = ImportReport(batch=uuid.uuid4().hex)
        self._stored: dict[Path, StoredOriginal | ImageRejected] = {}

    # images

    def _ingest(self, path: Path) -> StoredOriginal:
        """Store one image file (once per run) and make its derivatives."""
        cached = self._stored.get(path)
        if cached is None:
            try:
                if not path.is_file():
                    raise ImageRejected("file not found", path.name)
                settings = self.cat.settings
                stored = ingest_image(path.read_bytes(), settings.originals_dir, filename=path.name,
                                      max_bytes=settings.max_image_bytes,
                                      max_pixels=settings.max_image_pixels)
                make_derivatives(stored.path, settings.derivatives_dir, stored.sha256)
                self.report.images_stored += 1
                cached = stored
            except ImageRejected as exc:
                cached = exc
            except OSError as exc:
                cached = ImageRejected(f"cannot be read ({exc.strerror or exc})", path.name)
            self._stored[path] = cached
        if isinstance(cached, ImageRejected):
            raise RowRefused(f"image refused: {cached}")
        return cached

    def _images_for(self, fields: dict[str, Any], image_dirs: list[Path]) -> list[tuple[StoredOriginal, str, str]]:
        """Ingest the images a row names, looking in image_dirs; refuse the row if one fails."""
        names: list[str] = fields.pop("image_filenames")
        captions: list[str] = fields.pop("image_captions")
        images = []
        for position, name in enumerate(names):
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise RowRefused(f"image_filename {name!r} must be a plain name inside images/")
            path = next((d / name for d in image_dirs if (d / name).is_file()), image_dirs[0] / name)
            caption = captions[position] if position < len(captions) else ""
            images.append((self._ingest(path), name, caption))
        return images

    # collections

    def ensure_institution(self, session: Session, spec: dict[str, Any]) -> Institution:
        """Create or update an institution from its collection.toml entry."""
        slug = str(spec["slug"])
        inst = store.institution_by_slug(session, slug)
        name = dict(spec.get("name") or {})
        url = str(spec.get("url", ""))
        if inst is None:
            inst = Institution(slug=slug, name=name, url=url, address={})
            session.add(inst)
            action = "create"
        elif inst.name != name or inst.url != url:
            inst.name, inst.url = name, url
            action = "update"
        else:
            return inst
        session.flush()
        record_revision(session, entity="institution", entity_id=slug, action=action,
                        snapshot=institution_snapshot(inst), actor=self.actor, batch=self.report.batch)
        return inst

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create or update a collection and its institutions in one transaction."""
        with self.cat.sessions() as session, session.begin():
            for inst_spec in spec.institutions:
                self.ensure_institution(session, inst_spec)
            institution = store.institution_by_slug(session, spec.institution)
            if institution is None:
                raise ImportFailed(f"{spec.slug}/collection.toml: institution {spec.institution!r} "
                                   "is not described in [[institutions]]")
            coll = store.collection_by_slug(session, spec.slug)
            wanted = {
                "institution_id": institution.id, "title": spec.title, "summary": spec.summary,
                "credits": spec.credits, "licence_name": spec.licence_name,
                "licence_url": spec.licence_url, "position": spec.position,
                "cover_item_id": spec.cover, "featured_item_ids": spec.featured,
            }
            if coll is None:
                coll = Collection(slug=spec.slug, **wanted)
                session.add(coll)
                action = "create"
            elif any(getattr(coll, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(coll, key, value)
                action = "update"
            else:
                action = ""
            session.flush()
            if action:
                record_revision(session, entity="collection", entity_id=spec.slug, action=action,
                                snapshot=collection_snapshot(coll, institution.slug),
                                actor=self.actor, batch=self.report.batch)
        if spec.slug not in self.report.collections:
            self.report.collections.append(spec.slug)

    # rows

    def import_rows(self, source: str, rows: Iterator[tuple[int, dict[str, str]]], total: int,
                    *, collection_of: Callable[[dict[str, str]], str],
                    known_institutions: set[str], bilingual_titles: bool,
                    image_dirs: list[Path], featured_ids: set[str]) -> None:
        """Validate rows and write the good ones in batches."""
        seen: dict[str, int] = {}
        pending: list[ItemSpec] = []
        for done, (line, row) in enumerate(rows, start=1):
            item_id = clean_text(row.get("id", ""))
            try:
                fields = validate_row(row, known_institutions=known_institutions,
                                      bilingual_titles=bilingual_titles)
                if fields["id"] in seen:
                    raise RowRefused(f"duplicate id, first used on line {seen[fields['id']]}")
                seen[fields["id"]] = line
                if fields["id"] in featured_ids:
                    fields["featured"] = True
                images = self._images_for(fields, image_dirs)
                institution = fields.pop("institution")
                pending.append(ItemSpec(line=line, fields=fields, collection_slug=collection_of(row),
                                        institution_slug=institution, images=images))
            except RowRefused as exc:
                self.report.refused.append(RowProblem(source, line, item_id, str(exc)))
            if len(pending) >= BATCH_SIZE:
                self._write(source, pending)
                pending = []
            if self.progress:
                self.progress(done, total)
        if pending:
            self._write(source, pending)

    def _write(self, source: str, specs: list[ItemSpec]) -> None:
        """Write a batch in one transaction; if it fails, retry row by row to isolate the culprit."""
        try:
            with self.cat.sessions() as session, session.begin():
                counts = self._apply(session, specs)
        except SQLAlchemyError:
            if len(specs) == 1:
                raise
            for spec in specs:
                try:
                    self._write(source, [spec])
                except SQLAlchemyError as exc:
                    self.report.refused.append(RowProblem(
                        source, spec.line, spec.fields["id"],
                        f"the database refused the row ({type(getattr(exc, 'orig', None) or exc).__name__})"))
            return
        self.report.created += counts[0]
        self.report.updated += counts[1]
        self.report.unchanged += counts[2]

    def _apply(self, session: Session, specs: list[ItemSpec]) -> tuple[int, int, int]:
        """Upsert a batch of items and their revisions in the open transaction."""
        created = updated = unchanged = 0
        existing = store.items_in(session, [s.fields["id"] for s in specs])
        collections: dict[str, Collection] = {}
        institutions: dict[str, Institution] = {}
        for spec in specs:
            coll = collections.get(spec.collection_slug) or store.collection_by_slug(session, spec.collection_slug)
            assert coll is not None  # noqa: S101 - ensured before rows are read
            collections[spec.collection_slug] = coll
            inst: Institution | None = None
            if spec.institution_slug:
                inst = institutions.get(spec.institution_slug) or store.institution_by_slug(
                    session, spec.institution_slug)
                if inst is not None:
                    institutions[spec.institution_slug] = inst
            item = existing.get(spec.fields["id"])
            inst_slug = inst.slug if inst else None
            wanted_images = [(img.sha256, name, caption) for img, name, caption in spec.images]
            if item is not None:
                before = item_snapshot(item, item.collection.slug, item.institution.slug if item.institution else None)
                have_images = [(i.sha256, i.original_filename, i.caption) for i in item.images]
                same_fields = all(before[k] == spec.fields.get(k, before[k]) for k in ITEM_FIELDS)
                if (same_fields and before["collection"] == coll.slug
                        and before["institution"] == inst_slug and have_images == wanted_images):
                    unchanged += 1
                    continue
                action = "update"
                updated += 1
            else:
                item = Item(id=spec.fields["id"], collection=coll, created_at=utcnow())
                session.add(item)
                action = "create"
                created += 1
            for key, value in spec.fields.items():
                setattr(item, key, value)
            item.sort_title = sort_title(item.title)
            item.collection = coll
            item.institution = inst
            item.updated_at = utcnow()
            if [(i.sha256, i.original_filename, i.caption) for i in item.images] != wanted_images:
                if item.images:
                    item.images.clear()
                    # Old rows go before new ones take their (item, position) slots.
                    session.flush()
                for position, (stored, name, caption) in enumerate(spec.images):
                    item.images.append(Image(
                        position=position, sha256=stored.sha256, format=stored.format,
                        mime_type=stored.mime_type, width=stored.width, height=stored.height,
                        byte_size=stored.byte_size, original_filename=name, caption=caption,
                        alt_text=caption or item.title, rights=item.rights))
            record_revision(session, entity="item", entity_id=item.id, action=action,
                            snapshot=item_snapshot(item, coll.slug, inst_slug),
                            actor=self.actor, batch=self.report.batch)
        return created, updated, unchanged

    # entry points

    def import_folder(self, folder: Path) -> None:
        """Import one collection folder (collection.toml, items.csv, images/)."""
        spec = read_collection_toml(folder)
        items_csv = folder / "items.csv"
        header, rows = read_rows(items_csv)
        self._warn_unknown(items_csv.name, header)
        self.ensure_collection(spec)
        total = _count_data_lines(items_csv)
        self.import_rows(f"{folder.name}/items.csv", rows, total,
                         collection_of=lambda _row: spec.slug,
                         known_institutions={str(i["slug"]) for i in spec.institutions},
                         bilingual_titles="title_alt" not in header,
                         image_dirs=[folder / "images", folder],
                         featured_ids=set(spec.featured))

    def import_csv(self, path: Path, collection_slug: str | None, institution_slug: str | None) -> None:
        """Import a CSV file on its own (native columns or the 12-column exchange format)."""
        header, rows = read_rows(path)
        self._warn_unknown(path.name, header)
        institution = {**DEFAULT_INSTITUTION, "slug": institution_slug or DEFAULT_INSTITUTION["slug"]}
        if institution_slug and institution_slug != DEFAULT_INSTITUTION["slug"]:
            institution["name"] = {loc: institution_slug for loc in LOCALES}
        created: dict[str, str] = {}

        def collection_of(row: dict[str, str]) -> str:
            if collection_slug:
                return collection_slug
            name = clean_text(row.get("collection", "")) or path.stem
            return slugify(name)

        # Collections are created up front so every batch can refer to them.
        with self.cat.sessions() as session:
            existing_inst = store.institution_by_slug(session, str(institution["slug"]))
        if existing_inst is not None:
            institution = {"slug": existing_inst.slug, "name": existing_inst.name, "url": existing_inst.url}
        _, scan = read_rows(path)
        for _line, row in scan:
            if "__error__" in row:
                continue
            slug = collection_of(row)
            if slug not in created:
                created[slug] = clean_text(row.get("collection", "")) or path.stem
        for slug, name in created.items():
            with self.cat.sessions() as session:
                current = store.collection_by_slug(session, slug)
            if current is not None:
                self.report.collections.append(slug)
                continue
            self.ensure_collection(CollectionSpec(
                slug=slug, institution=str(institution["slug"]),
                title={loc: name for loc in LOCALES}, summary={}, credits={}, licence_name="",
                licence_url="", position=100, cover=None, featured=[], institutions=[institution]))
        self.import_rows(path.name, rows, _count_data_lines(path), collection_of=collection_of,
                         known_institutions={str(institution["slug"])},
                         bilingual_titles="title_alt" not in header,
                         image_dirs=[path.parent / "images", path.parent], featured_ids=set())

    def _warn_unknown(self, source: str, header: list[str]) -> None:
        """Note columns the importer does not know, so a typo in a header is not silent."""
        unknown = [h for h in header if h and h not in KNOWN_COLUMNS]
        if unknown:
            self.report.warnings.append(f"{source}: ignored unknown columns: {', '.join(unknown)}")


def _count_data_lines(path: Path) -> int:
    """Return a quick upper bound of the data rows in a CSV file, for the progress bar."""
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 1)


def collection_folders(path: Path) -> list[Path]:
    """Return the collection folders at path: itself, or its subfolders holding collection.toml."""
    if (path / "collection.toml").is_file():
        return [path]
    folders = sorted(p for p in path.iterdir() if (p / "collection.toml").is_file())
    if not folders:
        raise ImportFailed(f"{path}: no collection.toml here or in its subfolders")

    def position(folder: Path) -> tuple[int, str]:
        try:
            return read_collection_toml(folder).position, folder.name
        except ImportFailed:
            return 0, folder.name

    return sorted(folders, key=position)


def import_path(cat: Catalogue, path: Path, *, collection: str | None = None,
                institution: str | None = None, actor: str = "system",
                progress: ProgressCallback | None = None) -> ImportReport:
    """Import a collection folder, a folder of them, or a CSV file; return the report."""
    if collection is not None and collection != slugify(collection):
        raise ImportFailed(f"--collection {collection!r} must be lowercase letters, digits and hyphens")
    run = _Importer(cat, actor, progress)
    if path.is_dir():
        for folder in collection_folders(path):
            run.import_folder(folder)
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        run.import_csv(path, collection, institution)
    elif not path.exists():
        raise ImportFailed(f"{path}: no such file or folder")
    else:
        raise ImportFailed(f"{path.name}: import reads a collection folder or a .csv file")
    catch_up_index(cat)
    return run.report


def import_default_exhibit_if_empty(cat: Catalogue) -> ImportReport | None:
    """Import the default exhibit when the catalogue has no collections yet."""
    if not cat.settings.import_default_exhibit or not cat.settings.exhibit_dir.is_dir():
        return None
    # Several workers (or nodes sharing PostgreSQL) may start together: one imports, and the
    # others, once they get the lock, find the collections there.
    with database_lock(cat.engine, "default-exhibit"):
        with cat.sessions() as session:
            if store.all_collections(session):
                return None
        return import_path(cat, cat.settings.exhibit_dir)
