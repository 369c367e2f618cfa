"""Bulk import in the browser: upload, dry run, background run with progress, report, resume and undo,
with who may import what and how bad files are refused. Real apps, real databases, real threads."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from museum.catalogue.importing import TableTarget, import_table
from museum.catalogue.models import Image, ImportJob, Item, Revision
from museum.catalogue.service import Catalogue, set_item_status
from museum.curation import bulk_import
from museum.web import CATALOGUE_KEY
from tests.conftest import DATA, IMAGES, AppFactory
from tests.curate.helpers import add_user, csrf_token, log_in
from tests.searching import search_text

HEADER = ("id,title,title_alt,creator,date,begin_year,end_year,institution,subjects,status,featured,"
          "image_filename,image_caption,description\n")


def _cat(app: Flask) -> Catalogue:
    return app.extensions[CATALOGUE_KEY]  # type: ignore[no-any-return]


def _count(app: Flask, model: type) -> int:
    with _cat(app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _job_row(app: Flask, job_id: str) -> ImportJob:
    with _cat(app).sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _curator(app: Flask, name: str = "carol", role: str = "curator",
             institutions: tuple[str, ...] = ()) -> FlaskClient:
    add_user(app, name, role=role, institutions=institutions)
    client = app.test_client()
    assert log_in(client, name) == 302
    return client


def _upload(client: FlaskClient, table: tuple[str, bytes] | None, images: tuple[str, bytes] | None = None,
            **form: str) -> tuple[int, str, str]:
    """Post the upload form; return the status, the Location header and the page text."""
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/curate/imports/new"), "target": "existing",
                            "collection": "test-paintings", **form}
    if table is not None:
        data["table"] = (io.BytesIO(table[1]), table[0])
    if images is not None:
        data["images"] = (io.BytesIO(images[1]), images[0])
    with client.post("/curate/imports/new", data=data, content_type="multipart/form-data") as response:
        return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def _settled(app: Flask, job_id: str) -> ImportJob:
    """Wait for the job's background work and return its row."""
    assert bulk_import.wait_for(job_id, timeout=120), "the import's thread did not finish"
    return _job_row(app, job_id)


def _checked(client: FlaskClient, app: Flask, table: tuple[str, bytes],
             images: tuple[str, bytes] | None = None, **form: str) -> str:
    status, location, page = _upload(client, table, images, **form)
    assert status == 303, page
    job_id = location.rstrip("/").rsplit("/", 1)[-1]
    job = _settled(app, job_id)
    assert job.state == "checked", (job.state, job.error)
    return job_id


def _post(client: FlaskClient, job_id: str, action: str, **data: str) -> int:
    token = csrf_token(client, f"/curate/imports/{job_id}")
    with client.post(f"/curate/imports/{job_id}/{action}", data={"csrf_token": token, **data}) as response:
        return response.status_code


def _page(client: FlaskClient, path: str) -> tuple[int, str]:
    with client.get(path) as response:
        return response.status_code, response.get_data(as_text=True)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


MIXED = (HEADER
         + 'new:1,新的青銅器,A new bronze,Anonymous,商,,,,"bronze | 青銅",published,yes,,,'
           '"<script>alert(1)</script> and a long story"\n'
         + "met:36004,牧羊圖,Sheep and herd boy (new translation),Unidentified artist,,,,,,,,,,\n"
         + "new:2,,No title here,,,,,,,,,,,\n"
         + "new:3,有圖的,With a picture,,1880,,,,,,,photos/2024/harvesters.jpeg,Harvest,\n"
         + "new:4,缺圖的,Missing picture,,,,,,,,,nowhere.jpg,,\n"
         + "new:5,壞圖的,Broken picture,,,,,,,,,truncated_jpeg.jpg,,\n"
         + "new:1,重複,Duplicate,,,,,,,,,,,\n"
         + "new:6,年份,Years,,,1900,1800,,,,,,,\n").encode("utf-8")


def _mixed_images() -> bytes:
    return _zip({"photos/2024/harvesters.jpeg": (IMAGES / "harvesters.jpeg").read_bytes(),
                 "truncated_jpeg.jpg": (IMAGES / "truncated_jpeg.jpg").read_bytes(),
                 "__MACOSX/photos/2024/._harvesters.jpeg": b"\x00\x05\x16\x07apple",
                 "README.txt": b"not an image"})


