"""A real harvester against a live server: Sickle (from PyPI) harvests the whole repository page by
page, then harvests again from the last responseDate after an edit and a deletion.

The server is werkzeug's, in a thread, over a real socket: the app is the one `museum serve` runs,
built here so the test can shorten the lists' pages (Flask config) and write to its catalogue.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from flask import Flask
from sickle import Sickle, oaiexceptions
from sickle.iterator import OAIItemIterator
from werkzeug.serving import make_server

from museum.catalogue import store
from museum.catalogue.revisions import item_snapshot, record_revision
from museum.catalogue.service import Catalogue, catch_up_index, set_item_status
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory

PUBLISHED = {"met:36004", "npm:1195", "si:F1906.261", "met:435809", "met:13503"}
OAI = "{http://www.openarchives.org/OAI/2.0/}"


class Live:
    """A running server: its OAI-PMH base URL, its app and the protocol requests it received."""

    def __init__(self, app: Flask, base_url: str, requests_seen: list[dict[str, list[str]]]) -> None:
        """Remember what the test needs."""
        self.app = app
        self.base_url = base_url
        self.requests_seen = requests_seen

    @property
    def catalogue(self) -> Catalogue:
        """Return the server's catalogue."""
        cat: Catalogue = self.app.extensions[CATALOGUE_KEY]
        return cat

    def oai_id(self, item_id: str) -> str:
        """Return the identifier the server gives an item."""
        return f"oai:127.0.0.1:{item_id}"


def recording(app: Flask, seen: list[dict[str, list[str]]]) -> Callable[..., Iterable[bytes]]:
    """Wrap the app to note each request's protocol arguments (query string or form body)."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/oai":
            arguments = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
                arguments = parse_qs(body.decode(), keep_blank_values=True)
                environ["wsgi.input"] = io.BytesIO(body)
            seen.append(arguments)
        return inner(environ, start_response)

    return wsgi


@pytest.fixture
def live(make_app: AppFactory) -> Iterator[Live]:
    """Serve a fresh app over the test exhibit on a free port, two records a page."""
    app = make_app()
    app.config["OAI_PAGE_SIZE"] = 2
    seen: list[dict[str, list[str]]] = []
    app.wsgi_app = recording(app, seen)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="oai-live-server", daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}/oai", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def edit_title(cat: Catalogue, item_id: str, title: str) -> None:
    """Retitle an item as a curator's edit does: the row and its revision in one transaction."""
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        assert item is not None
        item.title = title
        item.updated_at = dt.datetime.now(dt.UTC)
        record_revision(session, entity="item", entity_id=item.id, action="update", actor="curator",
                        snapshot=item_snapshot(item, item.collection.slug,
                                               item.institution.slug if item.institution else None))
        session.commit()
    catch_up_index(cat)


def response_date(iterator: OAIItemIterator) -> str:
    """Return the responseDate of the last response an iterator read."""
    text = iterator.oai_response.xml.findtext(f"{OAI}responseDate")
    assert text
    return str(text)


