"""Cross-cutting web concerns: extension set-up, the page cache key, error pages, security headers."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

from flask import Flask, Response, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from museum.catalogue.importing import import_default_exhibit_if_empty
from museum.catalogue.notices import Notice, NoticeBoard
from museum.catalogue.service import Catalogue, catalogue_revision
from museum.config import Settings
from museum.extensions import babel, cache, tile_cache
from museum.i18n import HTML_LANG, LABEL_FALLBACKS, LOCALES, localised, select_locale
from museum.tile_cache import TileCacheMiddleware

CATALOGUE_KEY = "museum.catalogue"
TILE_CACHE_ENTRIES = 1000
P = ParamSpec("P")
T = TypeVar("T")
NOTICE_BOARD_KEY = "museum.notice_board"


def configure(app: Flask, settings: Settings) -> None:
    """Load settings into the app and initialise Babel and the page cache."""
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MUSEUM_SETTINGS=settings,
        BABEL_DEFAULT_LOCALE="zh_Hans",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=settings.max_image_bytes + 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    if settings.cache_redis_url:
        app.config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=settings.cache_redis_url,
                          CACHE_KEY_PREFIX="museum:")
        tile_config: dict[str, Any] = {"CACHE_KEY_PREFIX": "museum:tile:"}
    else:
        app.config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=2000)
        # Tiles are 15-80 KB each (at most 128 KB are kept): 40 MB per worker in common use.
        tile_config = {"CACHE_THRESHOLD": TILE_CACHE_ENTRIES}
    app.config["CACHE_DEFAULT_TIMEOUT"] = settings.cache_timeout
    babel.init_app(app, locale_selector=select_locale)
    cache.init_app(app)
    tile_cache.init_app(app, config={**{k: v for k, v in app.config.items() if k.startswith("CACHE_")},
                                     **tile_config})
    # Inside ProxyFix (wrapped next), so the cache key names the host the visitor used.
    app.wsgi_app = TileCacheMiddleware(app, app.wsgi_app, CATALOGUE_KEY)  # type: ignore[method-assign]
    if settings.proxy_hops > 0:
        # Absolute URLs (IIIF ids, redirects) must name the host, scheme and prefix the visitor
        # used; only headers set by our own proxies are believed, or anyone could forge them.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        locale = str(get_locale() or "zh_Hans")
        locale = locale if locale in LOCALES else "zh_Hans"
        site_name = {"en": settings.site_name_en, "zh-Hant": settings.site_name_zh_hant,
                     "zh-Hans": settings.site_name_zh_hans}
        # MUSEUM_SITE_NOTICE is an always-on notice in one text, shown before the admins' ones.
        notices = [(settings.site_notice, "")] if settings.site_notice else []
        try:
            notices += [localised_notice(notice.message, locale) for notice in shown_notices()]
        except Exception:
            # The error page must still render when the database is what failed.
            app.logger.exception("site notices could not be read")
        return {"locale": locale, "html_lang": HTML_LANG[locale], "locales": LOCALES,
                "site_name": localised(site_name, locale), "site_notices": notices}

    @app.template_filter("year")
    def _year(value: int) -> str:
        # Years before the common era are stored negative; visitors read "300 BCE" / "公元前300年".
        return gettext("%(year)s BCE", year=-value) if value < 0 else str(value)

    @app.template_filter("localised")
    def _localised(labels: Any) -> str:
        locale = str(get_locale() or "zh_Hans")
        return localised(labels, locale)


def prepare_catalogue(app: Flask, catalogue: Catalogue) -> None:
    """Attach the catalogue and import the default exhibit on first start (once, under a database lock)."""
    app.extensions[CATALOGUE_KEY] = catalogue
    import_default_exhibit_if_empty(catalogue)


def whole_number(raw: str, default: T, max_digits: int = 6) -> int | T:
    """Return raw as a whole number of at most max_digits ASCII digits, else default.

    Every page number, index and revision a query string or form carries is read this way: no
    sign, no spaces, no huge numbers, and ASCII only (str.isdecimal() also accepts the digits of
    other scripts, such as full-width ones).
    """
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= max_digits else default


def current_catalogue() -> Catalogue:
    """Return the catalogue of the running app."""
    return cast(Catalogue, current_app.extensions[CATALOGUE_KEY])


class PageState(NamedTuple):
    """What a public page's cache key and banner depend on besides the request itself."""

    revision: int                    # the catalogue revision
    notices: tuple[Notice, ...]      # the admins' notices shown now
    configured_notice: str           # MUSEUM_SITE_NOTICE, always on


