"""The on-disk Whoosh index: open, apply changes, rebuild beside the live copy, and query.

Layout: <root>/gen-<n>/ holds one complete index plus `applied_seq`, the last revision it
reflects; <root>/live is a symlink to the current generation, replaced atomically by rebuilds.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import html
import os
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import index as whoosh_index
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.index import FileIndex, LockError
from whoosh.query import Or, Query, Term
from whoosh.searching import Searcher
from whoosh.support.charset import accent_map

from museum.search.analysis import HighlightAnalyzer, contains_han
from museum.search.bulk_writer import Document, index_workers, write_documents
from museum.search.evaluate import Evaluator, FieldLengths, segment_key
from museum.search.facets import BoolArray, FacetTables, IndexTable, IntArray
from museum.search.query import build_query
from museum.search.request import FACETS, SearchRequest
from museum.search.schema import FIELD_BOOSTS, NO_YEAR, SCHEMA_VERSION, SNIPPET_FIELDS, build_schema

SEQ_FILE = "applied_seq"
SCHEMA_FILE = "schema_version"
REBUILD_LOCK_FILE = "rebuild.lock"
CATCH_UP_POOL_MB = 256
PARALLEL_REBUILD_DOCUMENTS = 4000
FloatArray = npt.NDArray[np.float64]
_HIGHLIGHT_ANALYZER = HighlightAnalyzer()


@dataclass(frozen=True)
class SearchHit:
    """One result: the item id and an HTML-escaped snippet with <mark> around matches."""

    item_id: str
    snippet: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    """One page of results with the facet counts of the whole result set."""

    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    parsed: str = ""
    latin_words: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """Return the item ids of the hits in order."""
        return [h.item_id for h in self.hits]


def _may_hold(text: str, wanted: set[str]) -> bool:
    """Tell cheaply whether analysing text could find one of the wanted index words.

    False only when it surely cannot: for text without Han characters, no wanted word's stem
    (less the last three letters, which stemming may have rewritten) occurs in the text,
    normalised, lowercased and accent-folded as the analyzer does. Most stored descriptions of a
    hit hold none of the words it was found by, and analysing them was most of a snippet's cost.
    """
    if contains_han(text):
        return True
    folded = unicodedata.normalize("NFKC", text).lower().translate(accent_map)
    return any(word[:max(2, len(word) - 3)] in folded for word in wanted)


def _mark_excerpt(fragment: str, stored: str) -> str:
    """Add an ellipsis where a highlighted fragment cuts into the stored text at either end."""
    plain = " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())
    whole = " ".join(stored.split())
    if plain and not whole.startswith(plain[:12]):
        fragment = "… " + fragment
    if plain and not whole.endswith(plain[-12:]):
        fragment = fragment + " …"
    return fragment


class SearchIndex:
    """One process's handle on the live index generation."""

    def __init__(self, root: Path) -> None:
        """Remember where the index lives; nothing is opened until needed."""
        self.root = root
        self._ix: FileIndex | None = None
        self._gen: str = ""
        self._searcher: Searcher | None = None
        # One searcher per process is shared; requests on other threads take turns with it.
        self._lock = threading.RLock()
        self._facets = FacetTables()
        self._lengths = FieldLengths()
        self._lengths_for: Searcher | None = None

    # ----- generations -------------------------------------------------------------------

    @property
    def live_link(self) -> Path:
        """Return the symlink that names the live generation."""
        return self.root / "live"

    def _live_generation(self) -> str:
        """Return the directory name of the live generation, creating a first one if none."""
        try:
            return os.readlink(self.live_link)
        except FileNotFoundError:
            gen = self._new_generation_dir()
            whoosh_index.create_in(str(gen), build_schema())
            (gen / SEQ_FILE).write_text("0")
            (gen / SCHEMA_FILE).write_text(SCHEMA_VERSION)
            self._point_live_at(gen)
            return gen.name

    def _new_generation_dir(self) -> Path:
        """Create and return an empty directory for a new generation."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = f"gen-{time.time_ns()}-{os.getpid()}"
        path = self.root / stamp
        path.mkdir()
        return path

    def _point_live_at(self, gen: Path) -> None:
        """Swap the live symlink to gen atomically."""
        tmp = self.root / f"live.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(gen.name, tmp)
        os.replace(tmp, self.live_link)

    def _open(self) -> FileIndex:
        """Return the index of the live generation, reopening it if a rebuild swapped it."""
        gen = self._live_generation()
        if self._ix is None or gen != self._gen:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._ix = whoosh_index.open_dir(str(self.root / gen))
            self._gen = gen
        return self._ix

    def applied_sequence(self) -> int:
        """Return the last revision sequence number the live generation reflects."""
        gen = self._live_generation()
        try:
            return int((self.root / gen / SEQ_FILE).read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def schema_is_current(self) -> bool:
        """Tell whether the live generation was built with this release's schema and analysis."""
        gen = self._live_generation()
        try:
            return (self.root / gen / SCHEMA_FILE).read_text().strip() == SCHEMA_VERSION
        except FileNotFoundError:
            return False

    @staticmethod
    def _write_seq(gen_dir: Path, seq: int) -> None:
        """Record seq as applied, atomically."""
        tmp = gen_dir / f"{SEQ_FILE}.{os.getpid()}.tmp"
        tmp.write_text(str(seq))
        os.replace(tmp, gen_dir / SEQ_FILE)

    # ----- writing -----------------------------------------------------------------------

    def apply(self, upserts: Iterable[dict[str, Any]], deletions: Iterable[str],
              up_to_seq: int, wait: float = 10.0) -> bool:
        """Write documents and deletions and record up_to_seq; return False if another process holds the lock."""
        ix = self._open()
        try:
            writer = ix.writer(timeout=wait, limitmb=CATCH_UP_POOL_MB)
        except LockError:
            return False
        try:
            for item_id in deletions:
                writer.delete_by_term("id", item_id)
            for doc in upserts:
                writer.update_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        # Recorded after the commit: a crash in between only re-applies idempotent updates.
        self._write_seq(self.root / self._gen, up_to_seq)
        return True

    @contextlib.contextmanager
    def rebuilding(self, wait: bool = True) -> Iterator[bool]:
        """Hold the cross-process rebuild lock; yield False at once if wait is off and it is taken.

        Two processes rebuilding at once would each prune the other's new generation.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / REBUILD_LOCK_FILE, "a+b") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def rebuild(self, batches: Iterable[list[Document]], seq: int, expected: int) -> int:
        """Build a complete new generation from batches of documents, swap it in, return its size.

        The caller holds `rebuilding()` and says how many documents to expect: from
        PARALLEL_REBUILD_DOCUMENTS on, writing is spread over one process per core
        (bulk_writer.py); below, starting the processes would cost more than it saves.
        """
        workers = index_workers() if expected >= PARALLEL_REBUILD_DOCUMENTS else 1
        gen = self._new_generation_dir()
        whoosh_index.create_in(str(gen), build_schema())
        try:
            count = write_documents(gen, batches, workers)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        self._write_seq(gen, seq)
        (gen / SCHEMA_FILE).write_text(SCHEMA_VERSION)
        previous = self._gen_or_none()
        self._point_live_at(gen)
        self._prune(keep={gen.name, previous or ""})
        return count

    def _gen_or_none(self) -> str | None:
        """Return the live generation's name without creating one."""
        try:
            return os.readlink(self.live_link)
        except FileNotFoundError:
            return None

    def _prune(self, keep: set[str]) -> None:
        """Delete old generations, keeping the live one and its predecessor for open readers."""
        for path in self.root.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # ----- reading -----------------------------------------------------------------------

    @contextlib.contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """Yield an up-to-date searcher of the live generation."""
        with self._lock:
            ix = self._open()
            if self._searcher is not None and not self._searcher.up_to_date():
                # A fresh searcher rather than refresh(): Whoosh's reader reuse fails when the
                # old reader was the empty one of a brand-new index.
                self._searcher.close()
                self._searcher = None
            if self._searcher is None:
                self._searcher = ix.searcher()
            yield self._searcher

    def _matches(self, searcher: Searcher, query: Query | None,
                 table: IndexTable) -> tuple[BoolArray, FloatArray]:
        """Return the mask of documents matching query and their scores (zero when no query)."""
        scores = np.zeros(table.size, dtype=np.float64)
        if query is None:
            return table.live.copy(), scores
        if self._lengths_for is not searcher:
            # A new searcher may have merged segments away: drop their length arrays.
            self._lengths.forget_except({segment_key(sub.reader()) for sub, _ in searcher.leaf_searchers()})
            self._lengths_for = searcher
        docs, values = Evaluator(searcher, self._lengths).run(query)
        mask = np.zeros(table.size, dtype=bool)
        if docs.size:
            mask[docs] = True
            scores[docs] = values
        return mask & table.live, scores

    def search(self, request: SearchRequest) -> SearchPage:
        """Return one page of hits for request, with facet counts and highlighted snippets."""
        parsed = build_query(request.parts)
        with self.searcher() as searcher:
            table = self._facets.table(searcher)
            matched, scores = self._matches(searcher, parsed.query, table)
            filter_masks: dict[str, BoolArray] = {
                name: table.value_mask(name, list(values))
                for name, values in request.filters.items() if name in FACETS and values
            }
            if request.year_from is not None or request.year_to is not None:
                filter_masks["years"] = table.year_mask(request.year_from, request.year_to)
            selected = matched.copy()
            for mask in filter_masks.values():
                selected &= mask
            facets: dict[str, list[tuple[str, int]]] = {}
            for name in FACETS:
                # A facet's counts ignore its own selection, so the other values stay offered.
                base = matched.copy()
                for other, mask in filter_masks.items():
                    if other != name:
                        base &= mask
                facets[name] = table.counts(name, base)
            docs = self._ordered(np.flatnonzero(selected), scores, table, request.sort,
                                 parsed.query is not None, request.page * request.per_page)
            total = int(selected.sum())
            start = (request.page - 1) * request.per_page
            page_docs = docs[start:start + request.per_page]
            terms = self._terms_by_field(parsed.query)
            hits = []
            for docnum in page_docs:
                stored = searcher.stored_fields(int(docnum))
                hits.append(SearchHit(item_id=stored["id"],
                                      snippet=self._snippet(stored, terms),
                                      score=float(scores[docnum])))
            return SearchPage(hits=hits, total=total, page=request.page, per_page=request.per_page,
                              facets=facets, parsed=str(parsed.query), latin_words=parsed.latin_words)

    @staticmethod
    def _ordered(docs: IntArray, scores: FloatArray, table: IndexTable, sort: str, scored: bool,
                 needed: int) -> list[int]:
        """Return the first `needed` of docs in the requested order (ties by document number)."""
        if docs.size == 0:
            return []
        if sort == "title" or (sort == "relevance" and not scored):
            titles = table.sort_titles
            return heapq.nsmallest(needed, docs.tolist(), key=lambda d: (titles[d] == "", titles[d], d))
        if sort in ("date", "-date"):
            begin = table.begin[docs]
            unknown = begin == NO_YEAR
            key = begin if sort == "date" else -begin
            order = np.lexsort((docs, key, unknown))
            return [int(d) for d in docs[order[:needed]]]
        order = np.lexsort((docs, -scores[docs]))
        return [int(d) for d in docs[order[:needed]]]

    @staticmethod
    def _terms_by_field(query: Query | None) -> dict[str, set[str]]:
        """Return the words of query per field, for highlighting."""
        found: dict[str, set[str]] = {}
        if query is None:
            return found
        for fieldname, text in query.all_terms(phrases=True):
            if isinstance(text, str):
                found.setdefault(fieldname, set()).add(text)
        return found

    def suggest_words(self, words: list[str]) -> dict[str, str]:
        """Return a likely intended spelling for each word the index hardly knows ("harvsters")."""
        corrections: dict[str, str] = {}
        with self.searcher() as searcher:
            reader = searcher.reader()
            for word in words[:8]:
                lowered = word.lower()
                if len(lowered) < 4 or not lowered.isalpha() or reader.doc_frequency("spelling", lowered) > 0:
                    continue
                best: tuple[int, str] | None = None
                for distance in (1, 2):
                    for candidate in reader.terms_within("spelling", lowered, distance, prefix=1):
                        weight = reader.doc_frequency("spelling", candidate)
                        if best is None or weight > best[0]:
                            best = (weight, candidate)
                    if best is not None:
                        break
                if best is not None and best[1] != lowered:
                    corrections[word] = best[1]
        return corrections

    def related(self, item_id: str, texts: dict[str, str], limit: int) -> list[str]:
        """Return ids of the items most like item_id, given its text per searched field.

        The distinctive words of each field (those rare in the index but present here) are
        looked for in the same field, so a shared artist, material, period or subject counts.
        """
        with self.searcher() as searcher:
            clauses: list[Query] = []
            for fieldname, text in texts.items():
                if not text.strip() or fieldname not in FIELD_BOOSTS:
                    continue
                for word, _weight in searcher.key_terms_from_text(fieldname, text, numterms=8):
                    clauses.append(Term(fieldname, word, boost=FIELD_BOOSTS[fieldname]))
            if not clauses:
                return []
            results = searcher.search(Or(clauses), limit=limit + 1)
            return [hit["id"] for hit in results if hit["id"] != item_id][:limit]

    @staticmethod
    def _snippet(stored: dict[str, Any], terms: dict[str, set[str]]) -> str:
        """Return the first highlighted fragment among the snippet fields of a stored document."""
        fragmenter = ContextFragmenter(maxchars=160, surround=40)
        formatter = HtmlFormatter(tagname="mark", classname="hit", between=" … ")
        for name, analysed_as in SNIPPET_FIELDS:
            text = stored.get(name)
            wanted = terms.get(analysed_as)
            if not text or not wanted or not _may_hold(text, wanted):
                continue
            fragment = highlight(text, frozenset(wanted), _HIGHLIGHT_ANALYZER, fragmenter, formatter, top=2)
            if fragment:
                return _mark_excerpt(fragment, text)
        return ""

    def document_ids(self) -> set[str]:
        """Return the ids of every document in the live index."""
        with self.searcher() as searcher:
            return {fields["id"] for fields in searcher.all_stored_fields()}

    def close(self) -> None:
        """Release the searcher and the index handle."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix = None
        self._gen = ""
