"""Bulk import from the browser: uploads and their safe unpacking, the dry run, the background run,
resume after an interruption, and undo of a whole import.

A job's files live in `settings.data_dir / "imports" / <job id>/`; its state, progress, plan and
report live in its ImportJob row, so every worker (and node) can show them. Work runs in a thread
started by the request; a heartbeat keeps `updated_at` fresh, so a job whose process died is
recognised by its stale time and can be resumed (re-running is safe: upsert by id).
"""

from __future__ import annotations

import datetime as dt
import logging
import lzma
import re
import shutil
import stat
import struct
import threading
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, defer

from museum.catalogue import store
from museum.catalogue.fields import clean_text, slugify, sort_title, split_list
from museum.catalogue.importing import (
    LOCALES,
    MAX_FILE_BYTES,
    CollectionSpec,
    ImportFailed,
    ImportReport,
    RowGuard,
    RowPlan,
    RowProblem,
    RowRefused,
    TableTarget,
    import_table,
    plan_table,
    read_table,
)
from museum.catalogue.models import Image, ImportJob, Item, Revision, utcnow
from museum.catalogue.revisions import ITEM_FIELDS, item_snapshot, record_revision
from museum.catalogue.service import Catalogue, catch_up_index
from museum.curation.accounts import Account

logger = logging.getLogger(__name__)

MAX_ROWS = 20_000
# ZIPs of images: what a real one never needs, and zip bombs always do.
ZIP_MAX_ENTRIES = 5_000
ZIP_MAX_UNPACKED = 2 * 1024**3
ZIP_MAX_RATIO = 100
# Below this size an entry may compress very well without harm (blank scans, tiny files).
ZIP_RATIO_FROM = 1024 * 1024
# A central directory entry is 46 bytes plus its name and extras; a bigger directory than this
# means more entries than allowed, refused before zipfile spends memory listing them.
ZIP_MAX_DIRECTORY = ZIP_MAX_ENTRIES * 1024
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".gif"})
ARCHIVE_SUFFIXES = frozenset({".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".lz",
                              ".lzma", ".cab", ".jar", ".iso", ".z"})
ARCHIVE_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b",
                      b"BZh", b"\xfd7zXZ\x00", b"MSCF", b"\x28\xb5\x2f\xfd")
# Files that archivers of macOS and Windows add beside the real ones.
SKIPPED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
HEARTBEAT_SECONDS = 2.0
STALE_AFTER = dt.timedelta(seconds=60)
UNDO_BATCH = 200
PLAN_VALUE_CHARS = 120
ACTIVE_STATES = ("uploaded", "running", "undoing")

JOB_TABLE = {"csv": "table.csv", "xlsx": "table.xlsx"}


class UploadRefused(Exception):
    """An upload or request about a job that cannot be done; nothing was written.

    `code` names the reason and `params` its details, for the web layer to translate; str() is English.
    """

    def __init__(self, message: str, code: str, **params: str | int) -> None:
        """Keep the English message, the reason's code and its details."""
        super().__init__(message)
        self.code = code
        self.params: dict[str, str | int] = dict(params)


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the web layer hands it over: the name the browser sent and its bytes."""

    filename: str
    stream: IO[bytes]


@dataclass(frozen=True)
class NewCollection:
    """A collection the import creates: slug, title (one text for every language) and institution."""

    slug: str
    title: str
    institution: str


@dataclass(frozen=True)
class Choice:
    """A collection or institution a curator may import into: slug and localised label."""

    slug: str
    label: dict[str, Any]
    institution: str = ""


@dataclass(frozen=True)
class JobView:
    """An import job as pages show it (no database objects)."""

    id: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    collection_slug: str
    table_filename: str
    images_filename: str
    state: str
    rows_total: int
    rows_done: int
    batch: str | None
    error: str
    interrupted: bool
    plan: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Tell whether work on the job is under way (a check, a run or an undo)."""
        return self.state in ACTIVE_STATES and not self.interrupted

    @property
    def may_resume(self) -> bool:
        """Tell whether the job stopped halfway and its work can be started again."""
        return self.interrupted or self.state == "failed"

    @property
    def may_undo(self) -> bool:
        """Tell whether the job wrote something that can be undone."""
        return self.batch is not None and (self.state == "done" or (self.state == "failed" and self.ran))

    @property
    def may_discard(self) -> bool:
        """Tell whether the job can be thrown away because it wrote nothing."""
        return (self.state == "checked" or (self.state == "failed" and not self.ran)
                or (self.state == "uploaded" and self.interrupted))

    @property
    def ran(self) -> bool:
        """Tell whether a run was started (the job has a batch id)."""
        return self.batch is not None


@dataclass(frozen=True)
class UndoPreview:
    """What undoing a job would touch: items it created, items it changed, and later edits lost."""

    created: int
    changed: int
    changed_since: int


# ----- files -----------------------------------------------------------------------------


def job_dir(cat: Catalogue, job_id: str) -> Path:
    """Return the folder holding a job's uploaded files."""
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return cat.settings.data_dir / "imports" / job_id


