"""What a search asks for, as plain values: shared by the views, the service and the index."""

from __future__ import annotations

from dataclasses import dataclass, field

SORTS = ("relevance", "date", "-date", "title")
# The facets, in the order the search page shows them.
FACETS: tuple[str, ...] = ("institution", "collection", "object_type", "period", "material",
                           "creator", "has_image")


@dataclass(frozen=True)
class QueryParts:
    """Everything a visitor can type: the box, and the advanced form's separate inputs."""

    text: str = ""
    phrase: str = ""
    any_words: str = ""
    exclude: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Tell whether nothing at all was typed."""
        return not any(v.strip() for v in (self.text, self.phrase, self.any_words, self.exclude,
                                            *self.fields.values()))


@dataclass(frozen=True)
class SearchRequest:
    """A search as the service asks for it: what was typed, the filters, the order and the page."""

    parts: QueryParts = field(default_factory=QueryParts)
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 0   # 0: the site's page size
