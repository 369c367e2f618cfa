"""Chinese word segmentation of folded (simplified) Han text, behind one function.

The segmenter was chosen by measurement (docs/search.md). Its dictionary is extended with the
museum's own vocabulary (dynasties, reign eras, object types, places) so that words visitors
type, such as 青铜器 or 乾隆, are kept whole.
"""

from __future__ import annotations

import threading
import tomllib
from functools import lru_cache
from importlib import resources

import rjieba

_lock = threading.Lock()
_tokenizer: rjieba.Jieba | None = None


def _museum_words() -> list[str]:
    """Return the extra dictionary words: the vocabulary file plus every period name."""
    data = resources.files("museum") / "data"
    words = [line.strip() for line in (data / "search_words.txt").read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    periods_file = data / "periods.toml"
    if periods_file.is_file():
        table = tomllib.loads(periods_file.read_text("utf-8"))
        for entry in table.get("period", []):
            words.extend(str(entry["names"][k]) for k in ("zh-Hans",) if k in entry.get("names", {}))
    return words


def _loaded() -> rjieba.Jieba:
    """Return the process's segmenter, loading its dictionary on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tokenizer = rjieba.Jieba()
                for word in _museum_words():
                    # None: let the segmenter suggest a frequency high enough to keep the word whole.
                    tokenizer.add_word(word, None, None)
                _tokenizer = tokenizer
    return _tokenizer


@lru_cache(maxsize=32768)
def split_words(run: str) -> tuple[str, ...]:
    """Return the words of a run of simplified Han characters, in order, covering the whole run."""
    if len(run) < 2:
        return (run,) if run else ()
    # HMM off: guessing unseen words from character statistics invents words across
    # boundaries in classical titles; the dictionary plus single characters is steadier.
    return tuple(_loaded().cut(run, False))


def is_known_word(word: str) -> bool:
    """Tell whether word is in the segmenter's dictionary."""
    return bool(_loaded().has_word(word))
