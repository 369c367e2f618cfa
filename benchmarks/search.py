"""Benchmark search at 100,000+ items side by side with SQLite FTS5 over the same records, in one run.

Owns the search benchmark: write the CMoA bench CSV several times over with rewritten ids, import
it, time a full reindex (pure indexing), build an FTS5 table from the same database rows, run a
fixed mix of visitor queries through `museum.catalogue.service.search` and through equivalent
FTS5 SQL, print per-query medians, p50/p95, ratios and the targets, and read the memory of one
gunicorn worker after it has served the same mix over HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import http.client
import io
import json
import math
import os
import platform
import pstats
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType
from typing import Any
from unittest import mock
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run this checkout's museum package whether or not it is installed.
    sys.path.insert(0, str(REPO_ROOT))

from whoosh.analysis import STOP_WORDS  # noqa: E402 - needs the path above

from museum.catalogue import importing  # noqa: E402
from museum.catalogue.importing import import_path  # noqa: E402
from museum.catalogue.materials import materials_in  # noqa: E402
from museum.catalogue.periods import dynasty_of, facet_period, find_periods  # noqa: E402
from museum.catalogue.service import (  # noqa: E402
    Catalogue,
    SearchResults,
    catch_up_index,
    close_catalogue,
    creator_names,
    open_catalogue,
    reindex,
    search,
)
from museum.config import Settings  # noqa: E402
from museum.search.request import QueryParts, SearchRequest  # noqa: E402

DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "bench" / "cmoa_artworks_all.csv"
HOST = "127.0.0.1"
# The `museum` console script, spelled so it runs this checkout whether or not it is installed.
MUSEUM_MAIN = "from museum.cli import main; main(prog_name='museum')"
PER_PAGE = 24
# Our search page shows the top 12 values of each facet.
FACET_VALUES_SHOWN = 12
# The targets at 100k items.
INDEX_RATE_TARGET = 1000.0
P50_TARGET_MS = 15.0
P95_TARGET_MS = 60.0
FTS5_P50_RATIO_TARGET = 3.0
# FTS5 column weights, the same as FIELD_BOOSTS in museum/search/schema.py (title_alt shares title).
FTS5_RANK = "bm25(4.0, 2.0, 1.5, 1.0)"
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"


# ----- the query mix ------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One query of the mix: what a visitor types, plus any facet filter or year range."""

    kind: str
    text: str
    filters: tuple[tuple[str, str], ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    @property
    def label(self) -> str:
        """Return the query as one short line for tables."""
        extra = [f"{name}={value}" for name, value in self.filters]
        if self.year_from is not None or self.year_to is not None:
            extra.append(f"years {self.year_from}–{self.year_to}")
        return self.text + (f" [{', '.join(extra)}]" if extra else "")

    def request(self) -> SearchRequest:
        """Return the service request the search page would make for this query (page 1)."""
        filters: dict[str, tuple[str, ...]] = {}
        for name, value in self.filters:
            filters[name] = (*filters.get(name, ()), value)
        return SearchRequest(parts=QueryParts(text=self.text), filters=filters, year_from=self.year_from,
                             year_to=self.year_to, sort="relevance", page=1, per_page=PER_PAGE)

    def url(self) -> str:
        """Return the /search URL of the search page for this query."""
        args: list[tuple[str, str]] = [("q", self.text), *self.filters]
        if self.year_from is not None:
            args.append(("from", str(self.year_from)))
        if self.year_to is not None:
            args.append(("to", str(self.year_to)))
        return "/search?" + urlencode(args)


# What visitors to the Carnegie Museum of Art's collection type: its photographers and artists,
# title words, materials, Pittsburgh places, years, combinations, phrases, filters, typos and
# broad single words (these last make p95 honest: they match tens of thousands of items).
QUERY_MIX: tuple[Probe, ...] = (
    Probe("artist", "Teenie Harris"),
    Probe("artist", "Warhol"),
    Probe("artist", "Andy Warhol"),
    Probe("artist", "Eugene Smith"),
    Probe("artist", "Luke Swank"),
    Probe("artist", "Hiroshige"),
    Probe("artist", "Samuel Rosenberg"),
    Probe("artist", "Winslow Homer"),
    Probe("artist", "Mary Cassatt"),
    Probe("artist", "Whistler"),
    Probe("artist", "Zoe Strauss"),
    Probe("artist", "Monet"),
    Probe("title word", "portrait"),
    Probe("title word", "landscape"),
    Probe("title word", "still life"),
    Probe("title word", "self-portrait"),
    Probe("title word", "woman"),
    Probe("title word", "house"),
    Probe("title word", "bowl"),
    Probe("title word", "vase"),
    Probe("title word", "chair"),
    Probe("material", "gelatin silver print"),
    Probe("material", "porcelain"),
    Probe("material", "woodblock print"),
    Probe("material", "oil on canvas"),
    Probe("material", "lithograph"),
    Probe("material", "glass"),
    Probe("material", "etching"),
    Probe("place", "Pittsburgh"),
    Probe("place", "Hill District"),
    Probe("place", "Paris"),
    Probe("place", "Japan"),
    Probe("place", "New York"),
    Probe("place", "Homestead"),
    Probe("year", "1950"),
    Probe("year", "1885"),
    Probe("year", "1936"),
    Probe("combination", "Pittsburgh street"),
    Probe("combination", "portrait woman"),
    Probe("combination", "Teenie Harris children"),
    Probe("combination", "Japanese woodblock print"),
    Probe("combination", "steel mill"),
    Probe("combination", "Carnegie Library"),
    Probe("combination", "flower vase"),
    Probe("phrase", '"still life"'),
    Probe("phrase", '"Hill District"'),
    Probe("phrase", '"gelatin silver print"'),
    Probe("phrase", '"Andrew Carnegie Fund"'),
    Probe("phrase", '"floor plan"'),
    Probe("filter", "portrait", filters=(("material", "paper"),)),
    Probe("filter", "Pittsburgh", filters=(("collection", "photography"),)),
    Probe("filter", "vase", filters=(("material", "porcelain"),)),
    Probe("year range", "landscape", year_from=1800, year_to=1900),
    Probe("year range", "print", year_from=1900, year_to=1950),
    Probe("misspelling", "Warhole"),
    Probe("misspelling", "Pittsburg"),
    Probe("misspelling", "porcelian"),
    Probe("misspelling", "lanscape"),
    Probe("misspelling", "Hiroshigi"),
    Probe("broad", "untitled"),
    Probe("broad", "print"),
    Probe("broad", "paper"),
    Probe("broad", "drawing"),
    Probe("broad", "photograph"),
    Probe("operator", "chair -armchair"),
    Probe("operator", "cup OR saucer"),
    Probe("operator", "Japanese -print"),
)


# ----- the bench records --------------------------------------------------------------------


def rewrite_id(item_id: str, copy: int) -> str:
    """Return the id of the n-th copy of a record: cmoa:things/x becomes cmoa-r2:things/x."""
    source, sep, rest = item_id.partition(":")
    return f"{source}-r{copy}:{rest}" if sep else f"{item_id}-r{copy}"


def write_bench_csv(source: Path, dest: Path, copies: int, rows: int | None) -> int:
    """Write the bench CSV `copies` times over into one 12-column CSV; return the rows written.

    Copy 1 is the file as it is; copy n ≥ 2 gets ids rewritten by rewrite_id and " [rn]" after
    its title, so every item is distinct while the words visitors search for stay the same.
    """
    with source.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fieldnames = list(reader.fieldnames or [])
        records = [row for _, row in zip(range(rows), reader, strict=False)] if rows else list(reader)
    with dest.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fieldnames)
        writer.writeheader()
        for copy in range(1, copies + 1):
            for row in records:
                if copy > 1:
                    # An empty title stays empty, so the copy is refused like the original.
                    title = row["title"] + f" [r{copy}]" if row["title"].strip() else row["title"]
                    row = dict(row, id=rewrite_id(row["id"], copy), title=title)
                writer.writerow(row)
    return len(records) * copies


