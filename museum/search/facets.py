"""Facet counts, filters and sort keys over numpy arrays built once per index segment.

Whoosh's own facet collectors call Python code for every matching document and every facet;
at 100,000 items that is too slow. Instead each segment's packed facet column is read once
into integer arrays (segments never change after they are written; only their deletions do),
and a query's matching documents become a boolean mask over the whole index, so counting a
facet is one `bincount` and a filter is one array operation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.searching import Searcher

from museum.search.request import FACETS
from museum.search.schema import MULTI_VALUED, NO_YEAR, unpack_facets

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass
class Vocabulary:
    """The values seen for one facet, each with a small integer code (grows, never shrinks)."""

    codes: dict[str, int] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def code(self, value: str) -> int:
        """Return the code of value, adding it if new."""
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass(frozen=True)
class SegmentTable:
    """The facet arrays of one segment, indexed by the segment's own document numbers."""

    size: int
    single: dict[str, IntArray]                   # code per document, -1 when it has none
    multi: dict[str, tuple[IntArray, IntArray]]  # (document numbers, codes), one pair per value
    begin: IntArray                               # NO_YEAR when unknown
    end: IntArray
    sort_titles: list[str]


@dataclass(frozen=True)
class IndexTable:
    """The facet arrays of a whole searcher: segments concatenated, with the live-document mask."""

    size: int
    live: BoolArray
    single: dict[str, IntArray]
    multi: dict[str, tuple[IntArray, IntArray]]
    begin: IntArray
    end: IntArray
    sort_titles: list[str]
    vocab: dict[str, Vocabulary]

    def value_mask(self, facet: str, values: list[str]) -> BoolArray:
        """Return the documents having any of values for facet (unknown values match nothing)."""
        codes = [self.vocab[facet].codes[v] for v in values if v in self.vocab[facet].codes]
        mask = np.zeros(self.size, dtype=bool)
        if not codes:
            return mask
        if facet in self.multi:
            docs, doc_codes = self.multi[facet]
            mask[docs[np.isin(doc_codes, codes)]] = True
        else:
            mask = np.asarray(np.isin(self.single[facet], codes), dtype=bool)
        return mask

    def year_mask(self, year_from: int | None, year_to: int | None) -> BoolArray:
        """Return the documents whose date range overlaps [year_from, year_to]."""
        mask: BoolArray = np.not_equal(self.begin, NO_YEAR)
        if year_from is not None:
            mask &= self.end >= year_from
        if year_to is not None:
            mask &= self.begin <= year_to
        return mask

    def counts(self, facet: str, mask: BoolArray) -> list[tuple[str, int]]:
        """Return (value, count) for the documents in mask, most frequent first."""
        values = self.vocab[facet].values
        if facet in self.multi:
            docs, codes = self.multi[facet]
            selected = codes[mask[docs]]
        else:
            codes = self.single[facet]
            selected = codes[mask & (codes >= 0)]
        if selected.size == 0:
            return []
        tally = np.bincount(selected, minlength=len(values))
        nonzero = np.flatnonzero(tally)
        order = nonzero[np.lexsort((nonzero, -tally[nonzero]))]
        return [(values[int(c)], int(tally[c])) for c in order]


class FacetTables:
    """One process's cache of segment tables and the index-wide table of the current searcher."""

    def __init__(self) -> None:
        """Start with nothing cached."""
        self._segments: dict[str, SegmentTable] = {}
        self._vocab = {name: Vocabulary() for name in FACETS}
        self._current: tuple[Any, IndexTable] | None = None
        self._lock = threading.Lock()

    def table(self, searcher: Searcher) -> IndexTable:
        """Return the index-wide table for searcher, reusing the segments already read."""
        with self._lock:
            if self._current is not None and self._current[0] is searcher:
                return self._current[1]
            leaves = searcher.leaf_searchers()
            tables: list[SegmentTable] = []
            live_parts: list[BoolArray] = []
            seen: set[str] = set()
            for sub, _offset in leaves:
                reader = sub.reader()
                segment = reader.segment() if hasattr(reader, "segment") else None
                # An empty index has no segment: its (empty) table is keyed by the reader itself.
                key = segment.segment_id() if segment is not None else f"reader-{id(reader)}"
                seen.add(key)
                if key not in self._segments:
                    self._segments[key] = self._read_segment(reader)
                tables.append(self._segments[key])
                live_parts.append(self._live(reader))
            for stale in set(self._segments) - seen:
                del self._segments[stale]
            table = self._combine(tables, live_parts)
            self._current = (searcher, table)
            return table

    @staticmethod
    def _live(reader: Any) -> BoolArray:
        """Return the mask of documents in a segment that are not deleted."""
        live = np.ones(reader.doc_count_all(), dtype=bool)
        if reader.has_deletions():
            for docnum in range(live.size):
                if reader.is_deleted(docnum):
                    live[docnum] = False
        return live

    def _read_segment(self, reader: Any) -> SegmentTable:
        """Read one segment's packed facet column into arrays."""
        size = reader.doc_count_all()
        single = {name: np.full(size, -1, dtype=np.int64) for name in FACETS if name not in MULTI_VALUED}
        multi_docs: dict[str, list[int]] = {name: [] for name in MULTI_VALUED}
        multi_codes: dict[str, list[int]] = {name: [] for name in MULTI_VALUED}
        begin = np.full(size, NO_YEAR, dtype=np.int64)
        end = np.full(size, NO_YEAR, dtype=np.int64)
        titles: list[str] = [""] * size
        if reader.has_column("facets"):
            column = reader.column_reader("facets", translate=False)
            for docnum in range(size):
                row = unpack_facets(column[docnum])
                for name, values in row.values.items():
                    if name in MULTI_VALUED:
                        for value in values:
                            multi_docs[name].append(docnum)
                            multi_codes[name].append(self._vocab[name].code(value))
                    elif values:
                        single[name][docnum] = self._vocab[name].code(values[0])
                if row.begin_year is not None:
                    begin[docnum] = row.begin_year
                    end[docnum] = row.end_year if row.end_year is not None else row.begin_year
                titles[docnum] = row.sort_title
        multi = {name: (np.array(multi_docs[name], dtype=np.int64), np.array(multi_codes[name], dtype=np.int64))
                 for name in MULTI_VALUED}
        return SegmentTable(size=size, single=single, multi=multi, begin=begin, end=end, sort_titles=titles)

    def _combine(self, tables: list[SegmentTable], live_parts: list[BoolArray]) -> IndexTable:
        """Concatenate segment tables in document-number order."""
        offsets = np.cumsum([0] + [t.size for t in tables])
        size = int(offsets[-1])

        def joined(arrays: list[IntArray]) -> IntArray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

        single = {name: joined([t.single[name] for t in tables])
                  for name in FACETS if name not in MULTI_VALUED}
        multi = {name: (joined([t.multi[name][0] + offsets[i] for i, t in enumerate(tables)]),
                        joined([t.multi[name][1] for t in tables]))
                 for name in MULTI_VALUED}
        titles: list[str] = []
        for t in tables:
            titles.extend(t.sort_titles)
        live = np.concatenate(live_parts) if live_parts else np.zeros(0, dtype=bool)
        return IndexTable(size=size, live=live, single=single, multi=multi,
                          begin=joined([t.begin for t in tables]), end=joined([t.end for t in tables]),
                          sort_titles=titles, vocab=self._vocab)