def test_the_dry_run_says_row_by_row_what_would_happen_and_writes_nothing(app: Flask) -> None:
    client = _curator(app)
    revisions, items, images = _count(app, Revision), _count(app, Item), _count(app, Image)
    originals = sorted(p.name for p in _cat(app).settings.originals_dir.rglob("*") if p.is_file())
    job_id = _checked(client, app, ("mixed.csv", MIXED), ("pictures.zip", _mixed_images()))
    assert (_count(app, Revision), _count(app, Item), _count(app, Image)) == (revisions, items, images)
    assert sorted(p.name for p in _cat(app).settings.originals_dir.rglob("*") if p.is_file()) == originals
    job = _job_row(app, job_id)
    assert job.plan["counts"] == {"create": 2, "change": 1, "unchanged": 0, "refused": 5}
    by_line = {row["line"]: row for row in job.plan["rows"]}
    assert by_line[2]["action"] == "create" and by_line[5]["action"] == "create"
    assert by_line[3]["action"] == "change"
    changes = {change["field"]: change for change in by_line[3]["changes"]}
    assert changes["title_alt"] == {"field": "title_alt", "before": "Sheep and herd boy",
                                    "after": "Sheep and herd boy (new translation)"}
    # Columns the table leaves out mean "no value": the dry run shows what that would clear.
    assert changes["accession_number"]["before"] == "13.100.101" and changes["accession_number"]["after"] == ""
    assert "title" not in changes and "creator" not in changes
    assert by_line[4]["reason"]["code"] == "title_empty"
    assert by_line[6]["reason"]["code"] == "image_missing" and "nowhere.jpg" in by_line[6]["reason"]["text"]
    assert by_line[7]["reason"]["code"] == "image_refused" and "truncated" in by_line[7]["reason"]["text"]
    assert by_line[8]["reason"]["code"] == "duplicate_id" and by_line[8]["reason"]["params"] == {"line": 2}
    assert by_line[9]["reason"]["code"] == "year_order"
    # The unpacked images are only those rows name; metadata files and others stay in the ZIP.
    assert job.plan["zip"] == {"entries": 4, "unpacked": 2, "unused": 0}

    status, page = _page(client, f"/curate/imports/{job_id}?lang=en")
    assert status == 200
    assert "Sheep and herd boy (new translation)" in page and "The title is empty." in page
    assert "The image “nowhere.jpg” is not in the ZIP file." in page
    assert "This id was already used on line 2." in page
    assert "<script>alert(1)</script>" not in page
    status, refused = _page(client, f"/curate/imports/{job_id}?show=refused&lang=en")
    assert "new:2" in refused and "new:3" not in refused
    status, chinese = _page(client, f"/curate/imports/{job_id}?lang=zh_Hant")
    assert "預演" in chinese and "標題為空。" in chinese


@pytest.mark.parametrize("name, rows", [("csv12_utf8.csv", 20), ("csv12_utf8_bom.csv", 20),
                                        ("csv12_gb18030.csv", 10), ("csv12_big5.csv", 8)])
def test_encodings_are_recognised_in_the_dry_run(app: Flask, name: str, rows: int) -> None:
    client = _curator(app)
    job_id = _checked(client, app, (name, (DATA / name).read_bytes()))
    job = _job_row(app, job_id)
    assert job.rows_total == rows and job.plan["counts"]["refused"] == 0
    titles = {row["id"]: row["title"] for row in job.plan["rows"]}
    assert titles["met:36004"] == "牧羊圖"
    assert "牧羊圖" in _page(client, f"/curate/imports/{job_id}")[1]


