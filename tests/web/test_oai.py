"""OAI-PMH 2.0 at /oai through the test client: every verb, every error in its situation, tokens,
selective harvesting, persistent deletions, and the XML itself.

The protocol's XML Schemas cannot be fetched when tests run, and no PyPI package installs them
(pyoai's source archive carries OAI-PMH.xsd among its tests but does not install it), so every
response is parsed and held to the schemas' rules by `check_document`: element order and
cardinality of OAI-PMH.xsd, the oai_dc element set, and the LIDO 1.0 sequences the records use.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from museum.catalogue import oai, store
from museum.catalogue.models import Revision
from museum.catalogue.revisions import item_snapshot, record_revision
from museum.catalogue.service import Catalogue, catch_up_index, set_item_status
from museum.web import CATALOGUE_KEY
from tests.conftest import AppFactory, pg_database

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
LIDO = "http://www.lido-schema.org"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE_URL = "http://localhost/oai"
PUBLISHED = {"met:36004", "npm:1195", "si:F1906.261", "met:435809", "met:13503"}
DRAFT = "met:544227"   # never published: not in the repository at all
ERROR_CODES = {"badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat", "idDoesNotExist",
               "noRecordsMatch", "noMetadataFormats", "noSetHierarchy"}
ARGUMENT_NAMES = {"verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"}
UTC_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SET_SPEC = re.compile(r"([A-Za-z0-9\-_.!~*'()])+(:[A-Za-z0-9\-_.!~*'()]+)*")
DC_ELEMENTS = {"title", "creator", "subject", "description", "publisher", "contributor", "date", "type", "format",
               "identifier", "source", "language", "relation", "coverage", "rights"}


def q(namespace: str, name: str) -> str:
    """Return a Clark name."""
    return f"{{{namespace}}}{name}"


def oid(item_id: str, host: str = "localhost") -> str:
    """Return the oai identifier of an item."""
    return f"oai:{host}:{item_id}"


# ----- the schemas' rules, checked on every response ----------------------------------------------


def _children(element: ET.Element) -> list[str]:
    """Return the local names of an element's children."""
    return [child.tag.rpartition("}")[2] for child in element]


def _in_order(element: ET.Element, order: Sequence[str], required: Sequence[str] = (),
              single: Sequence[str] = ()) -> None:
    """Assert the children follow a schema sequence, with the required ones present and the single ones once."""
    names = _children(element)
    assert all(name in order for name in names), (element.tag, names)
    positions = [order.index(name) for name in names]
    assert positions == sorted(positions), (element.tag, names)
    for name in required:
        assert name in names, (element.tag, name, names)
    for name in single:
        assert names.count(name) <= 1, (element.tag, name, names)


def _check_header(header: ET.Element) -> None:
    _in_order(header, ["identifier", "datestamp", "setSpec"], ["identifier", "datestamp"],
              ["identifier", "datestamp"])
    assert set(header.attrib) <= {"status"} and header.get("status", "deleted") == "deleted"
    assert re.match(r"[a-z][a-z0-9+.-]*:", header.findtext(q(OAI, "identifier")) or "")
    assert UTC_SECOND.fullmatch(header.findtext(q(OAI, "datestamp")) or "")
    assert all(SET_SPEC.fullmatch(s.text or "") for s in header.findall(q(OAI, "setSpec")))


def _check_record(record: ET.Element) -> None:
    _in_order(record, ["header", "metadata", "about"], ["header"], ["header", "metadata"])
    header = record.find(q(OAI, "header"))
    assert header is not None
    _check_header(header)
    metadata = record.find(q(OAI, "metadata"))
    if header.get("status") == "deleted":
        assert metadata is None
        return
    assert metadata is not None and len(metadata) == 1
    payload = metadata[0]
    if payload.tag == q(OAI_DC, "dc"):
        check_dc(payload)
    else:
        assert payload.tag == q(LIDO, "lido"), payload.tag
        check_lido(payload)


def _check_token(token: ET.Element) -> None:
    assert set(token.attrib) <= {"expirationDate", "completeListSize", "cursor"}
    assert all(token.get(a, "0").isdigit() for a in ("completeListSize", "cursor"))
    assert UTC_SECOND.fullmatch(token.get("expirationDate", "2000-01-01T00:00:00Z"))


def check_document(root: ET.Element) -> None:
    """Assert an OAI-PMH response keeps the rules of OAI-PMH.xsd (and of the formats inside)."""
    assert root.tag == q(OAI, "OAI-PMH")
    assert root.get(q(XSI, "schemaLocation")) == f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    names = _children(root)
    assert names[:2] == ["responseDate", "request"], names
    assert UTC_SECOND.fullmatch(root.findtext(q(OAI, "responseDate")) or "")
    request = root.find(q(OAI, "request"))
    assert request is not None and re.fullmatch(r"https?://[^/]+/oai", request.text or "")
    assert set(request.attrib) <= ARGUMENT_NAMES
    rest = root[2:]
    if names[2] == "error":
        assert all(e.tag == q(OAI, "error") and e.get("code") in ERROR_CODES for e in rest)
        return
    assert len(rest) == 1, names
    body = rest[0]
    verb = names[2]
    assert request.get("verb") == verb
    if verb == "Identify":
        _in_order(body, ["repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
                         "deletedRecord", "granularity", "compression", "description"],
                  ["repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
                   "deletedRecord", "granularity"],
                  ["repositoryName", "baseURL", "protocolVersion", "earliestDatestamp", "deletedRecord",
                   "granularity"])
        assert body.findtext(q(OAI, "protocolVersion")) == "2.0"
        assert all(re.fullmatch(r"\S+@(\S+\.)+\S+", e.text or "") for e in body.findall(q(OAI, "adminEmail")))
        assert all(len(d) == 1 for d in body.findall(q(OAI, "description")))
    elif verb == "ListMetadataFormats":
        assert len(body) and all(child.tag == q(OAI, "metadataFormat") for child in body)
        for fmt in body:
            _in_order(fmt, ["metadataPrefix", "schema", "metadataNamespace"],
                      ["metadataPrefix", "schema", "metadataNamespace"],
                      ["metadataPrefix", "schema", "metadataNamespace"])
    elif verb == "ListSets":
        _in_order(body, ["set", "resumptionToken"], ["set"], ["resumptionToken"])
        for item in body.findall(q(OAI, "set")):
            _in_order(item, ["setSpec", "setName", "setDescription"], ["setSpec", "setName"],
                      ["setSpec", "setName"])
            assert SET_SPEC.fullmatch(item.findtext(q(OAI, "setSpec")) or "")
            for description in item.findall(q(OAI, "setDescription")):
                assert len(description) == 1
                check_dc(description[0])
    elif verb == "GetRecord":
        assert _children(body) == ["record"]
        _check_record(body[0])
    else:
        assert verb in ("ListIdentifiers", "ListRecords"), verb
        entry = "header" if verb == "ListIdentifiers" else "record"
        _in_order(body, [entry, "resumptionToken"], [entry], ["resumptionToken"])
        for child in body:
            if child.tag == q(OAI, "resumptionToken"):
                _check_token(child)
            elif entry == "header":
                _check_header(child)
            else:
                _check_record(child)


