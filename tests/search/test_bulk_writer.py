"""Full rebuilds' fast write path writes exactly what Whoosh's own writer writes, in one or many processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.reading import IndexReader

import museum.catalogue.service as service
import museum.search.index as search_index
from museum.catalogue import store
from museum.catalogue.importing import import_path
from museum.catalogue.service import (
    Catalogue,
    close_catalogue,
    index_fields,
    open_catalogue,
    reindex,
)
from museum.config import Settings
from museum.search.bulk_writer import TermGroupedPool, write_documents
from museum.search.schema import build_schema, item_document
from tests.conftest import TEST_EXHIBIT
from tests.searching import search_text

Postings = dict[tuple[str, bytes], list[tuple[str, float, bytes]]]


def exhibit_documents(cat: Catalogue) -> list[dict[str, Any]]:
    """Return the index documents of every published item of the default exhibit, by id."""
    with cat.sessions() as session:
        ids = sorted(store.published_ids(session))
        loaded = store.items_in(session, ids)
        return [item_document(index_fields(loaded[item_id])) for item_id in ids]


def batched(docs: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Yield docs in lists of size."""
    for start in range(0, len(docs), size):
        yield docs[start:start + size]


def postings_by_item(reader: IndexReader) -> Postings:
    """Return every posting keyed by (field, term), naming documents by their item id.

    Document numbers differ between one and several segments; item ids do not.
    """
    ids = {docnum: stored["id"] for docnum, stored in reader.iter_docs()}
    result: Postings = {}
    for fieldname, tbytes, docnum, weight, value in reader.iter_postings():
        result.setdefault((fieldname, tbytes), []).append((ids[docnum], round(weight, 5), value or b""))
    for postings in result.values():
        postings.sort()
    return result


def field_lengths(reader: IndexReader) -> dict[tuple[str, str], int]:
    """Return every document's length of every scored field, by item id.

    Whoosh answers None for an empty field in a segment that has the field, 0 in one without it.
    """
    lengths = {}
    for docnum, stored in reader.iter_docs():
        for fieldname in ("title", "title_alt", "creator", "meta", "body", "pinyin", "spelling"):
            lengths[(stored["id"], fieldname)] = reader.doc_field_length(docnum, fieldname) or 0
    return lengths