def published_count(cat: Catalogue) -> int:
    """Return how many published items the catalogue holds."""
    with cat.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM item WHERE status = 'published'").scalar_one())


def directory_bytes(path: Path) -> int:
    """Return the total size of the files under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def live_index_dir(settings: Settings) -> Path:
    """Return the live generation directory of the Whoosh index."""
    link = settings.index_dir / "live"
    return settings.index_dir / os.readlink(link)


@dataclass
class ImportFigures:
    """How long the import took: in all, and the part spent catching the index up at its end."""

    rows: int
    created: int
    refused: int
    seconds: float
    catch_up_seconds: float

    @property
    def rows_per_s(self) -> float:
        """Return rows per second of the whole import_path call."""
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def write_rows_per_s(self) -> float:
        """Return rows per second of the database writes alone (before the index catch-up)."""
        writing = self.seconds - self.catch_up_seconds
        return self.rows / writing if writing > 0 else 0.0


def run_import(cat: Catalogue, csv_path: Path, rows: int) -> ImportFigures:
    """Import the bench CSV with import_path and time it, with the final index catch-up apart."""
    spent: list[float] = []

    def timed_catch_up(catalogue: Catalogue) -> int:
        """Run the real catch-up and note how long it took."""
        began = time.perf_counter()
        try:
            return catch_up_index(catalogue)
        finally:
            spent.append(time.perf_counter() - began)

    # import_path indexes the new revisions in one catch_up_index call at its end; wrapping the
    # name it calls (in this process, for this call only) splits database writes from indexing.
    with mock.patch.object(importing, "catch_up_index", timed_catch_up):
        began = time.perf_counter()
        report = import_path(cat, csv_path)
        seconds = time.perf_counter() - began
    return ImportFigures(rows=rows, created=report.created, refused=len(report.refused), seconds=seconds,
                         catch_up_seconds=sum(spent))


# ----- SQLite FTS5 over the same records ----------------------------------------------------

# Built from constants only; every value of a query is bound with ?, never formatted in.
FTS5_SCHEMA = f"""
CREATE TABLE item (
    rowid INTEGER PRIMARY KEY, institution TEXT, collection TEXT, object_type TEXT, period TEXT,
    has_image TEXT, begin_year INTEGER, end_year INTEGER
);
CREATE TABLE display (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, title TEXT, date_display TEXT);
CREATE TABLE item_material (item INTEGER NOT NULL, value TEXT NOT NULL);
CREATE TABLE item_creator (item INTEGER NOT NULL, value TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(title, creator, meta, body, tokenize = '{FTS5_TOKENIZER}');
INSERT INTO fts (fts, rank) VALUES ('rank', '{FTS5_RANK}');
"""  # noqa: S608
FTS5_INDEXES = """
CREATE INDEX item_material_item ON item_material (item, value);
CREATE INDEX item_material_value ON item_material (value, item);
CREATE INDEX item_creator_item ON item_creator (item, value);
INSERT INTO fts (fts) VALUES ('optimize');
"""
# The same rows reindex() reads: published items with their collection and institution.
SOURCE_ROWS = """
SELECT i.id, i.title, i.title_alt, i.creator, i.object_type, i.period, i.date_display, i.medium,
       i.accession_number, i.credit_line, i.dimensions, i.subjects, i.description, i.inscriptions,
       i.provenance, i.begin_year, i.end_year, c.slug, c.title, coalesce(ii.slug, ci.slug),
       coalesce(ii.name, ci.name), EXISTS (SELECT 1 FROM image WHERE image.item_id = i.id)
FROM item i
JOIN collection c ON c.id = i.collection_id
JOIN institution ci ON ci.id = c.institution_id
LEFT JOIN institution ii ON ii.id = i.institution_id
WHERE i.status = 'published'
ORDER BY i.id
"""
SINGLE_FACETS = ("institution", "collection", "object_type", "period", "has_image")
MULTI_FACETS = {"material": "item_material", "creator": "item_creator"}


def _labels(raw: str | None) -> str:
    """Return the texts of a JSON language map (a collection title) joined by spaces."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return raw or ""
    return " ".join(str(v) for v in value.values()) if isinstance(value, dict) else str(value)


def _period_names(period: str | None, date_display: str | None) -> list[str]:
    """Return the names of the periods (and their dynasties) a record names, as our index adds them."""
    named = find_periods(" ".join(filter(None, [period, date_display])))
    names = [name for p in named for name in p.names.values()]
    for found in named:
        dynasty = dynasty_of(found)
        if dynasty is not found:
            names.extend(dynasty.names.values())
    return names


def build_fts5(museum_db: Path, fts_path: Path) -> int:
    """Build the FTS5 database from the museum database's published items; return the row count.

    Columns: title (title + title_alt), creator, meta (object type, period, date, medium,
    accession number, credit line, dimensions, collection title, institution name, subjects, and
    the names of the periods and materials found in them) and body (description, inscriptions,
    provenance), as our index's fields. Those names and the facet values are computed with our
    own functions (periods, materials, creator names) so both sides match and count the same.
    """
    source = sqlite3.connect(f"file:{museum_db}?mode=ro", uri=True)
    target = sqlite3.connect(fts_path)
    try:
        target.executescript(FTS5_SCHEMA)
        count = 0
        with target:
            for rowid, row in enumerate(source.execute(SOURCE_ROWS), start=1):
                (item_id, title, title_alt, creator, object_type, period, date_display, medium, accession,
                 credit_line, dimensions, subjects, description, inscriptions, provenance, begin, end,
                 collection, collection_title, institution, institution_name, has_image) = row
                subject_list = json.loads(subjects or "[]")
                materials = materials_in(" ".join(filter(None, [medium, object_type])))
                meta = "\n".join(p for p in (object_type, period, date_display, medium, accession, credit_line,
                                             dimensions, _labels(collection_title), _labels(institution_name),
                                             *subject_list, *_period_names(period, date_display),
                                             *(name for m in materials for name in m.names.values())) if p)
                body = "\n".join(p for p in (description, inscriptions, provenance) if p)
                target.execute("INSERT INTO fts (rowid, title, creator, meta, body) VALUES (?, ?, ?, ?, ?)",
                               (rowid, "\n".join(p for p in (title, title_alt) if p), creator or "", meta, body))
                end = begin if end is None else end
                target.execute(
                    "INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (rowid, institution, collection, (object_type or "").strip().lower(),
                     facet_period([period, date_display], begin, end) or "", "yes" if has_image else "no",
                     begin, end))
                target.execute("INSERT INTO display VALUES (?, ?, ?, ?)", (rowid, item_id, title, date_display))
                target.executemany("INSERT INTO item_material VALUES (?, ?)", [(rowid, m.key) for m in materials])
                target.executemany("INSERT INTO item_creator VALUES (?, ?)",
                                   [(rowid, name) for name in creator_names(creator or "")])
                count += 1
            target.executescript(FTS5_INDEXES)
        return count
    finally:
        source.close()
        target.close()


