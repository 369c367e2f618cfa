"""Bulk query evaluation: a Whoosh query's matching documents and BM25F scores as numpy arrays.

Whoosh matchers step through postings one document at a time in Python, which made broad
queries (a word in half of 100,000 records, in five fields) take hundreds of milliseconds.
Here each term's posting list is read block by block (Whoosh stores 128 postings per block)
straight into arrays, scored with the same BM25F formula and statistics Whoosh uses, and
combined with set operations: OR adds scores, AND keeps documents in every part and adds
scores, AND NOT removes. Phrases still need word positions, so they are checked with Whoosh's
own matcher, but only once the cheap intersection of their words found candidates.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import And, AndNot, Every, NullQuery, Or, Phrase, Prefix, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Matches = tuple[IntArray, FloatArray]     # sorted unique document numbers, their scores

K1 = 1.2
B = 0.75
MAX_PREFIX_TERMS = 200
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_EMPTY: Matches = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class FieldLengths:
    """Per-segment arrays of every document's field length, read once per segment and field."""

    def __init__(self) -> None:
        """Start with nothing read."""
        self._arrays: dict[tuple[str, str], FloatArray] = {}
        self._lock = threading.Lock()

    def get(self, reader: Any, segment_key: str, fieldname: str) -> FloatArray:
        """Return the lengths of fieldname for every document of the segment reader."""
        key = (segment_key, fieldname)
        found = self._arrays.get(key)
        if found is not None:
            return found
        size = reader.doc_count_all()
        lengths = np.zeros(size, dtype=np.float64)
        column = None
        perdoc = getattr(reader, "_perdoc", None)
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is not None and hasattr(column, "_dbfile") and getattr(column, "_fixedlen", 0) == 1:
            # One byte per document, stored contiguously: read them all at once.
            count = min(column._count, size)
            raw = np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)
            lengths[:count] = _LENGTH_OF_BYTE[raw]
        else:
            for docnum in range(size):
                lengths[docnum] = reader.doc_field_length(docnum, fieldname) or 0
        with self._lock:
            self._arrays[key] = lengths
        return lengths

    def forget_except(self, keep: set[str]) -> None:
        """Drop the arrays of segments no longer in the index."""
        with self._lock:
            for key in [k for k in self._arrays if k[0] not in keep]:
                del self._arrays[key]


def segment_key(reader: Any) -> str:
    """Return a stable key of a segment reader (an empty index's reader by identity)."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    return segment.segment_id() if segment is not None else f"reader-{id(reader)}"


def _postings(reader: Any, fieldname: str, text: str) -> tuple[IntArray, FloatArray] | None:
    """Return (document numbers, weights) of a term in one segment, deleted documents included."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return None
    if isinstance(matcher, FilterMatcher):
        # Deletions are removed afterwards with the live mask, for all terms at once.
        matcher = matcher.child
    ids: list[Any] = []
    weights: list[Any] = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            weights.append(np.asarray(matcher._weights, dtype=np.float64))
            matcher._next_block()
        if not ids:
            return None
        return np.concatenate(ids), np.concatenate(weights)
    # Short posting lists are stored inline and come as a plain list matcher.
    plain_ids: list[int] = []
    plain_weights: list[float] = []
    while matcher.is_active():
        plain_ids.append(matcher.id())
        plain_weights.append(matcher.weight())
        matcher.next()
    if not plain_ids:
        return None
    return np.asarray(plain_ids, dtype=np.int64), np.asarray(plain_weights, dtype=np.float64)


