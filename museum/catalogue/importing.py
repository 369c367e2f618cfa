"""Import use case: collection folders, CSV and XLSX tables into the catalogue, upserting by record id.

Each row is validated on its own; good rows are written in batches, each batch one transaction
holding the items, their images and one revision per changed item, so no item is ever
half-written. Bad rows are reported with their line number and reason and change nothing.
A dry run (`plan_table`) applies the same rules and says row by row what a run would do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import charset_normalizer
import openpyxl
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
Params = dict[str, str | int]

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
# An XLSX is a ZIP of XML: its parts are bounded before openpyxl reads them, so a small
# workbook cannot unpack into gigabytes of XML in memory.
XLSX_MAX_PARTS = 1000
XLSX_MAX_UNPACKED = MAX_FILE_BYTES
# Excel's own sheet size; openpyxl fills gaps before a row number, so a forged huge one must stop.
XLSX_MAX_SHEET_ROWS = 1_048_576
BATCH_SIZE = 200
TRUE_WORDS = {"yes", "y", "true", "1", "x", "是"}
FALSE_WORDS = {"", "no", "n", "false", "0", "否"}
DEFAULT_INSTITUTION = {"slug": "imported", "url": "",
                       "name": {"en": "Imported records", "zh-Hant": "匯入資料",
                                "zh-Hans": "导入资料"}}


class ImportFailed(Exception):
    """A whole file or folder cannot be imported; the message says why, nothing was written.

    `code` names the reason and `params` its details, so the web layer can say it in the
    curator's language; str() is the English text for the command line.
    """

    def __init__(self, message: str, code: str = "", **params: str | int) -> None:
        """Keep the English message, the reason's code and its details."""
        super().__init__(message)
        self.code = code
        self.params: Params = dict(params)


@dataclass(frozen=True)
class RowProblem:
    """A refused row: where it is and why (in English, and as a code with details)."""

    source: str
    line: int
    item_id: str
    reason: str
    code: str = ""
    params: Params = field(default_factory=dict)

    def __str__(self) -> str:
        """Return 'file, line N (id): reason'."""
        ident = f" ({self.item_id})" if self.item_id else ""
        return f"{self.source}, line {self.line}{ident}: {self.reason}"


@dataclass(frozen=True)
class RowOutcome:
    """What a run did with one good row: create, update or unchanged."""

    line: int
    item_id: str
    action: str


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
    outcomes: list[RowOutcome] = field(default_factory=list)

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
    raise ImportFailed(f"{source}: the file is not text in UTF-8, GB18030 or Big5", "encoding")


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Return the header of a CSV file and an iterator of (line number, row) pairs."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file", "missing")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(f"{path.name}: the file is larger than {MAX_FILE_BYTES // 2**20} MB",
                           "too_large", megabytes=MAX_FILE_BYTES // 2**20)
    text = decode_table(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [clean_text(h).lower() for h in next(reader)]
    except StopIteration:
        raise ImportFailed(f"{path.name}: the file is empty", "empty") from None
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}: the header row cannot be read ({exc})", "header_unreadable",
                           error=str(exc)) from None
    _check_header(header, path.name)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        previous_end = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield previous_end + 1, {"__error__": f"the row cannot be read ({exc})",
                                         "__code__": "row_unreadable", "error": str(exc)}
                previous_end = reader.line_num
                continue
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(v.strip() for v in values):
                continue
            yield line, _row_dict(header, values)

    return header, rows()


def _check_header(header: list[str], source: str) -> None:
    """Refuse a header without id and title, or with a column named twice."""
    if "id" not in header or "title" not in header:
        found = ", ".join(h for h in header[:15] if h)
        raise ImportFailed(f"{source}: the header must have at least the columns id and title "
                           f"(found: {found})", "header_columns", found=found)
    duplicates = ", ".join(sorted({h for h in header if header.count(h) > 1 and h}))
    if duplicates:
        raise ImportFailed(f"{source}: duplicate columns in the header: {duplicates}",
                           "header_duplicates", columns=duplicates)


def _row_dict(header: list[str], values: list[str]) -> dict[str, str]:
    """Return a row as column → cell, or an error row when it has more cells than the header."""
    if len(values) > len(header):
        return {"__error__": f"{len(values)} cells but the header has {len(header)} columns",
                "__code__": "too_many_cells", "cells": str(len(values)), "columns": str(len(header))}
    return dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))


