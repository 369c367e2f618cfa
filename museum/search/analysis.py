"""Text analysis for mixed Chinese and Latin text.

Chinese characters are folded to simplified script with OpenCC one character at a time, so
traditional and simplified spellings meet in the index while every token keeps the character
offsets of the stored original (highlights land on the text as written). Each Han character is
a token with its own position: a multi-character query becomes a phrase, so one- and
two-character words are found and longer words match exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import opencc
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.support.charset import accent_map

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
TOKEN_PATTERN = re.compile(rf"(?P<han>[{_HAN}])|(?P<word>[^\W_{_HAN}]+(?:['’.][^\W_{_HAN}]+)*)")
HAN_CHARACTER = re.compile(rf"[{_HAN}]")

_converter = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def fold_han(char: str) -> str:
    """Return the simplified form of one Han character (itself if it has none or maps to several)."""
    folded = str(_converter.convert(char))
    # A one-to-one fold keeps positions and offsets aligned with the original text.
    return folded if len(folded) == 1 else char


def fold_text(text: str) -> str:
    """Return text with every Han character folded to simplified script."""
    return HAN_CHARACTER.sub(lambda m: fold_han(m.group(0)), text)


def contains_han(text: str) -> bool:
    """Tell whether text contains at least one Han character."""
    return HAN_CHARACTER.search(text) is not None


class MixedScriptTokenizer(Tokenizer):  # type: ignore[misc]
    """Split text into single folded Han characters and NFKC-normalised Latin words."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        """Yield one token per Han character or Latin word, with positions and offsets."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in TOKEN_PATTERN.finditer(value):
            raw = match.group(0)
            is_han = match.lastgroup == "han"
            text = fold_han(raw) if is_han else unicodedata.normalize("NFKC", raw).replace("’", "'")
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = raw
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


def museum_analyzer() -> Analyzer:
    """Return the analyzer used for every full-text field, at index and at query time."""
    # minsize=1 keeps single Han characters, which are whole words in classical titles.
    return (MixedScriptTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(minsize=1) | StemFilter())