@pytest.fixture(scope="module")
def whoosh_written(exhibit_catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an index of the default exhibit written by Whoosh's own writer, the reference."""
    path = tmp_path_factory.mktemp("whoosh-writer")
    ix = whoosh_index.create_in(str(path), build_schema())
    writer = ix.writer()
    for doc in exhibit_documents(exhibit_catalogue):
        writer.add_document(**doc)
    writer.commit()
    return path


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_bulk_writer_writes_what_whooshs_writer_writes(exhibit_catalogue: Catalogue, whoosh_written: Path,
                                                           tmp_path: Path, workers: int) -> None:
    docs = exhibit_documents(exhibit_catalogue)
    assert len(docs) > 1000
    whoosh_index.create_in(str(tmp_path), build_schema())
    assert write_documents(tmp_path, batched(docs, 100), workers=workers) == len(docs)

    with whoosh_index.open_dir(str(whoosh_written)).reader() as expected, \
            whoosh_index.open_dir(str(tmp_path)).reader() as written:
        assert written.doc_count() == expected.doc_count() == len(docs)
        # One segment per worker, none merged.
        assert len(whoosh_index.open_dir(str(tmp_path))._segments()) == workers
        assert postings_by_item(written) == postings_by_item(expected)
        assert field_lengths(written) == field_lengths(expected)
        assert sorted(d["id"] for _, d in written.iter_docs()) == sorted(d["id"] for d in docs)
        for fieldname in ("title", "body", "pinyin"):
            assert written.field_length(fieldname) == expected.field_length(fieldname)
    # Nothing is left behind but the index itself.
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_the_pool_refuses_postings_that_go_back_in_document_order() -> None:
    pool = TermGroupedPool()
    pool.add(("title", b"b", 0, 1.0, b""))
    pool.add(("title", b"a", 3, 1.0, b""))
    with pytest.raises(ValueError, match="document 2 after document 3"):
        pool.add(("title", b"a", 2, 1.0, b""))
    assert pool.posting_count() == 2
    assert [p[:3] for p in pool.iter_postings()] == [("title", b"a", 3), ("title", b"b", 0)]


def test_a_failing_worker_stops_the_rebuild_and_leaves_the_live_index_alone(tmp_path: Path) -> None:
    cat = open_catalogue(Settings(data_dir=tmp_path / "data", import_default_exhibit=False))
    try:
        import_path(cat, TEST_EXHIBIT)
        live_before = cat.index._live_generation()
        generations_before = sorted(p.name for p in cat.index.root.glob("gen-*"))
        bad = [{"id": "x:1", "title": "fine"}, {"id": "x:2", "no_such_field": "boom"}]
        with cat.index.rebuilding(), pytest.raises(RuntimeError, match="no_such_field"):
            cat.index.rebuild(iter([bad, bad]), seq=99, expected=search_index.PARALLEL_REBUILD_DOCUMENTS)
        assert cat.index._live_generation() == live_before
        assert sorted(p.name for p in cat.index.root.glob("gen-*")) == generations_before
        assert [item.id for item, _ in search_text(cat, "Harvesters").hits] == ["met:435809"]
    finally:
        close_catalogue(cat)


def test_reindex_in_several_processes_finds_what_one_process_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = open_catalogue(Settings(data_dir=tmp_path / "data", import_default_exhibit=False))
    try:
        import_path(cat, TEST_EXHIBIT)
        queries = ["Harvesters", "牧羊圖", "牧羊图", "muyangtu", "painting", "鶴"]
        one_process = {q: search_text(cat, q).hits for q in queries}
        monkeypatch.setattr(search_index, "PARALLEL_REBUILD_DOCUMENTS", 1)
        monkeypatch.setattr(service, "REBUILD_BATCH", 2)   # batches for every worker
        assert reindex(cat) == len(store_ids(cat))
        segments = whoosh_index.open_dir(str(cat.index.root / cat.index._live_generation()))._segments()
        assert len(segments) == min(4, os.cpu_count() or 1)
        for query in queries:
            assert [i.id for i, _ in search_text(cat, query).hits] == [i.id for i, _ in one_process[query]], query
    finally:
        close_catalogue(cat)


def store_ids(cat: Catalogue) -> set[str]:
    """Return the ids of the published items."""
    with cat.sessions() as session:
        return set(store.published_ids(session))


def test_a_long_backlog_is_caught_up_by_a_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BULK_CATCH_UP_REVISIONS", 5)
    cat = open_catalogue(Settings(data_dir=tmp_path / "data", import_default_exhibit=False))
    try:
        first = cat.index._live_generation()
        import_path(cat, TEST_EXHIBIT)   # more than 5 revisions: the import ends with a rebuild
        assert cat.index._live_generation() != first
        with cat.sessions() as session:
            assert cat.index.applied_sequence() == service.latest_sequence(session)
        assert [item.id for item, _ in search_text(cat, "Harvesters").hits] == ["met:435809"]
    finally:
        close_catalogue(cat)


def test_a_long_backlog_does_not_wait_for_another_processs_rebuild(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BULK_CATCH_UP_REVISIONS", 5)
    cat = open_catalogue(Settings(data_dir=tmp_path / "data", import_default_exhibit=False))
    try:
        with cat.index.rebuilding():   # as if another process were rebuilding
            # The import commits, then its catch-up sees the rebuild under way and returns.
            import_path(cat, TEST_EXHIBIT)
            assert cat.index.applied_sequence() == 0
            assert search_text(cat, "Harvesters").total == 0
        # Once that rebuild is over, the next search catches up.
        assert [item.id for item, _ in search_text(cat, "Harvesters").hits] == ["met:435809"]
    finally:
        close_catalogue(cat)
