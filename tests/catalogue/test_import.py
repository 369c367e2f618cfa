"""Import and the revision log against real databases: SQLite and the local PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from museum.catalogue.importing import ImportFailed, import_path
from museum.catalogue.models import Collection, Image, Item, Revision
from museum.catalogue.service import Catalogue, close_catalogue, open_catalogue
from museum.config import Settings
from tests.conftest import DATA, TEST_EXHIBIT
from tests.searching import search_text


@pytest.fixture
def cat(database_url: str, tmp_path: Path) -> Iterator[Catalogue]:
    """Open an empty catalogue on the parametrised database."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        exhibit_dir=TEST_EXHIBIT, import_default_exhibit=False)
    catalogue = open_catalogue(settings)
    yield catalogue
    close_catalogue(catalogue)


def _count(cat: Catalogue, model: type) -> int:
    with cat.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _revisions(cat: Catalogue) -> list[Revision]:
    with cat.sessions() as session:
        return list(session.scalars(select(Revision).order_by(Revision.seq)).all())


def test_import_folder_writes_items_images_and_one_revision_each(cat: Catalogue) -> None:
    calls: list[tuple[int, int]] = []
    report = import_path(cat, TEST_EXHIBIT, progress=lambda done, total: calls.append((done, total)))
    assert report.created == 6 and not report.refused, report.summary()
    assert _count(cat, Item) == 6
    assert _count(cat, Image) == 4
    revisions = _revisions(cat)
    item_revs = [r for r in revisions if r.entity == "item"]
    assert sorted(r.entity_id for r in item_revs) == sorted(
        ["met:36004", "npm:1195", "si:F1906.261", "met:435809", "met:13503", "met:544227"])
    assert all(r.action == "create" and r.batch == report.batch for r in item_revs)
    seqs = [r.seq for r in revisions]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # The snapshot is the full state after the change, images included.
    hibiscus = next(r for r in item_revs if r.entity_id == "met:13503")
    assert [i["original_filename"] for i in hibiscus.snapshot["images"]] == [
        "hibiscus.regular.jpeg", "hibiscus.regular.cmyk.jpg"]
    assert calls and calls[-1][0] == 6
    # The import fed the index: searching in the other script finds the painting at once.
    assert [item.id for item, _ in search_text(cat, "牧羊图").hits] == ["met:36004"]


def test_reimport_changes_only_what_changed(cat: Catalogue, tmp_path: Path) -> None:
    import_path(cat, TEST_EXHIBIT)
    before = len(_revisions(cat))
    again = import_path(cat, TEST_EXHIBIT)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert len(_revisions(cat)) == before

    copy = tmp_path / "exhibit" / "test-paintings"
    shutil.copytree(TEST_EXHIBIT / "test-paintings", copy)
    items_csv = copy / "items.csv"
    text = items_csv.read_text(encoding="utf-8")
    items_csv.write_text(text.replace("The Harvesters", "The Harvesters (edited)", 1), encoding="utf-8")
    edited = import_path(cat, copy)
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 5)
    revisions = _revisions(cat)
    assert len(revisions) == before + 1
    assert revisions[-1].entity_id == "met:435809" and revisions[-1].action == "update"
    assert revisions[-1].snapshot["title"] == "The Harvesters (edited)"
    assert [item.id for item, _ in search_text(cat, "edited").hits] == ["met:435809"]


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_imported(cat: Catalogue) -> None:
    report = import_path(cat, DATA / "csv12_bad_rows.csv")
    assert report.created == 5
    lines = {p.line: p.reason for p in report.refused}
    assert set(lines) == {4, 6, 9}
    assert "id is empty" in lines[4]
    assert "title is empty" in lines[6]
    assert "duplicate id" in lines[9] and "line 3" in lines[9]
    assert _count(cat, Item) == 5
    # The refused duplicate did not overwrite the first row's item.
    with cat.sessions() as session:
        item = session.get(Item, "cmoa:things/3a4640a0-77c2-4f78-ad48-2ead42d1a304")
        assert item is not None and item.collection.slug == "fine-arts"


