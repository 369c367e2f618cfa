"""The Whoosh schema of the public search index: one document per published item."""

from __future__ import annotations

from typing import Any

from whoosh.fields import BOOLEAN, ID, NUMERIC, STORED, TEXT, Schema

from museum.search.analysis import museum_analyzer

# Searched fields and their weights; a title hit outranks a hit in a long colophon.
FIELD_BOOSTS: dict[str, float] = {
    "title": 4.0,
    "title_alt": 3.0,
    "creator": 2.0,
    "meta": 1.5,
    "body": 1.0,
}
# Fields shown as highlighted snippets, in order of preference.
SNIPPET_FIELDS = ("description", "inscriptions", "provenance", "title", "title_alt", "creator")


def _text(stored: bool = False) -> TEXT:
    """Return a full-text field whose multi-token words become phrase queries."""
    field = TEXT(analyzer=museum_analyzer(), stored=stored, phrase=True)
    # A Chinese word analyses to several one-character tokens: match them as a phrase.
    field.multitoken_query = "phrase"
    return field


def build_schema() -> Schema:
    """Return the schema of the item index."""
    return Schema(
        id=ID(stored=True, unique=True),
        collection=ID(stored=True),
        institution=ID(stored=True),
        title=_text(stored=True),
        title_alt=_text(stored=True),
        creator=_text(stored=True),
        meta=_text(),
        body=_text(),
        description=STORED(),
        inscriptions=STORED(),
        provenance=STORED(),
        has_image=BOOLEAN(stored=True),
        begin_year=NUMERIC(numtype=int, bits=32, signed=True, sortable=True),
        sort_title=ID(sortable=True),
    )


def item_document(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the index document for an item given its plain field values."""
    meta_parts = [fields.get(k) or "" for k in
                  ("object_type", "period", "date_display", "medium", "accession_number",
                   "credit_line", "dimensions", "collection_title", "institution_name")]
    meta_parts.extend(fields.get("subjects") or [])
    body_parts = [fields.get(k) or "" for k in ("description", "inscriptions", "provenance")]
    doc: dict[str, Any] = {
        "id": fields["id"],
        "collection": fields.get("collection") or "",
        "institution": fields.get("institution") or "",
        "title": fields.get("title") or "",
        "title_alt": fields.get("title_alt") or "",
        "creator": fields.get("creator") or "",
        "meta": "\n".join(p for p in meta_parts if p),
        "body": "\n".join(p for p in body_parts if p),
        "description": fields.get("description") or "",
        "inscriptions": fields.get("inscriptions") or "",
        "provenance": fields.get("provenance") or "",
        "has_image": bool(fields.get("has_image")),
        "sort_title": (fields.get("sort_title") or "")[:200],
    }
    if fields.get("begin_year") is not None:
        doc["begin_year"] = int(fields["begin_year"])
    return doc