_CLAUSE = re.compile(r'(?P<neg>-)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
# unicode61's token characters: letters and digits (underscore and punctuation separate tokens).
_TOKEN = re.compile(r"[^\W_]+")


def _fts5_string(text: str) -> str:
    """Return text as an FTS5 string literal (a phrase of its tokens); quotes inside are doubled."""
    return '"' + text.replace('"', '""') + '"'


def fts5_query(text: str) -> str | None:
    """Translate our query syntax to FTS5, quoting every token so no input is FTS5 syntax.

    Words must all match (AND); a word of several tokens (self-portrait) needs each of them,
    as ours does; stop words on their own are dropped, as our analyzer drops them; "phrases"
    become FTS5 phrases; a trailing * is a prefix; -word and -"phrase" become NOT; OR joins the
    clauses on either side. None means nothing searchable was typed.
    """
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for match in _CLAUSE.finditer(text):
        word = match.group("word")
        if word in ("OR", "|") and not match.group("neg"):
            pending_or = bool(positive)
            continue
        if match.group("phrase") is not None:
            tokens = _TOKEN.findall(match.group("phrase"))
            clause = _fts5_string(" ".join(tokens)) if tokens else None
        else:
            prefix = word.endswith("*")
            tokens = [t for t in _TOKEN.findall(word) if t.lower() not in STOP_WORDS]
            parts = [_fts5_string(t) for t in tokens]
            if parts and prefix:
                parts[-1] += "*"
            clause = " AND ".join(parts) if parts else None
            if clause and len(parts) > 1:
                clause = f"({clause})"
        if clause is None:
            continue
        if match.group("neg"):
            negative.append(clause)
        elif pending_or and positive:
            positive[-1] = f"({positive[-1]} OR {clause})"
            pending_or = False
        else:
            positive.append(clause)
    if not positive:
        return None
    query = " AND ".join(positive)
    if negative:
        query = f"({query}) NOT ({' OR '.join(negative)})"
    return query


@dataclass
class Fts5Page:
    """What the FTS5 side returns for one query: the same things our search page shows."""

    total: int
    hits: list[tuple[str, str, str, str]]
    facets: dict[str, list[tuple[str, int]]]


class Fts5Search:
    """The FTS5 equivalent of one search page, on one connection with a scratch table of matches."""

    def __init__(self, path: Path) -> None:
        """Open the FTS5 database and create the temporary table of a query's matches."""
        self.conn = sqlite3.connect(path)
        self.conn.execute("CREATE TEMP TABLE matched (rowid INTEGER PRIMARY KEY)")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @staticmethod
    def _filters(probe: Probe, leave_out: str | None) -> tuple[list[str], list[Any]]:
        """Return SQL conditions on `i` (an item row) for the probe's filters, except one facet's."""
        conditions: list[str] = []
        params: list[Any] = []
        wanted: dict[str, list[str]] = {}
        for name, value in probe.filters:
            wanted.setdefault(name, []).append(value)
        for name, values in wanted.items():
            if name == leave_out:
                continue
            marks = ", ".join("?" * len(values))
            if name in MULTI_FACETS:
                # Correlated, so each matched row is one index probe instead of listing every
                # item with the value (tens of thousands for "paper") on each statement.
                conditions.append(f"EXISTS (SELECT 1 FROM {MULTI_FACETS[name]} x "  # noqa: S608
                                  f"WHERE x.item = i.rowid AND x.value IN ({marks}))")
            else:
                conditions.append(f"i.{name} IN ({marks})")
            params.extend(values)
        if leave_out != "years" and (probe.year_from is not None or probe.year_to is not None):
            conditions.append("i.begin_year IS NOT NULL")
            if probe.year_from is not None:
                conditions.append("i.end_year >= ?")
                params.append(probe.year_from)
            if probe.year_to is not None:
                conditions.append("i.begin_year <= ?")
                params.append(probe.year_to)
        return conditions, params

    def _counts(self, columns: Sequence[str], multi: str | None, probe: Probe,
                leave_out: str | None) -> dict[str, list[tuple[str, int]]]:
        """Return the top values of facet columns over the matches, in one GROUP BY pass."""
        conditions, params = self._filters(probe, leave_out)
        # CROSS JOIN fixes the loop order: the planner knows nothing of the scratch table's size
        # and would otherwise scan all 100k items and probe the matches.
        joins = " CROSS JOIN item i ON i.rowid = m.rowid" if columns or conditions else ""
        if multi:
            joins += f" CROSS JOIN {MULTI_FACETS[multi]} v ON v.item = m.rowid"
        selected = [f"i.{c}" for c in columns] + (["v.value"] if multi else [])
        sql = (f"SELECT {', '.join(selected)}, count(*) FROM matched m{joins} "  # noqa: S608 - our names only
               f"WHERE {' AND '.join(conditions) or '1'} GROUP BY {', '.join(selected)}")
        names = [*columns, *([multi] if multi else [])]
        tallies: dict[str, dict[str, int]] = {name: {} for name in names}
        for row in self.conn.execute(sql, params):
            for name, value in zip(names, row, strict=False):
                if value:
                    tallies[name][value] = tallies[name].get(value, 0) + row[-1]
        return {name: sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:FACET_VALUES_SHOWN]
                for name, counts in tallies.items()}

    def search(self, probe: Probe) -> Fts5Page:
        """Run one search page's worth of SQL: matches, count, top 24 with snippets, facet counts."""
        match = fts5_query(probe.text)
        if match is None:
            return Fts5Page(total=0, hits=[], facets={})
        cur = self.conn
        cur.execute("DELETE FROM matched")
        cur.execute("INSERT INTO matched SELECT rowid FROM fts WHERE fts MATCH ?", (match,))
        conditions, params = self._filters(probe, None)
        where = " AND ".join(conditions)
        if conditions:
            total = cur.execute("SELECT count(*) FROM matched m CROSS JOIN item i ON i.rowid = m.rowid "  # noqa: S608
                                f"WHERE {where}", params).fetchone()[0]
        else:
            total = cur.execute("SELECT count(*) FROM matched").fetchone()[0]
        # ORDER BY rank is done inside FTS5 (rows come out in rank order), so with LIMIT only
        # the 24 rows shown get a snippet. The unary + keeps a filter out of FTS5's own plan:
        # without it SQLite runs the full-text query once per filtered row id.
        keep = (" AND +fts.rowid IN (SELECT m.rowid FROM matched m CROSS JOIN item i ON i.rowid = m.rowid "  # noqa: S608
                f"WHERE {where})") if conditions else ""
        page = cur.execute(
            "SELECT fts.rowid, snippet(fts, -1, '<mark>', '</mark>', '…', 24) FROM fts "  # noqa: S608
            f"WHERE fts MATCH ?{keep} ORDER BY rank LIMIT {PER_PAGE}", [match, *params]).fetchall()
        rows = {r[0]: r for r in cur.execute(
            f"SELECT rowid, id, title, date_display FROM display WHERE rowid IN ({', '.join('?' * len(page))})",  # noqa: S608
            [r[0] for r in page])}
        hits = [(rows[rowid][1], rows[rowid][2], rows[rowid][3], snippet) for rowid, snippet in page]
        # Like ours, a facet's counts ignore its own selection: the single-valued facets without
        # a selection share one pass; a selected one and each multi-valued facet get their own.
        selected = {name for name, _ in probe.filters}
        facets = self._counts([n for n in SINGLE_FACETS if n not in selected], None, probe, None)
        for name in SINGLE_FACETS:
            if name in selected:
                facets.update(self._counts([name], None, probe, name))
        for name in MULTI_FACETS:
            facets.update(self._counts([], name, probe, name))
        return Fts5Page(total=int(total), hits=hits, facets=facets)