def check_dc(dc: ET.Element) -> None:
    """Assert oai_dc:dc holds only the fifteen elements, as text with at most xml:lang."""
    assert dc.tag == q(OAI_DC, "dc")
    assert dc.get(q(XSI, "schemaLocation")) == f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    for element in dc:
        namespace, _brace, name = element.tag[1:].partition("}")
        assert namespace == DC and name in DC_ELEMENTS, element.tag
        assert len(element) == 0 and set(element.attrib) <= {XML_LANG}
        assert (element.text or "").strip()


# The sequences of LIDO 1.0 (lido-v1.0.xsd) for every container the records use:
# name → (children in schema order, required children).
CONCEPT = (["conceptID", "term"], [])
LEGAL_BODY = (["legalBodyID", "legalBodyName", "legalBodyWeblink"], [])
RIGHTS = (["rightsType", "rightsDate", "rightsHolder", "creditLine"], [])
LIDO_SEQUENCES: dict[str, tuple[list[str], list[str]]] = {
    "lido": (["lidoRecID", "objectPublishedID", "category", "descriptiveMetadata", "administrativeMetadata"],
             ["lidoRecID", "descriptiveMetadata", "administrativeMetadata"]),
    "category": CONCEPT, "objectWorkType": CONCEPT, "classification": CONCEPT, "eventType": CONCEPT,
    "periodName": CONCEPT, "subjectConcept": CONCEPT, "recordType": CONCEPT, "rightsType": CONCEPT,
    "resourceType": CONCEPT,
    "descriptiveMetadata": (["objectClassificationWrap", "objectIdentificationWrap", "eventWrap",
                             "objectRelationWrap"], ["objectClassificationWrap", "objectIdentificationWrap"]),
    "objectClassificationWrap": (["objectWorkTypeWrap", "classificationWrap"], ["objectWorkTypeWrap"]),
    "objectWorkTypeWrap": (["objectWorkType"], ["objectWorkType"]),
    "classificationWrap": (["classification"], []),
    "objectIdentificationWrap": (["titleWrap", "inscriptionsWrap", "repositoryWrap", "displayStateEditionWrap",
                                  "objectDescriptionWrap", "objectMeasurementsWrap"], ["titleWrap"]),
    "titleWrap": (["titleSet"], ["titleSet"]),
    "titleSet": (["appellationValue", "sourceAppellation"], ["appellationValue"]),
    "legalBodyName": (["appellationValue", "sourceAppellation"], ["appellationValue"]),
    "inscriptionsWrap": (["inscriptions"], []),
    "inscriptions": (["inscriptionTranscription", "inscriptionDescription"], []),
    "repositoryWrap": (["repositorySet"], []),
    "repositorySet": (["repositoryName", "workID", "repositoryLocation"], []),
    "repositoryName": LEGAL_BODY, "recordSource": LEGAL_BODY,
    "objectDescriptionWrap": (["objectDescriptionSet"], []),
    "objectDescriptionSet": (["descriptiveNoteID", "descriptiveNoteValue", "sourceDescriptiveNote"], []),
    "eventDescriptionSet": (["descriptiveNoteID", "descriptiveNoteValue", "sourceDescriptiveNote"], []),
    "objectMeasurementsWrap": (["objectMeasurementsSet"], []),
    "objectMeasurementsSet": (["displayObjectMeasurements", "objectMeasurements"], []),
    "eventWrap": (["eventSet"], []),
    "eventSet": (["displayEvent", "event"], []),
    "event": (["eventID", "eventType", "roleInEvent", "eventName", "eventActor", "culture", "eventDate",
               "periodName", "eventPlace", "eventMethod", "eventMaterialsTech", "thingPresent", "relatedEventSet",
               "eventDescriptionSet"], ["eventType"]),
    "eventActor": (["displayActorInRole", "actorInRole"], []),
    "eventDate": (["displayDate", "date"], []),
    "date": (["earliestDate", "latestDate"], []),
    "eventMaterialsTech": (["displayMaterialsTech", "materialsTech"], []),
    "objectRelationWrap": (["subjectWrap", "relatedWorksWrap"], []),
    "subjectWrap": (["subjectSet"], []),
    "subjectSet": (["displaySubject", "subject"], []),
    "subject": (["extentSubject", "subjectConcept", "subjectActor", "subjectDate", "subjectEvent", "subjectPlace",
                 "subjectObject"], []),
    "administrativeMetadata": (["rightsWorkWrap", "recordWrap", "resourceWrap"], ["recordWrap"]),
    "rightsWorkWrap": (["rightsWorkSet"], []),
    "rightsWorkSet": RIGHTS, "recordRights": RIGHTS, "rightsResource": RIGHTS,
    "recordWrap": (["recordID", "recordType", "recordSource", "recordRights", "recordInfoSet"],
                   ["recordID", "recordType", "recordSource"]),
    "recordInfoSet": (["recordInfoID", "recordInfoLink", "recordMetadataDate"], []),
    "resourceWrap": (["resourceSet"], []),
    "resourceSet": (["resourceID", "resourceRepresentation", "resourceType", "resourceRelType",
                     "resourcePerspective", "resourceDescription", "resourceDateTaken", "resourceSource",
                     "rightsResource"], []),
    "resourceRepresentation": (["linkResource", "resourceMeasurementsSet"], ["linkResource"]),
    "resourceMeasurementsSet": (["measurementType", "measurementUnit", "measurementValue"],
                                ["measurementType", "measurementUnit", "measurementValue"]),
}
LIDO_TEXT = {"lidoRecID", "objectPublishedID", "conceptID", "term", "appellationValue", "inscriptionTranscription",
             "workID", "legalBodyWeblink", "descriptiveNoteValue", "displayObjectMeasurements", "displayActorInRole",
             "displayDate", "earliestDate", "latestDate", "displayMaterialsTech", "creditLine", "recordID",
             "recordInfoID", "recordInfoLink", "resourceID", "linkResource", "measurementType", "measurementUnit",
             "measurementValue", "resourceDescription"}
