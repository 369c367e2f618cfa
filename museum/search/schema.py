"""The Whoosh schema of the public search index: one document per published item.

Searched text lives in weighted full-text fields; the values that results are filtered, counted
and sorted by (the facets, years, title order) travel together in one per-document column,
read once per index segment by `museum.search.facets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema

from museum.search.analysis import museum_analyzer, pinyin_analyzer, spelling_analyzer
from museum.search.request import FACETS

# Bumped whenever fields or analysis change: an index built by an older release is rebuilt.
SCHEMA_VERSION = "5"
# Searched fields and their weights; a title hit outranks a hit in a long colophon.
FIELD_BOOSTS: dict[str, float] = {
    "title": 4.0,
    "title_alt": 3.0,
    "creator": 2.0,
    "meta": 1.5,
    "body": 1.0,
}
PINYIN_BOOST = 1.2
# Fields shown as highlighted snippets, in order of preference, with the field they are analysed as.
SNIPPET_FIELDS: tuple[tuple[str, str], ...] = (
    ("description", "body"), ("inscriptions", "body"), ("provenance", "body"),
    ("title", "title"), ("title_alt", "title_alt"), ("creator", "creator"),
)
MULTI_VALUED = {"material", "creator"}
_FIELD_SEP = "\x1e"
_VALUE_SEP = "\x1f"
NO_YEAR = -(2**31)


@dataclass(frozen=True)
class FacetRow:
    """The filterable and sortable values of one document, as packed in its column."""

    values: dict[str, tuple[str, ...]]
    begin_year: int | None
    end_year: int | None
    sort_title: str


# Fields that keep word positions, for exact phrases. `meta` does not: its words (medium,
# credit line, place, type) are shared by tens of thousands of records, reading their
# positions cost most of a broad query's time, and there a Chinese word matches as all of its
# character bigrams and a quoted Latin phrase as all of its words.
POSITIONAL_FIELDS = frozenset({"title", "title_alt", "creator", "body", "pinyin"})


def _text(stored: bool = False, positions: bool = True) -> TEXT:
    """Return a full-text field; with positions, phrases can be checked exactly."""
    return TEXT(analyzer=museum_analyzer(), stored=stored, phrase=positions)


def build_schema() -> Schema:
    """Return the schema of the item index."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=_text(stored=True),
        title_alt=_text(stored=True),
        creator=_text(stored=True),
        meta=_text(positions=False),
        body=_text(),
        pinyin=TEXT(analyzer=pinyin_analyzer(), phrase=True),
        spelling=TEXT(analyzer=spelling_analyzer(), phrase=False),
        description=STORED(),
        inscriptions=STORED(),
        provenance=STORED(),
        facets=COLUMN(VarBytesColumn()),
    )


def _clean(value: str) -> str:
    """Return a facet value without the separator characters or surrounding space."""
    return " ".join(value.replace(_FIELD_SEP, " ").replace(_VALUE_SEP, " ").split())[:200]


def pack_facets(values: dict[str, Sequence[str]], begin_year: int | None, end_year: int | None,
                sort_title: str) -> bytes:
    """Return the column bytes for one document's facet values, years and title order."""
    parts = [_VALUE_SEP.join(_clean(v) for v in values.get(name, ()) if _clean(v)) for name in FACETS]
    parts.append("" if begin_year is None else str(begin_year))
    parts.append("" if end_year is None else str(end_year))
    parts.append(_clean(sort_title))
    return _FIELD_SEP.join(parts).encode("utf-8")


def unpack_facets(raw: bytes) -> FacetRow:
    """Return the values packed by pack_facets (empty ones for a document without the column)."""
    parts = raw.decode("utf-8").split(_FIELD_SEP) if raw else []
    parts += [""] * (len(FACETS) + 3 - len(parts))
    values = {name: tuple(v for v in parts[i].split(_VALUE_SEP) if v) for i, name in enumerate(FACETS)}
    begin, end, sort_title = parts[len(FACETS):len(FACETS) + 3]
    return FacetRow(values=values, begin_year=int(begin) if begin else None,
                    end_year=int(end) if end else None, sort_title=sort_title)


def item_document(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the index document for an item given its plain field values."""
    meta_parts = [fields.get(k) or "" for k in
                  ("object_type", "period", "date_display", "medium", "accession_number",
                   "credit_line", "dimensions", "collection_title", "institution_name")]
    meta_parts.extend(fields.get("subjects") or [])
    meta_parts.extend(fields.get("period_names") or [])
    meta_parts.extend(fields.get("material_names") or [])
    body_parts = [fields.get(k) or "" for k in ("description", "inscriptions", "provenance")]
    pinyin_parts = [fields.get(k) or "" for k in ("title", "title_alt", "creator", "object_type",
                                                  "period", "medium")]
    pinyin_parts.extend(fields.get("subjects") or [])
    pinyin_parts.extend(fields.get("period_names") or [])
    spelling_parts = [fields.get(k) or "" for k in ("title", "title_alt", "creator", "object_type",
                                                    "medium", "description")]
    begin, end = fields.get("begin_year"), fields.get("end_year")
    begin = None if begin is None else int(begin)
    end = begin if end is None else int(end)
    facet_values: dict[str, Sequence[str]] = {
        "institution": [fields.get("institution") or ""],
        "collection": [fields.get("collection") or ""],
        "object_type": [(fields.get("object_type") or "").strip().lower()],
        "period": [fields.get("period_facet") or ""],
        "material": list(fields.get("materials") or []),
        "creator": list(fields.get("creators") or []),
        "has_image": ["yes" if fields.get("has_image") else "no"],
    }
    return {
        "id": fields["id"],
        "title": fields.get("title") or "",
        "title_alt": fields.get("title_alt") or "",
        "creator": fields.get("creator") or "",
        "meta": "\n".join(p for p in meta_parts if p),
        "body": "\n".join(p for p in body_parts if p),
        "pinyin": "\n".join(p for p in pinyin_parts if p),
        "spelling": "\n".join(p for p in spelling_parts if p),
        "description": fields.get("description") or "",
        "inscriptions": fields.get("inscriptions") or "",
        "provenance": fields.get("provenance") or "",
        "facets": pack_facets(facet_values, begin, end, fields.get("sort_title") or ""),
    }
