"""The UI catalogues: every message of museum/ and templates/ is translated in each UI locale.

The extraction re-runs the `pybabel extract` command written in docs/translations.md, so the
documented workflow and this test cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from flask import Flask

from museum import create_app
from museum.i18n import HTML_LANG, LOCALES

REPO = Path(__file__).resolve().parents[2]
TRANSLATIONS = REPO / "museum" / "translations"
DOCS = REPO / "docs" / "translations.md"
# What the main navigation's "Collections" link must read in each locale; hard-coded so that a
# swapped or missing catalogue shows up, not just an empty one.
NAV_COLLECTIONS = {"zh_Hans": "馆藏", "zh_Hant": "典藏", "en": "Collections"}
# A gettext call with a literal first argument, or a {% trans %} block: a file holding one must
# appear in the extracted locations, or the mapping in babel.cfg is missing it.
GETTEXT_CALL = re.compile(
    r"(?<![\w.])(?:_|gettext|ngettext|pgettext|npgettext|lazy_gettext|lazy_ngettext|"
    r"lazy_pgettext|lazy_npgettext)\(\s*[rRuU]?[\"']|\{%-?\s*trans\b"
)
# One printf-style conversion, named or not; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)

MessageKey = tuple[str | tuple[str, ...], str | None]


def _key(message: Message) -> MessageKey:
    """Return the identity of a message in a catalogue: its id (tuple for plurals) and context."""
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return msgid, message.context


def _messages(catalog: Catalog) -> Iterator[Message]:
    """Yield the messages of a catalogue without its header entry."""
    return (message for message in catalog if message.id)


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """Return a msgid or msgstr as a tuple of its forms (one for a plain message)."""
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def _placeholders(text: str) -> set[tuple[str | None, str]]:
    """Return the (name, conversion) pairs of the %-placeholders in a string."""
    return {(m["name"], m["conv"]) for m in PLACEHOLDER.finditer(text) if m["conv"] != "%"}


def _read_po(path: Path) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as fh:
        return read_po(fh)


def _po_path(locale: str) -> Path:
    """Return where the catalogue of a locale lives."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _documented_extract_command() -> list[str]:
    """Return the `pybabel extract` command of docs/translations.md, split into arguments."""
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("pybabel extract "):
            return shlex.split(line)
    raise AssertionError(f"{DOCS} holds no line starting with `pybabel extract `")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Extract the messages of the current sources with the documented command."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    args = _documented_extract_command()
    assert "-o" in args, "the documented extract command must write with -o"
    args[args.index("-o") + 1] = str(pot)
    # `pybabel` is babel.messages.frontend's entry point; run it with this interpreter.
    command = [sys.executable, "-m", "babel.messages.frontend", "--quiet", *args[1:]]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0 and pot.is_file(), done.stderr
    # Babel reports skipped f-strings and similar problems on stderr without failing.
    assert "warning" not in done.stderr.lower(), done.stderr
    catalog = _read_po(pot)
    assert any(True for _ in _messages(catalog)), "the extraction found no messages at all"
    return catalog


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    """Read the committed catalogue of every UI locale."""
    return {locale: _read_po(_po_path(locale)) for locale in LOCALES}


def test_the_mapping_reaches_every_file_that_calls_gettext(extracted: Catalog) -> None:
    """Fail when a module or template uses gettext but the extraction never looked at it."""
    seen = {(REPO / filename).resolve() for message in _messages(extracted)
            for filename, _line in message.locations}
    sources = [*(REPO / "museum").rglob("*.py"), *(REPO / "templates").rglob("*")]
    calling = {path.resolve() for path in sources
               if path.is_file() and GETTEXT_CALL.search(path.read_text(encoding="utf-8"))}
    missed = sorted(str(path.relative_to(REPO)) for path in calling - seen)
    assert not missed, f"gettext calls in files that babel.cfg does not extract: {missed}"


