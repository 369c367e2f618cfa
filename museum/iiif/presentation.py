"""IIIF Presentation API 3.0 documents built from catalogue objects: Manifests, Collections, language maps.

Pure: no SQL, no Flask. Callers pass the objects, a Links object that knows the site's absolute
URLs, and the UI labels already translated into every language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import opencc

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
LanguageMap = dict[str, list[str]]
Document = dict[str, Any]

# The language keys of the site, as catalogue label maps spell them (BCP 47).
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
NO_LANGUAGE = "none"

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_CHARACTER = re.compile(f"[{_HAN}]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def N_(msgid: str) -> str:
    """Mark a UI message for extraction; the caller translates it into every language."""
    return msgid


# Labels come from the site's catalogues (the item page shows the same words), so translators
# keep one wording; the views translate each of these into all three languages.
LABEL_CREATOR = N_("Creator")
LABEL_DATE = N_("Date")
LABEL_PERIOD = N_("Period")
LABEL_OBJECT_TYPE = N_("Object type")
LABEL_MEDIUM = N_("Material and technique")
LABEL_DIMENSIONS = N_("Dimensions")
LABEL_INSCRIPTIONS = N_("Inscriptions")
LABEL_PROVENANCE = N_("Provenance")
LABEL_SUBJECTS = N_("Subjects")
LABEL_ACCESSION = N_("Accession number")
LABEL_INSTITUTION = N_("Holding institution")
LABEL_COLLECTION = N_("Collection")
LABEL_CREDIT = N_("Credit line")
LABEL_RIGHTS_AND_CREDITS = N_("Rights and credits")
LABEL_RIGHTS = N_("Rights")
LABEL_LICENCE = N_("Licence")
LABEL_SOURCE = N_("Source")
LABEL_ORIGINAL_RECORD = N_("Original record")
LABEL_IMAGE_N = N_("Image %(n)s of %(total)s")
MESSAGES = (
    LABEL_CREATOR, LABEL_DATE, LABEL_PERIOD, LABEL_OBJECT_TYPE, LABEL_MEDIUM, LABEL_DIMENSIONS,
    LABEL_INSCRIPTIONS, LABEL_PROVENANCE, LABEL_SUBJECTS, LABEL_ACCESSION, LABEL_INSTITUTION,
    LABEL_COLLECTION, LABEL_CREDIT, LABEL_RIGHTS_AND_CREDITS, LABEL_RIGHTS, LABEL_LICENCE, LABEL_SOURCE,
    LABEL_ORIGINAL_RECORD, LABEL_IMAGE_N,
)
Labels = Mapping[str, LanguageMap]


# ----- what the builders read ------------------------------------------------------------


class ImageRecord(Protocol):
    """An image of an item as the builders read it."""

    @property
    def sha256(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def caption(self) -> str: ...
    @property
    def alt_text(self) -> str: ...
    @property
    def rights(self) -> str: ...


class InstitutionRecord(Protocol):
    """A holding institution."""

    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> Mapping[str, Any]: ...
    @property
    def url(self) -> str: ...


class CollectionRecord(Protocol):
    """A collection with its institution."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> Mapping[str, Any]: ...
    @property
    def summary(self) -> Mapping[str, Any]: ...
    @property
    def credits(self) -> Mapping[str, Any]: ...
    @property
    def licence_name(self) -> str: ...
    @property
    def licence_url(self) -> str: ...
    @property
    def institution(self) -> InstitutionRecord: ...


class ItemRecord(Protocol):
    """A published item with its images, collection and institution loaded."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def title_alt(self) -> str: ...
    @property
    def creator(self) -> str: ...
    @property
    def date_display(self) -> str: ...
    @property
    def begin_year(self) -> int | None: ...
    @property
    def period(self) -> str: ...
    @property
    def object_type(self) -> str: ...
    @property
    def medium(self) -> str: ...
    @property
    def dimensions(self) -> str: ...
    @property
    def inscriptions(self) -> str: ...
    @property
    def provenance(self) -> str: ...
    @property
    def subjects(self) -> Sequence[str]: ...
    @property
    def description(self) -> str: ...
    @property
    def accession_number(self) -> str: ...
    @property
    def credit_line(self) -> str: ...
    @property
    def rights(self) -> str: ...
    @property
    def rights_url(self) -> str: ...
    @property
    def source_url(self) -> str: ...
    @property
    def images(self) -> Sequence[ImageRecord]: ...
    @property
    def collection(self) -> CollectionRecord: ...
    @property
    def institution(self) -> InstitutionRecord | None: ...


class CollectionCardRecord(Protocol):
    """A collection as the list of all collections shows it."""

    @property
    def collection(self) -> CollectionRecord: ...
    @property
    def cover(self) -> ImageRecord | None: ...


class Links(Protocol):
    """The site's absolute URLs, as the current request sees the site."""

    @property
    def thumbnail_edge(self) -> int: ...
    def manifest(self, item_id: str) -> str: ...
    def collection(self, slug: str) -> str: ...
    def collections(self) -> str: ...
    def item_page(self, item_id: str) -> str: ...
    def collection_page(self, slug: str) -> str: ...
    def collections_page(self) -> str: ...
    def image_service(self, sha256: str) -> str: ...
    def thumbnail(self, sha256: str) -> str: ...