@pytest.mark.parametrize("name, rows", [
    ("csv12_utf8.csv", 20), ("csv12_utf8_bom.csv", 20), ("csv12_gb18030.csv", 10),
    ("csv12_big5.csv", 8),
])
def test_encodings_import_the_same_text(cat: Catalogue, name: str, rows: int) -> None:
    report = import_path(cat, DATA / name)
    assert report.created == rows and not report.refused, [str(p) for p in report.refused]
    with cat.sessions() as session:
        item = session.get(Item, "met:36004")
        assert item is not None
        assert item.title == "牧羊圖" and item.title_alt == "Sheep and herd boy"
        assert "南宋李迪春郊牧羊圖" in item.description
        assert item.collection.slug == "metropolitan-museum-of-art"


def test_twelve_column_csv_into_a_named_collection(cat: Catalogue) -> None:
    report = import_path(cat, DATA / "csv12_utf8.csv", collection="met-sample", institution="met")
    assert report.collections == ["met-sample"] and report.created == 20
    with cat.sessions() as session:
        coll = session.scalar(select(Collection).where(Collection.slug == "met-sample"))
        assert coll is not None and coll.institution.slug == "met"


def test_a_row_with_a_broken_image_is_refused_whole(cat: Catalogue, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(TEST_EXHIBIT / "test-paintings", folder)
    shutil.copy(DATA / "images" / "truncated_jpeg.jpg", folder / "images" / "truncated_jpeg.jpg")
    text = (folder / "items.csv").read_text(encoding="utf-8")
    (folder / "items.csv").write_text(text.replace("harvesters.jpeg", "truncated_jpeg.jpg"),
                                      encoding="utf-8")
    report = import_path(cat, folder)
    assert report.created == 5
    [problem] = report.refused
    assert problem.item_id == "met:435809" and "truncated_jpeg.jpg" in problem.reason
    with cat.sessions() as session:
        # Never half-written: neither the item nor an image row for it exists.
        assert session.get(Item, "met:435809") is None
        assert not session.scalars(select(Image).where(Image.item_id == "met:435809")).all()


def test_file_level_problems_raise_clear_errors(cat: Catalogue, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no such file"):
        import_path(cat, tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,colour\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="at least the columns id and title"):
        import_path(cat, bad)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ImportFailed):
        import_path(cat, binary)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "collection.toml").write_text("slug = [broken", encoding="utf-8")
    with pytest.raises(ImportFailed, match="not valid TOML"):
        import_path(cat, folder)
    assert _count(cat, Item) == 0
    assert _revisions(cat) == []


def test_unsafe_urls_and_bad_values_are_refused(cat: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "id,title,url_of_source,begin_year,end_year,status\n"
        "a:1,Good,https://example.org/1,1500,1600,published\n"
        "a:2,Script,javascript:alert(1),,,\n"
        "a:3,Years,,1700,1600,\n"
        "a:4,Status,,,,lost\n"
        "a:5,Year,,abc,,\n",
        encoding="utf-8")
    report = import_path(cat, path, collection="odd")
    assert report.created == 1
    reasons = {p.item_id: p.reason for p in report.refused}
    assert "http" in reasons["a:2"]
    assert "after" in reasons["a:3"]
    assert "status" in reasons["a:4"]
    assert "whole year" in reasons["a:5"]


def test_simultaneous_first_starts_import_the_default_exhibit_once(database_url: str, tmp_path: Path) -> None:
    import threading

    from museum.catalogue.importing import import_default_exhibit_if_empty

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, exhibit_dir=TEST_EXHIBIT)
    starters = [open_catalogue(settings) for _ in range(3)]
    reports: list[object] = []
    try:
        threads = [threading.Thread(target=lambda c=c: reports.append(import_default_exhibit_if_empty(c)))
                   for c in starters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(reports) == 3 and sum(r is not None for r in reports) == 1
        assert _count(starters[0], Item) == 6
        assert len([r for r in _revisions(starters[0]) if r.entity == "item"]) == 6
    finally:
        for catalogue in starters:
            close_catalogue(catalogue)
