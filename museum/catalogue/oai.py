"""The OAI-PMH 2.0 repository: the six verbs, their arguments and errors, resumption tokens, and
records in Dublin Core (oai_dc) and LIDO 1.0 built from the catalogue and its revision log.

No Flask here: the view passes the arguments, the repository's description and a URL builder,
and gets the XML document back.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET

import opencc
from sqlalchemy.orm import Session

from museum.catalogue import store
from museum.catalogue.models import Image, Institution, Item
from museum.catalogue.service import Catalogue
from museum.config import Settings
from museum.search.analysis import contains_han

# ----- namespaces, schemas and formats (as the specifications spell them) ------------------

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
LIDO_NS = "http://www.lido-schema.org"
LIDO_SCHEMA = "http://www.lido-schema.org/schema/v1.0/lido-v1.0.xsd"

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
PAGE_SIZE = 100
TOKEN_LIFETIME = dt.timedelta(hours=24)


@dataclass(frozen=True)
class MetadataFormat:
    """A metadata format the repository disseminates for every item."""

    prefix: str
    schema: str
    namespace: str


FORMATS = {
    "oai_dc": MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS),
    "lido": MetadataFormat("lido", LIDO_SCHEMA, LIDO_NS),
}

# verb → (required arguments, optional arguments); resumptionToken is always exclusive.
ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
}
LIST_VERBS = ("ListIdentifiers", "ListRecords")

# The protocol's own syntax rules (OAI-PMH 2.0 §2.4, the oai-identifier guidelines and the XSD).
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
REPOSITORY_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
LOCAL_IDENTIFIER_SAFE = "-_.!~*'();/?:@&=+$,"   # what oai-identifier allows unescaped, besides letters and digits
INSTITUTION_SETS = "institution"
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SECOND = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Links(Protocol):
    """The site's absolute URLs, as the current request sees the site."""

    def item_page(self, item_id: str) -> str: ...
    def manifest(self, item_id: str) -> str: ...
    def thumbnail(self, sha256: str) -> str: ...
    def full_image(self, sha256: str) -> str: ...
    def image_service(self, sha256: str) -> str: ...


@dataclass(frozen=True)
class Repository:
    """What the repository says about itself, as seen through the current request."""

    name: str
    base_url: str
    admin_email: str
    namespace: str            # the host name: the middle part of every oai identifier
    page_size: int = PAGE_SIZE
    token_lifetime: dt.timedelta = TOKEN_LIFETIME


def repository(settings: Settings, *, base_url: str, host: str, page_size: int = PAGE_SIZE) -> Repository:
    """Describe the repository reached at base_url on host, named after the site."""
    host = host.lower().rstrip(".")
    name = " / ".join(dict.fromkeys(n for n in (settings.site_name_zh_hans, settings.site_name_en) if n))
    # The schema wants a dot in the mail domain; a bare "localhost" only happens in development.
    mail_domain = host if "." in host else f"{host}.localdomain"
    return Repository(name=name, base_url=base_url, admin_email=f"webmaster@{mail_domain}", namespace=host,
                      page_size=max(1, page_size))


class OaiError(Exception):
    """One or more protocol errors (code, message) that answer the request instead of a result."""

    def __init__(self, *errors: tuple[str, str]) -> None:
        """Keep the errors in the order they are reported."""
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors))
        self.errors = errors

    @property
    def hides_arguments(self) -> bool:
        """Tell whether the request element must go without its arguments (badVerb, badArgument)."""
        return any(code in ("badVerb", "badArgument") for code, _message in self.errors)


@dataclass(frozen=True)
class ListQuery:
    """A ListIdentifiers or ListRecords request, and how far its list has been sent."""

    verb: str
    prefix: str
    since: dt.datetime | None = None     # from, inclusive
    before: dt.datetime | None = None    # the moment after until (until is inclusive)
    set_spec: str | None = None
    after: int = 0                       # revision seq of the last record sent
    cursor: int = 0                      # records sent before this page
    total: int | None = None             # completeListSize, counted on the first page


@dataclass(frozen=True)
class _Entry:
    """One record's header facts."""

    item_id: str
    seq: int
    changed_at: dt.datetime
    deleted: bool
    collection: str | None
    institution: str | None

    @classmethod
    def of(cls, row: store.HarvestRow) -> _Entry:
        """Return the entry of a harvest row."""
        seq, item_id, changed_at, status, collection, institution = row
        return cls(item_id=item_id, seq=seq, changed_at=_utc(changed_at), deleted=status != store.PUBLISHED,
                   collection=collection, institution=institution)


@dataclass(frozen=True)
class _Context:
    """Everything one response is built from."""

    cat: Catalogue
    repo: Repository
    links: Links
    now: dt.datetime


# ----- the response --------------------------------------------------------------------------