def _page_state() -> PageState:
    """Return the catalogue revision and the notices shown now, worked out once per request."""
    # Every werkzeug proxy lookup (g, current_app) costs about as much as filtering the notices,
    # and this runs on every cached hit: one read of g, and current_app only on the first call.
    state = g.get("page_state")
    if state is None:
        extensions = current_app.extensions
        cat: Catalogue = extensions[CATALOGUE_KEY]
        board = extensions.get(NOTICE_BOARD_KEY)
        if board is None:
            board = extensions[NOTICE_BOARD_KEY] = NoticeBoard(cat)
        revision = catalogue_revision(cat)
        # Kept on g so the cache key and the page rendered under it agree, even at a notice's edge.
        state = g.page_state = PageState(revision, board.shown(revision, dt.datetime.now(dt.UTC)),
                                         cat.settings.site_notice)
    return cast(PageState, state)


def shown_notices() -> tuple[Notice, ...]:
    """Return the site notices shown now (from the in-process board: no query while the revision stays)."""
    return _page_state().notices


def localised_notice(message: Mapping[str, str], locale: str) -> tuple[str, str]:
    """Return a notice's text for the locale (or the nearest language it has) and that text's language."""
    for key in LABEL_FALLBACKS.get(locale, LABEL_FALLBACKS["zh_Hans"]):
        if message.get(key):
            return message[key], key
    return "", ""


def page_cache_key() -> str:
    """Return the cache key of a public page: catalogue revision, date, notices shown, locale and full path."""
    state = _page_state()
    # The date too: exhibitions open and close on dates, with no write to change the revision.
    today = dt.datetime.now(dt.UTC).date().isoformat()
    # Notices start and end on the clock, with no write either: the ids of those shown now make
    # a page cached before a notice's start (or end) miss once that moment has passed. The
    # configured notice too, since a Redis cache outlives a restart with a new MUSEUM_SITE_NOTICE.
    notices = ",".join([str(notice.id) for notice in state.notices])
    raw = (f"{state.revision}|{today}|{notices}|{state.configured_notice}|{get_locale()}|{request.path}|"
           f"{request.query_string.decode('latin-1')}")
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def register_error_pages(app: Flask) -> None:
    """Render HTTP errors and unexpected exceptions inside the site layout."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        template = "errors/404.html" if code == 404 else "errors/error.html"
        return render_template(template, code=code, error=exc), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error on %s", request.path)
        return render_template("errors/500.html", code=500), 500


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)
# Pages differ by language, which comes from Accept-Language or the lang cookie.
HTML_VARY = "Accept-Language, Cookie"


def add_security_headers(app: Flask) -> None:
    """Add the security headers every response carries."""

    @app.after_request
    def _headers(response: Response) -> Response:
        # Plain header writes: this runs on every cached hit, where parsing Vary would show.
        headers = response.headers
        for name, value in SECURITY_HEADERS:
            if name not in headers:
                headers[name] = value
        if response.mimetype == "text/html":
            existing = headers.get("Vary")
            headers["Vary"] = f"{existing}, {HTML_VARY}" if existing else HTML_VARY
        return response


def refuse_nul_characters(app: Flask) -> None:
    """Answer 404 to paths holding a NUL character, which no id can contain.

    PostgreSQL refuses NUL in any query text, so looking such an id up would fail with an
    error instead of simply finding nothing.
    """

    @app.before_request
    def _no_nul() -> None:
        # The IIIF Image API parses its own parameters (no query) and must answer 400 there.
        if "\x00" in request.path and not request.path.startswith("/iiif/3/"):
            abort(404)


def cached_page(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Cache a public GET view under page_cache_key (revision, date, notices, locale, full URL)."""
    return cast(Callable[P, ResponseReturnValue],
                cache.cached(make_cache_key=lambda *a, **k: page_cache_key())(view))
