"""Collection downloads: CSV in the import format round-trips losslessly; JSON Lines; streaming."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from flask import Flask

from museum.catalogue import exports, store
from museum.catalogue.importing import import_path
from museum.catalogue.service import close_catalogue, open_catalogue
from museum.config import Settings
from museum.images.ingest import original_path
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory

ITEM_FIELDS = ("id", "title", "title_alt", "creator", "date_display", "begin_year", "end_year", "period",
               "object_type", "medium", "dimensions", "description", "inscriptions", "provenance",
               "accession_number", "credit_line", "rights", "rights_url", "source_url", "subjects", "status",
               "featured")


def _download(app: Flask, url: str) -> bytes:
    client = app.test_client()
    with client.get(url) as response:
        assert response.status_code == 200, url
        assert response.is_streamed or url.endswith(".toml")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        return response.get_data()


def _published(cat: Any) -> dict[str, dict[str, Any]]:
    """Return every published item's fields and images (hash, caption) by id."""
    with cat.sessions() as session:
        found = {}
        for item_id in sorted(store.published_ids(session)):
            item = store.item_by_id(session, item_id)
            assert item is not None
            fields = {name: getattr(item, name) for name in ITEM_FIELDS}
            fields["institution"] = (item.institution or item.collection.institution).slug
            fields["collection"] = item.collection.slug
            fields["images"] = [(i.sha256, i.caption, i.width, i.height) for i in item.images]
            found[item_id] = fields
        return found


def test_csv_export_then_import_gives_back_the_same_collection(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    cat = app.extensions[CATALOGUE_KEY]
    folder = tmp_path / "roundtrip" / "test-paintings"
    (folder / "images").mkdir(parents=True)
    (folder / "collection.toml").write_bytes(_download(app, "/collections/test-paintings/collection.toml"))
    (folder / "items.csv").write_bytes(_download(app, "/collections/test-paintings/items.csv"))
    # The images a re-user would fetch, saved under the names the CSV gives.
    with cat.sessions() as session:
        for image in store.all_images(session):
            name = image.original_filename
            shutil.copyfile(original_path(cat.settings.originals_dir, image.sha256, image.format),
                            folder / "images" / name)
    other = open_catalogue(Settings(data_dir=tmp_path / "other", import_default_exhibit=False))
    try:
        report = import_path(other, folder)
        assert not report.refused and not report.warnings, (report.refused, report.warnings)
        assert report.created == 5
        assert _published(other) == _published(cat)
        # Collection-level data survives too.
        with other.sessions() as session, cat.sessions() as source:
            again, first = store.collection_by_slug(session, "test-paintings"), store.collection_by_slug(
                source, "test-paintings")
            assert again is not None and first is not None
            for name in ("title", "summary", "credits", "licence_name", "licence_url", "position", "cover_item_id",
                         "featured_item_ids"):
                assert getattr(again, name) == getattr(first, name), name
    finally:
        close_catalogue(other)


def test_jsonl_export_has_one_record_per_published_item(app: Flask) -> None:
    lines = _download(app, "/collections/test-paintings/items.jsonl").decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in records) == sorted(["met:36004", "npm:1195", "si:F1906.261", "met:435809",
                                                       "met:13503"])
    sheep = next(r for r in records if r["id"] == "met:36004")
    assert sheep["title"] == "牧羊圖" and sheep["images"] == []
    hibiscus = next(r for r in records if r["id"] == "met:13503")
    assert [len(i["sha256"]) for i in hibiscus["images"]] == [64, 64]


def test_unknown_collections_are_404(app: Flask) -> None:
    client = app.test_client()
    for url in ("/collections/nope/items.csv", "/collections/nope/items.jsonl", "/collections/nope/collection.toml"):
        with client.get(url) as response:
            assert response.status_code == 404


def test_a_large_export_streams_in_chunks(app: Flask, monkeypatch: Any) -> None:
    # With tiny chunks the five items come from five separate reads: nothing holds the whole collection.
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 1)
    reads: list[int] = []
    real = exports._published_items

    def counting(cat: Any, slug: str) -> Any:
        for item in real(cat, slug):
            reads.append(1)
            yield item

    monkeypatch.setattr(exports, "_published_items", counting)
    body = _download(app, "/collections/test-paintings/items.csv").decode("utf-8-sig")
    assert body.startswith("id,title,title_alt,") and len(reads) == 5
