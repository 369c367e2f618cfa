"""Every odd or broken image file either imports and displays, or is refused with a clear message."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

from PIL import Image as PILImage

from museum.catalogue.importing import import_path
from museum.web import current_catalogue
from tests.conftest import IMAGES, AppFactory

REFUSED = {
    "decompression_bomb_extents.gif": "decompression bomb",
    "hippopotamus.regular.truncated.png": "truncated",
    "truncated_jpeg.jpg": "truncated",
}


def test_every_sample_image_imports_and_displays_or_is_refused(make_app: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    (folder / "images").mkdir(parents=True)
    files = sorted(p for p in IMAGES.iterdir() if p.name != "SOURCES.txt")
    (folder / "images" / "not-an-image.jpg").write_text("this is a text file", encoding="utf-8")
    files.append(folder / "images" / "not-an-image.jpg")
    with (folder / "items.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "image_filename"])
        for n, path in enumerate(files):
            if path.parent != folder / "images":
                shutil.copy(path, folder / "images" / path.name)
            writer.writerow([f"odd:{n}", path.name, path.name])
    (folder / "collection.toml").write_text(
        'slug = "odd"\ninstitution = "lab"\n[title]\nen = "Odd files"\n'
        '[[institutions]]\nslug = "lab"\n[institutions.name]\nen = "Lab"\n', encoding="utf-8")

    app = make_app(import_default_exhibit=False)
    with app.app_context():
        report = import_path(current_catalogue(), folder)
    reason_of = {f.name: p.reason for f in files for p in report.refused if f.name in p.reason}
    refused_names = set(reason_of)
    assert refused_names == {*REFUSED, "not-an-image.jpg"}, report.refused
    for name, reason in reason_of.items():
        assert REFUSED.get(name, "not an image") in reason, reason
    assert report.created == len(files) - len(refused_names)

    client = app.test_client()
    for n, path in enumerate(files):
        if path.name in refused_names:
            assert client.get(f"/items/odd:{n}").status_code == 404
            continue
        page = client.get(f"/items/odd:{n}").data.decode()
        # Every URL of every src and srcset (srcset entries are "URL width, URL width").
        urls = {candidate.split()[0] for attr in re.findall(r'(?:src|srcset)="([^"]+)"', page)
                for candidate in attr.split(",") if candidate.strip().startswith("/media/")}
        for url in urls:
            with client.get(url) as response:
                assert response.status_code == 200, (path.name, url)
                shown = PILImage.open(io.BytesIO(response.data))
                shown.load()
                assert shown.mode in ("RGB", "RGBA", "L"), (path.name, shown.mode)
                assert min(shown.size) >= 1
