"""Malicious ZIPs of images are refused whole, with a clear reason, before anything is written.

Every archive is built here, in the test: path traversal, absolute paths, drive letters, symbolic
links, zip bombs (by declared size, by ratio, and with headers that lie), thousands of entries,
nested archives, duplicate names and encrypted entries.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from museum.catalogue.models import ImportJob, Item, Revision
from museum.curation.bulk_import import (
    ZIP_MAX_ENTRIES,
    UploadRefused,
    unpack_images,
)
from museum.web import CATALOGUE_KEY
from tests.conftest import IMAGES
from tests.curate.helpers import add_user, csrf_token, log_in

JPEG = (IMAGES / "harvesters.jpeg").read_bytes()
LIMIT = 100 * 1024 * 1024


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def _patch_headers(data: bytes, name: bytes, *, flags: int | None = None, size: int | None = None) -> bytes:
    """Rewrite the flags or the uncompressed size of an entry in its local and central headers."""
    out = bytearray(data)
    # Local header: signature, version(2), flags(2) at 6, ... uncompressed size(4) at 22, name length at 26.
    at = 0
    while (at := out.find(b"PK\x03\x04", at)) >= 0:
        (length,) = struct.unpack_from("<H", out, at + 26)
        if bytes(out[at + 30:at + 30 + length]) == name:
            if flags is not None:
                struct.pack_into("<H", out, at + 6, flags)
            if size is not None:
                struct.pack_into("<L", out, at + 22, size)
        at += 4
    # Central header: flags(2) at 8, uncompressed size(4) at 24, name length at 28, name at 46.
    at = 0
    while (at := out.find(b"PK\x01\x02", at)) >= 0:
        (length,) = struct.unpack_from("<H", out, at + 28)
        if bytes(out[at + 46:at + 46 + length]) == name:
            if flags is not None:
                struct.pack_into("<H", out, at + 8, flags)
            if size is not None:
                struct.pack_into("<L", out, at + 24, size)
        at += 4
    return bytes(out)


def _unpack(tmp_path: Path, data: bytes, wanted: set[str] | None = None) -> tuple[str, dict[str, str | int]]:
    """Unpack data, expecting a refusal; return its code and details, checking nothing was written."""
    archive = tmp_path / "upload.zip"
    archive.write_bytes(data)
    target = tmp_path / "images"
    with pytest.raises(UploadRefused) as caught:
        unpack_images(archive, target, wanted if wanted is not None else {"x.jpg", "a.jpg"}, max_entry_bytes=LIMIT)
    # Nothing lands outside the target folder, whatever the names said.
    outside = {p.name for p in tmp_path.rglob("*")} - {"upload.zip", "images"}
    assert not {name for name in outside if not (target / name).exists()}
    assert not (tmp_path.parent / "x.jpg").exists()
    return caught.value.code, caught.value.params


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return info


@pytest.mark.parametrize("name", ["../x.jpg", "photos/../../x.jpg", "/etc/x.jpg", "C:/Windows/x.jpg",
                                  "C:\\Windows\\x.jpg", "..\\x.jpg", "ok/..\\..\\x.jpg"])
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    code, params = _unpack(tmp_path, _zip([("a.jpg", JPEG), (name, JPEG)]))
    assert code == "zip_path" and params["name"] == name.replace("\\", "/")


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    assert _unpack(tmp_path, _zip([(_symlink("x.jpg"), b"/etc/passwd")]))[0] == "zip_symlink"
    # Even one no row names: a ZIP carrying links is not a ZIP of pictures.
    assert _unpack(tmp_path, _zip([("a.jpg", JPEG), (_symlink("link"), b"/etc")]))[0] == "zip_symlink"


def test_encrypted_entries_are_refused(tmp_path: Path) -> None:
    data = _patch_headers(_zip([("x.jpg", JPEG)]), b"x.jpg", flags=0x1)
    code, params = _unpack(tmp_path, data)
    assert code == "zip_encrypted" and params["name"] == "x.jpg"


def test_a_bomb_by_compression_ratio_is_refused(tmp_path: Path) -> None:
    code, params = _unpack(tmp_path, _zip([("x.jpg", b"\0" * (4 * 1024 * 1024))]))
    assert code == "zip_ratio" and params["name"] == "x.jpg" and params["ratio"] == 100


def test_a_bomb_by_declared_total_size_is_refused(tmp_path: Path) -> None:
    # Each entry declares exactly 100 times its packed megabyte (allowed on its own); 21 of
    # them declare 2.1 GB together, over the 2 GB limit.
    packed = os.urandom(1024 * 1024)
    names = [f"part{n}.jpg" for n in range(21)]
    data = _zip([(name, packed) for name in names], zipfile.ZIP_STORED)
    for name in names:
        data = _patch_headers(data, name.encode(), size=100 * 1024 * 1024)
    code, params = _unpack(tmp_path, data)
    assert code == "zip_total" and params["gigabytes"] == 2
    # And a single entry declaring far more than it packs is refused by its ratio.
    lying = _patch_headers(_zip([("x.jpg", JPEG)], zipfile.ZIP_STORED), b"x.jpg", size=1536 * 1024 * 1024)
    assert _unpack(tmp_path, lying)[0] == "zip_ratio"


def test_headers_that_understate_the_size_are_not_believed(tmp_path: Path) -> None:
    # The entry really unpacks to 2 MB of zeros but declares 1,000 bytes: reading is bounded by
    # what arrives, and the mismatch is caught rather than written.
    data = _patch_headers(_zip([("x.jpg", b"\0" * (2 * 1024 * 1024))]), b"x.jpg", size=1000)
    code, _params = _unpack(tmp_path, data)
    assert code == "zip_damaged"
    assert not (tmp_path / "images").exists()      # the partial copy is removed with its folder


def test_an_entry_over_the_image_limit_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_zip([("x.jpg", JPEG)]))
    with pytest.raises(UploadRefused) as caught:
        unpack_images(archive, tmp_path / "images", {"x.jpg"}, max_entry_bytes=1000)
    assert caught.value.code == "zip_entry_too_large" and caught.value.params["name"] == "x.jpg"


def test_thousands_of_entries_are_refused_before_they_are_listed(tmp_path: Path) -> None:
    data = _zip([(f"f{n}.txt", b"") for n in range(ZIP_MAX_ENTRIES + 1)], zipfile.ZIP_STORED)
    code, params = _unpack(tmp_path, data)
    assert code == "zip_entries" and params["limit"] == ZIP_MAX_ENTRIES


def test_nested_archives_are_refused_by_name_and_by_content(tmp_path: Path) -> None:
    inner = _zip([("x.jpg", JPEG)])
    assert _unpack(tmp_path, _zip([("a.jpg", JPEG), ("more/inner.zip", inner)]))[0] == "zip_nested"
    assert _unpack(tmp_path, _zip([("a.jpg", JPEG), ("old.tar.gz", b"\x1f\x8b")]))[0] == "zip_nested"
    # An archive dressed up as a picture a row asks for.
    assert _unpack(tmp_path, _zip([("x.jpg", inner)]))[0] == "zip_nested"


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = _zip([("a.jpg", JPEG), ("a.jpg", JPEG)])
    assert _unpack(tmp_path, twice)[0] == "zip_duplicate"
    # The same picture name in two folders: which one a row means cannot be known.
    code, params = _unpack(tmp_path, _zip([("one/x.jpg", JPEG), ("two/x.jpg", JPEG)]))
    assert code == "zip_duplicate" and params["name"] == "x.jpg"


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    assert _unpack(tmp_path, b"PK\x03\x04 but nothing else")[0] == "zip_broken"
    assert _unpack(tmp_path, JPEG)[0] == "zip_broken"


def test_a_good_zip_unpacks_only_the_named_pictures_by_base_name(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_zip([
        ("photos/2024/x.jpg", JPEG), ("a.jpg", JPEG), ("unused.png", b"\x89PNG"), ("notes/readme.txt", b"hi"),
        ("__MACOSX/photos/2024/._x.jpg", b"\x00\x05\x16\x07"), (".DS_Store", b"\0"), ("photos/", b""),
    ]))
    found = unpack_images(archive, tmp_path / "images", {"x.jpg", "a.jpg", "missing.jpg"}, max_entry_bytes=LIMIT)
    assert found.unpacked == ["a.jpg", "x.jpg"] and found.unused == 1 and found.entries == 7
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["a.jpg", "x.jpg"]
    assert (tmp_path / "images" / "x.jpg").read_bytes() == JPEG


@pytest.mark.parametrize("name, encoding", [("图一.jpg", "gb18030"), ("圖二.jpg", "big5")])
def test_chinese_names_written_without_the_utf8_flag_still_match(tmp_path: Path, name: str, encoding: str) -> None:
    # Windows in Chinese writes entry names in its code page and leaves the UTF-8 flag off;
    # zipfile then reads them as CP437. Built here by patching an ASCII name of the same length.
    raw = name.encode(encoding)
    placeholder = b"p" * (len(raw) - 4) + b".jpg"
    data = _zip([(placeholder.decode(), JPEG)]).replace(placeholder, raw)
    archive = tmp_path / "upload.zip"
    archive.write_bytes(data)
    found = unpack_images(archive, tmp_path / "images", {name}, max_entry_bytes=LIMIT)
    assert found.unpacked == [name] and (tmp_path / "images" / name).read_bytes() == JPEG


def _count(app: Flask, model: type) -> int:
    with app.extensions[CATALOGUE_KEY].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("entries, message", [
    ([("../x.jpg", JPEG)], "The ZIP is refused: the entry “../x.jpg” points outside the archive"),
    ([("x.jpg", b"\0" * (4 * 1024 * 1024))], "The ZIP is refused: “x.jpg” is compressed more than 100 to 1"),
    ([(f"f{n}.jpg", b"") for n in range(ZIP_MAX_ENTRIES + 1)], "The ZIP is refused: it holds more than 5000 files."),
    ([("nested.zip", b"PK\x05\x06" + b"\0" * 18)],
     "The ZIP is refused: “nested.zip” is an archive inside the archive."),
])
def test_the_upload_form_refuses_a_malicious_zip_and_writes_nothing(app: Flask, entries: list[tuple[str, bytes]],
                                                                   message: str) -> None:
    add_user(app, "carol")
    client = app.test_client()
    assert log_in(client, "carol") == 302
    client.get("/lang/en").close()  # refusals below are read in English
    revisions = _count(app, Revision)
    token = csrf_token(client, "/curate/imports/new")
    table = b"id,title,image_filename\nz:1,Zipped,x.jpg\n"
    with client.post("/curate/imports/new", content_type="multipart/form-data", data={
            "csrf_token": token, "target": "existing", "collection": "test-paintings",
            "table": (io.BytesIO(table), "items.csv"),
            "images": (io.BytesIO(_zip(entries, zipfile.ZIP_STORED if len(entries) > 1 else zipfile.ZIP_DEFLATED)),
                       "pictures.zip")}) as response:
        page = response.get_data(as_text=True)
        assert response.status_code == 400
    assert message in page
    assert _count(app, ImportJob) == 0 and _count(app, Item) == 6 and _count(app, Revision) == revisions
    imports = app.extensions[CATALOGUE_KEY].settings.data_dir / "imports"
    assert not imports.exists() or not any(imports.iterdir())
