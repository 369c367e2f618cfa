"""The on-disk Whoosh index: open, apply changes, rebuild beside the live copy, and query.

Layout: <root>/gen-<n>/ holds one complete index plus `applied_seq`, the last revision it
reflects; <root>/live is a symlink to the current generation, replaced atomically by rebuilds.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.index import FileIndex, LockError
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser.plugins import FuzzyTermPlugin, GtLtPlugin, WildcardPlugin
from whoosh.query import Every, Query
from whoosh.searching import Hit, Searcher

from museum.search.schema import FIELD_BOOSTS, SNIPPET_FIELDS, build_schema

SEQ_FILE = "applied_seq"
_BODY_SNIPPETS = {"description", "inscriptions", "provenance"}


@dataclass(frozen=True)
class SearchHit:
    """One result: the item id and an HTML-escaped snippet with <mark> around matches."""

    item_id: str
    snippet: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    """One page of results for a query."""

    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    parsed: str = ""
    ids: list[str] = field(default_factory=list)


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
        self._parser = MultifieldParser(list(FIELD_BOOSTS), build_schema(),
                                        fieldboosts=FIELD_BOOSTS, group=AndGroup)
        # Operators visitors don't expect (field:value, ranges, fuzzy~) are removed so that any
        # typed text is read as words; quotes, AND, OR, NOT and wildcards still work.
        for plugin_type in (FuzzyTermPlugin, GtLtPlugin):
            self._parser.remove_plugin_class(plugin_type)
        self._parser.remove_plugin_class(WildcardPlugin)
        self._parser.add_plugin(WildcardPlugin())

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
            writer = ix.writer(timeout=wait)
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

    def rebuild(self, documents: Iterable[dict[str, Any]], seq: int) -> int:
        """Build a complete new generation from documents, swap it in, and return its size."""
        gen = self._new_generation_dir()
        ix = whoosh_index.create_in(str(gen), build_schema())
        writer = ix.writer(limitmb=256, procs=1)
        count = 0
        try:
            for doc in documents:
                writer.add_document(**doc)
                count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(gen, ignore_errors=True)
            raise
        writer.commit()
        self._write_seq(gen, seq)
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

    def parse(self, text: str) -> Query:
        """Parse visitor text into a query; never raises on odd input."""
        try:
            return self._parser.parse(text)
        except Exception:  # noqa: BLE001 - Whoosh raises many types on odd syntax
            # Fall back to plain words so any string still searches for something sensible.
            cleaned = " ".join(part for part in text.replace('"', " ").split())
            return self._parser.parse(cleaned) if cleaned else Every()

    def search(self, text: str, page: int, per_page: int) -> SearchPage:
        """Return one page of hits for text with highlighted snippets."""
        query = self.parse(text)
        with self.searcher() as searcher:
            results = searcher.search_page(query, max(page, 1), pagelen=per_page, terms=True)
            results.results.fragmenter = ContextFragmenter(maxchars=160, surround=40)
            results.results.formatter = HtmlFormatter(tagname="mark", classname="hit", between=" … ")
            hits = [SearchHit(item_id=hit["id"], snippet=self._snippet(hit), score=hit.score or 0.0)
                    for hit in results]
            return SearchPage(hits=hits, total=len(results.results), page=results.pagenum,
                              per_page=per_page, parsed=str(query),
                              ids=[h.item_id for h in hits])

    @staticmethod
    def _snippet(hit: Hit) -> str:
        """Return the first highlighted fragment among the snippet fields of a hit."""
        for name in SNIPPET_FIELDS:
            stored = hit.get(name)
            if not stored:
                continue
            analysed_as = "body" if name in _BODY_SNIPPETS else name
            fragment = str(hit.highlights(analysed_as, text=stored, top=2))
            if fragment:
                return _mark_excerpt(fragment, stored)
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