def test_the_run_imports_in_the_background_reports_and_is_undone_in_one_action(make_app: AppFactory,
                                                                              database_url: str) -> None:
    app = make_app(database_url=database_url)
    client = _curator(app)
    job_id = _checked(client, app, ("mixed.csv", MIXED), ("pictures.zip", _mixed_images()))
    assert _post(client, job_id, "run") == 303
    job = _settled(app, job_id)
    assert job.state == "done", job.error
    assert job.report["counts"] == {"create": 2, "change": 1, "unchanged": 0, "refused": 5}
    assert job.rows_done == job.rows_total == 8
    # Every revision of the run carries the job's batch id.
    with _cat(app).sessions() as session:
        revisions = session.scalars(select(Revision).where(Revision.batch == job.batch)).all()
        assert sorted(r.entity_id for r in revisions) == ["met:36004", "new:1", "new:3"]
        assert all(r.actor == "carol" for r in revisions)
        new3 = session.get(Item, "new:3")
        assert new3 is not None and [i.original_filename for i in new3.images] == ["photos/2024/harvesters.jpeg"]
        assert new3.collection.slug == "test-paintings" and new3.begin_year == 1880
    # The unpacked copies are gone once the originals are stored.
    assert not (bulk_import.job_dir(_cat(app), job_id) / "images").exists()
    # The public pages and search see the new items at once.
    public = app.test_client()
    status, page = _page(public, "/items/new:1?lang=en")
    assert status == 200 and "新的青銅器" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Sheep and herd boy (new translation)" in _page(public, "/items/met:36004?lang=en")[1]
    assert [item.id for item, _ in search_text(_cat(app), "青铜器").hits] == ["new:1"]
    status, report = _page(client, f"/curate/imports/{job_id}?lang=en")
    assert "Report" in report and "Undo this import" in report
    assert "2 new, 1 changed, 0 unchanged, 5 refused." in report
    status, listing = _page(client, "/curate/imports?lang=en")
    assert job_id in listing and "mixed.csv" in listing and "Imported" in listing

    # An item edited after the import: the undo form says that edit is taken back too.
    assert set_item_status(_cat(app), "new:3", "draft", actor="ada")
    status, report = _page(client, f"/curate/imports/{job_id}?lang=en")
    assert "2 items this import created go to the trash." in report
    assert "1 item this import changed gets back its version from before the import." in report
    assert "1 of these items was edited after the import" in report

    # Undo needs the confirmation box.
    assert _post(client, job_id, "undo") == 303
    assert _job_row(app, job_id).state == "done"
    assert _post(client, job_id, "undo", confirm="yes") == 303
    job = _settled(app, job_id)
    assert job.state == "undone" and job.report["undo"]["trashed"] == 2 and job.report["undo"]["restored"] == 1
    with _cat(app).sessions() as session:
        undo = session.scalars(select(Revision).where(Revision.action == "undo")).all()
        assert sorted(r.entity_id for r in undo) == ["met:36004", "new:1", "new:3"]
        assert len({r.batch for r in undo}) == 1 and undo[0].batch not in (None, job.batch)
        assert session.get(Item, "new:1").status == "trashed"  # type: ignore[union-attr]
        old = session.get(Item, "met:36004")
        assert old is not None and old.title_alt == "Sheep and herd boy" and old.status == "published"
    assert _page(public, "/items/new:1")[0] == 404
    assert _page(public, "/items/new:3")[0] == 404
    assert "Sheep and herd boy (new translation)" not in _page(public, "/items/met:36004?lang=en")[1]
    assert search_text(_cat(app), "青铜器").hits == []
    assert "新的青銅器" not in _page(public, "/collections/test-paintings?lang=en")[1]
    # An undone import cannot be undone or run again.
    assert _post(client, job_id, "undo", confirm="yes") == 303
    assert _post(client, job_id, "run") == 303
    assert _job_row(app, job_id).state == "undone"


def test_uploading_the_same_table_again_changes_nothing(app: Flask) -> None:
    client = _curator(app)
    table = b"id,title,image_filename\nsame:1,One,harvesters.jpeg\nsame:2,Two,\n"
    images = ("i.zip", _zip({"deep/er/harvesters.jpeg": (IMAGES / "harvesters.jpeg").read_bytes()}))
    first = _checked(client, app, ("same.csv", table), images)
    _post(client, first, "run")
    assert _settled(app, first).report["counts"]["create"] == 2
    revisions = _count(app, Revision)
    again = _checked(client, app, ("same.csv", table), images)
    assert _job_row(app, again).plan["counts"] == {"create": 0, "change": 0, "unchanged": 2, "refused": 0}
    _post(client, again, "run")
    job = _settled(app, again)
    assert job.report["counts"] == {"create": 0, "change": 0, "unchanged": 2, "refused": 0}
    assert _count(app, Revision) == revisions          # unchanged rows write nothing
    # Nothing to undo: the undo form is not offered for an import that wrote nothing.
    assert "Undo this import" not in _page(client, f"/curate/imports/{again}?lang=en")[1]