def _xlsx_text(value: object) -> str:
    """Return a cell value of a workbook as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))          # 1880.0 is how a spreadsheet holds the year 1880
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    # Array formulas come as objects holding the formula text: kept as text like the others.
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else ""


def read_xlsx(path: Path, max_rows: int | None = None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Return the header and (row number, row) pairs of a workbook's first sheet.

    Formula cells give their formula as text ("=HYPERLINK(…)"): nothing is evaluated, and no
    value cached by whoever saved the file can stand in for what the cell really holds.
    """
    name = path.name
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(f"{name}: the file is larger than {MAX_FILE_BYTES // 2**20} MB",
                           "too_large", megabytes=MAX_FILE_BYTES // 2**20)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportFailed(f"{name}: not a readable XLSX workbook", "xlsx_broken") from None
    # The sizes in the ZIP directory bound what Python's zipfile will ever unpack (it stops
    # at the declared size and then fails the CRC check), so checking them is enough here.
    if len(parts) > XLSX_MAX_PARTS or sum(p.file_size for p in parts) > XLSX_MAX_UNPACKED:
        raise ImportFailed(f"{name}: the workbook unpacks to more than {XLSX_MAX_UNPACKED // 2**20} MB",
                           "xlsx_too_large", megabytes=XLSX_MAX_UNPACKED // 2**20)
    try:
        # data_only=False: formulas are read as their text instead of a cached result.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl reports damaged files with many exception types
        raise ImportFailed(f"{name}: not a readable XLSX workbook ({type(exc).__name__})",
                           "xlsx_broken") from None
    try:
        return _sheet_rows(workbook, name, max_rows)
    except ImportFailed:
        raise
    except Exception as exc:
        raise ImportFailed(f"{name}: not a readable XLSX workbook ({type(exc).__name__})",
                           "xlsx_broken") from None
    finally:
        workbook.close()


def _sheet_rows(workbook: Any, name: str,
                max_rows: int | None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read the first sheet of an open workbook into a header and numbered rows."""
    if not workbook.worksheets:
        raise ImportFailed(f"{name}: the workbook has no sheet", "empty")
    sheet = workbook.worksheets[0]
    # The stored dimensions may be wrong (some programs write A1:A1); read what is there.
    sheet.reset_dimensions()
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > XLSX_MAX_SHEET_ROWS:
            raise ImportFailed(f"{name}: the sheet has more than {XLSX_MAX_SHEET_ROWS} rows",
                               "too_many_rows", limit=XLSX_MAX_SHEET_ROWS)
        values = [_xlsx_text(v) for v in cells]
        while values and not values[-1].strip():
            values.pop()
        if not values:
            continue
        if header is None:
            header = [clean_text(v).lower() for v in values]
            _check_header(header, name)
            continue
        rows.append((number, _row_dict(header, values)))
        if max_rows is not None and len(rows) > max_rows:
            raise ImportFailed(f"{name}: the table has more than {max_rows} rows", "too_many_rows",
                               limit=max_rows)
    if header is None:
        raise ImportFailed(f"{name}: the file is empty", "empty")
    return header, rows


@dataclass
class Table:
    """A table file opened for reading: its kind, header and numbered rows."""

    kind: str                 # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    total: int                # rows to expect, for progress (an upper bound for CSV)


XLSX_SIGNATURE = b"PK\x03\x04"
# Old Excel files and password-protected workbooks are OLE compound documents.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def table_kind(head: bytes) -> str:
    """Tell from a file's first bytes how to read it: "xlsx", "csv", or "" for neither."""
    if head.startswith(XLSX_SIGNATURE):
        return "xlsx"
    if head.startswith(OLE_SIGNATURE) or b"\x00" in head:
        # NUL bytes never occur in UTF-8, GB18030 or Big5 text: this is a binary file.
        return ""
    return "csv"


def read_table(path: Path, max_rows: int | None = None) -> Table:
    """Open a CSV or XLSX table, recognised by its content, and return its header and rows.

    With max_rows, a table holding more data rows raises ImportFailed (code too_many_rows)
    when the rows are read.
    """
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file", "missing")
    with path.open("rb") as fh:
        head = fh.read(8192)
    kind = table_kind(head)
    if kind == "xlsx":
        header, listed = read_xlsx(path, max_rows)
        return Table("xlsx", header, iter(listed), max(len(listed), 1))
    if not kind:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ImportFailed(f"{path.name}: UTF-16 text; save it as CSV UTF-8", "utf16")
        if head.startswith(OLE_SIGNATURE):
            raise ImportFailed(f"{path.name}: an old Excel (.xls) or password-protected workbook; "
                               "save it as .xlsx or as CSV UTF-8", "xls")
        raise ImportFailed(f"{path.name}: not a table (a CSV text file or an XLSX workbook)", "not_table")
    header, rows = read_rows(path)

    def bounded() -> Iterator[tuple[int, dict[str, str]]]:
        for count, pair in enumerate(rows, start=1):
            if max_rows is not None and count > max_rows:
                raise ImportFailed(f"{path.name}: the table has more than {max_rows} rows",
                                   "too_many_rows", limit=max_rows)
            yield pair

    return Table("csv", header, bounded(), _count_data_lines(path))


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
    """A row cannot be imported; the message is the reason, with a code and details for translation."""

    def __init__(self, message: str, code: str = "", **params: str | int) -> None:
        """Keep the English reason, its code and its details."""
        super().__init__(message)
        self.code = code
        self.params: Params = dict(params)


def _year(value: str, column: str) -> int | None:
    """Return a year cell as an integer, or None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        year = int(value)
    except ValueError:
        raise RowRefused(f"{column} must be a whole year (negative for BCE), got {value!r}",
                         "year_form", column=column, value=value[:50]) from None
    if not -10000 <= year <= 2100:
        raise RowRefused(f"{column} {year} is outside -10000..2100", "year_range", column=column, year=year)
    return year


def _url(value: str, column: str) -> str:
    """Return an http(s) URL cell, refusing other schemes (javascript: in a link is an attack)."""
    value = value.strip()
    if value and not value.lower().startswith(("http://", "https://")):
        raise RowRefused(f"{column} must start with http:// or https://", "url_scheme", column=column)
    return value


def validate_row(row: dict[str, str], *, known_institutions: set[str],
                 bilingual_titles: bool, institution_source: str = "collection.toml") -> dict[str, Any]:
    """Return the item fields of a row, or raise RowRefused with the reason."""
    if "__error__" in row:
        details = {k: v for k, v in row.items() if not k.startswith("__")}
        raise RowRefused(row["__error__"], row.get("__code__", ""), **details)
    cells = {k: clean_text(v) for k, v in row.items() if k}
    for column, value in cells.items():
        limit = MAX_LENGTHS.get(column, MAX_TEXT)
        if len(value) > limit:
            raise RowRefused(f"{column} is longer than {limit} characters", "too_long", column=column, limit=limit)
    item_id = cells.get("id", "")
    if not item_id:
        raise RowRefused("id is empty", "id_empty")
    if any(ch.isspace() for ch in item_id) or "?" in item_id or "#" in item_id:
        raise RowRefused("id must not contain spaces, ? or #", "id_chars")
    title, title_alt = cells.get("title", ""), cells.get("title_alt", "")
    if bilingual_titles and not title_alt:
        title, title_alt = split_bilingual_title(title)
    if not title:
        raise RowRefused("title is empty", "title_empty")
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
        raise RowRefused(f"begin_year {begin} is after end_year {end}", "year_order", begin=begin, end=end)
    status = (cells.get("status") or "published").lower()
    if status not in ("published", "draft"):
        raise RowRefused(f"status must be published or draft, got {status!r}", "status", value=status[:50])
    featured_word = cells.get("featured", "").lower()
    if featured_word not in TRUE_WORDS | FALSE_WORDS:
        raise RowRefused(f"featured must be yes or empty, got {featured_word!r}", "featured",
                         value=featured_word[:50])
    institution = cells.get("institution", "")
    if institution and institution not in known_institutions:
        raise RowRefused(f"institution {institution!r} is not listed in {institution_source}",
                         "institution_unknown", institution=institution[:100])
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


@dataclass(frozen=True)
class FieldChange:
    """One field an import would change on an existing item: its value before and after."""

    field: str
    before: Any
    after: Any


def item_changes(before: dict[str, Any], fields: dict[str, Any], collection: str, institution: str | None,
                 images: list[tuple[str, str, str]]) -> list[FieldChange]:
    """Return what writing fields, placement and images (sha256, name, caption) would change."""
    changes = [FieldChange(k, before[k], fields[k]) for k in ITEM_FIELDS
               if k in fields and before[k] != fields[k]]
    if before["collection"] != collection:
        changes.append(FieldChange("collection", before["collection"], collection))
    if before["institution"] != institution:
        changes.append(FieldChange("institution", before["institution"], institution))
    have = [(i["sha256"], i["original_filename"], i["caption"]) for i in before["images"]]
    if have != images:
        changes.append(FieldChange("images", [name for _, name, _ in have], [name for _, name, _ in images]))
    return changes


RowGuard = Callable[[str | None, str | None], None]
"""Called with a row's institution and, for an existing item, the institution holding it now;
raises RowRefused when whoever imports may not write there."""


@dataclass(frozen=True)
class RowPlan:
    """What a run would do with one row: create, change, unchanged or refused (and why)."""

    line: int
    item_id: str
    action: str
    title: str = ""
    changes: tuple[FieldChange, ...] = ()
    problem: RowProblem | None = None


# ----- the import ------------------------------------------------------------------------


@dataclass(frozen=True)
class RowRules:
    """How the rows of one table are read: where each goes, what it may name, where its images are."""

    source: str
    collection_of: Callable[[dict[str, str]], str]
    known_institutions: set[str]
    bilingual_titles: bool
    image_dirs: list[Path]
    featured_ids: frozenset[str] = frozenset()
    institution_source: str = "collection.toml"
    # Uploaded ZIPs keep images in folders of their own: match only the file's base name.
    images_by_base_name: bool = False


def _effective_institution(item: Item) -> str:
    """Return the slug of the institution holding an item (its own, else its collection's)."""
    return (item.institution or item.collection.institution).slug


class _Importer:
    """One import run (or dry run): shared state for its collections, images and report."""

    def __init__(self, cat: Catalogue, actor: str, progress: ProgressCallback | None, *,
                 batch: str | None = None, scratch_dir: Path | None = None,
                 guard: RowGuard | None = None) -> None:
        """Start a run with the given batch id (a fresh one by default).

        With scratch_dir the run is a dry run: images are checked by ingest into that folder
        and removed again, never stored with the originals.
        """
        self.cat = cat
        self.actor = actor
        self.progress = progress
        self.scratch_dir = scratch_dir
        self.guard = guard
        self.report = ImportReport(batch=batch or uuid.uuid4().hex)
        self._stored: dict[Path, StoredOriginal | ImageRejected] = {}

    # images

    def _ingest(self, path: Path) -> StoredOriginal:
        """Store one image file (once per run) and make its derivatives, or only check it in a dry run."""
        cached = self._stored.get(path)
        if cached is None:
            try:
                settings = self.cat.settings
                stored = ingest_image(path.read_bytes(), self.scratch_dir or settings.originals_dir,
                                      filename=path.name, max_bytes=settings.max_image_bytes,
                                      max_pixels=settings.max_image_pixels)
                if self.scratch_dir is None:
                    make_derivatives(stored.path, settings.derivatives_dir, stored.sha256)
                    self.report.images_stored += 1
                else:
                    stored.path.unlink(missing_ok=True)
                cached = stored
            except ImageRejected as exc:
                cached = exc
            except OSError as exc:
                cached = ImageRejected(f"cannot be read ({exc.strerror or exc})", path.name)
            self._stored[path] = cached
        if isinstance(cached, ImageRejected):
            raise RowRefused(f"image refused: {cached}", "image_refused", name=cached.filename or path.name,
                             reason=cached.reason)
        return cached

    def _images_for(self, fields: dict[str, Any], rules: RowRules) -> list[tuple[StoredOriginal, str, str]]:
        """Ingest the images a row names, looking in the rules' folders; refuse the row if one fails."""
        names: list[str] = fields.pop("image_filenames")
        captions: list[str] = fields.pop("image_captions")
        images = []
        for position, name in enumerate(names):
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise RowRefused(f"image_filename {name!r} must be a plain name inside images/", "image_path",
                                 name=name[:300])
            wanted = PurePosixPath(name.replace("\\", "/")).name if rules.images_by_base_name else name
            path = next((d / wanted for d in rules.image_dirs if wanted and (d / wanted).is_file()), None)
            if path is None:
                raise RowRefused(f"image refused: {name}: file not found", "image_missing", name=name[:300])
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
                                   "is not described in [[institutions]]", "institution_missing",
                                   institution=spec.institution)
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

    def _prepare(self, line: int, row: dict[str, str], rules: RowRules, seen: dict[str, int]) -> ItemSpec:
        """Validate one row and check its images; raise RowRefused with the reason."""
        fields = validate_row(row, known_institutions=rules.known_institutions,
                              bilingual_titles=rules.bilingual_titles,
                              institution_source=rules.institution_source)
        if fields["id"] in seen:
            raise RowRefused(f"duplicate id, first used on line {seen[fields['id']]}", "duplicate_id",
                             line=seen[fields["id"]])
        seen[fields["id"]] = line
        if fields["id"] in rules.featured_ids:
            fields["featured"] = True
        images = self._images_for(fields, rules)
        institution = fields.pop("institution")
        return ItemSpec(line=line, fields=fields, collection_slug=rules.collection_of(row),
                        institution_slug=institution, images=images)

    def _refuse(self, source: str, line: int, item_id: str, exc: RowRefused) -> RowProblem:
        """Record a refused row in the report and return it."""
        problem = RowProblem(source, line, item_id, str(exc), exc.code, dict(exc.params))
        self.report.refused.append(problem)
        return problem

    def import_rows(self, rows: Iterator[tuple[int, dict[str, str]]], total: int, rules: RowRules) -> None:
        """Validate rows and write the good ones in batches."""
        seen: dict[str, int] = {}
        pending: list[ItemSpec] = []
        for done, (line, row) in enumerate(rows, start=1):
            try:
                pending.append(self._prepare(line, row, rules, seen))
            except RowRefused as exc:
                self._refuse(rules.source, line, clean_text(row.get("id", "")), exc)
            if len(pending) >= BATCH_SIZE:
                self._write(rules.source, pending)
                pending = []
            # Called between rows only, so a callback that raises (to stop a run) never leaves
            # a batch half-written: the rows not yet written are simply written by a re-run.
            if self.progress:
                self.progress(done, total)
        if pending:
            self._write(rules.source, pending)

    def plan_rows(self, rows: Iterator[tuple[int, dict[str, str]]], total: int, rules: RowRules,
                  collection_institutions: dict[str, str]) -> list[RowPlan]:
        """Return what importing rows would do, row by row, writing nothing."""
        seen: dict[str, int] = {}
        pending: list[ItemSpec] = []
        plans: list[RowPlan] = []
        for done, (line, row) in enumerate(rows, start=1):
            try:
                pending.append(self._prepare(line, row, rules, seen))
            except RowRefused as exc:
                problem = self._refuse(rules.source, line, clean_text(row.get("id", "")), exc)
                plans.append(RowPlan(line, problem.item_id, "refused", clean_text(row.get("title", ""))[:300],
                                     problem=problem))
            if len(pending) >= BATCH_SIZE:
                plans.extend(self._compare(rules.source, pending, collection_institutions))
                pending = []
            if self.progress:
                self.progress(done, total)
        if pending:
            plans.extend(self._compare(rules.source, pending, collection_institutions))
        return sorted(plans, key=lambda plan: plan.line)

    def _compare(self, source: str, specs: list[ItemSpec],
                 collection_institutions: dict[str, str]) -> list[RowPlan]:
        """Compare validated rows with the stored items, as _apply would, in a read-only session."""
        plans: list[RowPlan] = []
        with self.cat.sessions() as session:
            existing = store.items_in(session, [s.fields["id"] for s in specs])
            for spec in specs:
                item_id, title = spec.fields["id"], spec.fields["title"]
                item = existing.get(item_id)
                if self.guard is not None:
                    try:
                        self.guard(spec.institution_slug or collection_institutions.get(spec.collection_slug),
                                   _effective_institution(item) if item is not None else None)
                    except RowRefused as exc:
                        plans.append(RowPlan(spec.line, item_id, "refused", title,
                                             problem=self._refuse(source, spec.line, item_id, exc)))
                        continue
                if item is None:
                    plans.append(RowPlan(spec.line, item_id, "create", title))
                    continue
                before = item_snapshot(item, item.collection.slug, item.institution.slug if item.institution else None)
                changes = item_changes(before, spec.fields, spec.collection_slug, spec.institution_slug,
                                       [(img.sha256, name, caption) for img, name, caption in spec.images])
                plans.append(RowPlan(spec.line, item_id, "change" if changes else "unchanged", title,
                                     changes=tuple(changes)))
        return plans

    def _write(self, source: str, specs: list[ItemSpec]) -> None:
        """Write a batch in one transaction; if it fails, retry row by row to isolate the culprit."""
        try:
            with self.cat.sessions() as session, session.begin():
                results = self._apply(session, specs)
        except SQLAlchemyError:
            if len(specs) == 1:
                raise
            for spec in specs:
                try:
                    self._write(source, [spec])
                except SQLAlchemyError as exc:
                    error = type(getattr(exc, "orig", None) or exc).__name__
                    self._refuse(source, spec.line, spec.fields["id"], RowRefused(
                        f"the database refused the row ({error})", "database", error=error))
            return
        # Counted only once the transaction has committed.
        for spec, action, refusal in results:
            if refusal is not None:
                self._refuse(source, spec.line, spec.fields["id"], refusal)
                continue
            if action == "create":
                self.report.created += 1
            elif action == "update":
                self.report.updated += 1
            else:
                self.report.unchanged += 1
            self.report.outcomes.append(RowOutcome(spec.line, spec.fields["id"], action))

    def _apply(self, session: Session, specs: list[ItemSpec]) -> list[tuple[ItemSpec, str, RowRefused | None]]:
        """Upsert a batch of items and their revisions in the open transaction; say what each row did."""
        results: list[tuple[ItemSpec, str, RowRefused | None]] = []
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
            if self.guard is not None:
                # Checked again at write time: the item may have moved since the dry run.
                try:
                    self.guard(inst_slug or coll.institution.slug,
                               _effective_institution(item) if item is not None else None)
                except RowRefused as exc:
                    results.append((spec, "refused", exc))
                    continue
            wanted_images = [(img.sha256, name, caption) for img, name, caption in spec.images]
            if item is not None:
                before = item_snapshot(item, item.collection.slug, item.institution.slug if item.institution else None)
                if not item_changes(before, spec.fields, coll.slug, inst_slug, wanted_images):
                    results.append((spec, "unchanged", None))
                    continue
                action = "update"
            else:
                item = Item(id=spec.fields["id"], collection=coll, created_at=utcnow())
                session.add(item)
                action = "create"
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
            results.append((spec, action, None))
        return results

    # entry points

    def import_folder(self, folder: Path) -> None:
        """Import one collection folder (collection.toml, items.csv, images/)."""
        spec = read_collection_toml(folder)
        items_csv = folder / "items.csv"
        header, rows = read_rows(items_csv)
        self._warn_unknown(items_csv.name, header)
        self.ensure_collection(spec)
        total = _count_data_lines(items_csv)
        self.import_rows(rows, total, RowRules(
            source=f"{folder.name}/items.csv", collection_of=lambda _row: spec.slug,
            known_institutions={str(i["slug"]) for i in spec.institutions},
            bilingual_titles="title_alt" not in header, image_dirs=[folder / "images", folder],
            featured_ids=frozenset(spec.featured)))

    def import_csv(self, path: Path, collection_slug: str | None, institution_slug: str | None) -> None:
        """Import a table on its own: CSV or XLSX, native columns or the 12-column exchange format."""
        table = read_table(path)
        self._warn_unknown(path.name, table.header)
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
        for _line, row in read_table(path).rows:
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
        self.import_rows(table.rows, table.total, RowRules(
            source=path.name, collection_of=collection_of, known_institutions={str(institution["slug"])},
            bilingual_titles="title_alt" not in table.header,
            image_dirs=[path.parent / "images", path.parent]))

    def _warn_unknown(self, source: str, header: list[str]) -> None:
        """Note columns the importer does not know, so a typo in a header is not silent."""
        unknown = unknown_columns(header)
        if unknown:
            self.report.warnings.append(f"{source}: ignored unknown columns: {', '.join(unknown)}")


def unknown_columns(header: list[str]) -> list[str]:
    """Return the columns of a header the importer does not know (they are ignored)."""
    return [h for h in header if h and h not in KNOWN_COLUMNS]


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
    """Import a collection folder, a folder of them, or a CSV or XLSX file; return the report."""
    if collection is not None and collection != slugify(collection):
        raise ImportFailed(f"--collection {collection!r} must be lowercase letters, digits and hyphens")
    run = _Importer(cat, actor, progress)
    if path.is_dir():
        for folder in collection_folders(path):
            run.import_folder(folder)
    elif path.suffix.lower() in (".csv", ".txt", ".tsv", ".xlsx"):
        run.import_csv(path, collection, institution)
    elif not path.exists():
        raise ImportFailed(f"{path}: no such file or folder")
    else:
        raise ImportFailed(f"{path.name}: import reads a collection folder or a .csv file")
    catch_up_index(cat)
    return run.report


@dataclass(frozen=True)
class TableTarget:
    """Where every row of an uploaded table goes, and who may write what."""

    collection_slug: str
    collection_institution: str        # holds the collection (for a new one: will hold it)
    image_dir: Path | None             # the unpacked images, matched by base name
    guard: RowGuard | None = None
    max_rows: int | None = None


@dataclass
class TablePlan:
    """The dry run of a table: row by row what a run would do, and the columns it would ignore."""

    kind: str
    header: list[str]
    rows: list[RowPlan]
    unknown_columns: list[str]


def _table_rules(cat: Catalogue, table: Table, target: TableTarget, source: str) -> RowRules:
    """Return the rules for a table imported into one collection, naming any known institution."""
    with cat.sessions() as session:
        known = {inst.slug for inst in store.all_institutions(session)}
    return RowRules(source=source, collection_of=lambda _row: target.collection_slug,
                    known_institutions=known, bilingual_titles="title_alt" not in table.header,
                    image_dirs=[target.image_dir] if target.image_dir is not None else [],
                    institution_source="the catalogue", images_by_base_name=True)


def plan_table(cat: Catalogue, path: Path, target: TableTarget, *, scratch_dir: Path,
               progress: ProgressCallback | None = None) -> TablePlan:
    """Dry-run a table: validate every row and its images as a run would, and write nothing.

    Images are checked by ingest into scratch_dir and removed again.
    """
    table = read_table(path, target.max_rows)
    run = _Importer(cat, "system", progress, scratch_dir=scratch_dir, guard=target.guard)
    rules = _table_rules(cat, table, target, path.name)
    rows = run.plan_rows(table.rows, table.total, rules, {target.collection_slug: target.collection_institution})
    return TablePlan(kind=table.kind, header=table.header, rows=rows, unknown_columns=unknown_columns(table.header))


def import_table(cat: Catalogue, path: Path, target: TableTarget, *, batch: str, actor: str,
                 progress: ProgressCallback | None = None,
                 new_collection: CollectionSpec | None = None) -> ImportReport:
    """Import a table into one collection with the given batch id; return the report.

    The collection is created from new_collection when it does not exist yet. Running the same
    table again with the same batch is safe (upsert by id; unchanged rows write nothing), which
    is how an interrupted run is resumed.
    """
    table = read_table(path, target.max_rows)
    run = _Importer(cat, actor, progress, batch=batch, guard=target.guard)
    run._warn_unknown(path.name, table.header)
    with cat.sessions() as session:
        exists = store.collection_by_slug(session, target.collection_slug) is not None
    if not exists:
        if new_collection is None:
            raise ImportFailed(f"collection {target.collection_slug!r} does not exist", "collection_missing",
                               collection=target.collection_slug)
        run.ensure_collection(new_collection)
    run.report.collections = [target.collection_slug]
    run.import_rows(table.rows, table.total, _table_rules(cat, table, target, path.name))
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