def test_sickle_harvests_everything_then_only_what_changed(live: Live) -> None:
    sickle = Sickle(live.base_url, timeout=30)
    # The import's datestamps must lie in an earlier second than the harvest's responseDate.
    time.sleep(1.1)

    records = sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False)
    harvested = list(records)
    ids = [r.header.identifier for r in harvested]
    assert sorted(ids) == sorted(live.oai_id(i) for i in PUBLISHED)   # each published item exactly once
    assert not any(r.header.deleted for r in harvested)
    by_id = {r.header.identifier: r for r in harvested}
    assert by_id[live.oai_id("met:36004")].metadata["title"] == ["牧羊圖", "Sheep and herd boy"]
    assert by_id[live.oai_id("npm:1195")].metadata["creator"] == ["Fan Kuan 范寬"]
    assert "谿山行旅圖" in by_id[live.oai_id("npm:1195")].raw
    assert by_id[live.oai_id("met:435809")].metadata["date"] == ["1565"]
    # Five records at two a page: three requests, the last two by resumption token.
    assert [sorted(a) for a in live.requests_seen] == [["metadataPrefix", "verb"], ["resumptionToken", "verb"],
                                                       ["resumptionToken", "verb"]]
    last = records.resumption_token
    assert (last.token, last.cursor, last.complete_list_size) == (None, "4", "5")
    since = response_date(records)
    http = records.oai_response.http_response
    assert http.headers["Content-Type"] == "text/xml; charset=utf-8"

    # A curator retitles one item and trashes another, at least a second later.
    time.sleep(1.1)
    edit_title(live.catalogue, "met:435809", "The Harvesters (Bruegel)")
    set_item_status(live.catalogue, "met:13503", "trashed", actor="curator")

    changes = list(sickle.ListRecords(**{"metadataPrefix": "oai_dc", "from": since, "ignore_deleted": False}))
    assert sorted(r.header.identifier for r in changes) == [live.oai_id("met:13503"), live.oai_id("met:435809")]
    changed = {r.header.identifier: r for r in changes}
    assert changed[live.oai_id("met:435809")].metadata["title"] == ["The Harvesters (Bruegel)", "收割者"]
    assert not changed[live.oai_id("met:435809")].header.deleted
    assert changed[live.oai_id("met:13503")].header.deleted
    assert 'status="deleted"' in changed[live.oai_id("met:13503")].header.raw
    assert changed[live.oai_id("met:13503")].header.datestamp >= since
    # A harvester that skips deletions gets only the edit.
    kept = list(sickle.ListRecords(**{"metadataPrefix": "oai_dc", "from": since, "ignore_deleted": True}))
    assert [r.header.identifier for r in kept] == [live.oai_id("met:435809")]
    # The deleted record stays in the full list, reported deleted.
    headers = list(sickle.ListIdentifiers(metadataPrefix="lido", ignore_deleted=False))
    assert sorted(h.identifier for h in headers) == sorted(live.oai_id(i) for i in PUBLISHED)
    assert {h.identifier for h in headers if h.deleted} == {live.oai_id("met:13503")}


def test_sickle_reads_every_verb(live: Live) -> None:
    sickle = Sickle(live.base_url, timeout=30)
    identify = sickle.Identify()
    assert identify.repositoryName == "城市博物馆在线 / City Museums Online"
    assert identify.baseURL == live.base_url
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.adminEmail == "webmaster@127.0.0.1"

    assert [f.metadataPrefix for f in sickle.ListMetadataFormats()] == ["oai_dc", "lido"]
    assert [f.metadataPrefix for f in sickle.ListMetadataFormats(identifier=live.oai_id("met:36004"))] == \
        ["oai_dc", "lido"]
    sets = {s.setSpec: s.setName for s in sickle.ListSets()}
    assert sets["test-paintings"] == "测试绘画 / Test Paintings"
    assert set(sets) == {"test-paintings", "institution", "institution:met", "institution:nmaa", "institution:npm"}

    record = sickle.GetRecord(identifier=live.oai_id("met:36004"), metadataPrefix="lido")
    assert record.header.identifier == live.oai_id("met:36004")
    assert record.metadata["appellationValue"][:2] == ["牧羊圖", "Sheep and herd boy"]
    in_set = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="institution:met"))
    assert sorted(h.identifier for h in in_set) == sorted(live.oai_id(i) for i in
                                                          ("met:36004", "met:435809", "met:13503"))

    with pytest.raises(oaiexceptions.IdDoesNotExist):
        sickle.GetRecord(identifier=live.oai_id("met:544227"), metadataPrefix="oai_dc")
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        sickle.GetRecord(identifier=live.oai_id("met:36004"), metadataPrefix="marc21")
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        next(iter(sickle.ListRecords(metadataPrefix="oai_dc", set="no-such-set")))
    with pytest.raises(oaiexceptions.BadArgument):
        next(iter(sickle.ListRecords(**{"metadataPrefix": "oai_dc", "from": "yesterday"})))
    with pytest.raises(oaiexceptions.BadResumptionToken):
        next(iter(sickle.ListRecords(resumptionToken="stale")))
    # Sickle checks errors in lists only; a bad verb is read from the raw response.
    error = sickle.harvest(verb="Harvest").xml.find(f"{OAI}error")
    assert error is not None and error.get("code") == "badVerb"

    # The same harvest by POST.
    posted = Sickle(live.base_url, http_method="POST", timeout=30)
    assert sorted(r.header.identifier for r in posted.ListRecords(metadataPrefix="lido")) == \
        sorted(live.oai_id(i) for i in PUBLISHED)
    assert requests.post(live.base_url, data={"verb": "Identify"}, timeout=30).status_code == 200