LIDO_TYPED = {"lidoRecID", "objectPublishedID", "conceptID", "recordID", "recordInfoID", "resourceID"}


def check_lido(record: ET.Element) -> None:
    """Assert a LIDO record keeps the LIDO 1.0 sequences, required parts and qualified attributes."""
    assert record.get(q(XSI, "schemaLocation")) == f"{LIDO} http://www.lido-schema.org/schema/v1.0/lido-v1.0.xsd"
    for element in record.iter():
        namespace, _brace, name = element.tag[1:].partition("}")
        assert namespace == LIDO, element.tag
        # attributeFormDefault="qualified": every attribute is lido: or xml: (xsi: on the root).
        assert all(a.startswith(("{" + LIDO + "}", XML_LANG, "{" + XSI + "}")) for a in element.attrib), element.attrib
        if name in LIDO_SEQUENCES:
            order, required = LIDO_SEQUENCES[name]
            single = [n for n in order if n in {"category", "objectClassificationWrap", "objectIdentificationWrap",
                                                "eventWrap", "objectRelationWrap", "titleWrap", "recordWrap",
                                                "recordType", "resourceWrap", "rightsWorkWrap", "eventType",
                                                "eventDate", "date", "objectWorkTypeWrap", "classificationWrap",
                                                "measurementValue", "linkResource", "resourceType", "subject"}]
            _in_order(element, order, required, single)
            assert not (element.text or "").strip(), name
        else:
            assert name in LIDO_TEXT, name
            assert len(element) == 0 and (element.text or "").strip(), name
        if name in LIDO_TYPED:
            assert element.get(q(LIDO, "type")), name
        if name in ("descriptiveMetadata", "administrativeMetadata"):
            assert element.get(XML_LANG), name


# ----- fixtures and requests ---------------------------------------------------------------------


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """Return a fresh app (for tests that write) whose lists come two records a page."""
    fresh = make_app()
    fresh.config["OAI_PAGE_SIZE"] = 2
    return fresh


@pytest.fixture
def reader(shared_app: Flask) -> FlaskClient:
    """Return a client of the shared, read-only app, with two records a page."""
    shared_app.config["OAI_PAGE_SIZE"] = 2
    return shared_app.test_client()


def request(client: FlaskClient, method: str = "GET", **args: str | Sequence[str]) -> ET.Element:
    """Send a protocol request (a list value repeats the argument), check the reply, return its root."""
    pairs = MultiDict([(name, v) for name, value in args.items()
                       for v in ([value] if isinstance(value, str) else value)])
    # POST sends them form-encoded (application/x-www-form-urlencoded), as the protocol has it.
    response = client.post("/oai", data=pairs) if method == "POST" else client.get("/oai", query_string=pairs)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.get_data().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own server's output
    check_document(root)
    return root


def errors(root: ET.Element) -> list[str]:
    """Return the error codes of a response."""
    return [e.get("code", "") for e in root.findall(q(OAI, "error"))]


def request_attributes(root: ET.Element) -> dict[str, str]:
    """Return the arguments the response echoes."""
    element = root.find(q(OAI, "request"))
    assert element is not None
    return dict(element.attrib)


def harvest(client: FlaskClient, verb: str, **args: str) -> tuple[list[ET.Element], list[ET.Element]]:
    """Follow a list through its resumption tokens; return its entries and the token elements seen."""
    entries: list[ET.Element] = []
    tokens: list[ET.Element] = []
    root = request(client, verb=verb, **args)
    while True:
        assert not errors(root), errors(root)
        body = root.find(q(OAI, verb))
        assert body is not None
        entries.extend(child for child in body if child.tag != q(OAI, "resumptionToken"))
        token = body.find(q(OAI, "resumptionToken"))
        if token is None:
            return entries, tokens
        tokens.append(token)
        if not token.text:
            return entries, tokens
        root = request(client, verb=verb, resumptionToken=token.text)


def header_of(entry: ET.Element) -> ET.Element:
    """Return the header of a record, or the header itself."""
    header = entry if entry.tag == q(OAI, "header") else entry.find(q(OAI, "header"))
    assert header is not None
    return header


def identifiers(entries: Sequence[ET.Element]) -> list[str]:
    """Return the identifiers of headers or records, in order."""
    return [header_of(e).findtext(q(OAI, "identifier")) or "" for e in entries]


def deleted(entries: Sequence[ET.Element]) -> set[str]:
    """Return the identifiers reported deleted."""
    return {header_of(e).findtext(q(OAI, "identifier")) or "" for e in entries
            if header_of(e).get("status") == "deleted"}


def catalogue(app: Flask) -> Catalogue:
    """Return the app's catalogue."""
    cat: Catalogue = app.extensions[CATALOGUE_KEY]
    return cat


def stamp(app: Flask, times: Mapping[str, str]) -> None:
    """Set when each item's revisions were made (ISO times, UTC), so dates can be selected by."""
    with catalogue(app).sessions() as session:
        for item_id, when in times.items():
            moment = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
            session.execute(update(Revision).where(Revision.entity == "item", Revision.entity_id == item_id)
                            .values(created_at=moment))
        session.commit()


def edit_item(app: Flask, item_id: str, **fields: Any) -> None:
    """Change an item's fields as a curator's edit would: the row and one revision, in one transaction."""
    cat = catalogue(app)
    with cat.sessions() as session:
        item = store.item_by_id(session, item_id)
        assert item is not None
        for name, value in fields.items():
            setattr(item, name, value)
        record_revision(session, entity="item", entity_id=item.id, action="update", actor="test",
                        snapshot=item_snapshot(item, item.collection.slug,
                                               item.institution.slug if item.institution else None))
        session.commit()
    catch_up_index(cat)