# ----- scripts and language maps ---------------------------------------------------------


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    """Return an OpenCC converter, made once per process (loading its dictionaries is slow)."""
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Return text in simplified Chinese script."""
    return str(_converter("t2s").convert(text))


def to_traditional(text: str) -> str:
    """Return text in traditional Chinese script."""
    return str(_converter("s2t").convert(text))


def script_of(text: str) -> str:
    """Return "han", "latin", "mixed" or "none" (no letters at all) for a piece of text."""
    han = _HAN_CHARACTER.search(text) is not None
    latin = _LATIN_LETTER.search(text) is not None
    if han and latin:
        return "mixed"
    return "han" if han else "latin" if latin else "none"


def is_traditional(text: str) -> bool:
    """Tell whether Chinese text is written in traditional script (it changes when simplified)."""
    return to_simplified(text) != text


def chinese_forms(text: str) -> LanguageMap:
    """Return Chinese text in both scripts, the script it was written in first."""
    if is_traditional(text):
        return {"zh-Hant": [text], "zh-Hans": [to_simplified(text)]}
    # Text that is the same in both scripts reads as simplified; s2t then leaves it unchanged.
    return {"zh-Hans": [text], "zh-Hant": [to_traditional(text)]}


def language_texts(text: str) -> LanguageMap:
    """Return text by language: Chinese in both scripts, Latin-script text as English, else "none".

    Text of several paragraphs, each wholly Chinese or wholly Latin (a description written in
    English and then in Chinese), is split by language; one paragraph mixing both scripts, or
    without letters, leaves the whole text under "none", since its language is not known.
    """
    text = text.strip()
    if not text:
        return {}
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    scripts = [script_of(p) for p in paragraphs]
    if any(s not in ("han", "latin") for s in scripts):
        return {NO_LANGUAGE: [text]}
    found: dict[str, list[str]] = {}
    for paragraph, script in zip(paragraphs, scripts, strict=True):
        forms = chinese_forms(paragraph) if script == "han" else {"en": [paragraph]}
        for language, (form,) in forms.items():
            found.setdefault(language, []).append(form)
    return {language: ["\n\n".join(parts)] for language, parts in found.items()}


def label_map(text: str) -> LanguageMap:
    """Return a label (plain text on one line) as a language map; {} for empty text."""
    return {language: [" ".join(value.split()) for value in values]
            for language, values in language_texts(text).items()}


def value_map(text: str) -> LanguageMap:
    """Return a metadata value or summary as a language map, line breaks kept as HTML."""
    return {language: [as_value(value) for value in values]
            for language, values in language_texts(text).items()}


def as_value(text: str) -> str:
    """Return text as a IIIF value: plain on one line, else escaped HTML keeping its breaks.

    Clients read a value that starts with "<" and ends with ">" as HTML, so such plain text is
    escaped and wrapped too, and can never inject markup into a viewer.
    """
    text = text.strip()
    if "\n" not in text:
        looks_like_html = text.startswith("<") and text.endswith(">")
        return f"<span>{html.escape(text, quote=False)}</span>" if looks_like_html else text
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    return "".join("<p>" + "<br>".join(html.escape(line.strip(), quote=False) for line in p.splitlines())
                   + "</p>" for p in paragraphs)


def title_map(title: str, title_alt: str, fallback: str = "") -> LanguageMap:
    """Return the label of an item: the title as written, the other Chinese script, the other-language title."""
    found: LanguageMap = {}
    for text in (title, title_alt):
        for language, values in label_map(text).items():
            # The title in the original script wins over an alternative in the same language.
            found.setdefault(language, values)
    return found or {NO_LANGUAGE: [fallback or "—"]}


def stored_map(labels: Mapping[str, Any] | None) -> LanguageMap:
    """Return a catalogue label map ({"en": "…", "zh-Hant": "…"}) as a IIIF language map."""
    found: LanguageMap = {}
    for key, value in (labels or {}).items():
        language = str(key).replace("_", "-")
        text = " ".join(str(value or "").split())
        if text and re.fullmatch(r"[A-Za-z-]+", language):
            found.setdefault(language, [text])
    return found


def pick(values: Mapping[str, list[str]], language: str) -> str:
    """Return the text of a language map best suited to a language (the other Chinese script next)."""
    order = {"zh-Hans": ("zh-Hans", "zh-Hant"), "zh-Hant": ("zh-Hant", "zh-Hans")}.get(language, (language,))
    for key in (*order, "en", NO_LANGUAGE, *values):
        if values.get(key):
            return values[key][0]
    return ""


def joined(parts: Iterable[LanguageMap]) -> LanguageMap:
    """Return one language map saying each part in turn as a sentence, in every language any part has."""
    maps = [m for m in parts if m]
    if not maps:
        return {}
    languages = [lang for lang in dict.fromkeys(k for m in maps for k in m) if lang != NO_LANGUAGE]
    found: LanguageMap = {}
    for language in languages or [NO_LANGUAGE]:
        texts = [text for text in (pick(m, language) for m in maps) if text]
        # A part that already ends a sentence gets no second full stop; the last keeps its own.
        heads = [text.rstrip(".。") for text in texts[:-1]]
        found[language] = [("。" if language.startswith("zh") else ". ").join([*heads, texts[-1]])]
    return found


def translated(labels: Labels, msgid: str, **values: Any) -> LanguageMap:
    """Return a UI label in every language, with its %(name)s placeholders filled in."""
    found = labels.get(msgid) or {"en": [msgid]}
    return {language: [text % values if values else text for text in texts] for language, texts in found.items()}


# ----- rights ----------------------------------------------------------------------------


_CREATIVE_COMMONS = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/(?P<kind>licenses|publicdomain)/(?P<code>[a-z-]+)/"
    r"(?P<version>\d+\.\d+)(?:/(?P<port>[a-z]{2,3}))?(?:/(?:deed|legalcode)(?:\.[A-Za-z_-]+)?)?/?",
    re.IGNORECASE,
)
_RIGHTS_STATEMENTS = re.compile(
    r"https?://(?:www\.)?rightsstatements\.org/(?:vocab|page)/(?P<code>[A-Za-z-]+)/(?P<version>\d+\.\d+)/?"
    r"(?:\?.*)?",
    re.IGNORECASE,
)


def rights_uri(url: str) -> str | None:
    """Return the canonical IIIF rights URI for a Creative Commons or RightsStatements.org URL, else None.

    Presentation 3.0 allows only those two vocabularies in `rights`, as the http URIs they
    define; deed and legal-code pages, https and "www." are mapped to that form.
    """
    url = url.strip()
    if match := _CREATIVE_COMMONS.fullmatch(url):
        # A ported licence (by/3.0/us/) is its own licence; keep its jurisdiction.
        port = f"{match['port'].lower()}/" if match["port"] else ""
        return (f"http://creativecommons.org/{match['kind'].lower()}/{match['code'].lower()}/"
                f"{match['version']}/{port}")
    if match := _RIGHTS_STATEMENTS.fullmatch(url):
        return f"http://rightsstatements.org/vocab/{match['code']}/{match['version']}/"
    return None


# ----- resources -------------------------------------------------------------------------


def fit_within(width: int, height: int, edge: int) -> tuple[int, int]:
    """Return the size of a derivative whose longest side is at most edge (never enlarged).

    The same arithmetic as museum.images.derivatives._fit, which makes the thumbnails served.
    """
    longest = max(width, height)
    if longest <= edge:
        return width, height
    scale = edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(image: ImageRecord, links: Links) -> list[Document]:
    """Return the thumbnail property for an image: the site's JPEG thumbnail."""
    width, height = fit_within(image.width, image.height, links.thumbnail_edge)
    return [{"id": links.thumbnail(image.sha256), "type": "Image", "format": "image/jpeg",
             "width": width, "height": height}]


