"""Collection downloads: `collection.toml` and `items.csv` (the import format, streamed) and `items.jsonl`."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, stream_with_context
from flask.typing import ResponseReturnValue

from museum.catalogue import exports
from museum.opendata import bp
from museum.web import current_catalogue


def _download(body: Iterator[str], mimetype: str, filename: str) -> Response:
    """Return a streamed attachment that anyone may fetch (CORS open, as for the API)."""
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/collections/<slug>/items.csv")
def export_csv(slug: str) -> ResponseReturnValue:
    """Stream a collection's published items as CSV in the import format."""
    cat = current_catalogue()
    if not exports.collection_exists(cat, slug):
        abort(404)
    return _download(exports.export_csv(cat, slug), "text/csv; charset=utf-8", f"{slug}.csv")


@bp.get("/collections/<slug>/items.jsonl")
def export_jsonl(slug: str) -> ResponseReturnValue:
    """Stream a collection's published items as JSON Lines."""
    cat = current_catalogue()
    if not exports.collection_exists(cat, slug):
        abort(404)
    return _download(exports.export_jsonl(cat, slug), "application/x-ndjson; charset=utf-8", f"{slug}.jsonl")


@bp.get("/collections/<slug>/collection.toml")
def export_collection_toml(slug: str) -> ResponseReturnValue:
    """Return the collection's description in the import format (titles, licence, institutions)."""
    text = exports.export_collection_toml(current_catalogue(), slug)
    if text is None:
        abort(404)
    response = Response(text, mimetype="application/toml")
    response.headers["Content-Type"] = "application/toml; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="collection.toml"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
