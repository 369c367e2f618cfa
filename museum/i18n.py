"""The visitor's language: which of zh-Hans, zh-Hant and en to show, and localised labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request

LOCALES = ("zh_Hans", "zh_Hant", "en")
DEFAULT_LOCALE = "zh_Hans"
LANG_COOKIE = "lang"
# The key a catalogue label map uses for each UI locale, and where to look when it is missing.
LABEL_FALLBACKS = {
    "zh_Hans": ("zh-Hans", "zh-Hant", "en"),
    "zh_Hant": ("zh-Hant", "zh-Hans", "en"),
    "en": ("en", "zh-Hant", "zh-Hans"),
}
HTML_LANG = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en"}
# Traditional script is the norm in these regions; other Chinese tags read simplified.
_HANT_REGIONS = {"tw", "hk", "mo", "hant"}


def locale_from_tag(tag: str) -> str | None:
    """Map a BCP 47 language tag (zh-TW, zh-Hans-CN, en-GB…) to one of LOCALES."""
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh_Hant" if _HANT_REGIONS.intersection(parts[1:]) else "zh_Hans"
    if parts[0] == "en":
        return "en"
    return None


def select_locale() -> str:
    """Return the locale of this request: ?lang=, then the cookie, then Accept-Language."""
    for candidate in (request.args.get("lang", ""), request.cookies.get(LANG_COOKIE, "")):
        if candidate in LOCALES:
            return candidate
    for tag, _quality in request.accept_languages:
        found = locale_from_tag(tag)
        if found:
            return found
    return DEFAULT_LOCALE


def localised(labels: Mapping[str, Any] | None, locale: str) -> str:
    """Return the best text of a {locale: text} map for the given UI locale."""
    if not labels:
        return ""
    for key in LABEL_FALLBACKS.get(locale, LABEL_FALLBACKS[DEFAULT_LOCALE]):
        value = labels.get(key)
        if value:
            return str(value)
    return str(next(iter(labels.values()), ""))