def test_undo_restores_images_and_fields_from_before_the_batch(app: Flask) -> None:
    client = _curator(app)
    table = (HEADER + "met:13503,Hibiscus and Parrots,木槿與鸚鵡,,,,,,,,,harvesters.jpeg,only one\n").encode()
    job_id = _checked(client, app, ("images.csv", table),
                      ("i.zip", _zip({"harvesters.jpeg": (IMAGES / "harvesters.jpeg").read_bytes()})))
    with _cat(app).sessions() as session:
        before = [(i.sha256, i.original_filename) for i in session.get(Item, "met:13503").images]  # type: ignore[union-attr]
    assert len(before) == 2
    _post(client, job_id, "run")
    assert _settled(app, job_id).state == "done"
    with _cat(app).sessions() as session:
        assert [i.original_filename for i in session.get(Item, "met:13503").images] == ["harvesters.jpeg"]  # type: ignore[union-attr]
    _post(client, job_id, "undo", confirm="yes")
    assert _settled(app, job_id).state == "undone"
    with _cat(app).sessions() as session:
        item = session.get(Item, "met:13503")
        assert item is not None and [(i.sha256, i.original_filename) for i in item.images] == before
    page = _page(app.test_client(), "/items/met:13503?lang=en")[1]
    assert before[0][0] in page


def test_xlsx_cells_are_text_and_formulas_are_never_evaluated(app: Flask, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "title", "begin_year", "featured", "description", None])
    sheet.append(["x:1", '=HYPERLINK("http://evil.example/","click me")', 1880, True, "<img src=x onerror=alert(1)>"])
    sheet.append([])
    sheet.append(["x:2", "<script>alert(2)</script>第二件", 1650.0, False, "Line one\nline two"])
    sheet.append(["x:" + "3" * 300, "太長", None, None, "id too long"])
    sheet.append(["x:4", "Odd status", None, None, None, None])
    sheet["G1"] = "status"
    sheet["G6"] = "<svg onload=alert(3)>"
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    client = _curator(app)
    job_id = _checked(client, app, ("sheet.xlsx", buffer.getvalue()))
    job = _job_row(app, job_id)
    assert job.plan["kind"] == "xlsx"
    rows = {row["line"]: row for row in job.plan["rows"]}
    # Row numbers are the sheet's own, empty rows included.
    assert rows[2]["action"] == "create" and rows[4]["action"] == "create" and 3 not in rows
    assert rows[5]["reason"]["code"] == "too_long" and rows[5]["reason"]["params"] == {"column": "id", "limit": 200}
    assert rows[6]["reason"]["code"] == "status"
    page = _page(client, f"/curate/imports/{job_id}?lang=en")[1]
    assert "<th scope=\"col\">Row</th>" in page
    # Whatever the cells hold is shown as text in the plan and the report, never as markup.
    for shown in (page, None):
        if shown is None:
            _post(client, job_id, "run")
            assert _settled(app, job_id).state == "done"
            shown = _page(client, f"/curate/imports/{job_id}?lang=en")[1]
        assert "<script>alert(2)" not in shown and "&lt;script&gt;alert(2)&lt;/script&gt;第二件" in shown
        assert "<svg" not in shown and "not “&lt;svg onload=alert(3)&gt;”" in shown
    with _cat(app).sessions() as session:
        first, second = session.get(Item, "x:1"), session.get(Item, "x:2")
        assert first is not None and second is not None
        assert first.title == '=HYPERLINK("http://evil.example/","click me")'
        assert first.begin_year == 1880 and first.featured is True
        assert second.begin_year == 1650 and second.featured is False and second.description == "Line one\nline two"
        assert second.title == "<script>alert(2)</script>第二件"
    item_page = _page(app.test_client(), "/items/x:1?lang=en")[1]
    assert "<img src=x onerror" not in item_page and "&lt;img src=x onerror=alert(1)&gt;" in item_page
    assert 'href="http://evil.example/"' not in item_page


def _refused(client: FlaskClient, table: tuple[str, bytes] | None, message: str,
             images: tuple[str, bytes] | None = None, **form: str) -> None:
    status, _location, page = _upload(client, table, images, **form)
    assert status == 400, page[:500]
    assert message in page, page[page.find("form-error") - 20: page.find("form-error") + 400]


