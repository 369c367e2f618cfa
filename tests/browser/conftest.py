"""Browser fixtures: the real server started as users start it, and one headless Debian chromium.

The server runs `museum serve` (gunicorn, production mode) over a temporary data directory that
imports the tiny test exhibit at start-up; chromium is the system one, never a downloaded build.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

REPO = Path(__file__).resolve().parents[2]
TEST_EXHIBIT = REPO / "tests" / "data" / "exhibit"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    """A running `museum serve` and where to reach it."""

    url: str
    log_dir: Path

    def stderr(self) -> str:
        """Return what the server has written to stderr so far (for failure messages)."""
        return (self.log_dir / "stderr.txt").read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _museum_command() -> tuple[list[str], dict[str, str]]:
    """Return the `museum` command line and extra environment, as installed or from the checkout."""
    installed = shutil.which("museum")
    if installed:
        return [installed], {}
    # Not installed as a console script (plain checkout): run the same entry point from the repo.
    launcher = "import sys; from museum.cli import main; sys.argv[0] = 'museum'; main()"
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-c", launcher], {"PYTHONPATH": path}


def _answers_200(url: str) -> bool:
    """Return whether GET url answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (gunicorn master and workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    # Workers left behind (or a master deaf to SIGTERM) still belong to the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start `museum serve --workers 2` over a fresh data dir with the test exhibit; stop it after."""
    base = tmp_path_factory.mktemp("live-server")
    port = _free_port()
    command, extra_env = _museum_command()
    command += ["serve", "--data-dir", str(base / "data"), "--port", str(port), "--workers", "2"]
    # A clean environment: no inherited MUSEUM_* setting may point the server elsewhere.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MUSEUM_") and k != "DATABASE_URL"}
    env.update(extra_env, MUSEUM_EXHIBIT_DIR=str(TEST_EXHIBIT), PYTHONUNBUFFERED="1")
    server = LiveServer(url=f"http://127.0.0.1:{port}", log_dir=base)
    with (base / "stdout.txt").open("wb") as out, (base / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=out, stderr=err,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_200(server.url + "/"):
            if process.poll() is not None:
                pytest.fail(f"`museum serve` exited with status {process.returncode} before "
                            f"answering; its stderr:\n{server.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"`museum serve` did not answer GET / with 200 within "
                            f"{START_TIMEOUT:.0f} s; its stderr:\n{server.stderr()}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch the system chromium headless, once for the whole session."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Return the (git-ignored) folder screenshots are saved to, creating it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