def respond(cat: Catalogue, repo: Repository, links: Links, arguments: Mapping[str, Sequence[str]],
            now: dt.datetime | None = None) -> bytes:
    """Answer one protocol request (arguments as given, each with all its values) with an OAI-PMH document."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    root = ET.Element("OAI-PMH", {"xmlns": OAI_NS, "xmlns:xsi": XSI_NS,
                                  "xsi:schemaLocation": f"{OAI_NS} {OAI_SCHEMA}"})
    _sub(root, "responseDate", datestamp(now))
    request = _sub(root, "request", repo.base_url)
    try:
        verb, args = checked_arguments(arguments)
        for name, value in args.items():
            request.set(name, _clean(value))
        root.append(_VERBS[verb](_Context(cat, repo, links, now), args))
    except OaiError as failure:
        if failure.hides_arguments:
            request.attrib.clear()
        for code, message in failure.errors:
            _sub(root, "error", message, {"code": code})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


def checked_arguments(arguments: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """Return the verb and the arguments (verb first), or raise badVerb or badArgument."""
    verbs = list(arguments.get("verb", []))
    if not verbs:
        raise OaiError(("badVerb", "The verb argument is missing."))
    if len(verbs) > 1:
        raise OaiError(("badVerb", "The verb argument is repeated."))
    verb = verbs[0]
    if verb not in ARGUMENTS:
        raise OaiError(("badVerb", f"{verb!r} is not an OAI-PMH verb."))
    required, optional = ARGUMENTS[verb]
    names = set(arguments) - {"verb"}
    repeated = sorted(name for name, values in arguments.items() if len(values) > 1)
    if repeated:
        raise OaiError(("badArgument", f"Repeated argument: {', '.join(repeated)}."))
    illegal = sorted(names - required - optional)
    if illegal:
        raise OaiError(("badArgument", f"Illegal argument for {verb}: {', '.join(illegal)}."))
    if "resumptionToken" in names:
        if names != {"resumptionToken"}:
            raise OaiError(("badArgument", "resumptionToken is an exclusive argument."))
    elif required - names:
        raise OaiError(("badArgument", f"Missing argument for {verb}: {', '.join(sorted(required - names))}."))
    return verb, {"verb": verb, **{name: arguments[name][0] for name in sorted(names)}}


# ----- the verbs -----------------------------------------------------------------------------


def _identify(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """Describe the repository."""
    with ctx.cat.sessions() as session:
        earliest = store.earliest_item_change(session)
    body = ET.Element("Identify")
    _sub(body, "repositoryName", ctx.repo.name)
    _sub(body, "baseURL", ctx.repo.base_url)
    _sub(body, "protocolVersion", "2.0")
    _sub(body, "adminEmail", ctx.repo.admin_email)
    # Any datestamp in the repository is at least as old as the oldest revision of an item.
    _sub(body, "earliestDatestamp", datestamp(_utc(earliest) if earliest is not None else ctx.now))
    _sub(body, "deletedRecord", "persistent")
    _sub(body, "granularity", GRANULARITY)
    # The oai-identifier scheme needs a domain name; served as "localhost" or an address, the
    # identifiers stay valid URIs but the description would not validate, so it is left out.
    if REPOSITORY_IDENTIFIER.fullmatch(ctx.repo.namespace):
        description = _sub(body, "description")
        scheme = _sub(description, "oai-identifier", attrib={
            "xmlns": OAI_IDENTIFIER_NS, "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{OAI_IDENTIFIER_NS} {OAI_IDENTIFIER_SCHEMA}"})
        _sub(scheme, "scheme", "oai")
        _sub(scheme, "repositoryIdentifier", ctx.repo.namespace)
        _sub(scheme, "delimiter", ":")
        _sub(scheme, "sampleIdentifier", oai_identifier(ctx.repo, "museum:0001"))
    return body


def _list_metadata_formats(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """List the formats (every item has all of them, so noMetadataFormats never arises)."""
    if "identifier" in args:
        with ctx.cat.sessions() as session:
            _entry(ctx, session, args["identifier"])
    body = ET.Element("ListMetadataFormats")
    for fmt in FORMATS.values():
        element = _sub(body, "metadataFormat")
        _sub(element, "metadataPrefix", fmt.prefix)
        _sub(element, "schema", fmt.schema)
        _sub(element, "metadataNamespace", fmt.namespace)
    return body


def _list_sets(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """List the sets: one per collection, and one per institution under "institution"."""
    if "resumptionToken" in args:
        # The list of sets is short and always sent whole, so no token was ever issued.
        raise OaiError(("badResumptionToken", "This repository issues no resumption tokens for ListSets."))
    body = ET.Element("ListSets")
    with ctx.cat.sessions() as session:
        for collection in store.all_collections(session):
            # Slugs are [a-z0-9-] by import rules; a collection slugged "institution" would clash
            # with the institutions' parent set and is left out of the sets.
            if SET_SPEC.fullmatch(collection.slug) and collection.slug != INSTITUTION_SETS:
                _set(body, collection.slug, collection.title, collection.summary)
        institutions = [i for i in store.all_institutions(session) if SET_SPEC.fullmatch(i.slug)]
        if institutions:
            _set(body, INSTITUTION_SETS, {"en": "Institutions", "zh-Hans": "机构", "zh-Hant": "機構"}, {})
        for institution in institutions:
            _set(body, f"{INSTITUTION_SETS}:{institution.slug}", institution.name, {})
    if not len(body):
        raise OaiError(("noSetHierarchy", "The catalogue has no collections or institutions yet."))
    return body


def _get_record(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """Return one record in one format."""
    prefix = args["metadataPrefix"]
    with ctx.cat.sessions() as session:
        errors: list[tuple[str, str]] = []
        entry: _Entry | None = None
        try:
            entry = _entry(ctx, session, args["identifier"])
        except OaiError as failure:
            errors.extend(failure.errors)
        if prefix not in FORMATS:
            errors.append(_cannot_disseminate(prefix))
        if errors or entry is None:
            raise OaiError(*errors)
        items = {} if entry.deleted else store.items_in(session, [entry.item_id])
        body = ET.Element("GetRecord")
        body.append(_record(ctx, entry, items.get(entry.item_id), prefix))
    return body


def _list_identifiers(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """Return a page of headers."""
    return _list(ctx, args, "ListIdentifiers")


def _list_records(ctx: _Context, args: Mapping[str, str]) -> ET.Element:
    """Return a page of records."""
    return _list(ctx, args, "ListRecords")


def _list(ctx: _Context, args: Mapping[str, str], verb: str) -> ET.Element:
    """Return one page of a list, with a resumption token when more follow."""
    query = (decode_token(args["resumptionToken"], verb, ctx.now) if "resumptionToken" in args
             else _list_query(verb, args))
    page_size = ctx.repo.page_size
    body = ET.Element(verb)
    with ctx.cat.sessions() as session:
        filters = _set_filter(session, query.set_spec) if query.set_spec is not None else {}
        if filters is None:
            raise OaiError(("noRecordsMatch", f"There is no set {query.set_spec!r}."))
        rows = store.harvest_page(session, after_seq=query.after, limit=page_size + 1, since=query.since,
                                  before=query.before, **filters)
        if not rows:
            raise OaiError(("noRecordsMatch", "No records match the request."))
        more = len(rows) > page_size
        entries = [_Entry.of(row) for row in rows[:page_size]]
        total = query.total
        if total is None and more:
            total = store.harvest_count(session, since=query.since, before=query.before, **filters)
        items = (store.items_in(session, [e.item_id for e in entries if not e.deleted])
                 if verb == "ListRecords" else {})
        for entry in entries:
            if verb == "ListRecords":
                body.append(_record(ctx, entry, items.get(entry.item_id), query.prefix))
            else:
                body.append(_header(ctx, entry))
    sent = query.cursor + len(entries)
    # Records changed during a harvest are sent again at its end, so the count may grow.
    size = max(total or 0, sent + (1 if more else 0))
    if more:
        expires = ctx.now + ctx.repo.token_lifetime
        token = encode_token(replace(query, after=entries[-1].seq, cursor=sent, total=size), expires)
        _sub(body, "resumptionToken", token, {"expirationDate": datestamp(expires),
                                              "completeListSize": str(size), "cursor": str(query.cursor)})
    elif query.cursor:
        # The last page of a list sent in parts ends it with an empty token.
        _sub(body, "resumptionToken", None, {"completeListSize": str(size), "cursor": str(query.cursor)})
    return body


_VERBS: dict[str, Callable[[_Context, Mapping[str, str]], ET.Element]] = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": _list_identifiers,
    "ListRecords": _list_records,
}


# ----- arguments -----------------------------------------------------------------------------


def _list_query(verb: str, args: Mapping[str, str]) -> ListQuery:
    """Return the list asked for by metadataPrefix, from, until and set, or raise the error they deserve."""
    since = until = None
    since_step = until_step = None
    if "from" in args:
        since, since_step = parse_date("from", args["from"])
    if "until" in args:
        until, until_step = parse_date("until", args["until"])
    if since_step and until_step and since_step != until_step:
        raise OaiError(("badArgument", "from and until must have the same granularity."))
    if since is not None and until is not None and since > until:
        raise OaiError(("badArgument", "from must not be later than until."))
    set_spec = args.get("set")
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise OaiError(("badArgument", f"{set_spec!r} is not a setSpec."))
    prefix = args["metadataPrefix"]
    if prefix not in FORMATS:
        raise OaiError(_cannot_disseminate(prefix))
    before = None
    if until is not None and until_step is not None:
        try:
            before = until + until_step
        except OverflowError:   # until 9999-12-31: nothing is later
            before = None
    return ListQuery(verb=verb, prefix=prefix, since=since, before=before, set_spec=set_spec)


def parse_date(name: str, value: str) -> tuple[dt.datetime, dt.timedelta]:
    """Return a from/until value as a UTC moment and its granularity (a day or a second), or raise badArgument."""
    if match := _SECOND.fullmatch(value):
        step = dt.timedelta(seconds=1)
    elif match := _DAY.fullmatch(value):
        step = dt.timedelta(days=1)
    else:
        raise OaiError(("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not {value!r}."))
    year, month, day, *clock = (int(part) for part in match.groups())
    hour, minute, second = clock or (0, 0, 0)
    try:
        moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        raise OaiError(("badArgument", f"{name} {value!r} is not a real date.")) from None
    return moment, step


def _set_filter(session: Session, set_spec: str) -> dict[str, Any] | None:
    """Return the harvest filter of a setSpec, or None if no such set exists or ever did."""
    if set_spec == INSTITUTION_SETS:
        return {"any_institution": True}
    head, _colon, rest = set_spec.partition(":")
    if head == INSTITUTION_SETS and rest and ":" not in rest:
        # Deleted records keep the sets they had, so a set of the past still lists its deletions.
        known = store.institution_by_slug(session, rest) is not None or store.ever_existed(
            session, "institution", rest)
        return {"institution": rest} if known else None
    if rest:
        return None
    known = store.collection_by_slug(session, set_spec) is not None or store.ever_existed(
        session, "collection", set_spec)
    return {"collection": set_spec} if known else None


def _cannot_disseminate(prefix: str) -> tuple[str, str]:
    """Return the error for a metadata format this repository does not have."""
    return ("cannotDisseminateFormat",
            f"The metadata format {prefix!r} is not supported; use one of {', '.join(FORMATS)}.")


def oai_identifier(repo: Repository, item_id: str) -> str:
    """Return the oai identifier of an item; characters the scheme does not allow are %-escaped (% too)."""
    return f"oai:{repo.namespace}:{quote(item_id, safe=LOCAL_IDENTIFIER_SAFE)}"


def item_id_of(repo: Repository, identifier: str) -> str | None:
    """Return the item id inside one of this repository's oai identifiers, None for any other string."""
    prefix = f"oai:{repo.namespace}:"
    if not identifier.startswith(prefix):
        return None
    local = identifier[len(prefix):]
    item_id = unquote(local, errors="strict") if local else ""
    # Only the one spelling this repository hands out names an item.
    return item_id if item_id and quote(item_id, safe=LOCAL_IDENTIFIER_SAFE) == local else None


