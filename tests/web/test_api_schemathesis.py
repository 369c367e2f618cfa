"""The OpenAPI document against the real server: schemathesis drives `museum serve` on 127.0.0.1.

Every operation gets generated requests, valid and invalid (schemathesis' examples, coverage and
fuzzing phases, a bounded number each), and every response must pass all of schemathesis' checks:
no 5xx, documented status codes, content types and headers, bodies that match the response schemas,
valid input accepted, invalid input refused, 405 with Allow for other methods. Then every real
resource of the data (items, collections, institutions, exhibitions, images) is fetched through its
operation and checked the same way, so the 200 bodies are checked too and not only the 404s that
random ids find.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from museum.catalogue.importing import import_default_exhibit_if_empty
from museum.catalogue.service import close_catalogue, open_catalogue
from museum.config import load_settings
from tests.conftest import TEST_EXHIBIT
from tests.web.test_api import add_exhibitions

# Per operation and phase; enough to reach every parameter's odd values while the whole run stays
# well under a minute on two cores.
MAX_EXAMPLES = 25


def _free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `museum serve` (gunicorn) over a data dir with the test exhibit and exhibitions; yield its URL."""
    data = tmp_path_factory.mktemp("api-live") / "data"
    cat = open_catalogue(load_settings({"data_dir": str(data), "exhibit_dir": str(TEST_EXHIBIT)}))
    try:
        import_default_exhibit_if_empty(cat)
        add_exhibitions(cat)
    finally:
        close_catalogue(cat)
    port = _free_port()
    env = {**os.environ, "MUSEUM_DATA_DIR": str(data), "MUSEUM_EXHIBIT_DIR": str(TEST_EXHIBIT)}
    # The server's log goes to a file: a pipe nobody reads fills up after a few hundred access-log
    # lines and then blocks the workers mid-request.
    log_path = data.parent / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", "from museum.cli import main; main()", "serve",
                                 "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=10):  # noqa: S310 - local server
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def api_schema(live_server: str) -> Any:
    """Return the API's OpenAPI document as the live server serves it, loaded by schemathesis."""
    config = schemathesis.Config.from_dict({
        # No example database: nothing is written into the work tree, and every run starts afresh.
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        # An over-long invalid value (a cursor past maxLength, in 4-byte characters) can make the URL
        # longer than gunicorn reads (4,094 bytes): gunicorn refuses it with 414, which rejects it as
        # surely as our 400 and is documented; the other statuses are schemathesis' defaults.
        "checks": {"negative_data_rejection": {"expected-statuses": [
            "400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5xx"]}},
    })
    return schemathesis.openapi.from_url(live_server + "/api/v1/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_every_real_resource_passes_every_check(api_schema: Any, live_server: str) -> None:
    def fetch(path: str, **path_parameters: str) -> None:
        operation = api_schema[path]["GET"]
        response = operation.Case(path_parameters=path_parameters).call_and_validate()
        assert response.status_code == 200, (path, path_parameters)

    items = requests.get(live_server + "/api/v1/items?limit=100", timeout=10).json()["items"]
    assert len(items) == 5
    for item in items:
        fetch("/items/{item_id}", item_id=item["id"])
        for image in item["images"]:
            fetch("/images/{sha256}", sha256=image["sha256"])
    for collection in requests.get(live_server + "/api/v1/collections", timeout=10).json()["collections"]:
        fetch("/collections/{slug}", slug=collection["slug"])
    for institution in requests.get(live_server + "/api/v1/institutions", timeout=10).json()["institutions"]:
        fetch("/institutions/{slug}", slug=institution["slug"])
    shows = requests.get(live_server + "/api/v1/exhibitions", timeout=10).json()["exhibitions"]
    assert [show["slug"] for show in shows] == ["open-walk"]
    fetch("/exhibitions/{slug}", slug="open-walk")
    for path in ("/items", "/collections", "/institutions", "/exhibitions", "/search", "/openapi.json"):
        response = api_schema[path]["GET"].Case().call_and_validate()
        assert response.status_code == 200, path