def purge_item(app: Flask, item_id: str) -> None:
    """Delete an item's row for good, with a "purge" revision (no state left to snapshot)."""
    with catalogue(app).sessions() as session:
        item = store.item_by_id(session, item_id)
        assert item is not None
        session.delete(item)
        record_revision(session, entity="item", entity_id=item_id, action="purge", actor="test", snapshot={})
        session.commit()


# ----- Identify, ListMetadataFormats, ListSets -----------------------------------------------------


def test_identify_describes_the_repository(reader: FlaskClient, shared_app: Flask) -> None:
    response = reader.get("/oai?verb=Identify")
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "no-store" in response.headers["Cache-Control"]
    root = request(reader, verb="Identify")
    assert request_attributes(root) == {"verb": "Identify"}
    body = root.find(q(OAI, "Identify"))
    assert body is not None
    text = {child.tag.rpartition("}")[2]: child.text for child in body}
    assert text["repositoryName"] == "城市博物馆在线 / City Museums Online"
    assert text["baseURL"] == BASE_URL
    assert text["deletedRecord"] == "persistent"
    assert text["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert text["adminEmail"] == "webmaster@localhost.localdomain"
    with catalogue(shared_app).sessions() as session:
        oldest = store.earliest_item_change(session)
    assert oldest is not None
    assert text["earliestDatestamp"] == oai.datestamp(oldest.replace(tzinfo=oldest.tzinfo or dt.UTC))
    assert text["earliestDatestamp"] <= (root.findtext(q(OAI, "responseDate")) or "")
    # "localhost" is no domain name, so no oai-identifier description could validate.
    assert body.find(q(OAI, "description")) is None


def test_identify_on_a_domain_names_the_identifier_scheme(reader: FlaskClient) -> None:
    response = reader.get("/oai?verb=Identify", base_url="https://museum.example.org")
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own server's output
    body = root.find(q(OAI, "Identify"))
    assert body is not None
    assert body.findtext(q(OAI, "baseURL")) == "https://museum.example.org/oai"
    assert body.findtext(q(OAI, "adminEmail")) == "webmaster@museum.example.org"
    scheme = body.find(f"{q(OAI, 'description')}/{{{oai.OAI_IDENTIFIER_NS}}}oai-identifier")
    assert scheme is not None
    assert scheme.get(q(XSI, "schemaLocation")) == (
        "http://www.openarchives.org/OAI/2.0/oai-identifier http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
    values = [(child.tag.rpartition("}")[2], child.text) for child in scheme]
    assert values == [("scheme", "oai"), ("repositoryIdentifier", "museum.example.org"), ("delimiter", ":"),
                      ("sampleIdentifier", "oai:museum.example.org:museum:0001")]
    listed = reader.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc", base_url="https://museum.example.org")
    assert b"<identifier>oai:museum.example.org:met:36004</identifier>" in listed.get_data()


def test_base_url_follows_the_proxy_setting(make_app: AppFactory) -> None:
    client = make_app(proxy_hops=1).test_client()
    response = client.get("/oai?verb=Identify", headers={"X-Forwarded-Proto": "https",
                                                         "X-Forwarded-Host": "museum.example.org"})
    assert b"<baseURL>https://museum.example.org/oai</baseURL>" in response.get_data()


def test_metadata_formats_for_the_repository_and_for_an_item(reader: FlaskClient) -> None:
    expected = [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
                ("lido", "http://www.lido-schema.org/schema/v1.0/lido-v1.0.xsd", LIDO)]
    for args in ({}, {"identifier": oid("met:36004")}):
        root = request(reader, verb="ListMetadataFormats", **args)
        assert request_attributes(root) == {"verb": "ListMetadataFormats", **args}
        formats = [(f.findtext(q(OAI, "metadataPrefix")), f.findtext(q(OAI, "schema")),
                    f.findtext(q(OAI, "metadataNamespace"))) for f in root.iter(q(OAI, "metadataFormat"))]
        assert formats == expected
    for unknown in (oid("nope:1"), oid(DRAFT), "met:36004", "oai:elsewhere.org:met:36004", ""):
        root = request(reader, verb="ListMetadataFormats", identifier=unknown)
        assert errors(root) == ["idDoesNotExist"]
        assert request_attributes(root) == {"verb": "ListMetadataFormats", "identifier": unknown}


def test_sets_are_collections_and_institutions(reader: FlaskClient) -> None:
    root = request(reader, verb="ListSets")
    sets = {s.findtext(q(OAI, "setSpec")): s for s in root.iter(q(OAI, "set"))}
    assert list(sets) == ["test-paintings", "institution", "institution:met", "institution:nmaa", "institution:npm"]
    paintings = sets["test-paintings"]
    assert paintings.findtext(q(OAI, "setName")) == "测试绘画 / Test Paintings"
    titles = {t.get(XML_LANG): t.text for t in paintings.iter(q(DC, "title"))}
    assert titles == {"en": "Test Paintings", "zh-Hant": "測試繪畫", "zh-Hans": "测试绘画"}
    summaries = {d.get(XML_LANG): d.text for d in paintings.iter(q(DC, "description"))}
    assert summaries["zh-Hant"] == "供自動化測試使用的小型展覽。"
    assert sets["institution:npm"].findtext(q(OAI, "setName")) == "国立故宫博物院 / National Palace Museum, Taipei"
    # The list is sent whole: there is no token it could be resumed with.
    assert errors(request(reader, verb="ListSets", resumptionToken="anything")) == ["badResumptionToken"]


def test_no_set_hierarchy_and_no_records_in_an_empty_catalogue(make_app: AppFactory) -> None:
    client = make_app(import_default_exhibit=False).test_client()
    # noSetHierarchy is for repositories without sets; ours has them as soon as it has collections.
    assert errors(request(client, verb="ListSets")) == ["noSetHierarchy"]
    assert errors(request(client, verb="ListRecords", metadataPrefix="oai_dc")) == ["noRecordsMatch"]
    root = request(client, verb="Identify")
    assert root.findtext(f"{q(OAI, 'Identify')}/{q(OAI, 'earliestDatestamp')}") == \
        root.findtext(q(OAI, "responseDate"))


# ----- records, formats and the whole list ---------------------------------------------------------


def test_list_records_pages_through_every_published_item_once(reader: FlaskClient) -> None:
    entries, tokens = harvest(reader, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(identifiers(entries)) == sorted(oid(i) for i in PUBLISHED)
    assert not deleted(entries)
    # Five records two by two: tokens after the first and second pages, an empty one on the last.
    assert [(t.get("cursor"), t.get("completeListSize"), bool(t.text)) for t in tokens] == [
        ("0", "5", True), ("2", "5", True), ("4", "5", False)]
    assert tokens[0].get("expirationDate") and tokens[-1].get("expirationDate") is None
    headers, _tokens = harvest(reader, "ListIdentifiers", metadataPrefix="oai_dc")
    assert identifiers(headers) == identifiers(entries)
    lido_records, _tokens = harvest(reader, "ListRecords", metadataPrefix="lido")
    assert identifiers(lido_records) == identifiers(entries)


def test_dublin_core_carries_both_titles_dates_and_links(reader: FlaskClient) -> None:
    root = request(reader, verb="GetRecord", identifier=oid("met:36004"), metadataPrefix="oai_dc")
    assert request_attributes(root) == {"verb": "GetRecord", "identifier": oid("met:36004"),
                                        "metadataPrefix": "oai_dc"}
    titles = [(t.text, t.get(XML_LANG)) for t in root.iter(q(DC, "title"))]
    assert titles == [("牧羊圖", "zh-Hant"), ("Sheep and herd boy", "en")]
    root = request(reader, verb="GetRecord", identifier=oid("met:435809"), metadataPrefix="oai_dc")
    dc = {name: [(e.text, e.get(XML_LANG)) for e in root.iter(q(DC, name))] for name in DC_ELEMENTS}
    assert dc["title"] == [("The Harvesters", "en"), ("收割者", "zh")]
    assert dc["creator"] == [("Pieter Bruegel the Elder", None)]
    assert dc["date"] == [("1565", None)]   # the date text and the year span are one value here
    assert dc["type"] == [("painting", "en"), ("Image", None)]
    assert dc["format"][0] == ("Oil on wood", "en")
    assert dc["identifier"] == [("http://localhost/items/met:435809", None), ("19.164", None)]
    assert dc["relation"] == [("http://localhost/iiif/manifest/met:435809", None)]
    assert dc["rights"][1] == ("https://creativecommons.org/publicdomain/zero/1.0/", None)
    assert dc["source"] == [("https://www.metmuseum.org/art/collection/search/435809", None)]
    assert {lang for _text, lang in dc["publisher"]} == {"en", "zh-Hant", "zh-Hans"}
    # The description is English, then Chinese: one element for each, in its language.
    assert [lang for _text, lang in dc["description"]] == ["en", "zh-Hant"]
    # Without images there is no manifest to relate to.
    root = request(reader, verb="GetRecord", identifier=oid("npm:1195"), metadataPrefix="oai_dc")
    assert root.find(f".//{q(DC, 'relation')}") is None
    assert [e.text for e in root.iter(q(DC, "type"))] == ["PhysicalObject"]


def test_lido_record_of_an_item_with_images(reader: FlaskClient) -> None:
    root = request(reader, verb="GetRecord", identifier=oid("met:13503"), metadataPrefix="lido")
    record = root.find(f".//{q(LIDO, 'lido')}")
    assert record is not None

    def text(path: str) -> list[tuple[str | None, str | None]]:
        return [(e.text, e.get(XML_LANG)) for e in record.iterfind(path, {"l": LIDO})]

    assert text("l:lidoRecID") == [("met:13503", None)]
    titles = "l:descriptiveMetadata/l:objectIdentificationWrap/l:titleWrap/l:titleSet/l:appellationValue"
    assert text(titles) == [("Hibiscus and Parrots", "en"), ("木槿與鸚鵡", "zh-Hant")]
    assert [e.get(q(LIDO, "pref")) for e in record.iterfind(titles, {"l": LIDO})] == ["preferred", "alternate"]
    actor = ".//l:eventSet/l:event/l:eventActor/l:displayActorInRole"
    assert text(actor) == [("Louis Comfort Tiffany", None)]
    assert text(".//l:recordWrap/l:recordID") == [("met:13503", None)]
    assert text(".//l:recordInfoSet/l:recordInfoID") == [(oid("met:13503"), None)]
    sets = record.findall(".//l:resourceWrap/l:resourceSet", {"l": LIDO})
    assert len(sets) == 2   # the RGB and the CMYK file
    links = {r.get(q(LIDO, "type")): r.findtext(q(LIDO, "linkResource"))
             for r in sets[0].iterfind("l:resourceRepresentation", {"l": LIDO})}
    assert set(links) == {"image_thumb", "image_master", "iiif_image_api"}
    assert links["image_master"].endswith("/full/max/0/default.jpg")
    assert links["iiif_image_api"].endswith("/info.json")
    rights = ".//l:recordWrap/l:recordRights/l:rightsType/l:conceptID"
    assert text(rights) == [("https://creativecommons.org/publicdomain/zero/1.0/", None)]


def test_lido_dates_and_texts_by_language(make_app: AppFactory) -> None:
    app = make_app()
    edit_item(app, "npm:1195", begin_year=-300, end_year=-221, date_display="戰國 公元前300–221年", period="戰國",
              medium="絹本", provenance="Qing court collection\n\n清宮舊藏", subjects=["山水", "landscape"])
    client = app.test_client()
    root = request(client, verb="GetRecord", identifier=oid("npm:1195"), metadataPrefix="lido")
    ns = {"l": LIDO}
    date = root.find(".//l:eventDate/l:date", ns)
    assert date is not None
    assert (date.findtext("l:earliestDate", namespaces=ns), date.findtext("l:latestDate", namespaces=ns)) == \
        ("-0299", "-0220")
    assert [(e.text, e.get(XML_LANG)) for e in root.iterfind(".//l:periodName/l:term", ns)] == [("戰國", "zh-Hant")]
    notes = root.iterfind(".//l:eventDescriptionSet/l:descriptiveNoteValue", ns)
    assert [(e.text, e.get(XML_LANG)) for e in notes] == [("Qing court collection", "en"), ("清宮舊藏", "zh-Hant")]
    concepts = root.iterfind(".//l:subjectConcept/l:term", ns)
    assert [(e.text, e.get(XML_LANG)) for e in concepts] == [("山水", "zh"), ("landscape", "en")]
    dc = request(client, verb="GetRecord", identifier=oid("npm:1195"), metadataPrefix="oai_dc")
    assert [e.text for e in dc.iter(q(DC, "date"))] == ["戰國 公元前300–221年", "-0299/-0220"]
    assert [e.text for e in dc.iter(q(DC, "coverage"))] == ["戰國"]


def test_years_languages_and_identifiers() -> None:
    assert [oai.iso_year(y) for y in (1565, 12, -1, -300, -10000)] == ["1565", "0012", "0000", "-0299", "-9999"]
    assert oai.year_span(1736, 1795) == "1736/1795"
    assert oai.year_span(None, 1900) == "1900" and oai.year_span(None, None) == ""
    texts = ("牧羊圖", "牧羊图", "山水", "The Harvesters", "Fan Kuan 范寬", "1565", "ひらがな")
    assert [oai.language_of(t) for t in texts] == ["zh-Hant", "zh-Hans", "zh", "en", None, None, "ja"]
    repo = oai.Repository(name="x", base_url="http://h.example.org/oai", admin_email="a@h.example.org",
                          namespace="h.example.org")
    for item_id, identifier in [("met:36004", "oai:h.example.org:met:36004"),
                                ("a b/故宮 #1", "oai:h.example.org:a%20b/%E6%95%85%E5%AE%AE%20%231"),
                                ("50%", "oai:h.example.org:50%25")]:
        assert oai.oai_identifier(repo, item_id) == identifier
        assert re.fullmatch(r"oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:"
                            r"[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+", identifier)
        assert oai.item_id_of(repo, identifier) == item_id
    # Only the spelling the repository hands out names an item.
    for other in ("oai:h.example.org:met%3A36004", "oai:h.example.org:", "oai:other.org:met:36004", "met:36004"):
        assert oai.item_id_of(repo, other) is None


def test_identifiers_that_need_escaping_round_trip(make_app: AppFactory) -> None:
    app = make_app()
    with catalogue(app).sessions() as session:
        item = store.item_by_id(session, "met:36004")
        assert item is not None
        session.execute(update(Revision).where(Revision.entity_id == "met:36004").values(entity_id="故宮 50%"))
        item.id = "故宮 50%"
        session.commit()
    client = app.test_client()
    identifier = oai.oai_identifier(oai.Repository("", "", "", "localhost"), "故宮 50%")
    assert identifier == "oai:localhost:%E6%95%85%E5%AE%AE%2050%25"
    entries, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    assert identifier in identifiers(entries)
    root = request(client, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    assert [t.text for t in root.iter(q(DC, "title"))][0] == "牧羊圖"


def test_text_that_xml_cannot_hold_is_left_out_and_markup_is_escaped(make_app: AppFactory) -> None:
    app = make_app()
    edit_item(app, "met:36004", title="<b>牧羊圖</b> & \x0bco\ufffe", description="a]]>b")
    root = request(app.test_client(), verb="GetRecord", identifier=oid("met:36004"), metadataPrefix="oai_dc")
    assert [t.text for t in root.iter(q(DC, "title"))][0] == "<b>牧羊圖</b> & co"
    assert [t.text for t in root.iter(q(DC, "description"))][0] == "a]]>b"


# ----- selective harvesting ------------------------------------------------------------------------


def test_sets_select_records(reader: FlaskClient) -> None:
    def harvested(spec: str) -> set[str]:
        entries, _tokens = harvest(reader, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        return set(identifiers(entries))

    everything = {oid(i) for i in PUBLISHED}
    assert harvested("test-paintings") == everything
    assert harvested("institution") == everything
    assert harvested("institution:met") == {oid("met:36004"), oid("met:435809"), oid("met:13503")}
    assert harvested("institution:npm") == {oid("npm:1195")}
    root = request(reader, verb="GetRecord", identifier=oid("si:F1906.261"), metadataPrefix="oai_dc")
    assert [s.text for s in root.iter(q(OAI, "setSpec"))] == ["test-paintings", "institution:nmaa"]
    for unknown in ("no-such-collection", "institution:nobody", "test-paintings:sub", "institution:met:x"):
        root = request(reader, verb="ListIdentifiers", metadataPrefix="oai_dc", set=unknown)
        assert errors(root) == ["noRecordsMatch"]
        assert request_attributes(root) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": unknown}
    for malformed in ("", "a b", "x::y", ":x", "集"):
        assert errors(request(reader, verb="ListIdentifiers", metadataPrefix="oai_dc", set=malformed)) == \
            ["badArgument"]


def test_from_and_until_select_by_datestamp(app: Flask) -> None:
    stamp(app, {"met:36004": "2024-01-01T10:00:00", "npm:1195": "2024-01-02T10:00:00",
                "si:F1906.261": "2024-01-03T10:00:00", "met:435809": "2024-01-03T10:00:05",
                "met:13503": "2024-01-04T23:59:59", DRAFT: "2024-01-05T00:00:00"})
    client = app.test_client()

    def harvested(**dates: str) -> list[str]:
        entries, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", **dates)
        return sorted(i.rpartition("localhost:")[2] for i in identifiers(entries))

    assert harvested(**{"from": "2024-01-03"}) == ["met:13503", "met:435809", "si:F1906.261"]
    assert harvested(until="2024-01-02") == ["met:36004", "npm:1195"]   # until a day means all of it
    assert harvested(**{"from": "2024-01-02", "until": "2024-01-03"}) == ["met:435809", "npm:1195", "si:F1906.261"]
    # Bounds are inclusive to the second.
    assert harvested(**{"from": "2024-01-03T10:00:05Z"}) == ["met:13503", "met:435809"]
    assert harvested(until="2024-01-03T10:00:00Z") == ["met:36004", "npm:1195", "si:F1906.261"]
    assert harvested(**{"from": "2024-01-04T23:59:59Z", "until": "2024-01-04T23:59:59Z"}) == ["met:13503"]
    root = request(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2024-01-01T09:59:59Z")
    assert errors(root) == ["noRecordsMatch"]
    assert request_attributes(root)["until"] == "2024-01-01T09:59:59Z"
    assert errors(request(client, verb="ListRecords", metadataPrefix="lido", **{"from": "2100-01-01"})) == \
        ["noRecordsMatch"]
    datestamps = [h.findtext(q(OAI, "datestamp")) for h in request(client, verb="ListIdentifiers",
                                                                   metadataPrefix="oai_dc").iter(q(OAI, "header"))]
    assert datestamps == ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z"]
    # A token keeps the dates of the request that started the list.
    entries, tokens = harvest(client, "ListRecords", metadataPrefix="oai_dc", **{"from": "2024-01-02"})
    assert len(entries) == 4 and [t.get("completeListSize") for t in tokens] == ["4", "4"]


@pytest.mark.parametrize("dates", [
    {"from": "2024-02-30"}, {"from": "2024-13-01"}, {"until": "2024-01-01T24:00:00Z"},
    {"from": "2024-01-01T10:00:00"}, {"from": "2024-01-01T10:00:00.5Z"}, {"from": "2024-01-01T10:00Z"},
    {"until": "24-01-01"}, {"from": "yesterday"}, {"from": ""}, {"until": "２０２４-01-01"},
    {"from": "2024-01-01", "until": "2024-01-02T00:00:00Z"},   # mixed granularities
    {"from": "2024-01-02", "until": "2024-01-01"},             # from after until
    {"from": "2024-01-01T10:00:01Z", "until": "2024-01-01T10:00:00Z"},
])
def test_bad_dates_are_bad_arguments(reader: FlaskClient, dates: dict[str, str]) -> None:
    for verb in ("ListIdentifiers", "ListRecords"):
        root = request(reader, verb=verb, metadataPrefix="oai_dc", **dates)
        assert errors(root) == ["badArgument"]
        assert request_attributes(root) == {}


# ----- deletions -----------------------------------------------------------------------------------


def test_withdrawn_trashed_and_purged_items_stay_deleted(app: Flask) -> None:
    client = app.test_client()
    cat = catalogue(app)
    assert errors(request(client, verb="GetRecord", identifier=oid(DRAFT), metadataPrefix="oai_dc")) == \
        ["idDoesNotExist"]
    set_item_status(cat, "met:13503", "trashed")
    set_item_status(cat, "npm:1195", "draft")
    purge_item(app, "si:F1906.261")
    stamp(app, {"met:13503": "2030-01-01T00:00:00"})
    entries, tokens = harvest(client, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(identifiers(entries)) == sorted(oid(i) for i in PUBLISHED)
    assert deleted(entries) == {oid("met:13503"), oid("npm:1195"), oid("si:F1906.261")}
    assert {t.get("completeListSize") for t in tokens} == {"5"}
    # The counts agree with the pages, purged records and sets included.
    in_collection, tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set="test-paintings")
    assert len(in_collection) == 5 and {t.get("completeListSize") for t in tokens} == {"5"}
    root = request(client, verb="GetRecord", identifier=oid("met:13503"), metadataPrefix="lido")
    header = root.find(f".//{q(OAI, 'header')}")
    assert header is not None and header.get("status") == "deleted"
    # The datestamp of a deleted record is that of the revision that removed it.
    assert header.findtext(q(OAI, "datestamp")) == "2030-01-01T00:00:00Z"
    assert root.find(f".//{q(OAI, 'metadata')}") is None
    # A purged item keeps the sets it was in, from its last snapshot that named them.
    purged = request(client, verb="GetRecord", identifier=oid("si:F1906.261"), metadataPrefix="oai_dc")
    assert [s.text for s in purged.iter(q(OAI, "setSpec"))] == ["test-paintings", "institution:nmaa"]
    in_set, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set="institution:nmaa")
    assert deleted(in_set) == {oid("si:F1906.261")}
    # Deleted records still "have" every format: noMetadataFormats cannot arise for a known item.
    formats = request(client, verb="ListMetadataFormats", identifier=oid("si:F1906.261"))
    assert len(list(formats.iter(q(OAI, "metadataFormat")))) == 2
    # Selective harvesting sees the deletions by their datestamps.
    recent, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2030-01-01"})
    assert identifiers(recent) == [oid("met:13503")] and deleted(recent) == {oid("met:13503")}
    # Published again, it is a record again; a draft that was never published stays unknown.
    set_item_status(cat, "npm:1195", "published")
    again = request(client, verb="GetRecord", identifier=oid("npm:1195"), metadataPrefix="oai_dc")
    assert again.find(f".//{q(OAI, 'header')}[@status]") is None
    assert [t.text for t in again.iter(q(DC, "title"))] == ["谿山行旅圖"]
    set_item_status(cat, DRAFT, "trashed")
    assert errors(request(client, verb="GetRecord", identifier=oid(DRAFT), metadataPrefix="oai_dc")) == \
        ["idDoesNotExist"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL database."""
    with pg_database() as url:
        yield url


@pytest.mark.postgres
def test_the_repository_on_postgresql(pg_url: str, make_app: AppFactory) -> None:
    app = make_app(database_url=pg_url)
    app.config["OAI_PAGE_SIZE"] = 2
    client = app.test_client()
    entries, tokens = harvest(client, "ListRecords", metadataPrefix="lido")
    assert sorted(identifiers(entries)) == sorted(oid(i) for i in PUBLISHED)
    assert [t.get("cursor") for t in tokens] == ["0", "2", "4"]
    set_item_status(catalogue(app), "met:13503", "trashed")
    purge_item(app, "si:F1906.261")
    stamp(app, {"met:36004": "2001-01-01T00:00:00"})
    entries, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set="institution:nmaa")
    assert deleted(entries) == {oid("si:F1906.261")}
    entries, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set="institution:met")
    assert deleted(entries) == {oid("met:13503")} and len(entries) == 3
    old, _tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", until="2001-01-01")
    assert identifiers(old) == [oid("met:36004")]
    root = request(client, verb="Identify")
    assert root.findtext(f"{q(OAI, 'Identify')}/{q(OAI, 'earliestDatestamp')}") == "2001-01-01T00:00:00Z"


# ----- resumption tokens ---------------------------------------------------------------------------


def test_tokens_survive_writes_during_a_harvest(app: Flask) -> None:
    client = app.test_client()
    root = request(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    first = identifiers(root.findall(f"{q(OAI, 'ListIdentifiers')}/{q(OAI, 'header')}"))
    token = root.findtext(f".//{q(OAI, 'resumptionToken')}")
    assert token
    # Meanwhile a curator edits a record already sent and one still to come, and publishes the draft.
    sent, unsent = first[0].rpartition("localhost:")[2], "met:13503"
    edit_item(app, sent, title="牧羊圖（修訂）")
    edit_item(app, unsent, title="Hibiscus and Parrots (revised)")
    set_item_status(catalogue(app), DRAFT, "published")
    rest: list[str] = []
    while token:
        root = request(client, verb="ListIdentifiers", resumptionToken=token)
        rest.extend(identifiers(root.findall(f"{q(OAI, 'ListIdentifiers')}/{q(OAI, 'header')}")))
        token = root.findtext(f".//{q(OAI, 'resumptionToken')}")
    everything = first + rest
    # Nothing is skipped; the changed ones come (again) at the end, in the order they changed.
    assert set(everything) == {oid(i) for i in PUBLISHED | {DRAFT}}
    assert everything[-3:] == [oid(sent), oid(unsent), oid(DRAFT)]
    assert everything.count(oid(sent)) == 2 and everything.count(oid(unsent)) == 1


def test_bad_and_expired_tokens(reader: FlaskClient) -> None:
    root = request(reader, verb="ListRecords", metadataPrefix="oai_dc")
    token = root.findtext(f".//{q(OAI, 'resumptionToken')}") or ""
    query = oai.decode_token(token, "ListRecords", dt.datetime.now(dt.UTC))
    assert (query.prefix, query.cursor, query.total) == ("oai_dc", 2, 5)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    expired = oai.encode_token(query, past)
    forged = oai.encode_token(oai.ListQuery(verb="ListRecords", prefix="marc21"), past + dt.timedelta(days=1))
    for bad in ("", "!!!", "abc", token[:-3], token + "x", expired, forged, "MXx8fHx8fHx8",
                oai.encode_token(query, past + dt.timedelta(days=1)).swapcase()):
        for verb in ("ListRecords", "ListIdentifiers"):
            root = request(reader, verb=verb, resumptionToken=bad)
            assert errors(root) == ["badResumptionToken"], bad
            assert request_attributes(root) == {"verb": verb, "resumptionToken": bad}
    # A token belongs to its verb's list.
    assert errors(request(reader, verb="ListIdentifiers", resumptionToken=token)) == ["badResumptionToken"]
    assert not errors(request(reader, verb="ListRecords", resumptionToken=token))


# ----- the other errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    {}, {"verb": "Nope"}, {"verb": ""}, {"verb": "identify"}, {"verb": ["Identify", "Identify"]},
    {"verb": ["Identify", "ListSets"]}, {"Verb": "Identify"},
])
def test_bad_verbs(reader: FlaskClient, args: dict[str, Any]) -> None:
    root = request(reader, **args)
    assert errors(root) == ["badVerb"]
    assert request_attributes(root) == {}


@pytest.mark.parametrize("args", [
    {"verb": "Identify", "metadataPrefix": "oai_dc"},
    {"verb": "Identify", "x": "1"},
    {"verb": "ListRecords"},                                                   # metadataPrefix missing
    {"verb": "ListIdentifiers", "set": "test-paintings"},
    {"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]},          # repeated
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "identifier": oid("met:36004")},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},  # token is exclusive
    {"verb": "ListRecords", "resumptionToken": "x", "from": "2024-01-01"},
    {"verb": "GetRecord", "identifier": oid("met:36004")},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
    {"verb": "GetRecord", "identifier": oid("met:36004"), "metadataPrefix": "oai_dc", "from": "2024-01-01"},
    {"verb": "GetRecord", "identifier": [oid("met:36004"), oid("npm:1195")], "metadataPrefix": "oai_dc"},
    {"verb": "ListMetadataFormats", "metadataPrefix": "oai_dc"},
    {"verb": "ListSets", "set": "test-paintings"},
    {"verb": "ListSets", "resumptionToken": ["a", "b"]},
])
def test_bad_arguments(reader: FlaskClient, args: dict[str, Any]) -> None:
    root = request(reader, **args)
    assert errors(root) == ["badArgument"]
    assert request_attributes(root) == {}


def test_unknown_formats_and_identifiers(reader: FlaskClient) -> None:
    for verb in ("ListRecords", "ListIdentifiers"):
        root = request(reader, verb=verb, metadataPrefix="marc21")
        assert errors(root) == ["cannotDisseminateFormat"]
        assert request_attributes(root) == {"verb": verb, "metadataPrefix": "marc21"}
    root = request(reader, verb="GetRecord", identifier=oid("met:36004"), metadataPrefix="oai_DC")
    assert errors(root) == ["cannotDisseminateFormat"]
    root = request(reader, verb="GetRecord", identifier=oid("nope"), metadataPrefix="oai_dc")
    assert errors(root) == ["idDoesNotExist"]
    # Both wrong: both reported.
    root = request(reader, verb="GetRecord", identifier="not an identifier", metadataPrefix="x")
    assert errors(root) == ["idDoesNotExist", "cannotDisseminateFormat"]
    assert request_attributes(root) == {"verb": "GetRecord", "identifier": "not an identifier",
                                        "metadataPrefix": "x"}
    for broken in (oid("met%3"), oid("%FF%FE"), oid("met:36004") + "\x00"):
        assert errors(request(reader, verb="GetRecord", identifier=broken, metadataPrefix="oai_dc")) == \
            ["idDoesNotExist"]


def test_post_works_like_get(reader: FlaskClient) -> None:
    # The app checks CSRF tokens on POST; harvesters have none and must not need one.
    get = request(reader, verb="GetRecord", identifier=oid("met:36004"), metadataPrefix="lido")
    post = request(reader, method="POST", verb="GetRecord", identifier=oid("met:36004"), metadataPrefix="lido")
    assert [ET.tostring(e) for e in post[1:]] == [ET.tostring(e) for e in get[1:]]   # all but responseDate
    entries: list[str] = []
    root = request(reader, method="POST", verb="ListIdentifiers", metadataPrefix="oai_dc")
    while True:
        entries.extend(identifiers(list(root.iter(q(OAI, "header")))))
        token = root.findtext(f".//{q(OAI, 'resumptionToken')}")
        if not token:
            break
        root = request(reader, method="POST", verb="ListIdentifiers", resumptionToken=token)
    assert sorted(entries) == sorted(oid(i) for i in PUBLISHED)
    assert errors(request(reader, method="POST", verb="Nope")) == ["badVerb"]
    assert reader.put("/oai?verb=Identify").status_code == 405


def test_every_published_item_has_records_in_both_formats(reader: FlaskClient) -> None:
    for item_id in sorted(PUBLISHED):
        for prefix in oai.FORMATS:
            root = request(reader, verb="GetRecord", identifier=oid(item_id), metadataPrefix=prefix)
            assert not errors(root)
