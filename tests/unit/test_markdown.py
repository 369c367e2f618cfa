"""Curators' Markdown: what it renders, and that nothing unsafe or outside ever gets through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from museum.catalogue.markdown import ALLOWED_TAGS, render_markdown, sanitise_html

TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)")


def _tags(html: str) -> set[str]:
    """Return the names of the tags in html."""
    return {name.lower() for name in TAG.findall(html)}


def test_the_usual_markup_renders() -> None:
    html = render_markdown("Intro with **bold**, *italic* and `code`.\n\n- one\n- two\n\n3. three\n4. four\n\n"
                           "> a quotation\n\n---\n\n```\nblock\n```\n\nfirst line\nsecond line")
    assert "<p>Intro with <strong>bold</strong>, <em>italic</em> and <code>code</code>.</p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<blockquote>\n<p>a quotation</p>\n</blockquote>" in html
    assert "<hr>" in html and "<pre><code>block\n</code></pre>" in html
    # A new line in the text box is a new line on the page.
    assert "first line<br>\nsecond line" in html


def test_headings_sit_below_the_sections_own_heading() -> None:
    html = render_markdown("# Top\n\n## Second\n\n### Third\n\n###### Sixth")
    assert "<h3>Top</h3>" in html and "<h3>Second</h3>" in html
    assert "<h4>Third</h4>" in html and "<h4>Sixth</h4>" in html
    assert "<h1" not in html and "<h5" not in html and "<h6" not in html


def test_links_keep_safe_targets_with_noopener() -> None:
    html = render_markdown("[a](https://example.org/x) [b](http://example.org) [c](mailto:curator@example.org) "
                           "[d](/items/met:435809) [e](../exhibitions/x) <https://auto.example/>")
    for href in ("https://example.org/x", "http://example.org", "mailto:curator@example.org", "/items/met:435809",
                 "../exhibitions/x", "https://auto.example/"):
        assert f'<a href="{href}" rel="noopener noreferrer">' in html
    # Titles and other attributes are dropped: only href (and the rel we set) remain.
    assert 'title=' not in render_markdown('[t](https://example.org "a title")')


@pytest.mark.parametrize("text", [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](java\tscript:alert(1))",
    "[x]( javascript:alert(1) )",
    "<javascript:alert(1)>",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
])
def test_script_urls_never_become_links(text: str) -> None:
    html = render_markdown(text)
    assert "href" not in html or not re.search(r'href="\s*(javascript|vbscript|data):', html, re.I)
    assert not re.search(r"<a [^>]*href=\"[^\"]*script", html, re.I)


@pytest.mark.parametrize("text, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ('<img src="x" onerror="alert(1)">', "<img"),
    ('<iframe src="https://evil.example/"></iframe>', "<iframe"),
    ("<style>body{display:none}</style>", "<style"),
    ('<a href="javascript:alert(1)">click</a>', '<a href="javascript'),
    ('<p onclick="alert(1)">x</p>', "<p onclick"),
    ("<svg onload=alert(1)>", "<svg"),
    ("<!-- comment --><b>bold</b>", "<b>"),
])
def test_raw_html_is_shown_as_text_never_run(text: str, forbidden: str) -> None:
    html = render_markdown(text)
    assert forbidden not in html.lower()
    assert _tags(html) <= ALLOWED_TAGS


def test_pictures_are_their_alt_text_so_no_outside_image_loads() -> None:
    html = render_markdown("Look: ![a *bronze* mirror](https://other-host.example/mirror.jpg) and "
                           '![x](/media/abc/large.jpeg "t")')
    assert "<img" not in html and "other-host.example" not in html and "/media/" not in html
    assert "Look: a bronze mirror and x" in html


def test_the_sanitiser_alone_keeps_only_the_small_set() -> None:
    dirty = ('<h1>big</h1><h2 class="c" style="color:red">h2</h2><a href="javascript:x" onclick="y">t</a>'
             '<a href="https://ok.example/">ok</a><script>steal()</script><iframe src="//e"></iframe>'
             '<img src="//e/x.png" onerror="x"><table><tr><td>cell</td></tr></table><em>e</em>')
    clean = sanitise_html(dirty)
    assert _tags(clean) <= ALLOWED_TAGS
    assert "steal()" not in clean and "style=" not in clean and "class=" not in clean and "onclick" not in clean
    assert '<a rel="noopener noreferrer">t</a>' in clean
    assert '<a href="https://ok.example/" rel="noopener noreferrer">ok</a>' in clean
    assert "<h2>h2</h2>" in clean and "big" in clean and "cell" in clean and "<em>e</em>" in clean


def test_empty_text_renders_nothing() -> None:
    assert render_markdown("") == "" and render_markdown("  \n\t ") == ""


def test_long_and_odd_input_stays_quick_and_safe() -> None:
    for text in ("[" * 20_000, "*a" * 10_000, ">" * 5_000 + "x", "<" * 20_000, "\x00\x01 text \u202e"):
        html = render_markdown(text)
        assert _tags(html) <= ALLOWED_TAGS


# Pieces that mean something to Markdown or HTML, strung together at random.
PIECES = st.sampled_from(list("<>[]()!*_`#-:/\"'= \nabcjsvrpt&;1x")
                         + ["javascript:", "<script>", "onerror=", "<img ", "](", "<a href=", "&#58;", "data:"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_whatever_is_typed_only_allowed_tags_and_schemes_come_out(text: str) -> None:
    html = render_markdown(text)
    assert _tags(html) <= ALLOWED_TAGS
    for href in re.findall(r'href="([^"]*)"', html):
        scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", href)
        assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto"}, href
    assert not re.search(r"<[a-z0-9]+\s[^>]*\bon[a-z]+=", html, re.I)