def _entry(ctx: _Context, session: Session, identifier: str) -> _Entry:
    """Return the record an identifier names, or raise idDoesNotExist."""
    try:
        item_id = item_id_of(ctx.repo, identifier)
    except UnicodeDecodeError:
        item_id = None
    row = store.harvest_entry(session, item_id) if item_id is not None else None
    if row is None:
        raise OaiError(("idDoesNotExist", f"{identifier!r} is not the identifier of a record here."))
    return _Entry.of(row)


# ----- resumption tokens ---------------------------------------------------------------------

LAYOUT = "1"   # of resumption tokens; bumped when it changes, so older tokens fail cleanly
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,1000}")
_NUMBER = re.compile(r"[0-9]{1,15}")


def encode_token(query: ListQuery, expires: dt.datetime) -> str:
    """Return an opaque token holding the whole list query, its position and its expiry."""
    fields = [LAYOUT, query.verb, query.prefix, _epoch(query.since), _epoch(query.before),
              query.set_spec or "", str(query.after), str(query.cursor),
              "" if query.total is None else str(query.total), _epoch(expires)]
    return base64.urlsafe_b64encode("|".join(fields).encode()).decode().rstrip("=")


def decode_token(token: str, verb: str, now: dt.datetime) -> ListQuery:
    """Return the list query a token of this verb holds, or raise badResumptionToken if it is malformed or expired."""
    bad = OaiError(("badResumptionToken", "The resumption token is not valid here or has expired."))
    if not _TOKEN.fullmatch(token):
        raise bad
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise bad from None
    fields = text.split("|")
    if len(fields) != 10 or fields[0] != LAYOUT or fields[1] != verb or fields[2] not in FORMATS:
        raise bad
    _version, _verb, prefix, since, before, set_spec, after, cursor, total, expires = fields
    numbers_ok = all(_NUMBER.fullmatch(v) for v in (after, cursor, expires)) and all(
        not v or _NUMBER.fullmatch(v) for v in (since, before, total))
    if not numbers_ok or (set_spec and not SET_SPEC.fullmatch(set_spec)):
        raise bad
    try:
        query = ListQuery(verb=verb, prefix=prefix, since=_moment(since), before=_moment(before),
                          set_spec=set_spec or None, after=int(after), cursor=int(cursor),
                          total=int(total) if total else None)
        expired = _moment(expires) is None or int(expires) <= now.timestamp()
    except (OverflowError, OSError, ValueError):
        raise bad from None
    if expired:
        raise bad
    return query