def test_bad_files_are_refused_with_a_clear_message_and_leave_nothing(app: Flask) -> None:
    client = _curator(app)
    client.get("/lang/en").close()  # refusals below are read in English
    refused = _refused
    refused(client, None, "Choose a table file (.csv or .xlsx).")
    refused(client, ("notes.pdf", b"%PDF-1.4"), "Upload the table as a .csv or .xlsx file (“notes.pdf” is neither).")
    refused(client, ("picture.csv", (IMAGES / "harvesters.jpeg").read_bytes()[:4000] + b"\x00" * 10),
            "This file is not a table.")
    refused(client, ("empty.csv", b""), "The table file is empty.")
    refused(client, ("header.csv", b"id,title\r\n"), "The table has a header but no rows.")
    refused(client, ("header.csv", b"name,colour\nx,y\n"), "The header must have at least the columns id and title")
    refused(client, ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 200), "The file is not a readable XLSX workbook.")
    refused(client, ("renamed.xlsx", b"id,title\nx:1,A\n"), "The file is not a readable XLSX workbook.")
    refused(client, ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100), "old Excel (.xls)")
    refused(client, ("utf16.csv", "id,title\nx:1,甲\n".encode("utf-16")), "This is UTF-16 text.")
    refused(client, ("bytes.csv", b"id,title\nx:1,\x80\x80\xff\n"), "not text in UTF-8, GB18030 or Big5")
    many = "id,title\n" + "".join(f"r:{n},Row {n}\n" for n in range(bulk_import.MAX_ROWS + 1))
    refused(client, ("many.csv", many.encode()), "The table has more than 20000 rows.")
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "The images must be uploaded as one .zip file",
            images=("pictures.rar", b"Rar!\x1a\x07\x00"))
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "The images file is not a readable ZIP archive.",
            images=("pictures.zip", b"not a zip at all"))
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "There is no collection “nope”.", collection="nope")
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "There is already a collection “test-paintings”.",
            target="new", new_slug="test-paintings", new_title="T", new_institution="met")
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "lowercase letters, digits and hyphens",
            target="new", new_slug="Not A Slug", new_title="T", new_institution="met")
    refused(client, ("a.csv", b"id,title\nx:1,A\n"), "Give the new collection a title.",
            target="new", new_slug="fresh", new_title=" ", new_institution="met")
    assert _count(app, ImportJob) == 0
    imports = _cat(app).settings.data_dir / "imports"
    assert not imports.exists() or not any(imports.iterdir())


def test_huge_cells_and_extra_cells_are_refused_row_by_row(app: Flask) -> None:
    client = _curator(app)
    table = ("id,title,description\n"
             "x:1,A," + "長" * 100_001 + "\n"
             "x:2,B,fine,one cell too many\n"
             "x:3,C,fine\n").encode()
    job_id = _checked(client, app, ("huge.csv", table))
    rows = {row["line"]: row for row in _job_row(app, job_id).plan["rows"]}
    assert rows[2]["reason"]["code"] == "too_long" and rows[2]["reason"]["params"]["limit"] == 100_000
    assert rows[3]["reason"]["code"] == "too_many_cells"
    assert rows[4]["action"] == "create"
    page = _page(client, f"/curate/imports/{job_id}?lang=en")[1]
    assert "description is longer than 100000 characters." in page
    assert "The row has 4 cells but the header has 3 columns." in page


def test_an_upload_over_the_size_limit_gets_the_413_page(make_app: AppFactory) -> None:
    app = make_app(max_image_bytes=10_000)
    client = _curator(app)
    client.get("/lang/en").close()  # refusals below are read in English
    big = b"id,title\n" + b"x:1," + b"a" * (1024 * 1024 + 20_000) + b"\n"
    # Encoded here, in memory: the test client would spool a body this big to a temporary file.
    boundary, body = encode_multipart({"csrf_token": csrf_token(client, "/curate/imports/new"),
                                       "collection": "test-paintings",
                                       "table": FileStorage(io.BytesIO(big), "big.csv")})
    with client.post("/curate/imports/new", input_stream=io.BytesIO(body), content_length=len(body),
                     content_type=f"multipart/form-data; boundary={boundary}") as response:
        assert response.status_code == 413 and "at most 1 MB" in response.get_data(as_text=True)
    assert _count(app, ImportJob) == 0