# ----- timing -------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of values (0 when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class QueryTiming:
    """One query's timings on both sides (milliseconds, one per round) and its hit counts."""

    probe: Probe
    ours_ms: list[float] = field(default_factory=list)
    fts5_ms: list[float] = field(default_factory=list)
    ours_total: int = 0
    fts5_total: int = 0
    fts5_query: str = ""
    suggestion: str = ""

    @property
    def ours_median(self) -> float:
        """Return the median of our timings."""
        return statistics.median(self.ours_ms)

    @property
    def fts5_median(self) -> float:
        """Return the median of the FTS5 timings."""
        return statistics.median(self.fts5_ms)


def measure_queries(cat: Catalogue, fts: Fts5Search, repeats: int) -> list[QueryTiming]:
    """Warm up with one pass of the mix on each side, then time `repeats` rounds of it on each."""
    timings = [QueryTiming(probe=p, fts5_query=fts5_query(p.text) or "") for p in QUERY_MIX]
    for timing in timings:
        found: SearchResults = search(cat, timing.probe.request())
        timing.ours_total, timing.suggestion = found.total, found.suggestion
        timing.fts5_total = fts.search(timing.probe).total
    for _round in range(repeats):
        # Whole mixes alternate, so both sides see the same neighbours on a shared machine.
        for timing in timings:
            request = timing.probe.request()
            began = time.perf_counter()
            search(cat, request)
            timing.ours_ms.append((time.perf_counter() - began) * 1000)
        for timing in timings:
            began = time.perf_counter()
            fts.search(timing.probe)
            timing.fts5_ms.append((time.perf_counter() - began) * 1000)
    return timings