def image_service(image: ImageRecord, links: Links) -> list[Document]:
    """Return the IIIF Image API 3.0 service of an image."""
    return [{"id": links.image_service(image.sha256), "type": "ImageService3", "profile": "level2"}]


def institution_of(item: ItemRecord) -> InstitutionRecord:
    """Return the institution holding an item (its own, else its collection's)."""
    return item.institution or item.collection.institution


def provider(institution: InstitutionRecord) -> list[Document]:
    """Return the provider property naming an institution, or [] when it has no web address to cite."""
    if not institution.url:
        # An Agent needs a URI, and inventing one would point nowhere.
        return []
    name = stored_map(institution.name) or {NO_LANGUAGE: [institution.slug]}
    return [{"id": institution.url, "type": "Agent", "label": name,
             "homepage": [{"id": institution.url, "type": "Text", "label": name, "format": "text/html"}]}]


def canvas(item: ItemRecord, image: ImageRecord, n: int, links: Links, labels: Labels) -> Document:
    """Return the Canvas showing the n-th image (from 1) of an item, painted by one image annotation."""
    canvas_id = f"{links.manifest(item.id)}/canvas/{n}"
    service = image_service(image, links)
    label = label_map(image.caption) or translated(labels, LABEL_IMAGE_N, n=n, total=len(item.images))
    found: Document = {
        "id": canvas_id,
        "type": "Canvas",
        "label": label,
        "width": image.width,
        "height": image.height,
        "thumbnail": thumbnail(image, links),
        "items": [{
            "id": f"{canvas_id}/page",
            "type": "AnnotationPage",
            "items": [{
                "id": f"{canvas_id}/page/image",
                "type": "Annotation",
                "motivation": "painting",
                "body": {
                    # The whole image at full size through the Image API; viewers that zoom use
                    # the service instead.
                    "id": f"{service[0]['id']}/full/max/0/default.jpg",
                    "type": "Image",
                    "format": "image/jpeg",
                    "width": image.width,
                    "height": image.height,
                    "service": service,
                },
                "target": canvas_id,
            }],
        }],
    }
    if image.alt_text:
        found["summary"] = value_map(image.alt_text)
    if image.rights:
        found["metadata"] = [{"label": translated(labels, LABEL_RIGHTS), "value": value_map(image.rights)}]
    return found


