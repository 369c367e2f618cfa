"""Text analysis for mixed Chinese and Latin text, at index and at query time.

Chinese characters are folded to simplified script with OpenCC one character at a time, so
traditional and simplified spellings meet in the index while every token keeps the character
offsets of the stored original (highlights land on the text as written). Each Han character is
a token with its own position, so one- and two-character words are found and longer words
match as phrases; the segmenter's words of two or more characters are added at the position
of their first character, so a document where the query is a whole word ranks higher, and
so are all character bigrams, which let fields stored without positions match words exactly
enough (a word is then all of its bigrams) at a fraction of the cost of phrase checks.
Latin words are NFKC-normalised, lowercased, accent-folded and stemmed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import opencc
from whoosh.analysis import (
    STOP_WORDS,
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map

from museum.search.pinyin import pinyin_terms
from museum.search.segmenter import is_known_word, split_words

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
TOKEN_PATTERN = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<word>[^\W_{_HAN}]+(?:['’.][^\W_{_HAN}]+)*)")
HAN_CHARACTER = re.compile(rf"[{_HAN}]")
HAN_RUN = re.compile(rf"[{_HAN}]+")

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


def han_words(run: str) -> list[str]:
    """Return the words of a run of Han characters, each folded character by character.

    The run is segmented in its phrase-level simplified form (OpenCC keeps 乾隆 as 乾隆 there,
    where the character-level fold gives 干隆), then each word is folded character by
    character, the same way single-character tokens are, so index and query always agree.
    """
    folded = "".join(fold_han(ch) for ch in run)
    phrase = str(_converter.convert(run))
    words = split_words(phrase if len(phrase) == len(run) else folded)
    pieces: list[str] = []
    at = 0
    for word in words:
        pieces.append(folded[at:at + len(word)])
        at += len(word)
    return pieces


def index_words(run: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, folded word) for each word of two or more characters in a Han run.

    Besides the segmenter's words, the dictionary words inside a long word are given too
    (乾隆 inside 乾隆年间, 青铜 inside 青铜器), so a query for the shorter word still gets
    the whole-word bonus.
    """
    offset = 0
    phrase = str(_converter.convert(run))
    source = phrase if len(phrase) == len(run) else run
    for word in han_words(run):
        if len(word) > 1:
            yield offset, word
            original = source[offset:offset + len(word)]
            for size in range(len(word) - 1, 1, -1):
                for start in range(0, len(word) - size + 1):
                    if is_known_word(original[start:start + size]):
                        yield offset + start, word[start:start + size]
        offset += len(word)


def contains_han(text: str) -> bool:
    """Tell whether text contains at least one Han character."""
    return HAN_CHARACTER.search(text) is not None


_ELISION = re.compile(r"^(?:[dlmnstcj]|qu)'(?=\w)", re.I)   # French and Italian: d'Amiens, l'atelier
_POSSESSIVE = re.compile(r"'s?$", re.I)                        # English: Immortal's, Masters'


# Remembered: the same words recur through every record indexed and every snippet highlighted.
@lru_cache(maxsize=65536)
def normalise_latin(word: str) -> str:
    """Return a Latin word NFKC-normalised, without elided articles or a possessive ending."""
    word = unicodedata.normalize("NFKC", word).replace("’", "'")
    return _POSSESSIVE.sub("", _ELISION.sub("", word)) or word