def profile_queries(cat: Catalogue, timings: list[QueryTiming], count: int, rounds: int) -> str:
    """Profile our search over the slowest queries and return the top costs as text."""
    slowest = sorted(timings, key=lambda t: t.ours_median, reverse=True)[:count]
    profiler = cProfile.Profile()
    profiler.enable()
    for _round in range(rounds):
        for timing in slowest:
            search(cat, timing.probe.request())
    profiler.disable()
    out = io.StringIO()
    out.write("profiled (slowest by our median): "
              + ", ".join(f"{t.probe.label} ({t.ours_median:.0f} ms)" for t in slowest) + "\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# ----- one server worker's memory -----------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _status_kb(pid: int) -> dict[str, int]:
    """Return the kB figures of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssFile) and Pss from smaps_rollup.

    RssFile is mostly the index files Whoosh maps into memory: the kernel can drop those pages
    and they are shared by every worker, unlike RssAnon.
    """
    found: dict[str, int] = {}
    for name in ("status", "smaps_rollup"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB" and key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Pss"):
                    found[key] = int(parts[0])
    return found


def _children(pid: int) -> list[int]:
    """Return the child process ids of pid."""
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _get(port: int, path: str, timeout: float) -> tuple[int, int]:
    """Request path and return its status and body size."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Language": "en", "User-Agent": "museum-benchmark"})
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


def worker_memory(data_dir: Path, log_path: Path, start_timeout: float = 900.0) -> dict[str, Any]:
    """Serve the data dir with one gunicorn worker, send it the mix once, and read the worker's memory."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        MUSEUM_DATA_DIR=str(data_dir), MUSEUM_IMPORT_DEFAULT_EXHIBIT="0")
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", MUSEUM_MAIN, "serve", "--port", str(port),
                                 "--workers", "1"], env=env, cwd=REPO_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("museum serve exited:\n" + log_path.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"museum serve not ready after {start_timeout:.0f} s")
            with contextlib.suppress(OSError):
                if _get(port, "/", 30)[0] == 200:
                    break
            time.sleep(0.3)
        workers = _children(proc.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker under pid {proc.pid}, found {workers}")
        worker = workers[0]
        after_start = _status_kb(worker)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        for probe in QUERY_MIX:
            began = time.perf_counter()
            status, _size = _get(port, probe.url(), 60)
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        after_mix = _status_kb(worker)
        return {"worker_pid": worker, "master_kb": _status_kb(proc.pid), "after_start_kb": after_start,
                "after_mix_kb": after_mix, "http_statuses": statuses,
                "http_p50_ms": percentile(latencies, 0.5), "http_p95_ms": percentile(latencies, 0.95)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # The worker may outlive a master that died first; the group id is the master's pid.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


# ----- orchestration ------------------------------------------------------------------------


def current_commit() -> str:
    """Return `git describe` of the checkout (with -dirty when files are modified)."""
    return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()


def machine_facts() -> dict[str, Any]:
    """Return what a reader needs to compare these figures with another machine's."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("whoosh-reloaded", "numpy", "sqlalchemy", "flask", "gunicorn"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    return {"commit": current_commit(), "cpus_usable": len(os.sched_getaffinity(0)), "cpu_model": model,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "versions": versions, "loadavg_start": list(os.getloadavg())}


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    """Turn a termination signal into SystemExit so cleanup code runs."""
    raise SystemExit(128 + signum)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="bench CSV (12-column format)")
    parser.add_argument("--copies", type=int, default=4, help="times the CSV is written, ids rewritten")
    parser.add_argument("--rows", type=int, default=None, help="use only the first N rows of the CSV")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data directory to import into, or to reuse when it already holds items "
                             "(default: a temporary one, removed at the end)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds of the query mix")
    parser.add_argument("--no-reindex", action="store_true", help="skip the timed full reindex")
    parser.add_argument("--no-server", action="store_true", help="skip the gunicorn worker memory step")
    parser.add_argument("--profile", type=int, default=0, metavar="K",
                        help="profile our search over the K slowest queries (cProfile) and print the top costs")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every query's medians and hit counts")
    return parser.parse_args(argv)


def _verdict(ok: bool | None) -> str:
    """Return the word printed for a target (None: not measured in this run)."""
    return "not measured" if ok is None else "met" if ok else "MISSED"


def print_queries(timings: list[QueryTiming]) -> None:
    """Print each query's medians and hit counts on both sides."""
    print("\n| query | kind | ours ms | FTS5 ms | ours/FTS5 | ours hits | FTS5 hits | suggestion |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for t in timings:
        ratio = t.ours_median / t.fts5_median if t.fts5_median else float("inf")
        print(f"| {t.probe.label} | {t.probe.kind} | {t.ours_median:.1f} | {t.fts5_median:.1f} | {ratio:.1f} | "
              f"{t.ours_total:,} | {t.fts5_total:,} | {t.suggestion} |")


def benchmark(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Import (or reuse), reindex, build FTS5, time both, read the worker's memory; return the figures."""
    facts = machine_facts()
    print(f"machine: {facts['cpus_usable']} usable CPUs, {facts['cpu_model']}, Python {facts['python']}, "
          f"SQLite {facts['sqlite']}, {facts['platform']}")
    print(f"commit {facts['commit']}; versions {facts['versions']}; load average {facts['loadavg_start']}",
          flush=True)
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="museum-search-bench-")))
    data_dir = args.data_dir or work / "data"
    settings = Settings(data_dir=data_dir, import_default_exhibit=False, page_size=PER_PAGE)
    cat = open_catalogue(settings)
    stack.callback(close_catalogue, cat)
    figures: dict[str, Any] = {"machine": facts, "settings": {k: str(v) for k, v in vars(args).items()}}

    existing = published_count(cat)
    if existing:
        print(f"reusing {data_dir}: {existing:,} published items already there (no import)", flush=True)
        figures["import"] = None
    else:
        csv_path = work / "bench.csv"
        rows = write_bench_csv(args.csv, csv_path, args.copies, args.rows)
        print(f"importing {rows:,} rows ({args.copies} copies of {args.csv.name}) into {data_dir} ...", flush=True)
        imported = run_import(cat, csv_path, rows)
        figures["import"] = {**asdict(imported), "rows_per_s": imported.rows_per_s,
                             "write_rows_per_s": imported.write_rows_per_s}
        print(f"import: {imported.rows:,} rows ({imported.created:,} created, {imported.refused} refused) in "
              f"{imported.seconds:.1f} s = {imported.rows_per_s:,.0f} rows/s; of that the index catch-up took "
              f"{imported.catch_up_seconds:.1f} s (database writes alone {imported.write_rows_per_s:,.0f} rows/s)",
              flush=True)
    items = published_count(cat)
    figures["items"] = items

    if not args.no_reindex:
        print(f"reindexing {items:,} items ...", flush=True)
        began = time.perf_counter()
        indexed = reindex(cat)
        seconds = time.perf_counter() - began
        figures["reindex"] = {"documents": indexed, "seconds": seconds, "records_per_s": indexed / seconds}
        print(f"reindex: {indexed:,} documents in {seconds:.1f} s = {indexed / seconds:,.0f} records/s", flush=True)
    else:
        figures["reindex"] = None
    live = live_index_dir(settings)
    index_bytes = directory_bytes(live)
    figures["index_bytes"] = index_bytes
    print(f"index: {live} holds {index_bytes / 1e6:,.1f} MB", flush=True)

    fts_path = work / "fts5.sqlite3"
    print("building FTS5 from the same rows ...", flush=True)
    began = time.perf_counter()
    fts_rows = build_fts5(settings.data_dir / "museum.sqlite3", fts_path)
    fts_seconds = time.perf_counter() - began
    fts_bytes = fts_path.stat().st_size
    figures["fts5_build"] = {"rows": fts_rows, "seconds": fts_seconds, "records_per_s": fts_rows / fts_seconds,
                             "bytes": fts_bytes}
    print(f"FTS5: {fts_rows:,} rows in {fts_seconds:.1f} s = {fts_rows / fts_seconds:,.0f} records/s, "
          f"{fts_bytes / 1e6:,.1f} MB (item + facet tables included)", flush=True)

    fts = Fts5Search(fts_path)
    stack.callback(fts.close)
    print(f"timing {len(QUERY_MIX)} queries: 1 warm-up pass, then {args.repeats} rounds on each side ...", flush=True)
    timings = measure_queries(cat, fts, args.repeats)
    if args.verbose:
        print_queries(timings)
    ours = [t.ours_median for t in timings]
    theirs = [t.fts5_median for t in timings]
    summary = {
        "queries": len(timings),
        "ours_p50_ms": percentile(ours, 0.5), "ours_p95_ms": percentile(ours, 0.95), "ours_max_ms": max(ours),
        "fts5_p50_ms": percentile(theirs, 0.5), "fts5_p95_ms": percentile(theirs, 0.95), "fts5_max_ms": max(theirs),
    }
    summary["p50_ratio"] = summary["ours_p50_ms"] / summary["fts5_p50_ms"]
    summary["p95_ratio"] = summary["ours_p95_ms"] / summary["fts5_p95_ms"]
    figures["queries"] = [{"query": t.probe.label, "kind": t.probe.kind, "fts5": t.fts5_query,
                           "ours_ms": t.ours_ms, "fts5_ms": t.fts5_ms, "ours_total": t.ours_total,
                           "fts5_total": t.fts5_total, "suggestion": t.suggestion} for t in timings]
    figures["latency"] = summary
    slowest = sorted(timings, key=lambda t: t.ours_median, reverse=True)[:5]
    print("slowest of ours: " + "; ".join(f"{t.probe.label} {t.ours_median:.0f} ms ({t.ours_total:,} hits)"
                                           for t in slowest))

    if args.profile:
        print("\n" + profile_queries(cat, timings, args.profile, max(1, args.repeats)))

    memory: dict[str, Any] | None = None
    if not args.no_server:
        # The server runs the checkout as it is now; others commit while a run goes on, and a
        # changed index schema makes `museum serve` rebuild the index before it answers.
        facts["commit_at_serve"] = current_commit()
        if facts["commit_at_serve"] != facts["commit"]:
            print(f"warning: the checkout changed during the run ({facts['commit']} -> "
                  f"{facts['commit_at_serve']}); the server runs the newer code", flush=True)
        print("starting `museum serve --workers 1` and sending it the mix once ...", flush=True)
        try:
            memory = worker_memory(data_dir, work / "serve.log")
        except RuntimeError as exc:
            # Keep the figures measured so far rather than losing the whole run.
            print(f"worker memory step failed: {exc}", flush=True)
            figures["memory_error"] = str(exc)
    figures["memory"] = memory

    reindex_rate = figures["reindex"]["records_per_s"] if figures["reindex"] else None
    targets: dict[str, bool | None] = {
        "indexing_rate": None if reindex_rate is None else reindex_rate >= INDEX_RATE_TARGET,
        "p50": summary["ours_p50_ms"] < P50_TARGET_MS,
        "p95": summary["ours_p95_ms"] < P95_TARGET_MS,
        "fts5_p50_ratio": summary["p50_ratio"] <= FTS5_P50_RATIO_TARGET,
        "memory_reported": None if args.no_server else memory is not None,
    }
    figures["targets"] = targets
    facts["loadavg_end"] = list(os.getloadavg())

    print(f"\n{items:,} items; {len(timings)} queries; per-query medians of {args.repeats} rounds, "
          "then p50/p95 across queries (nearest rank)\n")
    print("| figure | ours (Whoosh service) | SQLite FTS5 | ours / FTS5 |")
    print("|---|---:|---:|---:|")
    if figures["import"]:
        print(f"| import, rows/s (import_path, incl. index catch-up) | {figures['import']['rows_per_s']:,.0f} | | |")
    if reindex_rate is not None:
        print(f"| indexing, records/s (reindex / FTS5 build) | {reindex_rate:,.0f} | "
              f"{figures['fts5_build']['records_per_s']:,.0f} | "
              f"{reindex_rate / figures['fts5_build']['records_per_s']:.2f} |")
    print(f"| index size, MB | {index_bytes / 1e6:,.1f} | {fts_bytes / 1e6:,.1f} | {index_bytes / fts_bytes:.2f} |")
    for name in ("p50", "p95"):
        print(f"| query {name}, ms | {summary[f'ours_{name}_ms']:.1f} | {summary[f'fts5_{name}_ms']:.1f} | "
              f"{summary[f'{name}_ratio']:.2f} |")
    print(f"| query max, ms | {summary['ours_max_ms']:.1f} | {summary['fts5_max_ms']:.1f} | "
          f"{summary['ours_max_ms'] / summary['fts5_max_ms']:.2f} |")
    if memory:
        rss = memory["after_mix_kb"]
        print(f"\none gunicorn worker after the mix over HTTP: VmRSS {rss.get('VmRSS', 0) / 1024:,.0f} MB "
              f"(anonymous {rss.get('RssAnon', 0) / 1024:,.0f} MB, file-backed {rss.get('RssFile', 0) / 1024:,.0f} MB; "
              f"peak {rss.get('VmHWM', 0) / 1024:,.0f} MB, Pss {rss.get('Pss', 0) / 1024:,.0f} MB); after "
              f"start-up and GET /: {memory['after_start_kb'].get('VmRSS', 0) / 1024:,.0f} MB; statuses "
              f"{memory['http_statuses']}; HTTP p50 {memory['http_p50_ms']:.0f} ms, p95 "
              f"{memory['http_p95_ms']:.0f} ms (one pass, page cache cold)")
    print("\ntargets at 100k items:")
    if reindex_rate is not None:
        print(f"  indexing >= {INDEX_RATE_TARGET:,.0f} records/s: {reindex_rate:,.0f} -> "
              f"{_verdict(targets['indexing_rate'])}")
    print(f"  p50 < {P50_TARGET_MS:g} ms: {summary['ours_p50_ms']:.1f} -> {_verdict(targets['p50'])}")
    print(f"  p95 < {P95_TARGET_MS:g} ms: {summary['ours_p95_ms']:.1f} -> {_verdict(targets['p95'])}")
    print(f"  p50 within {FTS5_P50_RATIO_TARGET:g}x FTS5: {summary['p50_ratio']:.2f}x -> "
          f"{_verdict(targets['fts5_p50_ratio'])}")
    print(f"  worker memory reported: {_verdict(targets['memory_reported'])}")
    if items < 100_000:
        print(f"note: only {items:,} items; the targets are for 100,000+")
    print(f"load average at end {facts['loadavg_end']}")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    # Ctrl-C and SIGTERM must reach the cleanup (server process group, temporary directory).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    with contextlib.ExitStack() as stack:
        figures = benchmark(args, stack)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