def test_rows_that_are_fine_but_new_collection_is_created_by_the_run(app: Flask) -> None:
    client = _curator(app)
    job_id = _checked(client, app, ("a.csv", b"id,title\nfresh:1,New one\n"), target="new", new_slug="fresh-arrivals",
                      new_title="新到藏品", new_institution="nmaa")
    public = app.test_client()
    assert _page(public, "/collections/fresh-arrivals")[0] == 404      # the dry run created nothing
    _post(client, job_id, "run")
    assert _settled(app, job_id).state == "done"
    status, page = _page(public, "/collections/fresh-arrivals")
    assert status == 200 and "新到藏品" in page and "New one" in page
    with _cat(app).sessions() as session:
        item = session.get(Item, "fresh:1")
        assert item is not None and item.collection.institution.slug == "nmaa"


def test_curators_limited_to_institutions_import_only_there(app: Flask) -> None:
    met = _curator(app, "mel", institutions=("met",))
    assert "test-paintings" in _page(met, "/curate/imports/new")[1]
    table = (b"id,title,institution\n"
             b"met:36004,Their own,\n"           # the collection's institution (met)
             b"si:F1906.261,Held by nmaa,\n"      # an existing item of another institution
             b"new:9,New for nmaa,nmaa\n"         # a row naming another institution
             b"new:10,New for met,met\n")
    job_id = _checked(met, app, ("rows.csv", table))
    rows = {row["id"]: row for row in _job_row(app, job_id).plan["rows"]}
    assert rows["met:36004"]["action"] == "change" and rows["new:10"]["action"] == "create"
    assert rows["si:F1906.261"]["reason"]["code"] == "not_your_item"
    assert rows["new:9"]["reason"]["code"] == "not_your_institution"
    page = _page(met, f"/curate/imports/{job_id}?lang=en")[1]
    assert "You may not import items of the institution “nmaa”." in page
    # A new collection may only be made for one's own institutions.
    met.get("/lang/en").close()  # refusals below are read in English
    _refused(met, ("a.csv", b"id,title\nx:1,A\n"), "You may not create collections for “nmaa”.",
             target="new", new_slug="theirs", new_title="T", new_institution="nmaa")

    nmaa = _curator(app, "nina", institutions=("nmaa",))
    nmaa.get("/lang/en").close()  # refusals below are read in English
    assert "test-paintings" not in _page(nmaa, "/curate/imports/new")[1]
    _refused(nmaa, ("a.csv", b"id,title\nx:1,A\n"), "You may not import into the collection “test-paintings”.")
    # Other curators' jobs are not visible, not even as forbidden; admins see all.
    assert _page(nmaa, f"/curate/imports/{job_id}")[0] == 404
    assert job_id not in _page(nmaa, "/curate/imports")[1]
    assert _post_status(nmaa, f"/curate/imports/{job_id}/run") == 404
    admin = _curator(app, "ada", role="admin")
    assert _page(admin, f"/curate/imports/{job_id}")[0] == 200
    assert job_id in _page(admin, "/curate/imports")[1]
    # The run applies the same limits as the dry run.
    _post(met, job_id, "run")
    job = _settled(app, job_id)
    assert job.report["counts"] == {"create": 1, "change": 1, "unchanged": 0, "refused": 2}
    with _cat(app).sessions() as session:
        assert session.get(Item, "new:9") is None
        assert session.get(Item, "si:F1906.261").title != "Held by nmaa"  # type: ignore[union-attr]


def _post_status(client: FlaskClient, path: str) -> int:
    token = csrf_token(client, "/curate/imports")
    with client.post(path, data={"csrf_token": token}) as response:
        return response.status_code


def test_only_logged_in_curators_reach_imports_and_posts_need_the_token(app: Flask) -> None:
    anonymous = app.test_client()
    with anonymous.get("/curate/imports") as response:
        assert response.status_code == 302 and "/curate/login" in response.headers["Location"]
    with anonymous.post("/curate/imports/new", data={}) as response:
        assert response.status_code in (400, 401)
    client = _curator(app)
    with client.post("/curate/imports/new", data={"collection": "test-paintings",
                                                  "table": (io.BytesIO(b"id,title\nx:1,A\n"), "a.csv")},
                     content_type="multipart/form-data") as response:
        assert response.status_code == 400
    assert _count(app, ImportJob) == 0
    assert _page(client, "/curate/imports/" + "0" * 32)[0] == 404
    assert _page(client, "/curate/imports/not-a-job")[0] == 404