class _PositionedTokenizer(Tokenizer):  # type: ignore[misc]
    """Shared plumbing: fill Whoosh's reusable Token from (text, position, start, end) tuples."""

    def pieces(self, value: str) -> Iterator[tuple[str, int, int, int, str]]:
        """Yield (token text, position, start offset, end offset, original) for value."""
        raise NotImplementedError

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        """Yield the tokens of value with positions and offsets when asked for."""
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
        for text, pos, start, end, original in self.pieces(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = original
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class MixedScriptTokenizer(_PositionedTokenizer):
    """Split text into folded Han characters (plus whole segmented words) and Latin words."""

    def __init__(self, words: bool = True) -> None:
        """With words=False only characters are produced (the query side builds words itself)."""
        self.words = words

    def pieces(self, value: str) -> Iterator[tuple[str, int, int, int, str]]:
        """Yield Han characters with their words at the first character's position, then Latin words."""
        pos = 0
        for match in TOKEN_PATTERN.finditer(value):
            raw = match.group(0)
            if match.lastgroup == "word":
                word = normalise_latin(raw)
                if word.lower() in STOP_WORDS:
                    # Dropped here, before positions are counted, so "battle of x" in a query
                    # and in a document line up the same way.
                    continue
                yield word, pos, match.start(), match.end(), raw
                pos += 1
                continue
            folded = "".join(fold_han(ch) for ch in raw)
            starts: dict[int, list[str]] = {}
            if self.words and len(folded) > 1:
                for offset, word in index_words(raw):
                    starts.setdefault(offset, []).append(word)
            for i, char in enumerate(folded):
                at = match.start() + i
                yield char, pos + i, at, at + 1, raw[i]
                words_here = starts.get(i, ())
                for word in words_here:
                    yield word, pos + i, at, at + len(word), raw[i:i + len(word)]
                if self.words and i + 1 < len(folded) and folded[i:i + 2] not in words_here:
                    # Every two neighbouring characters too: fields without positions find a
                    # multi-character word as all of its bigrams (the usual CJK approach).
                    yield folded[i:i + 2], pos + i, at, at + 2, raw[i:i + 2]
            pos += len(folded)


class PinyinTokenizer(_PositionedTokenizer):
    """Turn the Han characters of a text into toneless syllables and initials, position by position."""

    def pieces(self, value: str) -> Iterator[tuple[str, int, int, int, str]]:
        """Yield a syllable and its initial letter for each Han character with a reading."""
        pos = 0
        for match in HAN_RUN.finditer(value):
            folded = "".join(fold_han(ch) for ch in match.group(0))
            for offset, syllable, initial in pinyin_terms(folded):
                at = match.start() + offset
                yield syllable, pos + offset, at, at + 1, match.group(0)[offset]
                yield initial, pos + offset, at, at + 1, match.group(0)[offset]
            # A gap between runs keeps a phrase from bridging two separate titles.
            pos += len(folded) + 1


class LatinWordTokenizer(_PositionedTokenizer):
    """Yield only the Latin words of a text, for the spelling dictionary."""

    def pieces(self, value: str) -> Iterator[tuple[str, int, int, int, str]]:
        """Yield each Latin word of value."""
        for pos, match in enumerate(m for m in TOKEN_PATTERN.finditer(value) if m.lastgroup == "word"):
            yield normalise_latin(match.group(0)), pos, match.start(), match.end(), match.group(0)


def museum_analyzer(words: bool = True) -> Analyzer:
    """Return the analyzer used for every full-text field."""
    # minsize=1 keeps single Han characters, which are whole words in classical titles.
    # No StopFilter: it renumbers positions, which would move the words that share a position
    # with their first character; the tokenizer drops stop words itself.
    return MixedScriptTokenizer(words=words) | LowercaseFilter() | CharsetFilter(accent_map) | StemFilter()


@lru_cache(maxsize=65536)
def _finished(piece: str) -> str:
    """Return a tokenizer piece as museum_analyzer's filters leave it: lowercased, accent-folded, stemmed."""
    return str(stem(piece.lower().translate(accent_map)))


class HighlightAnalyzer:
    """museum_analyzer()'s tokens, made without Whoosh's chain of filter generators, for snippets.

    Highlighting analyses the stored text of every hit shown, which was most of a small query's
    time: here each piece goes through one remembered function instead of three generator
    layers. A test checks that the tokens equal museum_analyzer()'s on every record.
    """

    def __init__(self) -> None:
        self._tokenizer = MixedScriptTokenizer(words=True)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, removestops: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Token]:
        """Yield the tokens of value, with positions and character offsets when asked for."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos, start, end, _original in self._tokenizer.pieces(value):
            token.text = _finished(text)
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start
                token.endchar = end
            yield token


def pinyin_analyzer() -> Analyzer:
    """Return the analyzer of the pinyin field."""
    return PinyinTokenizer()


def spelling_analyzer() -> Analyzer:
    """Return the analyzer of the spelling field: unstemmed Latin words of three letters or more."""
    return LatinWordTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(minsize=3)
