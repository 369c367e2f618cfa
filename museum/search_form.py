"""Read a search from a request's query string: shared by the search page and the JSON API.

Every argument is optional and any value is accepted: unknown sorts fall back to relevance,
over-long text is cut, control characters are dropped, and a year that cannot be read is left
out with a message for the visitor instead of an error.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from museum.catalogue import service
from museum.search.request import FACETS, SORTS, QueryParts, SearchRequest

ADVANCED_INPUTS = ("title", "creator", "subject", "description")
MAX_ARG_LENGTH = 500


def _arg(name: str) -> str:
    """Return a text argument, cut to a sane length, with control characters removed."""
    raw = request.args.get(name, "")[:MAX_ARG_LENGTH]
    return "".join(ch for ch in raw if ch.isprintable() or ch == " ")


def search_request_from_args(page: int, per_page: int = 0) -> tuple[SearchRequest, list[str]]:
    """Read a search from the query string; return it and messages about inputs that were ignored."""
    problems: list[str] = []
    years: dict[str, int | None] = {"from": None, "to": None}
    for bound in years:
        typed = _arg(bound).strip()
        if typed:
            years[bound] = service.year_bound(typed)
            if years[bound] is None:
                problems.append(_("“%(year)s” is not a year we can read, so that limit was left out.", year=typed))
    if years["from"] is not None and years["to"] is not None and years["from"] > years["to"]:
        problems.append(_("The years were the wrong way round, so they were swapped."))
        years["from"], years["to"] = years["to"], years["from"]
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        sort = "relevance"
    parts = QueryParts(text=_arg("q"), phrase=_arg("phrase"), any_words=_arg("any"), exclude=_arg("exclude"),
                       fields={name: _arg(name) for name in ADVANCED_INPUTS if _arg(name).strip()})
    filters = {name: tuple(dict.fromkeys(v[:200] for v in request.args.getlist(name) if v.strip()))
               for name in FACETS}
    return SearchRequest(parts=parts, filters={k: v for k, v in filters.items() if v},
                         year_from=years["from"], year_to=years["to"], sort=sort, page=page,
                         per_page=per_page), problems