def _epoch(moment: dt.datetime | None) -> str:
    """Return a moment as whole seconds since 1970, "" for none."""
    return "" if moment is None else str(int(moment.timestamp()))


def _moment(seconds: str) -> dt.datetime | None:
    """Return whole seconds since 1970 as a UTC moment, None for ""."""
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC) if seconds else None


# ----- headers and records -------------------------------------------------------------------


def datestamp(moment: dt.datetime) -> str:
    """Return a UTC moment in the repository's granularity, e.g. 2024-05-01T08:30:00Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: dt.datetime) -> dt.datetime:
    """Return a stored time as an aware UTC moment (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def set_specs(collection: str | None, institution: str | None) -> list[str]:
    """Return the setSpecs a record belongs to."""
    specs = []
    if collection and SET_SPEC.fullmatch(collection) and collection != INSTITUTION_SETS:
        specs.append(collection)
    if institution and SET_SPEC.fullmatch(institution):
        specs.append(f"{INSTITUTION_SETS}:{institution}")
    return specs


def _header(ctx: _Context, entry: _Entry) -> ET.Element:
    """Return a record header: identifier, datestamp, sets and, for a deleted record, its status."""
    header = ET.Element("header", {"status": "deleted"} if entry.deleted else {})
    _sub(header, "identifier", oai_identifier(ctx.repo, entry.item_id))
    _sub(header, "datestamp", datestamp(entry.changed_at))
    for spec in set_specs(entry.collection, entry.institution):
        _sub(header, "setSpec", spec)
    return header


def _record(ctx: _Context, entry: _Entry, item: Item | None, prefix: str) -> ET.Element:
    """Return a record: its header and, unless deleted, its metadata in the format asked for."""
    if item is None:   # gone between the list and the load: report what is true now
        entry = replace(entry, deleted=True)
    record = ET.Element("record")
    record.append(_header(ctx, entry))
    if item is not None and not entry.deleted:
        metadata = _sub(record, "metadata")
        metadata.append(oai_dc(item, ctx.links) if prefix == "oai_dc" else lido(item, ctx.links, ctx.repo))
    return record


def _set(parent: ET.Element, spec: str, names: Mapping[str, Any], summaries: Mapping[str, Any]) -> None:
    """Add a set with its name and, in Dublin Core, its titles and summaries in every language."""
    element = _sub(parent, "set")
    _sub(element, "setSpec", spec)
    _sub(element, "setName", set_name(names) or spec)
    description = _sub(element, "setDescription")
    dc = _sub(description, "oai_dc:dc", attrib=_dc_root_attributes())
    for language, title in _texts(names):
        _sub(dc, "dc:title", title, {"xml:lang": language})
    for language, summary in _texts(summaries):
        _sub(dc, "dc:description", summary, {"xml:lang": language})


def set_name(names: Mapping[str, Any]) -> str:
    """Return a one-line name from a label map: Chinese (simplified if given) and English, as the site's name is."""
    chinese = str(names.get("zh-Hans") or names.get("zh-Hant") or "").strip()
    english = str(names.get("en") or "").strip()
    return " / ".join(dict.fromkeys(name for name in (chinese, english) if name))


# ----- languages and dates of catalogue text -------------------------------------------------

_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    """Return an OpenCC converter, made once per process (its dictionaries are slow to load)."""
    return opencc.OpenCC(config)


def language_of(text: str) -> str | None:
    """Return the language tag of a text by its script: zh-Hant, zh-Hans, zh, ja or en; None if mixed or unknown.

    Chinese is traditional if simplifying changes it, simplified if the opposite does, and plain
    "zh" when it reads the same in both scripts (山水).
    """
    if contains_han(text):
        if _LATIN.search(text):
            return None
        if _KANA.search(text):
            return "ja"
        if str(_converter("t2s").convert(text)) != text:
            return "zh-Hant"
        return "zh-Hans" if str(_converter("s2t").convert(text)) != text else "zh"
    if _KANA.search(text):
        return "ja"
    return "en" if _LATIN.search(text) else None


def by_language(text: str) -> list[tuple[str | None, str]]:
    """Split text written paragraph by paragraph in several languages into (language, text) runs."""
    text = text.strip()
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
    languages = [language_of(p) for p in paragraphs]
    if len(paragraphs) < 2 or None in languages:
        return [(language_of(text), text)] if text else []
    runs: list[tuple[str | None, str]] = []
    for language, paragraph in zip(languages, paragraphs, strict=True):
        if runs and runs[-1][0] == language:
            runs[-1] = (language, f"{runs[-1][1]}\n\n{paragraph}")
        else:
            runs.append((language, paragraph))
    return runs


def iso_year(year: int) -> str:
    """Return a catalogue year (negative for BCE, no year zero) in ISO 8601 form: 1 BCE is 0000, 300 BCE -0299."""
    astronomical = year + 1 if year < 0 else year
    return f"-{-astronomical:04d}" if astronomical < 0 else f"{astronomical:04d}"


def year_span(begin: int | None, end: int | None) -> str:
    """Return the years of an item as ISO 8601: "1565", or an interval such as "1736/1795"; "" if unknown."""
    if begin is None and end is None:
        return ""
    first = begin if begin is not None else end
    last = end if end is not None else begin
    assert first is not None and last is not None  # noqa: S101 - one of them is set, so both are now
    return iso_year(first) if first == last else f"{iso_year(first)}/{iso_year(last)}"


# Object types that are two-dimensional pictures: DCMI's "Image" ("paintings, prints, drawings,
# photographs"); every other museum object is a "PhysicalObject".
_PICTURE = re.compile(
    r"\b(paintings?|drawings?|prints?|photographs?|calligraphy|scrolls?|album leaf|rubbings?|woodcuts?|posters?)\b"
    r"|[畫画圖图帖]|書法|书法|拓片|照片|版畫|版画", re.I)


def dcmi_type(item: Item) -> str:
    """Return the DCMI Type of an item: Image for pictures, PhysicalObject for everything else."""
    return "Image" if _PICTURE.search(item.object_type) else "PhysicalObject"


def _holder(item: Item) -> Institution:
    """Return the institution that holds an item (its own, else its collection's)."""
    return item.institution or item.collection.institution


def _texts(labels: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the (language, text) pairs of a label map, empty ones left out."""
    return [(language, str(text).strip()) for language, text in labels.items() if str(text or "").strip()]


# ----- oai_dc ----------------------------------------------------------------------------------


def _dc_root_attributes() -> dict[str, str]:
    """Return the namespace and schema attributes of an oai_dc:dc element."""
    return {"xmlns:oai_dc": OAI_DC_NS, "xmlns:dc": DC_NS, "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{OAI_DC_NS} {OAI_DC_SCHEMA}"}


def oai_dc(item: Item, links: Links) -> ET.Element:
    """Return an item in unqualified Dublin Core, titles and texts tagged with their languages."""
    dc = ET.Element("oai_dc:dc", _dc_root_attributes())
    added: set[tuple[str, str]] = set()

    def add(name: str, text: str, language: str | None = None) -> None:
        text = text.strip()
        if text and (name, text) not in added:   # a date text of "1565" is also its year span
            added.add((name, text))
            _sub(dc, f"dc:{name}", text, {"xml:lang": language} if language else None)

    for title in (item.title, item.title_alt):
        add("title", title, language_of(title))
    add("creator", item.creator)
    for subject in item.subjects:
        add("subject", subject, language_of(subject))
    for language, text in by_language(item.description):
        add("description", text, language)
    for language, text in by_language(item.inscriptions):
        add("description", text, language)
    for language, name in _texts(_holder(item).name):
        add("publisher", name, language)
    add("date", item.date_display, language_of(item.date_display))
    add("date", year_span(item.begin_year, item.end_year))
    add("type", item.object_type, language_of(item.object_type))
    add("type", dcmi_type(item))
    add("format", item.medium, language_of(item.medium))
    add("format", item.dimensions)
    add("identifier", links.item_page(item.id))
    add("identifier", item.accession_number)
    add("source", item.source_url)
    if item.images:
        add("relation", links.manifest(item.id))
    add("coverage", item.period, language_of(item.period))
    add("rights", item.rights, language_of(item.rights))
    add("rights", item.rights_url)
    return dc


# ----- LIDO 1.0 --------------------------------------------------------------------------------


def lido(item: Item, links: Links, repo: Repository) -> ET.Element:
    """Return an item as a LIDO 1.0 record: identification, production, subjects, rights and images."""
    record = ET.Element("lido:lido", {"xmlns:lido": LIDO_NS, "xmlns:xsi": XSI_NS,
                                      "xsi:schemaLocation": f"{LIDO_NS} {LIDO_SCHEMA}"})
    holder = _holder(item)
    page = links.item_page(item.id)
    language = language_of(item.title) or "und"
    _sub(record, "lido:lidoRecID", item.id, {"lido:type": "local", "lido:source": repo.namespace})
    _sub(record, "lido:objectPublishedID", page, {"lido:type": "url"})
    category = _sub(record, "lido:category")
    _sub(category, "lido:conceptID", "http://www.cidoc-crm.org/crm-concepts/E22", {"lido:type": "URI"})
    _sub(category, "lido:term", "Man-Made Object", {"xml:lang": "en"})

    descriptive = _sub(record, "lido:descriptiveMetadata", attrib={"xml:lang": language})
    classification = _sub(descriptive, "lido:objectClassificationWrap")
    work_type = _sub(_sub(classification, "lido:objectWorkTypeWrap"), "lido:objectWorkType")
    _term(work_type, item.object_type, language_of(item.object_type))
    classes = _sub(classification, "lido:classificationWrap")
    dcmi = _sub(classes, "lido:classification", attrib={"lido:type": "DCMI type"})
    _sub(dcmi, "lido:conceptID", f"http://purl.org/dc/dcmitype/{dcmi_type(item)}", {"lido:type": "URI"})
    _term(dcmi, dcmi_type(item), "en")
    collection_class = _sub(classes, "lido:classification", attrib={"lido:type": "collection"})
    for label_language, title in _texts(item.collection.title):
        _term(collection_class, title, label_language)

    identification = _sub(descriptive, "lido:objectIdentificationWrap")
    titles = _sub(_sub(identification, "lido:titleWrap"), "lido:titleSet")
    _appellation(titles, item.title.strip() or item.id, "preferred")
    _appellation(titles, item.title_alt, "alternate")
    if item.inscriptions.strip():
        inscription = _sub(_sub(identification, "lido:inscriptionsWrap"), "lido:inscriptions")
        for lang, text in by_language(item.inscriptions):
            _text(inscription, "lido:inscriptionTranscription", text, lang)
    repository_set = _sub(_sub(identification, "lido:repositoryWrap"), "lido:repositorySet",
                          attrib={"lido:type": "current"})
    _legal_body(repository_set, "lido:repositoryName", holder)
    if item.accession_number.strip():
        _sub(repository_set, "lido:workID", item.accession_number.strip(), {"lido:type": "inventory number"})
    if item.description.strip():
        note = _sub(_sub(identification, "lido:objectDescriptionWrap"), "lido:objectDescriptionSet")
        for lang, text in by_language(item.description):
            _text(note, "lido:descriptiveNoteValue", text, lang)
    if item.dimensions.strip():
        measurements = _sub(_sub(identification, "lido:objectMeasurementsWrap"), "lido:objectMeasurementsSet")
        _text(measurements, "lido:displayObjectMeasurements", item.dimensions, language_of(item.dimensions))

    events = _events(item)
    if len(events):
        descriptive.append(events)
    if item.subjects:
        subject = _sub(_sub(_sub(_sub(descriptive, "lido:objectRelationWrap"), "lido:subjectWrap"),
                            "lido:subjectSet"), "lido:subject")
        for term in item.subjects:
            _term(_sub(subject, "lido:subjectConcept"), term, language_of(term))

    administrative = _sub(record, "lido:administrativeMetadata", attrib={"xml:lang": language})
    if item.rights.strip() or item.rights_url.strip() or item.credit_line.strip():
        rights = _sub(_sub(administrative, "lido:rightsWorkWrap"), "lido:rightsWorkSet")
        _rights_type(rights, item.rights, item.rights_url)
        if item.credit_line.strip():
            _text(rights, "lido:creditLine", item.credit_line, language_of(item.credit_line))
    wrap = _sub(administrative, "lido:recordWrap")
    _sub(wrap, "lido:recordID", item.id, {"lido:type": "local"})
    _term(_sub(wrap, "lido:recordType"), "item", "en")
    _legal_body(wrap, "lido:recordSource", holder)
    collection = item.collection
    if collection.licence_name.strip() or collection.licence_url.strip():
        _rights_type(_sub(wrap, "lido:recordRights"), collection.licence_name, collection.licence_url)
    info = _sub(wrap, "lido:recordInfoSet")
    _sub(info, "lido:recordInfoID", oai_identifier(repo, item.id), {"lido:type": "oai"})
    _sub(info, "lido:recordInfoLink", page, {"lido:formatResource": "text/html"})
    if item.images:
        _sub(info, "lido:recordInfoLink", links.manifest(item.id), {"lido:formatResource": "application/ld+json"})
        resources = _sub(administrative, "lido:resourceWrap")
        for position, image in enumerate(item.images, start=1):
            _resource(resources, image, position, links)
    return record


def _events(item: Item) -> ET.Element:
    """Return the eventWrap of an item (production and provenance), empty when nothing is known."""
    events = ET.Element("lido:eventWrap")
    years = year_span(item.begin_year, item.end_year)
    if any(v.strip() for v in (item.creator, item.date_display, item.period, item.medium)) or years:
        event = _sub(_sub(events, "lido:eventSet"), "lido:event")
        _term(_sub(event, "lido:eventType"), "Production", "en")
        if item.creator.strip():
            _text(_sub(event, "lido:eventActor"), "lido:displayActorInRole", item.creator)
        if item.date_display.strip() or years:
            date_set = _sub(event, "lido:eventDate")
            if item.date_display.strip():
                _text(date_set, "lido:displayDate", item.date_display, language_of(item.date_display))
            if years:
                first, _slash, last = years.partition("/")
                date = _sub(date_set, "lido:date")
                _sub(date, "lido:earliestDate", first)
                _sub(date, "lido:latestDate", last or first)
        if item.period.strip():
            _term(_sub(event, "lido:periodName"), item.period, language_of(item.period))
        if item.medium.strip():
            _text(_sub(event, "lido:eventMaterialsTech"), "lido:displayMaterialsTech", item.medium,
                  language_of(item.medium))
    if item.provenance.strip():
        event = _sub(_sub(events, "lido:eventSet"), "lido:event")
        _term(_sub(event, "lido:eventType"), "Provenance", "en")
        note = _sub(event, "lido:eventDescriptionSet")
        for lang, text in by_language(item.provenance):
            _text(note, "lido:descriptiveNoteValue", text, lang)
    return events


def _resource(parent: ET.Element, image: Image, position: int, links: Links) -> None:
    """Add one image as a resourceSet: thumbnail, full-size image and IIIF service, with its rights."""
    resource = _sub(parent, "lido:resourceSet", attrib={"lido:sortorder": str(position)})
    _sub(resource, "lido:resourceID", image.sha256, {"lido:type": "sha256"})
    thumb = _sub(resource, "lido:resourceRepresentation", attrib={"lido:type": "image_thumb"})
    _sub(thumb, "lido:linkResource", links.thumbnail(image.sha256), {"lido:formatResource": "image/jpeg"})
    master = _sub(resource, "lido:resourceRepresentation", attrib={"lido:type": "image_master"})
    _sub(master, "lido:linkResource", links.full_image(image.sha256), {"lido:formatResource": "image/jpeg"})
    for kind, value in (("width", image.width), ("height", image.height)):
        measured = _sub(master, "lido:resourceMeasurementsSet")
        _sub(measured, "lido:measurementType", kind, {"xml:lang": "en"})
        _sub(measured, "lido:measurementUnit", "pixel", {"xml:lang": "en"})
        _sub(measured, "lido:measurementValue", str(value))
    service = _sub(resource, "lido:resourceRepresentation", attrib={"lido:type": "iiif_image_api"})
    _sub(service, "lido:linkResource", links.image_service(image.sha256),
         {"lido:formatResource": "application/ld+json"})
    _term(_sub(resource, "lido:resourceType"), "digital image", "en")
    if image.caption.strip():
        _text(resource, "lido:resourceDescription", image.caption, language_of(image.caption))
    if image.rights.strip():
        _rights_type(_sub(resource, "lido:rightsResource"), image.rights, "")


def _legal_body(parent: ET.Element, tag: str, institution: Institution) -> None:
    """Add a legal body (repositoryName, recordSource): the institution's names and web address."""
    body = _sub(parent, tag)
    names: list[tuple[str | None, str]] = [*_texts(institution.name)] or [(None, institution.slug)]
    name = _sub(body, "lido:legalBodyName")
    for lang, text in names:
        _sub(name, "lido:appellationValue", text, {"xml:lang": lang} if lang else None)
    if institution.url.strip():
        _sub(body, "lido:legalBodyWeblink", institution.url.strip())


def _rights_type(parent: ET.Element, text: str, url: str) -> None:
    """Add a rightsType naming the rights in words and, when known, by URI."""
    concept = _sub(parent, "lido:rightsType")
    if url.strip():
        _sub(concept, "lido:conceptID", url.strip(), {"lido:type": "URI"})
    _term(concept, text, language_of(text))


def _appellation(parent: ET.Element, text: str, preference: str) -> None:
    """Add an appellationValue in its language, if there is text."""
    if text.strip():
        attrib = {"lido:pref": preference}
        if language := language_of(text):
            attrib["xml:lang"] = language
        _sub(parent, "lido:appellationValue", text.strip(), attrib)


def _term(parent: ET.Element, text: str, language: str | None = None) -> None:
    """Add a lido:term, if there is text."""
    _text(parent, "lido:term", text, language)


def _text(parent: ET.Element, tag: str, text: str, language: str | None = None) -> None:
    """Add a text element with its language, if there is text."""
    if text.strip():
        _sub(parent, tag, text.strip(), {"xml:lang": language} if language else None)


# ----- XML -------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Return text without the characters XML 1.0 cannot hold (escaping is ElementTree's job)."""
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None,
         attrib: Mapping[str, str] | None = None) -> ET.Element:
    """Append a child element with optional text and attributes.

    Tags and attributes are written with their prefixes as they stand (the namespaces are
    declared on each format's root), so the output uses the prefixes the specifications show.
    """
    element = ET.SubElement(parent, tag, {name: _clean(value) for name, value in (attrib or {}).items()})
    if text is not None:
        element.text = _clean(text)
    return element
