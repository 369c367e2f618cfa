"""The tile cache: repeated IIIF image requests answered in front of Flask, from rendered bytes kept by revision.

A deep-zoom viewer asks for the same few dozen tiles again and again, and each answer depends
only on the catalogue revision (a write may withdraw the image), the host (the `Link` header
names it) and the path. This WSGI middleware keeps the complete answer Flask gave to a plain
GET of a rendition — status 200, every header, the bytes — under
`<revision>|<scheme://host/prefix>|<path>` in `museum.extensions.tile_cache` (per worker in
memory, or the Redis of `MUSEUM_CACHE_REDIS_URL`), and sends it again without building a
request context, routing, sessions or hooks. A hit therefore costs less than a cached page.

Never cached: answers that set a cookie or vary by anything but the cookie (which Flask names
whenever the session was looked at; an image never depends on it), anything but 200, bodies over
TILE_CACHE_MAX_BYTES, info.json, and requests with a range or a validator (those go to Flask,
which answers 206 or 304).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from werkzeug.wsgi import get_host

from museum.catalogue.service import Catalogue, catalogue_revision
from museum.extensions import tile_cache

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

IMAGE_API_PREFIX = "/iiif/3/"
# Renditions up to this size are kept; larger ones (a whole image at full size, PNG tiles) are
# not. A 512-pixel JPEG or WebP tile is 15-80 KB, so with TILE_CACHE_ENTRIES (museum.web) a
# worker holds at most 128 MB of them, whatever a crawler asks for.
TILE_CACHE_MAX_BYTES = 128 * 1024
IMAGE_EXTENSIONS = (".jpg", ".png", ".webp", ".tif", ".gif")
# Request headers that make an answer differ from the plain 200: Flask handles those.
_PASS_THROUGH_HEADERS = ("HTTP_RANGE", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
                         "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE")
log = logging.getLogger(__name__)


class CachedAnswer(NamedTuple):
    """A complete 200 answer to an image request."""

    headers: list[tuple[str, str]]
    body: bytes


class TileCacheMiddleware:
    """WSGI middleware serving repeated IIIF image requests from the tile cache."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication, catalogue_key: str) -> None:
        self._app = app
        self._wsgi_app = wsgi_app
        self._catalogue_key = catalogue_key

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer from the cache when possible; otherwise ask Flask and keep a cacheable answer."""
        key = self._key(environ)
        if key is None:
            return self._wsgi_app(environ, start_response)
        backend = self._app.extensions["cache"][tile_cache]
        try:
            answer: CachedAnswer | None = backend.get(key)
        except Exception:
            # A cache that is down must not take images down with it.
            log.exception("tile cache read failed")
            return self._wsgi_app(environ, start_response)
        if answer is not None:
            start_response("200 OK", answer.headers)
            return [answer.body]
        return self._answer_and_keep(environ, start_response, backend, key)

    def _key(self, environ: WSGIEnvironment) -> str | None:
        """Return the cache key of a cacheable image request, else None."""
        path: str = environ.get("PATH_INFO", "")
        if (environ.get("REQUEST_METHOD") != "GET" or not path.startswith(IMAGE_API_PREFIX)
                or not path.endswith(IMAGE_EXTENSIONS) or environ.get("QUERY_STRING")
                or any(name in environ for name in _PASS_THROUGH_HEADERS)):
            return None
        catalogue: Catalogue | None = self._app.extensions.get(self._catalogue_key)
        if catalogue is None:
            return None
        root = f"{environ.get('wsgi.url_scheme', 'http')}://{get_host(environ)}{environ.get('SCRIPT_NAME', '')}"
        return f"{catalogue_revision(catalogue)}|{root}|{path}"

    def _answer_and_keep(self, environ: WSGIEnvironment, start_response: StartResponse, backend: Any,
                         key: str) -> Iterable[bytes]:
        """Let Flask answer, and keep the answer if it is a plain, small, shareable 200.

        The body is read whole before it is sent, so a client that hangs up early (a viewer
        zooming on) still leaves the tile cached; other answers stream through untouched.
        """
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body_iter = self._wsgi_app(environ, capture)
        headers: list[tuple[str, str]] = seen.get("headers", [])
        length = next((value for name, value in headers if name.lower() == "content-length"), "")
        if not (seen.get("status", "").startswith("200 ") and length.isdigit()
                and int(length) <= TILE_CACHE_MAX_BYTES and _shareable(headers)):
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        # The server adds its own Date to every answer; a kept one would be stale.
        kept = [(name, value) for name, value in headers if name.lower() != "date"]
        try:
            backend.set(key, CachedAnswer(kept, body))
        except Exception:
            log.exception("tile cache write failed")
        return [body]


def _shareable(headers: list[tuple[str, str]]) -> bool:
    """Tell whether an answer may be given to anyone: no cookie set, varying by nothing but Cookie.

    Flask adds `Vary: Cookie` whenever a request looked at the session (Flask-Login always
    does); an image's bytes never depend on it, but anything else it varies by would.
    """
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie":
            return False
        if lowered == "vary" and {v.strip().lower() for v in value.split(",")} - {"cookie"}:
            return False
    return True
