"""Turn what a visitor typed into a Whoosh query; any string gives a query, never an error.

Syntax understood: words (all must match), "quoted phrases", -exclusions (-word, -"a phrase"),
OR between two words, and a trailing * for a prefix. Every word is looked for in every
searched field with the field's weight. A run of Chinese characters is split into words by the
segmenter; each word matches as a phrase of characters (so 青銅 finds 青銅器) and scores extra
where the document has it as a whole word. A Latin word is also read as pinyin (maijishan,
mai ji shan) or as pinyin initials (mjs) in the pinyin field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from whoosh.query import And, AndNot, Every, Or, Phrase, Prefix, Query, Term

from museum.search.analysis import HAN_CHARACTER, HAN_RUN, TOKEN_PATTERN, fold_han, han_words, museum_analyzer
from museum.search.pinyin import looks_like_initials, split_syllables
from museum.search.request import QueryParts
from museum.search.schema import FIELD_BOOSTS, PINYIN_BOOST, POSITIONAL_FIELDS

MAX_CLAUSES = 24
WORD_BONUS = 1.5
PHRASE_BONUS = 2.0
_CLAUSE = re.compile(r'(?P<neg>-)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_analyzer = museum_analyzer(words=False)


@dataclass(frozen=True)
class ParsedQuery:
    """A query ready to run, and the plain Latin words in it (for spelling suggestions)."""

    query: Query | None          # None: no positive words, so every document matches
    latin_words: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)


def _analysed(text: str) -> list[str]:
    """Return the index tokens of text in order (folded characters and stemmed Latin words)."""
    return [t.text for t in _analyzer(text)]


def _term_or_phrase(fieldname: str, tokens: Sequence[str], boost: float) -> Query:
    """Return a Term for one token, else a Phrase where the field keeps positions, else all the parts."""
    if len(tokens) == 1:
        return Term(fieldname, tokens[0], boost=boost)
    if fieldname in POSITIONAL_FIELDS:
        return Phrase(fieldname, list(tokens), boost=boost)
    parts: list[str] = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if HAN_CHARACTER.fullmatch(token) and following and HAN_CHARACTER.fullmatch(following):
            parts.append(token + following)        # neighbouring characters: their bigram
        elif not (HAN_CHARACTER.fullmatch(token) and parts and i > 0
                  and HAN_CHARACTER.fullmatch(tokens[i - 1])):
            parts.append(token)                    # a Latin word, or a lone character
    return And([Term(fieldname, part, boost=boost / len(parts)) for part in dict.fromkeys(parts)])


def _across(fields: dict[str, float], tokens: Sequence[str], scale: float = 1.0) -> Query:
    """Return tokens (as a term or phrase) looked for in every field with its weight."""
    return Or([_term_or_phrase(name, tokens, boost * scale) for name, boost in fields.items()])


def _han_word(fields: dict[str, float], word: str) -> Query:
    """Return a query for one segmented Chinese word: its characters as a phrase, or the whole word."""
    chars = list(word)
    if len(chars) == 1:
        return _across(fields, chars)
    return Or([_across(fields, chars), _across(fields, [word], WORD_BONUS)])


def _joined_singles(words: list[str]) -> list[str]:
    """Join neighbouring one-character words into one phrase unit.

    The segmenter leaves names and rare words it does not know as single characters (馬遠 →
    馬 / 遠); as separate words they would match two characters anywhere in a long colophon.
    """
    joined: list[str] = []
    after_single = False
    for word in words:
        if len(word) == 1 and after_single:
            joined[-1] += word
        else:
            joined.append(word)
        after_single = len(word) == 1
    return joined


def _latin_word(fields: dict[str, float], raw: str, with_pinyin: bool) -> Query | None:
    """Return a query for one Latin word in the text fields and, read as pinyin, in the pinyin field."""
    prefix = raw.endswith("*") and len(raw.rstrip("*")) >= 2
    raw = raw.rstrip("*")
    tokens = _analysed(raw)
    if not tokens:
        return None  # a stop word on its own
    if prefix:
        stem = raw.lower()
        alternatives: list[Query] = [Prefix(name, stem, boost=boost) for name, boost in fields.items()]
    else:
        alternatives = [_across(fields, tokens)]
    if with_pinyin and len(tokens) == 1:
        syllables = split_syllables(raw)
        if syllables:
            alternatives.append(_term_or_phrase("pinyin", syllables, PINYIN_BOOST))
        if looks_like_initials(raw):
            alternatives.append(Phrase("pinyin", list(raw.lower()), boost=PINYIN_BOOST * 0.8))
    return Or(alternatives) if len(alternatives) > 1 else alternatives[0]


def _word_clause(fields: dict[str, float], raw: str, with_pinyin: bool,
                 latin: list[str], words: list[str]) -> Query | None:
    """Return the query for one whitespace-separated word, which may mix scripts."""
    parts: list[Query] = []
    for match in TOKEN_PATTERN.finditer(raw + (" " if raw.endswith("*") else "")):
        if match.lastgroup == "han":
            run = "".join(fold_han(ch) for ch in match.group(0))
            segmented = _joined_singles(han_words(match.group(0)))
            words.extend(segmented)
            run_parts = [_han_word(fields, w) for w in segmented]
            if len(run_parts) > 1:
                # The words in any order match; the run as typed scores extra.
                parts.append(Or([And(run_parts), _across(fields, list(run), PHRASE_BONUS)]))
            elif run_parts:
                parts.append(run_parts[0])
        else:
            word = match.group(0)
            if raw.endswith("*") and raw.rstrip("*").endswith(word):
                word += "*"
            latin.append(word.rstrip("*"))
            words.append(word.rstrip("*"))
            clause = _latin_word(fields, word, with_pinyin)
            if clause is not None:
                parts.append(clause)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def _phrase_clause(fields: dict[str, float], text: str) -> Query | None:
    """Return an exact phrase looked for in every field."""
    tokens = _analysed(text)
    return _across(fields, tokens) if tokens else None


def _pinyin_run(words: list[str]) -> Query | None:
    """Return a phrase in the pinyin field when consecutive words are all pinyin ("mai ji shan")."""
    syllables: list[str] = []
    for word in words:
        split = split_syllables(word)
        if not split:
            return None
        syllables.extend(split)
    return Phrase("pinyin", syllables, boost=PINYIN_BOOST * PHRASE_BONUS) if len(syllables) > 1 else None


def parse_query(text: str, fields: dict[str, float] | None = None, with_pinyin: bool = True) -> ParsedQuery:
    """Return the query for text over fields (default: every searched field)."""
    fields = fields or FIELD_BOOSTS
    positive: list[Query] = []
    negative: list[Query] = []
    latin: list[str] = []
    words: list[str] = []
    plain_words: list[str] = []
    pending_or = False
    for match in list(_CLAUSE.finditer(text))[:MAX_CLAUSES]:
        if match.group("word") in ("OR", "|") and not match.group("neg"):
            pending_or = bool(positive)
            continue
        if match.group("phrase") is not None:
            clause = _phrase_clause(fields, match.group("phrase"))
            is_plain = False
        else:
            raw = match.group("word")
            sink_latin: list[str] = []
            negated = bool(match.group("neg"))
            clause = _word_clause(fields, raw, with_pinyin and not negated, sink_latin if negated else latin,
                                  words)
            is_plain = not match.group("neg") and not HAN_RUN.search(raw) and not raw.endswith("*")
        if clause is None:
            continue
        if match.group("neg"):
            negative.append(clause)
            continue
        if pending_or and positive:
            positive[-1] = Or([positive[-1], clause])
            pending_or = False
            plain_words = []
        else:
            positive.append(clause)
            plain_words = plain_words + [match.group("word")] if is_plain else []
    query: Query | None = None
    if positive:
        query = positive[0] if len(positive) == 1 else And(positive)
        run = _pinyin_run(plain_words) if with_pinyin and len(plain_words) == len(positive) > 1 else None
        if run is not None:
            query = Or([query, run])
    if negative:
        query = AndNot(query if query is not None else Every(), Or(negative))
    return ParsedQuery(query=query, latin_words=latin, words=words)


# Advanced-search fields: the form's names and the index fields each one searches.
ADVANCED_FIELDS: dict[str, dict[str, float]] = {
    "title": {"title": 4.0, "title_alt": 3.0},
    "creator": {"creator": 2.0},
    "subject": {"meta": 1.5},
    "description": {"body": 1.0},
}


def build_query(parts: QueryParts) -> ParsedQuery:
    """Return one query combining the box and every advanced input (all must match)."""
    main = parse_query(parts.text)
    positive: list[Query] = [main.query] if main.query is not None else []
    latin, words = list(main.latin_words), list(main.words)
    if parts.phrase.strip():
        clause = _phrase_clause(FIELD_BOOSTS, parts.phrase)
        if clause is not None:
            positive.append(clause)
    if parts.any_words.strip():
        alternatives = [q for q in (parse_query(w).query for w in parts.any_words.split()[:MAX_CLAUSES])
                        if q is not None]
        if alternatives:
            positive.append(Or(alternatives))
    for name, typed in parts.fields.items():
        fields = ADVANCED_FIELDS.get(name)
        if fields and typed.strip():
            sub = parse_query(typed, fields=fields, with_pinyin=name in ("title", "creator"))
            if sub.query is not None:
                positive.append(sub.query)
    query: Query | None = None
    if positive:
        query = positive[0] if len(positive) == 1 else And(positive)
    if parts.exclude.strip():
        negatives = [q for q in (parse_query(w, with_pinyin=False).query
                                 for w in parts.exclude.split()[:MAX_CLAUSES]) if q is not None]
        if negatives:
            query = AndNot(query if query is not None else Every(), Or(negatives))
    return ParsedQuery(query=query, latin_words=latin, words=words)
