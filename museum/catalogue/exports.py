"""Collection downloads: every published item of a collection as CSV (the import format) or JSON Lines.

Rows are produced in chunks of EXPORT_CHUNK items, each chunk read in its own short session by
keyset paging on the item id, so a download of a 100,000-item collection streams in constant
memory and never holds a long transaction open.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from museum.catalogue import store
from museum.catalogue.models import Collection, Item
from museum.catalogue.service import Catalogue

EXPORT_CHUNK = 500
# The import format's columns (docs/data-format.md), in order.
CSV_COLUMNS = (
    "id", "title", "title_alt", "creator", "date", "begin_year", "end_year", "period",
    "object_type", "medium", "dimensions", "description", "inscriptions", "provenance",
    "accession_number", "credit_line", "institution", "subjects", "rights", "rights_url",
    "url_of_source", "featured", "status", "image_filename", "image_caption",
)
LIST_SEPARATOR = " | "


def collection_exists(cat: Catalogue, slug: str) -> bool:
    """Tell whether there is a collection with this slug."""
    with cat.sessions() as session:
        return store.collection_by_slug(session, slug) is not None


def _published_items(cat: Catalogue, slug: str) -> Iterator[Item]:
    """Yield the collection's published items in id order, a chunk per short session."""
    after = ""
    while True:
        with cat.sessions() as session:
            chunk = list(session.scalars(
                select(Item).join(Collection)
                .options(selectinload(Item.images), selectinload(Item.institution))
                .where(Collection.slug == slug, Item.status == store.PUBLISHED, Item.id > after)
                .order_by(Item.id).limit(EXPORT_CHUNK)
            ).all())
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].id


def _image_name(image: Any) -> str:
    """Return the file name an image is exported under: its original name, else hash and format."""
    extension = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "WEBP": "webp", "GIF": "gif"}.get(image.format, "img")
    return str(image.original_filename) or f"{image.sha256}.{extension}"


def csv_row(item: Item) -> dict[str, str]:
    """Return an item as one row of the import format."""
    return {
        "id": item.id, "title": item.title, "title_alt": item.title_alt, "creator": item.creator,
        "date": item.date_display,
        "begin_year": "" if item.begin_year is None else str(item.begin_year),
        "end_year": "" if item.end_year is None else str(item.end_year),
        "period": item.period, "object_type": item.object_type, "medium": item.medium,
        "dimensions": item.dimensions, "description": item.description, "inscriptions": item.inscriptions,
        "provenance": item.provenance, "accession_number": item.accession_number,
        "credit_line": item.credit_line, "institution": item.institution.slug if item.institution else "",
        "subjects": LIST_SEPARATOR.join(item.subjects or []), "rights": item.rights,
        "rights_url": item.rights_url, "url_of_source": item.source_url,
        "featured": "yes" if item.featured else "", "status": item.status,
        "image_filename": LIST_SEPARATOR.join(_image_name(i) for i in item.images),
        "image_caption": LIST_SEPARATOR.join(i.caption for i in item.images) if any(i.caption for i in item.images)
        else "",
    }


def export_csv(cat: Catalogue, slug: str) -> Iterator[str]:
    """Yield a UTF-8 CSV (with BOM, so spreadsheet programs read Chinese right) chunk by chunk."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writeheader()
    for count, item in enumerate(_published_items(cat, slug), start=1):
        writer.writerow(csv_row(item))
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_record(item: Item) -> dict[str, Any]:
    """Return an item as one JSON Lines record: the CSV fields plus the images' details."""
    record: dict[str, Any] = {k: v for k, v in csv_row(item).items() if k not in ("image_filename", "image_caption")}
    record["begin_year"], record["end_year"] = item.begin_year, item.end_year
    record["subjects"] = list(item.subjects or [])
    record["featured"] = bool(item.featured)
    record["updated_at"] = item.updated_at.isoformat() if item.updated_at else None
    record["images"] = [{"file_name": _image_name(i), "sha256": i.sha256, "width": i.width, "height": i.height,
                         "caption": i.caption, "alt_text": i.alt_text, "rights": i.rights} for i in item.images]
    return record


def export_jsonl(cat: Catalogue, slug: str) -> Iterator[str]:
    """Yield one JSON object per line per published item."""
    for item in _published_items(cat, slug):
        yield json.dumps(jsonl_record(item), ensure_ascii=False) + "\n"


def _toml_string(value: str) -> str:
    """Return value as a TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _toml_table(name: str, labels: dict[str, Any]) -> list[str]:
    """Return a [name] table of language → text lines, skipping empty texts."""
    lines = [f"[{name}]"]
    lines += [f"{_toml_string(k) if '-' in k else k} = {_toml_string(str(v))}" for k, v in labels.items() if v]
    return lines


def export_collection_toml(cat: Catalogue, slug: str) -> str | None:
    """Return the collection.toml of a collection (the import format), or None if there is none."""
    with cat.sessions() as session:
        collection = store.collection_by_slug(session, slug)
        if collection is None:
            return None
        institutions = {collection.institution.slug: collection.institution}
        held_by = session.scalars(select(Item).options(selectinload(Item.institution))
                                  .where(Item.collection_id == collection.id, Item.institution_id.is_not(None),
                                         Item.status == store.PUBLISHED)).all()
        for item in held_by:
            if item.institution is not None:
                institutions.setdefault(item.institution.slug, item.institution)
        lines = [f"slug = {_toml_string(collection.slug)}", f"position = {collection.position}",
                 f"institution = {_toml_string(collection.institution.slug)}"]
        # Only published items may be named: a withdrawn cover or featured item stays private.
        named = [i for i in [collection.cover_item_id, *collection.featured_item_ids] if i]
        public = set(session.scalars(select(Item.id).where(Item.id.in_(named), Item.status == store.PUBLISHED)))
        if collection.cover_item_id in public:
            lines.append(f"cover = {_toml_string(collection.cover_item_id or '')}")
        featured = [i for i in collection.featured_item_ids if i in public]
        if featured:
            lines.append("featured = [" + ", ".join(_toml_string(i) for i in featured) + "]")
        for name in ("title", "summary", "credits"):
            labels = dict(getattr(collection, name) or {})
            if labels:
                lines += ["", *_toml_table(name, labels)]
        if collection.licence_name or collection.licence_url:
            lines += ["", "[licence]", f"name = {_toml_string(collection.licence_name)}",
                      f"url = {_toml_string(collection.licence_url)}"]
        for inst in institutions.values():
            lines += ["", "[[institutions]]", f"slug = {_toml_string(inst.slug)}", f"url = {_toml_string(inst.url)}"]
            lines += _toml_table("institutions.name", dict(inst.name or {}))
        return "\n".join(lines) + "\n"