def _save(upload: Upload, dest: Path, limit: int, what: str) -> int:
    """Copy an upload to dest, refusing it once it passes limit bytes; return its size."""
    size = 0
    with dest.open("xb") as out:
        while chunk := upload.stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(f"{what} is larger than {limit // 2**20} MB", "too_large",
                                    megabytes=limit // 2**20)
            out.write(chunk)
    return size


def _display_name(filename: str) -> str:
    """Return the base name of an uploaded file as shown on pages (browsers may send a path)."""
    return clean_text(PurePosixPath(filename.replace("\\", "/")).name)[:300]


# ----- safe ZIP unpacking ----------------------------------------------------------------


@dataclass(frozen=True)
class UnpackedImages:
    """What unpacking a ZIP of images found: its entries, the images written and those no row names."""

    entries: int
    unpacked: list[str]
    unused: int


def _declared_directory(path: Path) -> tuple[int, int]:
    """Return the entry count and central-directory size a ZIP's end records declare."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        tail_length = min(size, 22 + 65_535)
        fh.seek(size - tail_length)
        tail = fh.read(tail_length)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise UploadRefused("the images file is not a ZIP archive", "zip_broken")
        entries, directory = struct.unpack("<10xHL6x", tail[at:at + 22])
        if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
            # ZIP64: the real counts are in the record the locator points to.
            (offset,) = struct.unpack("<8xQ4x", tail[at - 20:at])
            fh.seek(offset)
            record = fh.read(56)
            if len(record) < 56 or record[:4] != b"PK\x06\x06":
                raise UploadRefused("the images file is not a ZIP archive", "zip_broken")
            entries, directory = struct.unpack("<32xQQ8x", record)
    return int(entries), int(directory)


def _names(info: zipfile.ZipInfo) -> list[str]:
    """Return the names an entry may have been given, with / as the separator.

    Without the UTF-8 flag, zipfile reads names as CP437, but Windows in Chinese writes them in
    GBK or Big5 (and some Mac tools in UTF-8 without the flag): each reading is a candidate, and
    the one a row asks for wins.
    """
    names = []
    if not info.flag_bits & 0x800:
        raw = info.filename.encode("cp437")
        for encoding in ("utf-8", "gb18030", "big5"):
            try:
                names.append(raw.decode(encoding))
            except UnicodeDecodeError:
                continue
    names.append(info.filename)
    return list(dict.fromkeys(name.replace("\\", "/") for name in names))


def _unsafe(name: str) -> bool:
    """Tell whether an entry name points outside the folder it is unpacked into."""
    return ("\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in PurePosixPath(name).parts)


def _check_entry(info: zipfile.ZipInfo, wanted: set[str]) -> str:
    """Refuse an entry that is dangerous whether or not it is used; return its normalised name."""
    names = _names(info)
    name = next((n for n in names if PurePosixPath(n).name in wanted), names[0])
    shown = name[:200]
    if any(_unsafe(n) for n in names):
        raise UploadRefused(f"the entry {shown!r} points outside the archive", "zip_path", name=shown)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadRefused(f"the entry {shown!r} is a symbolic link", "zip_symlink", name=shown)
    if info.flag_bits & 0x41:      # bit 0: encrypted; bit 6: strong encryption
        raise UploadRefused(f"the entry {shown!r} is encrypted", "zip_encrypted", name=shown)
    if not info.is_dir() and PurePosixPath(name).suffix.lower() in ARCHIVE_SUFFIXES:
        raise UploadRefused(f"{shown!r} is an archive inside the archive", "zip_nested", name=shown)
    return name


def _too_compressed(size: int, compressed: int) -> bool:
    """Tell whether an entry unpacks to more than ZIP_MAX_RATIO times its packed size."""
    return size > ZIP_RATIO_FROM and size > ZIP_MAX_RATIO * max(compressed, 1)


def _skipped(name: str) -> bool:
    """Tell whether an entry is an archiver's metadata file rather than a picture."""
    parts = PurePosixPath(name).parts
    base = parts[-1] if parts else ""
    return "__MACOSX" in parts or base.startswith("._") or base.lower() in SKIPPED_NAMES


def unpack_images(zip_path: Path, target: Path, wanted: set[str], *, max_entry_bytes: int) -> UnpackedImages:
    """Unpack the images named in wanted (by base name, at any depth) from a ZIP into target.

    Refuse the whole archive (UploadRefused) for path traversal, symbolic links, encryption,
    nested archives, duplicate names, too many entries, or more unpacked bytes than allowed in
    total or per entry (zip bombs); sizes are counted while reading, never taken from headers.
    """
    entries, directory = _declared_directory(zip_path)
    if entries > ZIP_MAX_ENTRIES or directory > ZIP_MAX_DIRECTORY:
        raise UploadRefused(f"the ZIP holds more than {ZIP_MAX_ENTRIES} entries", "zip_entries",
                            limit=ZIP_MAX_ENTRIES)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise UploadRefused("the images file is not a readable ZIP archive", "zip_broken") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_ENTRIES:
            raise UploadRefused(f"the ZIP holds more than {ZIP_MAX_ENTRIES} entries", "zip_entries",
                                limit=ZIP_MAX_ENTRIES)
        seen: set[str] = set()
        chosen: dict[str, tuple[zipfile.ZipInfo, str]] = {}
        declared = unused = 0
        for info in infos:
            name = _check_entry(info, wanted)
            if name in seen:
                raise UploadRefused(f"the name {name[:200]!r} appears twice", "zip_duplicate", name=name[:200])
            seen.add(name)
            if info.is_dir():
                continue
            declared += info.file_size
            if declared > ZIP_MAX_UNPACKED:
                raise UploadRefused(f"the ZIP would unpack to more than {ZIP_MAX_UNPACKED // 2**30} GB",
                                    "zip_total", gigabytes=ZIP_MAX_UNPACKED // 2**30)
            if _too_compressed(info.file_size, info.compress_size):
                raise UploadRefused(f"{name[:200]!r} is compressed more than {ZIP_MAX_RATIO}:1", "zip_ratio",
                                    name=name[:200], ratio=ZIP_MAX_RATIO)
            base = PurePosixPath(name).name
            if _skipped(name):
                continue
            if base not in wanted or len(base.encode()) > 255:
                unused += PurePosixPath(base).suffix.lower() in IMAGE_SUFFIXES
                continue
            if base in chosen:
                # Two pictures with one name: which one a row meant cannot be known.
                raise UploadRefused(f"the name {base!r} appears twice", "zip_duplicate", name=base[:200])
            chosen[base] = (info, name)
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            for base, (info, name) in chosen.items():
                written += _unpack_entry(archive, info, name, target / base, max_entry_bytes,
                                         ZIP_MAX_UNPACKED - written)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return UnpackedImages(entries=len(infos), unpacked=sorted(chosen), unused=unused)


def _unpack_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, dest: Path, max_bytes: int,
                  remaining: int) -> int:
    """Copy one entry to dest through a bounded stream; return the bytes written."""
    name = shown[:200]
    size = 0
    try:
        with archive.open(info) as source, dest.open("xb") as out:
            while chunk := source.read(1 << 16):
                if size == 0 and chunk.startswith(ARCHIVE_SIGNATURES):
                    raise UploadRefused(f"{name!r} is an archive inside the archive", "zip_nested", name=name)
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(f"{name!r} is larger than {max_bytes // 2**20} MB", "zip_entry_too_large",
                                        name=name, megabytes=max_bytes // 2**20)
                if size > remaining:
                    raise UploadRefused(f"the ZIP would unpack to more than {ZIP_MAX_UNPACKED // 2**30} GB",
                                        "zip_total", gigabytes=ZIP_MAX_UNPACKED // 2**30)
                if _too_compressed(size, info.compress_size):
                    raise UploadRefused(f"{name!r} is compressed more than {ZIP_MAX_RATIO}:1", "zip_ratio",
                                        name=name, ratio=ZIP_MAX_RATIO)
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError):
        raise UploadRefused(f"{name!r} cannot be unpacked (the ZIP is damaged)", "zip_damaged", name=name) from None
    return size


# ----- choices and permissions -----------------------------------------------------------


def collection_choices(cat: Catalogue, account: Account) -> list[Choice]:
    """Return the collections the account may import into."""
    with cat.sessions() as session:
        return [Choice(c.slug, dict(c.title), c.institution.slug) for c in store.all_collections(session)
                if account.may_edit(c.institution.slug)]


def institution_choices(cat: Catalogue, account: Account) -> list[Choice]:
    """Return the institutions the account may create a collection for."""
    with cat.sessions() as session:
        return [Choice(i.slug, dict(i.name)) for i in store.all_institutions(session) if account.may_edit(i.slug)]


def _guard(account: Account) -> RowGuard | None:
    """Return the check that keeps a curator limited to institutions to rows of those institutions."""
    if account.is_admin or not account.institutions:
        return None

    def guard(institution: str | None, current: str | None) -> None:
        if not account.may_edit(institution):
            raise RowRefused(f"you may not import items of institution {institution!r}", "not_your_institution",
                             institution=institution or "")
        if current is not None and not account.may_edit(current):
            raise RowRefused(f"an item with this id is held by {current!r}, which you may not edit",
                             "not_your_item", institution=current)

    return guard


def _target(cat: Catalogue, job: ImportJob, account: Account) -> TableTarget:
    """Return where a job's rows go, with the account's limits."""
    new = job.plan.get("new_collection")
    if new:
        institution = str(new["institution"])
    else:
        with cat.sessions() as session:
            coll = store.collection_by_slug(session, job.collection_slug)
            if coll is None:
                raise ImportFailed(f"collection {job.collection_slug!r} does not exist", "collection_missing",
                                   collection=job.collection_slug)
            institution = coll.institution.slug
    images = job_dir(cat, job.id) / "images"
    return TableTarget(collection_slug=job.collection_slug, collection_institution=institution,
                       image_dir=images if images.is_dir() else None, guard=_guard(account), max_rows=MAX_ROWS)


def _check_target(cat: Catalogue, account: Account, collection: str | None,
                  new: NewCollection | None) -> tuple[str, dict[str, Any] | None]:
    """Check the collection an upload goes into; return its slug and, for a new one, its description."""
    with cat.sessions() as session:
        if new is None:
            slug = (collection or "").strip()
            if not slug:
                raise UploadRefused("choose a collection", "collection_required")
            coll = store.collection_by_slug(session, slug)
            if coll is None:
                raise UploadRefused(f"there is no collection {slug!r}", "collection_unknown", slug=slug[:100])
            if not account.may_edit(coll.institution.slug):
                raise UploadRefused(f"you may not import into {slug!r}", "collection_forbidden", slug=slug)
            return slug, None
        slug, title = new.slug.strip(), clean_text(new.title)
        if not slug or slug != slugify(slug) or len(slug) > 100:
            raise UploadRefused("a collection slug is lowercase letters, digits and hyphens", "slug_form")
        if store.collection_by_slug(session, slug) is not None:
            raise UploadRefused(f"there is already a collection {slug!r}", "slug_taken", slug=slug)
        if not title:
            raise UploadRefused("give the new collection a title", "title_required")
        if len(title) > 200:
            raise UploadRefused("the title is longer than 200 characters", "title_long", limit=200)
        institution = store.institution_by_slug(session, new.institution.strip())
        if institution is None:
            raise UploadRefused(f"there is no institution {new.institution[:100]!r}", "institution_missing",
                                institution=new.institution[:100])
        if not account.may_edit(institution.slug):
            raise UploadRefused(f"you may not create collections for {institution.slug!r}",
                                "institution_forbidden", institution=institution.slug)
        return slug, {"slug": slug, "title": title, "institution": institution.slug,
                      "institution_name": dict(institution.name), "institution_url": institution.url}


# ----- creating a job --------------------------------------------------------------------


def _inspect(path: Path) -> tuple[str, int, set[str]]:
    """Read a stored table through once: its kind, data rows, and the image base names it names."""
    table = read_table(path, MAX_ROWS)
    images: set[str] = set()
    rows = 0
    for _line, row in table.rows:
        rows += 1
        for name in split_list(row.get("image_filename", "")):
            images.add(PurePosixPath(name.replace("\\", "/")).name)
    if rows == 0:
        raise ImportFailed(f"{path.name}: the table has a header but no rows", "no_rows")
    return table.kind, rows, images


def create_job(cat: Catalogue, account: Account, *, table: Upload | None, images: Upload | None = None,
               collection: str | None = None, new_collection: NewCollection | None = None) -> str:
    """Store an upload as a job and start its dry run in the background; return the job id.

    Whole-file problems (wrong type, empty, header only, too many rows, undecodable, a dangerous
    ZIP) raise UploadRefused and leave nothing behind.
    """
    slug, new = _check_target(cat, account, collection, new_collection)
    if table is None or not table.filename:
        raise UploadRefused("choose a table file (.csv or .xlsx)", "table_required")
    table_name = _display_name(table.filename)
    if PurePosixPath(table_name).suffix.lower() not in (".csv", ".xlsx"):
        raise UploadRefused(f"{table_name}: upload a .csv or .xlsx file", "table_type", name=table_name)
    images_name = _display_name(images.filename) if images is not None and images.filename else ""
    if images_name and PurePosixPath(images_name).suffix.lower() != ".zip":
        raise UploadRefused(f"{images_name}: the images must be a .zip file", "zip_type", name=images_name)
    job_id = uuid.uuid4().hex
    folder = job_dir(cat, job_id)
    folder.mkdir(parents=True)
    try:
        upload = folder / "upload"
        if _save(table, upload, MAX_FILE_BYTES, table_name) == 0:
            raise UploadRefused(f"{table_name}: the file is empty", "empty")
        with upload.open("rb") as fh:
            head = fh.read(4)
        is_xlsx = head == b"PK\x03\x04"
        if table_name.lower().endswith(".xlsx") and not is_xlsx:
            raise UploadRefused(f"{table_name}: not a readable XLSX workbook", "xlsx_broken")
        # Read by what the content is: a workbook saved under .csv is still read as a workbook.
        stored = folder / JOB_TABLE["xlsx" if is_xlsx else "csv"]
        upload.rename(stored)
        try:
            kind, rows, wanted = _inspect(stored)
        except ImportFailed as exc:
            raise UploadRefused(str(exc).replace(stored.name, table_name), exc.code or "table",
                                **exc.params) from None
        if images_name and images is not None:
            archive = folder / "images.zip"
            _save(images, archive, ZIP_MAX_UNPACKED, images_name)
            found = unpack_images(archive, folder / "images", wanted,
                                  max_entry_bytes=cat.settings.max_image_bytes)
            archive.unlink()
            zip_summary: dict[str, Any] = {"entries": found.entries, "unpacked": len(found.unpacked),
                                           "unused": found.unused}
        else:
            zip_summary = {}
        now = utcnow()
        with cat.sessions() as session, session.begin():
            session.add(ImportJob(
                id=job_id, created_by=account.username, created_at=now, updated_at=now, collection_slug=slug,
                table_filename=table_name, images_filename=images_name, state="uploaded", rows_total=rows,
                rows_done=0, plan={"kind": kind, "new_collection": new, "zip": zip_summary}, report={}, error=""))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _start(cat, job_id, now, account, _check_work)
    return job_id


# ----- reading jobs ----------------------------------------------------------------------


def _aware(moment: dt.datetime) -> dt.datetime:
    """Return moment with UTC attached (SQLite gives naive datetimes back)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _interrupted(job: ImportJob, now: dt.datetime) -> bool:
    """Tell whether a job's work stopped without finishing (its process died): its heartbeat is stale."""
    if job.state not in ACTIVE_STATES:
        return False
    with _threads_lock:
        thread = _threads.get(job.id)
    if thread is not None and thread.is_alive():
        return False
    return now - _aware(job.updated_at) > STALE_AFTER


def _view(job: ImportJob, now: dt.datetime, full: bool) -> JobView:
    """Return the page's view of a job row."""
    return JobView(id=job.id, created_by=job.created_by, created_at=_aware(job.created_at),
                   updated_at=_aware(job.updated_at), collection_slug=job.collection_slug,
                   table_filename=job.table_filename, images_filename=job.images_filename, state=job.state,
                   rows_total=job.rows_total, rows_done=job.rows_done, batch=job.batch, error=job.error,
                   interrupted=_interrupted(job, now),
                   plan=dict(job.plan) if full else {}, report=dict(job.report) if full else {})


def _visible(job: ImportJob | None, account: Account) -> bool:
    """Tell whether an account may see a job: its own, or any for an admin."""
    return job is not None and (account.is_admin or job.created_by == account.username)


def list_jobs(cat: Catalogue, account: Account, limit: int = 200) -> list[JobView]:
    """Return the newest jobs the account may see (an admin sees everyone's)."""
    with cat.sessions() as session:
        query = select(ImportJob).order_by(ImportJob.created_at.desc()).limit(limit)
        if not account.is_admin:
            query = query.where(ImportJob.created_by == account.username)
        # The plan and report (which can be large) are not needed for the list.
        query = query.options(defer(ImportJob.plan), defer(ImportJob.report))
        now = utcnow()
        return [_view(job, now, full=False) for job in session.scalars(query).all()]


def get_job(cat: Catalogue, account: Account, job_id: str) -> JobView | None:
    """Return a job with its plan and report, or None if there is none the account may see."""
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        return None
    with cat.sessions() as session:
        job = session.get(ImportJob, job_id)
        if job is None or not _visible(job, account):
            return None
        return _view(job, utcnow(), full=True)


# ----- background work -------------------------------------------------------------------

_threads: dict[str, threading.Thread] = {}
_threads_lock = threading.Lock()


class _Superseded(Exception):
    """Another process resumed this job: this thread stops and leaves the job to it."""


class _Heartbeat:
    """Keep a job's updated_at fresh and rows_done current while its work runs; notice a takeover.

    Every write is conditional on updated_at still holding the value this heartbeat last wrote:
    a resume elsewhere changes it, so two runners can never both carry on with one job.
    """

    def __init__(self, cat: Catalogue, job_id: str, token: dt.datetime) -> None:
        """Start owning the job whose updated_at is token."""
        self.cat = cat
        self.job_id = job_id
        self.token = token
        self.done = 0
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"import-beat-{job_id[:8]}", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def progress(self, done: int, _total: int) -> None:
        """Note progress (called between rows); stop the work if the job was taken over."""
        self.done = done
        if self.lost.is_set():
            raise _Superseded(self.job_id)

    def write(self, **values: Any) -> bool:
        """Write values and a fresh updated_at if the job is still ours; return whether it was."""
        with self._lock:
            now = utcnow()
            with self.cat.engine.begin() as connection:
                result = connection.execute(
                    update(ImportJob).where(ImportJob.id == self.job_id, ImportJob.updated_at == self.token)
                    .values(updated_at=now, **values))
            if result.rowcount != 1:
                self.lost.set()
                return False
            self.token = now
            return True

    def _loop(self) -> None:
        """Write progress every few seconds until stopped or taken over."""
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if not self.write(rows_done=self.done):
                    return
            except SQLAlchemyError:
                logger.warning("import job %s: heartbeat failed", self.job_id, exc_info=True)

    def stop(self) -> None:
        """Stop beating and wait for the beat thread."""
        self._stop.set()
        self._thread.join()


Work = Callable[[Catalogue, str, Account, _Heartbeat], dict[str, Any]]


def _start(cat: Catalogue, job_id: str, token: dt.datetime, account: Account, work: Work) -> None:
    """Run work for a job in a background thread that outlives the request."""
    thread = threading.Thread(target=_run, args=(cat, job_id, token, account, work),
                              name=f"import-{job_id[:8]}", daemon=True)
    with _threads_lock:
        _threads[job_id] = thread
    thread.start()


def _run(cat: Catalogue, job_id: str, token: dt.datetime, account: Account, work: Work) -> None:
    """Do a job's work with a heartbeat, then record its outcome (or its failure)."""
    beat = _Heartbeat(cat, job_id, token)
    beat.start()
    try:
        final = work(cat, job_id, account, beat)
    except _Superseded:
        beat.stop()
        return
    except Exception as exc:
        beat.stop()
        logger.exception("import job %s failed", job_id)
        code, params = (exc.code, exc.params) if isinstance(exc, (ImportFailed, UploadRefused)) else ("", {})
        final = _failure(cat, job_id, str(exc) or type(exc).__name__, code, params)
    else:
        beat.stop()
    try:
        beat.write(**final)
    except SQLAlchemyError:
        logger.exception("import job %s: its outcome could not be recorded", job_id)
    finally:
        with _threads_lock:
            if _threads.get(job_id) is threading.current_thread():
                del _threads[job_id]


def _failure(cat: Catalogue, job_id: str, message: str, code: str, params: dict[str, Any]) -> dict[str, Any]:
    """Return the values recording a failed check, run or undo."""
    with cat.sessions() as session:
        job = session.get(ImportJob, job_id)
        state = job.state if job is not None else "failed"
        report = dict(job.report) if job is not None else {}
    report["error"] = {"code": code, "params": params}
    if state == "undoing":
        # The import itself is still in place; the undo can be tried again.
        return {"state": "done", "error": f"undo failed: {message}"[:2000], "report": report}
    return {"state": "failed", "error": message[:2000], "report": report}


def wait_for(job_id: str, timeout: float = 60.0) -> bool:
    """Wait for this process's work on a job to end; return False if it is still running."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _load(cat: Catalogue, job_id: str) -> ImportJob:
    """Return a job row detached from its session (its work reads it, never writes through it)."""
    with cat.sessions() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            raise _Superseded(job_id)
        session.expunge(job)
        return job


def _claim(cat: Catalogue, account: Account, job_id: str, states: tuple[str, ...], *, stale_only: bool = False,
           **values: Any) -> tuple[ImportJob, dt.datetime]:
    """Move a job the account may see from one of states to new values, atomically; return it and its token."""
    with cat.sessions() as session:
        job = session.get(ImportJob, job_id)
        if job is None or not _visible(job, account):
            raise UploadRefused("no such import", "job_missing")
        now = utcnow()
        allowed = job.state in states and (not stale_only or _interrupted(job, now)
                                            or job.state == "failed")
        observed = job.updated_at
    if not allowed:
        raise UploadRefused("this import has already moved on", "job_conflict")
    with cat.engine.begin() as connection:
        result = connection.execute(
            update(ImportJob).where(ImportJob.id == job_id, ImportJob.updated_at == observed)
            .values(updated_at=now, **values))
    if result.rowcount != 1:
        raise UploadRefused("this import has already moved on", "job_conflict")
    return _load(cat, job_id), now


# ----- the dry run -----------------------------------------------------------------------


def _short(value: Any) -> str:
    """Return a field value as short text for the plan."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = " | ".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= PLAN_VALUE_CHARS else text[:PLAN_VALUE_CHARS - 1] + "…"


def _reason(problem: RowProblem) -> dict[str, Any]:
    """Return a refusal as the plan and report keep it: code, details and English text."""
    return {"code": problem.code, "params": dict(problem.params), "text": problem.reason}


def _plan_row(row: RowPlan) -> dict[str, Any]:
    """Return one row of a dry run as stored in the job."""
    entry: dict[str, Any] = {"line": row.line, "id": row.item_id, "action": row.action, "title": _short(row.title)}
    if row.changes:
        entry["changes"] = [{"field": c.field, "before": _short(c.before), "after": _short(c.after)}
                            for c in row.changes]
    if row.problem is not None:
        entry["reason"] = _reason(row.problem)
    return entry


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Return how many rows there are of each action."""
    counts = {"create": 0, "change": 0, "unchanged": 0, "refused": 0}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    return counts


def _check_work(cat: Catalogue, job_id: str, account: Account, beat: _Heartbeat) -> dict[str, Any]:
    """Dry-run a job's table and return the values that make it "checked"."""
    job = _load(cat, job_id)
    folder = job_dir(cat, job_id)
    scratch = folder / "scratch"
    try:
        plan = plan_table(cat, folder / JOB_TABLE[job.plan["kind"]], _target(cat, job, account),
                          scratch_dir=scratch, progress=beat.progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = [_plan_row(row) for row in plan.rows]
    return {"state": "checked", "rows_done": len(rows), "rows_total": len(rows), "error": "",
            "plan": {**job.plan, "unknown_columns": plan.unknown_columns, "counts": _counts(rows),
                     "rows": rows}}


# ----- the run ---------------------------------------------------------------------------


def start_run(cat: Catalogue, account: Account, job_id: str) -> None:
    """Start importing a checked job in the background, with a fresh batch id."""
    _job, token = _claim(cat, account, job_id, ("checked",), state="running", batch=uuid.uuid4().hex,
                         rows_done=0, error="", report={})
    _start(cat, job_id, token, account, _run_work)


def _new_collection_spec(new: dict[str, Any]) -> CollectionSpec:
    """Return the collection a job creates, belonging to an existing institution (left as it is)."""
    institution = {"slug": new["institution"], "name": new["institution_name"], "url": new["institution_url"]}
    return CollectionSpec(slug=new["slug"], institution=new["institution"],
                          title={loc: new["title"] for loc in LOCALES}, summary={}, credits={}, licence_name="",
                          licence_url="", position=100, cover=None, featured=[], institutions=[institution])


def _batch_actions(cat: Catalogue, batch: str) -> dict[str, str]:
    """Return, per item, the first thing a batch did to it (create or update)."""
    with cat.sessions() as session:
        rows = session.execute(
            select(Revision.entity_id, Revision.action).where(Revision.batch == batch, Revision.entity == "item")
            .order_by(Revision.seq)).all()
    actions: dict[str, str] = {}
    for entity_id, action in rows:
        actions.setdefault(str(entity_id), str(action))
    return actions


def _report(cat: Catalogue, job: ImportJob, report: ImportReport) -> dict[str, Any]:
    """Return a run's report as the job keeps it, counting what earlier attempts of the batch wrote."""
    assert job.batch is not None  # noqa: S101 - a run always has its batch
    earlier = _batch_actions(cat, job.batch)
    planned = {row["line"]: row for row in job.plan.get("rows", [])}
    titles = {line: row.get("title", "") for line, row in planned.items()}
    names = {"create": "create", "update": "change", "unchanged": "unchanged"}
    rows: list[dict[str, Any]] = []
    for outcome in report.outcomes:
        action = outcome.action
        if action == "unchanged" and outcome.item_id in earlier:
            # Written by an attempt that was interrupted; this attempt found it already done.
            action = earlier[outcome.item_id]
        row: dict[str, Any] = {"line": outcome.line, "id": outcome.item_id, "action": names[action],
                               "title": titles.get(outcome.line, "")}
        if row["action"] == "change" and planned.get(outcome.line, {}).get("changes"):
            # What the dry run showed; the row was checked again when written.
            row["changes"] = planned[outcome.line]["changes"]
        rows.append(row)
    for problem in report.refused:
        rows.append({"line": problem.line, "id": problem.item_id, "action": "refused",
                     "title": titles.get(problem.line, ""), "reason": _reason(problem)})
    rows.sort(key=lambda row: row["line"])
    return {"counts": _counts(rows), "rows": rows, "images_stored": report.images_stored,
            "finished_at": utcnow().isoformat()}


def _run_work(cat: Catalogue, job_id: str, account: Account, beat: _Heartbeat) -> dict[str, Any]:
    """Import a job's table under its batch id and return the values that make it "done"."""
    job = _load(cat, job_id)
    assert job.batch is not None  # noqa: S101 - set when the run was claimed
    folder = job_dir(cat, job_id)
    new = job.plan.get("new_collection")
    report = import_table(cat, folder / JOB_TABLE[job.plan["kind"]], _target(cat, job, account), batch=job.batch,
                          actor=account.username, progress=beat.progress,
                          new_collection=_new_collection_spec(new) if new else None)
    # The originals are stored now; the unpacked copies are no longer needed.
    shutil.rmtree(folder / "images", ignore_errors=True)
    return {"state": "done", "rows_done": job.rows_total, "error": "", "report": _report(cat, job, report)}


# ----- resume and discard ----------------------------------------------------------------


def resume(cat: Catalogue, account: Account, job_id: str) -> None:
    """Start again the work of an interrupted or failed job: its check, its run or its undo."""
    with cat.sessions() as session:
        job = session.get(ImportJob, job_id)
        state, batch = (job.state, job.batch) if job is not None else ("", None)
        undoing = job is not None and "undo_batch" in job.report and state == "undoing"
    if state == "failed":
        state = "running" if batch else "uploaded"
        job_row, token = _claim(cat, account, job_id, ("failed",), stale_only=True, state=state, error="")
    else:
        job_row, token = _claim(cat, account, job_id, ACTIVE_STATES, stale_only=True)
    work: Work = _undo_work if undoing else (_run_work if job_row.state == "running" else _check_work)
    _start(cat, job_id, token, account, work)


def discard(cat: Catalogue, account: Account, job_id: str) -> None:
    """Throw away a job that wrote nothing, with its files."""
    view = get_job(cat, account, job_id)
    if view is None:
        raise UploadRefused("no such import", "job_missing")
    if not view.may_discard:
        raise UploadRefused("this import has already moved on", "job_conflict")
    with cat.sessions() as session, session.begin():
        session.execute(delete(ImportJob).where(ImportJob.id == job_id, ImportJob.state == view.state))
    shutil.rmtree(job_dir(cat, job_id), ignore_errors=True)


# ----- undo ------------------------------------------------------------------------------


def _first_revisions(session: Session, batch: str) -> list[tuple[str, int, int]]:
    """Return (item id, first seq, last seq) of every item a batch wrote, in the batch's order."""
    rows = session.execute(
        select(Revision.entity_id, func.min(Revision.seq), func.max(Revision.seq))
        .where(Revision.batch == batch, Revision.entity == "item").group_by(Revision.entity_id)).all()
    return sorted(((str(i), int(first), int(last)) for i, first, last in rows), key=lambda r: r[1])


def undo_preview(cat: Catalogue, job: JobView) -> UndoPreview:
    """Return what undoing a job would touch, and how many of its items were edited since."""
    if job.batch is None:
        return UndoPreview(0, 0, 0)
    in_batch = (Revision.batch == job.batch) & (Revision.entity == "item")
    with cat.sessions() as session:
        firsts = session.execute(select(Revision.entity_id, Revision.action).where(
            in_batch, Revision.seq.in_(select(func.min(Revision.seq)).where(in_batch)
                                       .group_by(Revision.entity_id)))).all()
        last = (select(Revision.entity_id.label("item_id"), func.max(Revision.seq).label("seq"))
                .where(in_batch).group_by(Revision.entity_id).subquery())
        later = Revision.__table__.alias("later")
        since = session.scalar(
            select(func.count(func.distinct(later.c.entity_id)))
            .select_from(later.join(last, (later.c.entity_id == last.c.item_id) & (later.c.seq > last.c.seq)))
            .where(later.c.entity == "item")) or 0
    created = sum(1 for _item, action in firsts if action == "create")
    return UndoPreview(created=created, changed=len(firsts) - created, changed_since=int(since))


def start_undo(cat: Catalogue, account: Account, job_id: str) -> None:
    """Start undoing everything a job's import wrote, in the background."""
    view = get_job(cat, account, job_id)
    if view is None:
        raise UploadRefused("no such import", "job_missing")
    if not view.may_undo:
        raise UploadRefused("this import has already moved on", "job_conflict")
    report = {**view.report, "undo_batch": uuid.uuid4().hex}
    _job, token = _claim(cat, account, job_id, ("done", "failed"), state="undoing", rows_done=0,
                         report=report, error="")
    _start(cat, job_id, token, account, _undo_work)


def _restore(session: Session, item: Item, snapshot: dict[str, Any]) -> bool:
    """Put an item back to a snapshot from the revision log; return False if it already is."""
    current = item_snapshot(item, item.collection.slug, item.institution.slug if item.institution else None)
    keys = [*ITEM_FIELDS, "collection", "institution", "images"]
    if all(current.get(k) == snapshot.get(k) for k in keys):
        return False
    for key in ITEM_FIELDS:
        if key != "id" and key in snapshot:
            setattr(item, key, snapshot[key])
    item.sort_title = sort_title(item.title)
    collection = store.collection_by_slug(session, str(snapshot.get("collection")))
    if collection is not None:
        item.collection = collection
    institution = snapshot.get("institution")
    item.institution = store.institution_by_slug(session, str(institution)) if institution else None
    images = list(snapshot.get("images") or [])
    if current["images"] != images:
        if item.images:
            item.images.clear()
            # Old rows go before new ones take their (item, position) slots.
            session.flush()
        for position, image in enumerate(images):
            item.images.append(Image(position=position, **{k: v for k, v in image.items()
                                                           if k in _IMAGE_COLUMNS}))
    return True


_IMAGE_COLUMNS = frozenset({"sha256", "format", "mime_type", "width", "height", "byte_size", "original_filename",
                            "caption", "alt_text", "rights"})


def undo_batch(cat: Catalogue, batch: str, undo_batch_id: str, actor: str,
               progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Return every item a batch wrote to its state before the batch; record each as an "undo" revision.

    Items the batch created go to the trash; items it changed get back the snapshot of the
    revision before the batch's first one for them (fields, placement and images). Items already
    in that state are left alone, so an interrupted undo can simply be run again.
    """
    with cat.sessions() as session:
        touched = _first_revisions(session, batch)
    counts = {"trashed": 0, "restored": 0, "unchanged": 0}
    for start in range(0, len(touched), UNDO_BATCH):
        chunk = touched[start:start + UNDO_BATCH]
        with cat.sessions() as session, session.begin():
            for item_id, first_seq, _last in chunk:
                first = session.get(Revision, first_seq)
                item = store.item_by_id(session, item_id)
                if first is None or item is None:
                    counts["unchanged"] += 1
                    continue
                previous = session.scalar(
                    select(Revision).where(Revision.entity == "item", Revision.entity_id == item_id,
                                           Revision.seq < first_seq).order_by(Revision.seq.desc()).limit(1))
                if first.action == "create" or previous is None:
                    changed = item.status != "trashed"
                    item.status = "trashed"
                    counts["trashed" if changed else "unchanged"] += 1
                else:
                    changed = _restore(session, item, dict(previous.snapshot))
                    counts["restored" if changed else "unchanged"] += 1
                if not changed:
                    continue
                item.updated_at = utcnow()
                record_revision(session, entity="item", entity_id=item_id, action="undo",
                                snapshot=item_snapshot(item, item.collection.slug,
                                                       item.institution.slug if item.institution else None),
                                actor=actor, batch=undo_batch_id)
        if progress is not None:
            progress(start + len(chunk), len(touched))
    catch_up_index(cat)
    return counts


def _undo_work(cat: Catalogue, job_id: str, account: Account, beat: _Heartbeat) -> dict[str, Any]:
    """Undo a job's batch and return the values that make it "undone"."""
    job = _load(cat, job_id)
    assert job.batch is not None  # noqa: S101 - only jobs that ran are undone
    def progress(done: int, total: int) -> None:
        # Shown on the job's progress bar, which counts the table's rows.
        beat.progress(done * job.rows_total // max(total, 1), total)

    counts = undo_batch(cat, job.batch, str(job.report["undo_batch"]), account.username, progress)
    report = {**job.report, "undo": {**counts, "by": account.username, "finished_at": utcnow().isoformat()}}
    return {"state": "undone", "rows_done": job.rows_total, "report": report, "error": ""}
