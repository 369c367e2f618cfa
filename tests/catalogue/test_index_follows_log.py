"""The search index follows the revision log: crashes lose nothing, other processes catch up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from museum.catalogue.importing import import_path
from museum.catalogue.service import close_catalogue, open_catalogue
from museum.config import Settings
from tests.conftest import DATA, TEST_EXHIBIT
from tests.searching import search_text


def test_a_crash_between_commit_and_indexing_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        import museum.catalogue.importing as importing
        from museum.catalogue.service import open_catalogue
        from museum.config import Settings

        # Die the moment the database has committed, before the index hears of it.
        importing.catch_up_index = lambda cat: os._exit(9)
        cat = open_catalogue(Settings(data_dir=Path({str(data_dir)!r}), import_default_exhibit=False))
        importing.import_path(cat, Path({str(DATA / "csv12_utf8.csv")!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, check=False)
    assert result.returncode == 9, result.stderr.decode()

    cat = open_catalogue(Settings(data_dir=data_dir, import_default_exhibit=False))
    try:
        assert cat.index.applied_sequence() == 0  # nothing was indexed before the crash
        hits = search_text(cat, "牧羊圖").hits
        assert [item.id for item, _ in hits] == ["met:36004"]
        assert cat.index.applied_sequence() > 0
    finally:
        close_catalogue(cat)


def test_another_process_handle_sees_new_writes_without_restarting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", import_default_exhibit=False)
    reader = open_catalogue(settings)
    writer = open_catalogue(settings)
    try:
        assert search_text(reader, "Harvesters").total == 0
        import_path(writer, TEST_EXHIBIT)
        assert [item.id for item, _ in search_text(reader, "Harvesters").hits] == ["met:435809"]
    finally:
        close_catalogue(reader)
        close_catalogue(writer)
