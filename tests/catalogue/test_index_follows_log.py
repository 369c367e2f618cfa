"""The search index follows the revision log: crashes lose nothing, other processes catch up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from museum.catalogue.importing import import_path
from museum.catalogue.service import close_catalogue, open_catalogue, reindex
from museum.config import Settings
from tests.conftest import DATA, TEST_EXHIBIT, pg_database
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


def test_an_index_from_an_older_release_is_rebuilt_on_open(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", import_default_exhibit=False)
    cat = open_catalogue(settings)
    import_path(cat, TEST_EXHIBIT)
    live = cat.index.root / cat.index._live_generation()
    close_catalogue(cat)
    (live / "schema_version").write_text("0")  # as left by an older release

    cat = open_catalogue(settings)
    try:
        assert cat.index.schema_is_current()
        assert cat.index.root / cat.index._live_generation() != live
        assert [item.id for item, _ in search_text(cat, "Harvesters").hits] == ["met:435809"]
    finally:
        close_catalogue(cat)


def test_reindex_swaps_a_new_index_in_while_searches_keep_answering(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", import_default_exhibit=False)
    cat = open_catalogue(settings)
    searcher = open_catalogue(settings)   # another worker, searching all the while
    import_path(cat, TEST_EXHIBIT)
    answers: list[list[str]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                answers.append([item.id for item, _ in search_text(searcher, "Harvesters").hits])
            except BaseException as error:  # noqa: BLE001 - recorded and asserted below
                failures.append(error)
                return

    thread = threading.Thread(target=keep_searching)
    thread.start()
    try:
        before = cat.index._live_generation()
        for _ in range(3):
            assert reindex(cat) == 5
        assert cat.index._live_generation() != before
    finally:
        stop.set()
        thread.join(timeout=60)
        close_catalogue(cat)
        close_catalogue(searcher)
    assert not failures
    assert len(answers) > 3 and all(answer == ["met:435809"] for answer in answers)


@pytest.mark.postgres
def test_nodes_sharing_postgresql_each_keep_their_own_index_up_to_date(tmp_path: Path) -> None:
    with pg_database() as url:
        node_a = open_catalogue(Settings(data_dir=tmp_path / "a", database_url=url, import_default_exhibit=False))
        node_b = open_catalogue(Settings(data_dir=tmp_path / "b", database_url=url, import_default_exhibit=False))
        try:
            assert search_text(node_b, "Harvesters").total == 0
            import_path(node_a, TEST_EXHIBIT)
            # Node B never saw the import happen: it reads the shared revision log and catches up.
            assert [item.id for item, _ in search_text(node_b, "Harvesters").hits] == ["met:435809"]
            assert node_a.index.root != node_b.index.root
            assert node_b.index.applied_sequence() == node_a.index.applied_sequence() > 0
        finally:
            close_catalogue(node_a)
            close_catalogue(node_b)
