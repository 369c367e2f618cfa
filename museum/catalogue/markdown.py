"""Curators' Markdown turned into safe HTML: markdown-it-py renders it, nh3 keeps a small set of tags.

Two layers on purpose: the renderer never passes raw HTML through (it is shown as text), and the
sanitiser would remove anything unexpected the renderer might still produce.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# What a section's text may contain once rendered; everything else is removed (its text kept).
ALLOWED_TAGS = frozenset({
    "p", "h2", "h3", "h4", "em", "strong", "a", "ul", "ol", "li", "blockquote", "br", "hr", "code", "pre",
})
# "*" empties the sanitiser's default attributes for every tag (title, lang).
ALLOWED_ATTRIBUTES = {"*": frozenset(), "a": frozenset({"href"}), "ol": frozenset({"start"})}
# Relative links (to our own pages) pass too; javascript:, data: and the rest lose their href.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"
# A section's own heading is an h2 on the page, so the headings inside its text sit below it.
HEADING_LEVELS = {"h1": "h3", "h2": "h3", "h3": "h4", "h4": "h4", "h5": "h4", "h6": "h4"}


def _image_as_text(renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                   env: EnvType) -> str:
    """Render an image as its alt text: the site never loads pictures from other hosts."""
    children = tokens[idx].children or []
    return escapeHtml(renderer.renderInlineAsText(children, options, env))


def _parser() -> MarkdownIt:
    """Return the CommonMark parser with raw HTML off and line breaks kept."""
    # breaks: curators write in a plain text box, where a new line means a new line (and a
    # soft break between Chinese characters would otherwise show as a stray space).
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    md.add_render_rule("image", _image_as_text)
    return md


_MARKDOWN = _parser()
_CLEANER = nh3.Cleaner(tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                       url_schemes=set(ALLOWED_URL_SCHEMES), link_rel=LINK_REL, strip_comments=True,
                       clean_content_tags={"script", "style"})


def sanitise_html(html: str) -> str:
    """Return html with only the allowed tags, attributes and link schemes left."""
    return _CLEANER.clean(html)


def render_markdown(text: str) -> str:
    """Return the sanitised HTML of a Markdown text; an empty text gives an empty string."""
    if not text.strip():
        return ""
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(text, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = HEADING_LEVELS.get(token.tag, token.tag)
    return sanitise_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env))
