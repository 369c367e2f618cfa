"""Citations of an item in common styles, and its schema.org description for search engines.

Pure functions over plain values, so the page, the API and the tests build the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Citation:
    """One citation: the style's name and the text around the (italic) title."""

    style: str
    before: str
    title: str
    after: str

    @property
    def text(self) -> str:
        """Return the citation as plain text."""
        return f"{self.before}{self.title}{self.after}"


def _sentence(part: str) -> str:
    """Return part ending with a full stop (unless it already ends with punctuation)."""
    part = part.strip()
    return part if not part or part[-1] in ".!?。！？" else part + "."


def citations(*, creator: str, title: str, title_alt: str, date: str, medium: str, institution: str,
              accession: str, url: str, accessed: str, site: str) -> list[Citation]:
    """Return the item cited in Chicago, APA and MLA styles (museum-object forms)."""
    full_title = f"{title} ({title_alt})" if title_alt else title
    who = creator.strip() or "Unknown maker"
    holder = ", ".join(p for p in (institution, accession) if p)
    chicago = Citation(
        "Chicago", _sentence(who) + " ",
        full_title, ". " + " ".join(_sentence(p) for p in (date, medium, holder) if p) + f" {url}.",
    )
    apa_date = f"({date})" if date else "(n.d.)"
    apa = Citation(
        "APA", f"{who} {apa_date}. ", full_title,
        (f" [{medium}]" if medium else "") + ". " + (_sentence(institution) + " " if institution else "") + url,
    )
    mla = Citation(
        "MLA", _sentence(who) + " ", full_title,
        ". " + " ".join(_sentence(p) for p in (date, holder) if p)
        + f" {site}, {url}. Accessed {accessed}.",
    )
    return [chicago, apa, mla]


def schema_org(*, url: str, title: str, title_alt: str, creator: str, date: str, begin_year: int | None,
               end_year: int | None, medium: str, object_type: str, description: str, accession: str,
               images: list[dict[str, Any]], institution: dict[str, str], collection: dict[str, str],
               rights: str, rights_url: str, credit_line: str, language: str) -> dict[str, Any]:
    """Return the schema.org JSON-LD of an item: a VisualArtwork held by an institution."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": ["VisualArtwork", "ArchiveComponent"],
        "@id": url,
        "url": url,
        "name": title,
        "inLanguage": language,
    }
    if title_alt:
        data["alternateName"] = title_alt
    if creator:
        data["creator"] = [{"@type": "Person", "name": name.strip()} for name in creator.split(";") if name.strip()]
    if date:
        data["dateCreated"] = date
    if begin_year is not None:
        end = end_year if end_year is not None else begin_year
        data["temporalCoverage"] = f"{_iso_year(begin_year)}/{_iso_year(end)}"
    if medium:
        data["artMedium"] = medium
    if object_type:
        data["artform"] = object_type
    if description:
        data["description"] = description[:5000]
    if accession:
        data["identifier"] = accession
    if images:
        data["image"] = [{"@type": "ImageObject", **image} for image in images]
    holder = {"@type": ["Museum", "ArchiveOrganization"], "name": institution.get("name", "")}
    if institution.get("url"):
        holder["url"] = institution["url"]
    data["holdingArchive"] = holder
    data["isPartOf"] = {"@type": "Collection", "name": collection.get("name", ""), "url": collection.get("url", "")}
    if rights_url:
        data["license"] = rights_url
    if rights:
        data["copyrightNotice"] = rights
    if credit_line:
        data["creditText"] = credit_line
    return data


def _iso_year(year: int) -> str:
    """Return an ISO 8601 year; years before the common era are astronomical (1 BCE = 0000)."""
    if year > 0:
        return f"{year:04d}"
    return f"-{(-year - 1):04d}" if year < -1 else "0000"
