"""The `museum` command: init, import, reindex, check and serve, run as a visitor or admin would."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from museum.cli import main
from tests.conftest import DATA, TEST_EXHIBIT


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Return a CLI runner whose data directory and exhibit are temporary."""
    monkeypatch.setenv("MUSEUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSEUM_EXHIBIT_DIR", str(TEST_EXHIBIT))
    return CliRunner()


def test_init_imports_the_default_exhibit_once(runner: CliRunner) -> None:
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "Imported the default exhibit: 6 rows: 6 created" in first.output
    second = runner.invoke(main, ["init"])
    assert second.exit_code == 0 and "existing data kept" in second.output


def test_import_reports_bad_rows_and_a_summary(runner: CliRunner) -> None:
    result = runner.invoke(main, ["import", str(DATA / "csv12_bad_rows.csv")])
    assert result.exit_code == 0, result.output
    assert "8 rows: 5 created, 0 updated, 0 unchanged, 3 refused" in result.output
    for line in ("line 4", "line 6", "line 9"):
        assert line in result.output
    again = runner.invoke(main, ["import", str(DATA / "csv12_bad_rows.csv")])
    assert "0 created, 0 updated, 5 unchanged, 3 refused" in again.output


def test_import_of_a_missing_or_wrong_path_fails_clearly(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1 and "no such file" in result.output
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    result = runner.invoke(main, ["import", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "collection folder or a .csv file" in result.output


def test_check_and_reindex(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    ok = runner.invoke(main, ["check"])
    assert ok.exit_code == 0 and "Everything agrees." in ok.output, ok.output
    assert "5 published items" in ok.output
    # Dates that give no years are kept as text and listed for curators (not a failure).
    assert "Dates kept as text only" not in ok.output
    importer = runner.invoke(main, ["import", str(DATA / "csv12_undated.csv")])
    assert importer.exit_code == 0, importer.output
    listed = runner.invoke(main, ["check"])
    assert listed.exit_code == 0, listed.output
    assert "Dates kept as text only (no years could be read from them): 2" in listed.output
    assert "undated:1: no date" in listed.output and "undated:2: Meiji period" in listed.output
    assert "undated:3" not in listed.output  # 清乾隆 was read
    # Derived state can always be deleted and rebuilt with one command.
    shutil.rmtree(tmp_path / "data" / "index")
    rebuilt = runner.invoke(main, ["reindex"])
    assert rebuilt.exit_code == 0 and "8 published items" in rebuilt.output
    assert runner.invoke(main, ["check"]).exit_code == 0
    # Tamper with an original image: check reports it.
    original = next((tmp_path / "data" / "originals").rglob("*.jpg"))
    original.write_bytes(original.read_bytes() + b"tampered")
    bad = runner.invoke(main, ["check"])
    assert bad.exit_code == 1 and "original changed on disk" in bad.output


def test_check_notices_an_index_that_disagrees(runner: CliRunner, tmp_path: Path) -> None:
    from museum.catalogue.service import close_catalogue, open_catalogue
    from museum.config import load_settings

    assert runner.invoke(main, ["init"]).exit_code == 0
    cat = open_catalogue(load_settings({"data_dir": str(tmp_path / "data")}))
    try:
        cat.index.apply([], ["met:435809"], cat.index.applied_sequence())
    finally:
        close_catalogue(cat)
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1 and "missing from the index: met:435809" in result.output
    assert runner.invoke(main, ["reindex"]).exit_code == 0
    assert runner.invoke(main, ["check"]).exit_code == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local test server
        return int(response.status), response.read().decode()


def test_serve_runs_gunicorn_and_a_second_start_reuses_the_data(tmp_path: Path) -> None:
    env = {**os.environ, "MUSEUM_DATA_DIR": str(tmp_path / "data"), "MUSEUM_EXHIBIT_DIR": str(TEST_EXHIBIT)}
    museum = [sys.executable, "-c", "from museum.cli import main; main()"]
    for attempt in range(2):
        port = _free_port()
        proc = subprocess.Popen([*museum, "serve", "--port", str(port), "--workers", "2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, body = _get(f"http://127.0.0.1:{port}/?lang=en")
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        output = proc.stdout.read().decode() if proc.stdout else ""
                        pytest.fail(f"server did not start:\n{output}")
                    time.sleep(0.3)
            assert status == 200 and "The Harvesters" in body
            status, body = _get(f"http://127.0.0.1:{port}/search?q=%E7%89%A7%E7%BE%8A%E5%9B%BE")
            assert "met:36004" in body
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            output = proc.communicate(timeout=30)[0].decode()
        assert "gunicorn" in output.lower() or "Booting worker" in output
        if attempt == 0:
            assert "Imported the default exhibit" in output
        else:
            assert "Imported the default exhibit" not in output
    # Both starts together hold exactly one copy of each item.
    from museum.catalogue.service import close_catalogue, open_catalogue
    from museum.config import load_settings

    cat = open_catalogue(load_settings({"data_dir": str(tmp_path / "data")}))
    try:
        with cat.sessions() as session:
            from sqlalchemy import func, select

            from museum.catalogue.models import Item

            assert session.scalar(select(func.count()).select_from(Item)) == 6
    finally:
        close_catalogue(cat)


def _start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start `museum serve` and wait until it answers; return the process and its port."""
    port = _free_port()
    museum = [sys.executable, "-c", "from museum.cli import main; main()"]
    proc = subprocess.Popen([*museum, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"http://127.0.0.1:{port}/")
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGTERM)
                output = proc.communicate(timeout=30)[0].decode()
                pytest.fail(f"server did not start:\n{output}")
            time.sleep(0.3)


def test_running_servers_and_workers_find_a_new_import_without_restarting(tmp_path: Path) -> None:
    env = {**os.environ, "MUSEUM_DATA_DIR": str(tmp_path / "data"), "MUSEUM_EXHIBIT_DIR": str(TEST_EXHIBIT)}
    first, first_port = _start_server(env, workers=2)
    second, second_port = _start_server(env, workers=1)
    query = "/search?q=%E4%BB%BF%E5%8F%A4%E5%B1%B1%E6%B0%B4&lang=en"  # 仿古山水
    try:
        # Every worker has already answered (and cached) the search with no hits.
        for port in (first_port, second_port) * 4:
            assert "undated:3" not in _get(f"http://127.0.0.1:{port}{query}")[1]
        imported = subprocess.run([sys.executable, "-c", "from museum.cli import main; main()", "import",
                                   str(DATA / "csv12_undated.csv")], env=env, capture_output=True, timeout=120,
                                  check=False)
        assert imported.returncode == 0, imported.stderr.decode()
        # Each process and each worker, asked again, finds the new item at once.
        for port in (first_port, second_port) * 6:
            status, body = _get(f"http://127.0.0.1:{port}{query}")
            assert status == 200 and "undated:3" in body
    finally:
        for proc in (first, second):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate(timeout=30)