def _metadata_entry(labels: Labels, msgid: str, value: LanguageMap) -> Document | None:
    """Return one metadata pair, or None when the value is empty."""
    return {"label": translated(labels, msgid), "value": value} if value else None


def _link_value(url: str, text: LanguageMap) -> LanguageMap:
    """Return an HTML link to url in every language of text (plain text for a non-web URL)."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        # Import accepts only http(s) URLs; anything else must not become a link in a viewer.
        return {language: [as_value(f"{texts[0]} {url}".strip())]
                for language, texts in (text or {NO_LANGUAGE: [""]}).items()}
    href = html.escape(url, quote=True)
    return {language: [f'<a href="{href}">{html.escape(texts[0], quote=False)}</a>']
            for language, texts in (text or {NO_LANGUAGE: [url]}).items()}


def item_metadata(item: ItemRecord, labels: Labels) -> list[Document]:
    """Return the metadata pairs of an item that has a value, in the order the item page shows them.

    The credit line is left to requiredStatement, which every client must show anyway.
    """
    institution = institution_of(item)
    institution_name = stored_map(institution.name)
    rights = _link_value(item.rights_url, label_map(item.rights)) if item.rights_url else value_map(item.rights)
    entries = [
        _metadata_entry(labels, LABEL_CREATOR, value_map(item.creator)),
        _metadata_entry(labels, LABEL_DATE, value_map(item.date_display)),
        _metadata_entry(labels, LABEL_PERIOD, value_map(item.period)),
        _metadata_entry(labels, LABEL_OBJECT_TYPE, value_map(item.object_type)),
        _metadata_entry(labels, LABEL_MEDIUM, value_map(item.medium)),
        _metadata_entry(labels, LABEL_DIMENSIONS, value_map(item.dimensions)),
        _metadata_entry(labels, LABEL_INSCRIPTIONS, value_map(item.inscriptions)),
        _metadata_entry(labels, LABEL_PROVENANCE, value_map(item.provenance)),
        _metadata_entry(labels, LABEL_SUBJECTS, value_map("; ".join(item.subjects or []))),
        # An accession number is an identifier: converting its characters would change it.
        _metadata_entry(labels, LABEL_ACCESSION,
                        {NO_LANGUAGE: [as_value(item.accession_number)]} if item.accession_number else {}),
        _metadata_entry(labels, LABEL_INSTITUTION, institution_name),
        _metadata_entry(labels, LABEL_COLLECTION, stored_map(item.collection.title)),
        _metadata_entry(labels, LABEL_RIGHTS, rights),
        _metadata_entry(labels, LABEL_ORIGINAL_RECORD,
                        _link_value(item.source_url, institution_name) if item.source_url else {}),
    ]
    return [entry for entry in entries if entry is not None]


def required_statement(item: ItemRecord, labels: Labels, rights: str | None) -> Document:
    """Return the requiredStatement of an item: its institution and credit line, and its rights text
    when they cannot be given as a rights URI."""
    institution = institution_of(item)
    parts = [stored_map(institution.name) or {NO_LANGUAGE: [institution.slug]}, label_map(item.credit_line)]
    if rights is None and item.rights:
        parts.append(label_map(item.rights))
        return {"label": translated(labels, LABEL_RIGHTS_AND_CREDITS), "value": joined(parts)}
    return {"label": translated(labels, LABEL_CREDIT), "value": joined(parts)}


def manifest(item: ItemRecord, links: Links, labels: Labels) -> Document:
    """Return the Manifest of a published item: one Canvas per image (an item needs at least one)."""
    if not item.images:
        raise ValueError(f"item {item.id!r} has no images, and a Manifest needs at least one Canvas")
    label = title_map(item.title, item.title_alt, fallback=item.id)
    rights = rights_uri(item.rights_url)
    coll = item.collection
    found: Document = {
        "@context": CONTEXT,
        "id": links.manifest(item.id),
        "type": "Manifest",
        "label": label,
    }
    summary = value_map(item.description)
    if summary:
        found["summary"] = summary
    found["metadata"] = item_metadata(item, labels)
    if rights:
        found["rights"] = rights
    found["requiredStatement"] = required_statement(item, labels, rights)
    if providers := provider(institution_of(item)):
        found["provider"] = providers
    if item.begin_year is not None and 1 <= item.begin_year <= 9999:
        # Lets timeline viewers place the object; years BCE have no xsd:dateTime form here.
        found["navDate"] = f"{item.begin_year:04d}-01-01T00:00:00Z"
    found["thumbnail"] = thumbnail(item.images[0], links)
    found["homepage"] = [{"id": links.item_page(item.id), "type": "Text", "label": label, "format": "text/html"}]
    found["partOf"] = [{"id": links.collection(coll.slug), "type": "Collection",
                        "label": stored_map(coll.title) or {NO_LANGUAGE: [coll.slug]}}]
    found["items"] = [canvas(item, image, n, links, labels) for n, image in enumerate(item.images, start=1)]
    return found


def manifest_reference(item: ItemRecord, links: Links) -> Document:
    """Return how a Collection lists an item's Manifest: id, type, label and thumbnail."""
    return {"id": links.manifest(item.id), "type": "Manifest",
            "label": title_map(item.title, item.title_alt, fallback=item.id),
            "thumbnail": thumbnail(item.images[0], links)}