def test_the_committed_catalogues_list_exactly_the_messages_of_the_sources(
        extracted: Catalog, catalogs: dict[str, Catalog]) -> None:
    """Fail until the documented extract and update commands have been run."""
    expected = {_key(message) for message in _messages(extracted)}
    committed = {
        "messages.pot": {_key(m) for m in _messages(_read_po(TRANSLATIONS / "messages.pot"))},
        **{f"{locale}/messages.po": {_key(m) for m in _messages(catalog)}
           for locale, catalog in catalogs.items()},
    }
    for name, keys in committed.items():
        assert keys == expected, (
            f"{name} is out of date (see docs/translations.md): "
            f"missing {sorted(map(str, expected - keys))}, stale {sorted(map(str, keys - expected))}"
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_not_fuzzy(
        locale: str, extracted: Catalog, catalogs: dict[str, Catalog]) -> None:
    """Every extracted message has a complete, non-fuzzy translation in the locale."""
    catalog = catalogs[locale]
    # `pybabel compile` skips a whole catalogue whose header entry is fuzzy.
    assert not catalog.fuzzy, f"{locale}: remove `#, fuzzy` from the header entry"
    assert str(catalog.locale) == locale
    num_plurals = get_plural(locale).num_plurals
    assert catalog.num_plurals == num_plurals, f"{locale}: wrong Plural-Forms header"
    problems: list[str] = []
    for source in _messages(extracted):
        message = catalog.get(source.id, context=source.context)
        if message is None:
            problems.append(f"missing: {source.id!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {source.id!r}")
        forms = _forms(message.string)
        expected_forms = num_plurals if source.pluralizable else 1
        if len(forms) != expected_forms or not all(form.strip() for form in forms):
            problems.append(f"untranslated: {source.id!r} -> {forms!r}")
    assert not problems, f"{locale}: " + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(
        locale: str, catalogs: dict[str, Catalog]) -> None:
    """Each translation uses exactly the %(name)s placeholders of its message."""
    catalog = catalogs[locale]
    problems: list[str] = []
    for message in _messages(catalog):
        source = set().union(*(_placeholders(text) for text in _forms(message.id)))
        for form in _forms(message.string):
            if not form:
                continue  # reported as untranslated by the test above
            found = _placeholders(form)
            if not message.pluralizable or catalog.num_plurals == 1:
                ok = found == source
            else:
                # With several forms the one for a single thing may leave the count out.
                ok = found <= source and source - found <= {("num", "s"), ("num", "d")}
            if not ok:
                problems.append(f"{message.id!r}: {form!r} has {sorted(map(str, found))}, "
                                f"source has {sorted(map(str, source))}")
    assert not problems, f"{locale}: " + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_its_source(
        locale: str, catalogs: dict[str, Catalog]) -> None:
    """The committed .mo holds exactly the non-fuzzy translations of the .po."""
    mo_path = _po_path(locale).with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path} is missing: run `pybabel compile -d museum/translations`"
    with mo_path.open("rb") as fh:
        compiled = read_mo(fh)
    po = catalogs[locale]
    from_po = {_key(m): _forms(m.string) for m in _messages(po)
               if not m.fuzzy and all(_forms(m.string))}
    from_mo = {_key(m): _forms(m.string) for m in _messages(compiled)}
    assert from_mo == from_po, f"{mo_path} is stale: run `pybabel compile -d museum/translations`"
    assert compiled.plural_forms == po.plural_forms


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Return an app over a fresh data directory holding the tiny test exhibit."""
    data = tmp_path_factory.mktemp("translations-app") / "data"
    app = create_app({"data_dir": str(data),
                      "exhibit_dir": str(REPO / "tests" / "data" / "exhibit")})
    app.config["TESTING"] = True
    return app


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_are_served_in_the_requested_locale(app: Flask, locale: str) -> None:
    """The compiled catalogues are found at run time: the navigation reads in the locale."""
    response = app.test_client().get(f"/?lang={locale}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{HTML_LANG[locale]}">' in html
    nav = re.search(r'<nav class="main-nav"[^>]*>(.*?)</nav>', html, re.DOTALL)
    assert nav, "the page has no main navigation"
    links = re.findall(r">([^<]+)</a>", nav.group(1))
    assert NAV_COLLECTIONS[locale] in links, f"{locale}: navigation reads {links}"