class Evaluator:
    """Evaluates queries over one searcher; cheap to make per search."""

    def __init__(self, searcher: Searcher, lengths: FieldLengths) -> None:
        """Remember the searcher, its segments and the shared field-length cache."""
        self.searcher = searcher
        self.lengths = lengths
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.doc_count = searcher.doc_count_all()

    def run(self, query: Query) -> Matches:
        """Return the documents matching query (deleted ones included) and their scores."""
        return self._eval(query.normalize())

    # ----- nodes ---------------------------------------------------------------------------

    def _eval(self, query: Query) -> Matches:
        """Evaluate one node of the query tree."""
        if isinstance(query, Term):
            return self._term(query.fieldname, query.text, query.boost)
        if isinstance(query, Or):
            return self._union([self._eval(q) for q in query.subqueries])
        if isinstance(query, And):
            return self._intersection(query.subqueries)
        if isinstance(query, AndNot):
            left = self._eval(query.a)
            right = self._eval(query.b)
            keep = ~np.isin(left[0], right[0], assume_unique=True)
            return left[0][keep], left[1][keep]
        if isinstance(query, Phrase):
            return self._phrase(query)
        if isinstance(query, Prefix):
            return self._prefix(query)
        if isinstance(query, Every):
            docs = np.arange(self.doc_count, dtype=np.int64)
            return docs, np.zeros(self.doc_count, dtype=np.float64)
        if isinstance(query, NullQuery) or query is NullQuery:
            return _EMPTY
        return self._with_whoosh(query)

    def _term(self, fieldname: str, text: str, boost: float) -> Matches:
        """Score one term in one field with BM25F, over every segment."""
        if fieldname not in self.searcher.schema:
            return _EMPTY
        frequency = self.searcher.doc_frequency(fieldname, text)
        if not frequency:
            return _EMPTY
        idf = math.log(self.doc_count / (frequency + 1)) + 1
        avg_length = self.searcher.avg_field_length(fieldname) or 1
        docs: list[IntArray] = []
        scores: list[FloatArray] = []
        for reader, offset in self.leaves:
            found = _postings(reader, fieldname, text)
            if found is None:
                continue
            ids, tf = found
            lengths = self.lengths.get(reader, segment_key(reader), fieldname)[ids]
            score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avg_length)))
            docs.append(ids + offset)
            scores.append(score * boost)
        if not docs:
            return _EMPTY
        return np.concatenate(docs), np.concatenate(scores)

    @staticmethod
    def _union(parts: list[Matches]) -> Matches:
        """Return the documents in any part, their scores added."""
        parts = [p for p in parts if p[0].size]
        if not parts:
            return _EMPTY
        if len(parts) == 1:
            return parts[0]
        docs = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        unique, inverse = np.unique(docs, return_inverse=True)
        summed: FloatArray = np.bincount(inverse, weights=scores, minlength=unique.size).astype(np.float64)
        return unique.astype(np.int64), summed

    def _intersection(self, subqueries: list[Query]) -> Matches:
        """Return the documents in every part, their scores added."""
        result: Matches | None = None
        for sub in subqueries:
            part = self._eval(sub)
            if part[0].size == 0:
                return _EMPTY
            if result is None:
                result = part
                continue
            common, left, right = np.intersect1d(result[0], part[0], assume_unique=True, return_indices=True)
            result = common, result[1][left] + part[1][right]
            if common.size == 0:
                return _EMPTY
        return result if result is not None else _EMPTY

    def _phrase(self, query: Phrase) -> Matches:
        """Check word positions with Whoosh, but only where all the words occur."""
        words = [Term(query.fieldname, word) for word in query.words]
        candidates = self._intersection(list(words))
        if candidates[0].size == 0:
            return _EMPTY
        return self._with_whoosh(query)

    def _prefix(self, query: Prefix) -> Matches:
        """Expand a prefix to the words that start with it (a bounded number) and OR them."""
        terms: list[Query] = []
        for text in self.searcher.reader().expand_prefix(query.fieldname, query.text):
            terms.append(Term(query.fieldname, text, boost=query.boost))
            if len(terms) >= MAX_PREFIX_TERMS:
                break
        return self._union([self._eval(t) for t in terms])

    def _with_whoosh(self, query: Query) -> Matches:
        """Evaluate any other query with Whoosh's matchers (document by document)."""
        ids: list[int] = []
        values: list[float] = []
        for sub, offset in self.searcher.leaf_searchers():
            matcher = query.matcher(sub, sub.context())
            while matcher.is_active():
                ids.append(matcher.id() + offset)
                values.append(matcher.score())
                matcher.next()
        if not ids:
            return _EMPTY
        docs = np.asarray(ids, dtype=np.int64)
        order = np.argsort(docs, kind="stable")
        return docs[order], np.asarray(values, dtype=np.float64)[order]