def collection(coll: CollectionRecord, items: Iterable[ItemRecord], links: Links, labels: Labels) -> Document:
    """Return the Collection of a catalogue collection: one Manifest reference per published item with images."""
    label = stored_map(coll.title) or {NO_LANGUAGE: [coll.slug]}
    rights = rights_uri(coll.licence_url)
    found: Document = {
        "@context": CONTEXT,
        "id": links.collection(coll.slug),
        "type": "Collection",
        "label": label,
    }
    if summary := stored_map(coll.summary):
        found["summary"] = summary
    metadata = [
        _metadata_entry(labels, LABEL_INSTITUTION, stored_map(coll.institution.name)),
        _metadata_entry(labels, LABEL_LICENCE,
                        _link_value(coll.licence_url, label_map(coll.licence_name)) if coll.licence_url
                        else label_map(coll.licence_name)),
    ]
    found["metadata"] = [entry for entry in metadata if entry is not None]
    if rights:
        found["rights"] = rights
    if credits := stored_map(coll.credits):
        found["requiredStatement"] = {"label": translated(labels, LABEL_SOURCE), "value": credits}
    if providers := provider(coll.institution):
        found["provider"] = providers
    found["homepage"] = [{"id": links.collection_page(coll.slug), "type": "Text", "label": label,
                          "format": "text/html"}]
    found["partOf"] = [{"id": links.collections(), "type": "Collection"}]
    # A Manifest needs a Canvas, so items without images have none and are left out.
    found["items"] = [manifest_reference(item, links) for item in items if item.images]
    return found


def collections(cards: Iterable[CollectionCardRecord], site_name: LanguageMap, links: Links) -> Document:
    """Return the top Collection listing every collection of the site."""
    items: list[Document] = []
    for card in cards:
        reference: Document = {"id": links.collection(card.collection.slug), "type": "Collection",
                               "label": stored_map(card.collection.title) or {NO_LANGUAGE: [card.collection.slug]}}
        if card.cover is not None:
            reference["thumbnail"] = thumbnail(card.cover, links)
        items.append(reference)
    return {
        "@context": CONTEXT,
        "id": links.collections(),
        "type": "Collection",
        "label": site_name,
        "homepage": [{"id": links.collections_page(), "type": "Text", "label": site_name, "format": "text/html"}],
        "items": items,
    }