def test_a_job_interrupted_mid_run_shows_as_such_and_resumes_safely(make_app: AppFactory, database_url: str) -> None:
    app = make_app(database_url=database_url)
    client = _curator(app)
    table = "id,title\n" + "".join(f"r:{n},Row {n}\n" for n in range(450))
    job_id = _checked(client, app, ("rows.csv", table.encode()))
    job = _job_row(app, job_id)
    # A worker starts the run and dies after two batches: rows written so far are whole.
    cat = _cat(app)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    batch = "b" * 32
    with cat.engine.begin() as connection:
        connection.execute(update(ImportJob).where(ImportJob.id == job_id)
                           .values(state="running", batch=batch, rows_done=400, updated_at=long_ago))

    class Died(Exception):
        pass

    def die_after_400(done: int, _total: int) -> None:
        if done == 400:
            raise Died

    target = TableTarget(collection_slug="test-paintings", collection_institution="met", image_dir=None)
    with pytest.raises(Died):
        import_table(cat, bulk_import.job_dir(cat, job_id) / "table.csv", target, batch=batch, actor="carol",
                     progress=die_after_400)
    assert _count(app, Item) == 6 + 400
    status, page = _page(client, f"/curate/imports/{job_id}?lang=en")
    assert "Interrupted" in page and "Resume" in page
    assert "Interrupted" in _page(client, "/curate/imports?lang=en")[1]
    progress = client.get(f"/curate/imports/{job_id}/progress").get_json()
    assert progress["interrupted"] is True and progress["rows_done"] == 400
    assert _post(client, job_id, "resume") == 303
    job = _settled(app, job_id)
    assert job.state == "done" and job.batch == batch
    # The report counts what the first attempt wrote as created, not as unchanged.
    assert job.report["counts"] == {"create": 450, "change": 0, "unchanged": 0, "refused": 0}
    with cat.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Revision).where(Revision.batch == batch)) == 450
    # Resuming twice is refused: the job has moved on.
    assert _post(client, job_id, "resume") == 303
    assert _job_row(app, job_id).state == "done"
    # And the whole batch, both attempts, is undone at once.
    _post(client, job_id, "undo", confirm="yes")
    assert _settled(app, job_id).report["undo"]["trashed"] == 450


def test_a_running_job_shows_progress_and_refreshes_without_script(app: Flask) -> None:
    client = _curator(app)
    job_id = _checked(client, app, ("a.csv", b"id,title\nx:1,A\n"))
    with _cat(app).engine.begin() as connection:
        connection.execute(update(ImportJob).where(ImportJob.id == job_id)
                           .values(state="running", batch="c" * 32, rows_done=0,
                                   updated_at=dt.datetime.now(dt.UTC)))
    status, page = _page(client, f"/curate/imports/{job_id}?lang=en")
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert "curate-import.js" in page and "data-import-progress" in page and "<progress" in page
    assert "Resume" not in page
    progress = client.get(f"/curate/imports/{job_id}/progress").get_json()
    assert progress == {"state": "running", "rows_done": 0, "rows_total": 1, "interrupted": False, "active": True,
                        "text": progress["text"]}
    with client.get("/static/js/curate-import.js") as response:
        assert response.status_code == 200


def test_a_checked_upload_can_be_thrown_away(app: Flask) -> None:
    client = _curator(app)
    job_id = _checked(client, app, ("a.csv", b"id,title\nx:1,A\n"))
    folder = bulk_import.job_dir(_cat(app), job_id)
    assert folder.is_dir()
    assert _post(client, job_id, "discard") == 303
    assert _count(app, ImportJob) == 0 and not folder.exists()
    assert _count(app, Item) == 6


def test_the_form_offers_collections_and_limits(app: Flask) -> None:
    client = _curator(app)
    status, page = _page(client, "/curate/imports/new?lang=en")
    assert status == 200
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    assert 'value="test-paintings"' in page and "20000" in page
    assert re.search(r'<a href="/curate/imports"[^>]*>Imports</a>', _page(client, "/curate/?lang=en")[1])
