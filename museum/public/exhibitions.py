"""Public views of exhibitions: the list of those open today, one exhibition's story and its walk."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from museum.catalogue import exhibitions as service
from museum.public import bp
from museum.web import cached_page, current_catalogue


@bp.get("/exhibitions")
@cached_page
def exhibitions() -> ResponseReturnValue:
    """List the published exhibitions open today."""
    cards = service.published_exhibitions(current_catalogue())
    return render_template("public/exhibitions.html", cards=cards)


@bp.get("/exhibitions/<slug>")
@cached_page
def exhibition(slug: str) -> ResponseReturnValue:
    """Tell an exhibition's story, section by section, with its items' pictures."""
    page = service.exhibition_page(current_catalogue(), slug)
    if page is None:
        abort(404)
    return render_template("public/exhibition.html", page=page)


@bp.get("/exhibitions/<slug>/walk/<int:number>")
@cached_page
def exhibition_walk(slug: str, number: int) -> ResponseReturnValue:
    """Show one item of an exhibition at a time, large, with the way to the previous and next."""
    stop = service.exhibition_walk(current_catalogue(), slug, number)
    if stop is None:
        abort(404)
    return render_template("public/exhibition_walk.html", stop=stop)
