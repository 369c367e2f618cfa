"""Compare Chinese word segmenters for the search index: memory, start-up, speed and quality, in one run.

What is measured, for every candidate installed in the interpreter given with ``--python`` (default: this one);
a candidate that is not installed, or that would need to download a model at run time, is skipped with a message:

1. **Memory**: the resident set (``VmRSS`` from ``/proc/self/status``) of a fresh process after import + dictionary
   load + one first segmentation, minus that of a bare baseline process (same harness, no import) measured in the same
   run; medians over the start-up processes. The peak (``VmHWM``) is reported the same way.
2. **Start-up**: wall time inside a fresh process from just before the import to just after the first segmentation
   of one short query (interpreter start-up itself, the same for all, is excluded); median of ``--repeats`` processes,
   run round-robin over the candidates so that machine noise spreads evenly. Before them one **cold** process per
   library runs with an empty temporary directory (``TMPDIR``), so libraries that cache their dictionary there
   (jieba, jieba_fast_dat) pay to build the cache; its time is reported separately.
3. **Speed**: characters per second over the whole corpus (see below), in one fresh process per candidate: one
   warm-up pass, then the median of ``--repeats`` timed passes. Each field of each record is one call, as in indexing.
   The same is done for the library's search mode where it has one (jieba's ``cut_for_search``, which adds the
   dictionary words found inside longer words, e.g. 乾隆 and 年间 inside 乾隆年间).
4. **Quality**: word-level precision, recall and F1 against ``benchmarks/data/segmentation_gold.txt`` (hand-segmented
   simplified Chinese, one item a line, words separated by spaces). Words are compared as character spans; tokens that
   are only punctuation or spaces are not scored. For the search-critical words (青铜器 麦积山 乾隆 山水 甲骨 牧羊)
   the table says how many of their occurrences as gold words the segmenter keeps whole (and, in brackets, how many
   are among its search-mode tokens for that line). As a side note the same lines are converted back to traditional
   characters (OpenCC ``s2t``) and scored again (``F1 trad``). Last, ``words findable`` counts the gold words that a
   search for the word alone would find as a phrase: the word segmented on its own (as a query is) gives tokens that
   are all tokens of the segmented line at the word's place (index and query segmentation agree).

The corpus is the Chinese text of ``../shared/data/dev_zh_records.csv`` and
``collections/chinese-paintings/items.csv``: in the title, title_alt, creator, description, inscriptions and
provenance fields, every run of CJK ideographs, CJK/full-width punctuation and digits that holds at least one
ideograph, the runs of one field joined with a space. It is folded traditional to simplified with OpenCC ``t2s``
before segmentation, as our pipeline does.

Run from the repository root:

    python benchmarks/segmenters.py --python /tmp/segvenv/bin/python
    python benchmarks/segmenters.py --python /tmp/segvenv/bin/python --repeats 5 --json /tmp/seg.json

The same file is run by the candidate interpreter as the worker (``--child MODE``), so it imports only the standard
library at the top.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = (
    REPO_ROOT.parent / "shared" / "data" / "dev_zh_records.csv",
    REPO_ROOT / "collections" / "chinese-paintings" / "items.csv",
)
DEFAULT_GOLD = REPO_ROOT / "benchmarks" / "data" / "segmentation_gold.txt"
TEXT_FIELDS = ("title", "title_alt", "creator", "description", "inscriptions", "provenance")
CRITICAL_WORDS = ("青铜器", "麦积山", "乾隆", "山水", "甲骨", "牧羊")
# The short string segmented once for the start-up and memory figures: a typical search query.
STARTUP_QUERY = "乾隆年间的青铜器"
RESULT_MARK = "@@RESULT "
BASELINE = "baseline"

_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CHINESE_RUN = re.compile(f"[{_IDEOGRAPH}][{_IDEOGRAPH}\u3000-\u303f\uff00-\uffef0-9·]*")

Segment = Callable[[str], list[str]]


# --------------------------------------------------------------------------------------------------------------------
# Candidates. Each loader runs in the child process, imports its library lazily and returns a function that segments
# one string into a list of words.


def _load_jieba(hmm: bool, search: bool) -> Segment:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    if search:
        return lambda text: jieba.lcut_for_search(text, HMM=hmm)
    return lambda text: jieba.lcut(text, HMM=hmm)


def _load_jieba_fast_dat(hmm: bool, search: bool) -> Segment:
    import logging

    import jieba_fast_dat

    jieba_fast_dat.setLogLevel(logging.WARNING)
    # Needed: in 0.59, lcut() before initialize() silently segments without the dictionary (single characters with
    # HMM off, HMM-only words with HMM on).
    jieba_fast_dat.initialize()
    if search:
        return lambda text: jieba_fast_dat.lcut_for_search(text, HMM=hmm)
    return lambda text: jieba_fast_dat.lcut(text, HMM=hmm)


def _load_rjieba(hmm: bool, search: bool) -> Segment:
    import rjieba

    if search:
        return lambda text: rjieba.cut_for_search(text, hmm)
    return lambda text: rjieba.cut(text, hmm)


def _load_opencc_jieba_pyo3(hmm: bool, search: bool) -> Segment:
    from opencc_jieba_pyo3 import OpenCC

    converter = OpenCC("t2s")
    if search:
        return lambda text: converter.jieba_cut_for_search(text, hmm)
    return lambda text: converter.jieba_cut(text, hmm)


def _load_thulac(hmm: bool, search: bool) -> Segment:
    import thulac

    model = thulac.thulac(seg_only=True)
    return lambda text: [word for word, _tag in model.cut(text, text=False)]


def _load_pkuseg(hmm: bool, search: bool) -> Segment:
    import pkuseg

    model = pkuseg.pkuseg()
    return lambda text: list(model.cut(text))


def _load_spacy_pkuseg(hmm: bool, search: bool) -> Segment:
    import spacy_pkuseg

    model = spacy_pkuseg.pkuseg()
    return lambda text: list(model.cut(text))


def _spacy_pkuseg_offline() -> str | None:
    """Say why spacy-pkuseg cannot run offline, or None when its default model is already on disk."""
    from spacy_pkuseg import config

    model_dir = Path(config.pkuseg_home) / "spacy_ontonotes"
    if model_dir.is_dir():
        return None
    return f"its default model is not in the wheel: pkuseg() downloads it at run time into {model_dir}"


@dataclass(frozen=True)
class Library:
    """One installable segmenter."""

    name: str
    dist: str
    module: str
    loader: Callable[[bool, bool], Segment]  # (hmm, search mode) -> segment function
    has_hmm: bool = True
    has_search_mode: bool = True
    offline_problem: Callable[[], str | None] | None = None


LIBRARIES = (
    Library("jieba", "jieba", "jieba", _load_jieba),
    Library("jieba_fast_dat", "jieba-fast-dat", "jieba_fast_dat", _load_jieba_fast_dat),
    Library("rjieba", "rjieba", "rjieba", _load_rjieba),
    Library("opencc_jieba_pyo3", "opencc-jieba-pyo3", "opencc_jieba_pyo3", _load_opencc_jieba_pyo3),
    Library("thulac", "thulac", "thulac", _load_thulac, has_hmm=False, has_search_mode=False),
    Library("pkuseg", "pkuseg", "pkuseg", _load_pkuseg, has_hmm=False, has_search_mode=False),
    Library("spacy_pkuseg", "spacy-pkuseg", "spacy_pkuseg", _load_spacy_pkuseg, has_hmm=False,
            has_search_mode=False, offline_problem=_spacy_pkuseg_offline),
)
LIBRARY_BY_NAME = {lib.name: lib for lib in LIBRARIES}


def config_names(lib: Library) -> list[str]:
    """The configurations measured for one library: HMM off and on where the library has an HMM."""
    return [f"{lib.name}:hmm-off", f"{lib.name}:hmm-on"] if lib.has_hmm else [lib.name]


def load_config(config: str, search: bool = False) -> Segment | None:
    """Import and initialise one configuration (``name`` or ``name:hmm-on``/``name:hmm-off``).

    With search=True, the library's search mode (jieba's ``cut_for_search``: the words plus the dictionary words
    inside them), or None when it has none.
    """
    if config == BASELINE:
        return str.split
    name, _, mode = config.partition(":")
    lib = LIBRARY_BY_NAME[name]
    if search and not lib.has_search_mode:
        return None
    return lib.loader(mode != "hmm-off", search)


# --------------------------------------------------------------------------------------------------------------------
# Child side: runs in the candidate interpreter, prints one JSON result line.


def _proc_status_kb(key: str) -> int:
    """One ``kB`` figure from /proc/self/status (VmRSS, VmHWM); ru_maxrss stands in where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _child_probe() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for lib in LIBRARIES:
        entry: dict[str, Any] = {"version": None, "problem": None}
        if importlib.util.find_spec(lib.module) is None:
            entry["problem"] = "not installed"
        else:
            try:
                entry["version"] = importlib.metadata.version(lib.dist)
            except importlib.metadata.PackageNotFoundError:
                entry["version"] = "?"
            if lib.offline_problem is not None:
                try:
                    entry["problem"] = lib.offline_problem()
                except Exception as exc:  # a broken install is a finding, not a crash
                    entry["problem"] = f"cannot inspect: {exc!r}"
        found[lib.name] = entry
    found["python"] = platform.python_version()
    return found


def _child_startup(config: str) -> dict[str, Any]:
    rss_start = _proc_status_kb("VmRSS")
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # thulac prints "Model loaded succeed"
        segment = _required(load_config(config))
        loaded = time.perf_counter()
        words = segment(STARTUP_QUERY)
    end = time.perf_counter()
    return {
        "load_ms": (loaded - start) * 1000,
        "startup_ms": (end - start) * 1000,
        "rss_start_kb": rss_start,
        "rss_kb": _proc_status_kb("VmRSS"),
        "hwm_kb": _proc_status_kb("VmHWM"),
        "words": words,
    }


def _required(segment: Segment | None) -> Segment:
    if segment is None:
        raise SystemExit("no such mode")
    return segment


def _timed_passes(segment: Segment, texts: list[str], repeats: int) -> list[float]:
    for text in texts:  # warm-up pass
        segment(text)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            segment(text)
        times.append(time.perf_counter() - start)
    return times


def _child_speed(config: str, data: dict[str, Any]) -> dict[str, Any]:
    texts: list[str] = data["texts"]
    repeats: int = data["repeats"]
    with contextlib.redirect_stdout(sys.stderr):
        times = _timed_passes(_required(load_config(config)), texts, repeats)
        search = load_config(config, search=True)
        search_times = _timed_passes(search, texts, repeats) if search is not None else None
    return {"times_s": times, "search_times_s": search_times}


def _child_segment(config: str, data: dict[str, Any]) -> dict[str, Any]:
    with contextlib.redirect_stdout(sys.stderr):
        segment = _required(load_config(config))
        result: dict[str, Any] = {key: [segment(text) for text in texts] for key, texts in data.items()}
        search = load_config(config, search=True)
        result["search"] = [search(text) for text in data["simplified"]] if search is not None else None
        return result


def _child_convert(config: str, data: dict[str, Any]) -> dict[str, Any]:
    import opencc

    converter = opencc.OpenCC(config)
    texts = [converter.convert(text) for text in data["texts"]]
    return {"texts": texts, "version": importlib.metadata.version("opencc")}


def child_main(mode: str, config: str, input_path: str | None) -> None:
    """Entry point of the worker process: run one measurement and print its result line."""
    data: dict[str, Any] = {}
    if input_path:
        data = json.loads(Path(input_path).read_text(encoding="utf-8"))
    if mode == "probe":
        result = _child_probe()
    elif mode == "startup":
        result = _child_startup(config)
    elif mode == "speed":
        result = _child_speed(config, data)
    elif mode == "segment":
        result = _child_segment(config, data)
    elif mode == "convert":
        result = _child_convert(config, data)
    else:
        raise SystemExit(f"unknown child mode {mode!r}")
    sys.stdout.write(RESULT_MARK + json.dumps(result, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------------------------------
# Parent side.


class ChildError(RuntimeError):
    """A worker process failed."""


@dataclass
class Runner:
    """Starts worker processes with the candidate interpreter and an isolated temporary directory."""

    python: str
    workdir: Path
    timeout_s: float = 900.0

    def run(self, mode: str, config: str = BASELINE, data: dict[str, Any] | None = None, tmpdir: Path | None = None
            ) -> dict[str, Any]:
        args = [self.python, str(Path(__file__).resolve()), "--child", mode, "--config", config]
        if data is not None:
            input_path = self.workdir / f"input-{mode}.json"
            input_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            args += ["--input", str(input_path)]
        env = dict(os.environ)
        env["TMPDIR"] = str(tmpdir or (self.workdir / "tmp"))
        env.pop("PYTHONPATH", None)
        Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", env=env, timeout=self.timeout_s,
                              check=False)
        for line in proc.stdout.splitlines():
            if line.startswith(RESULT_MARK):
                result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
                return result
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ChildError(f"{mode} {config} exited {proc.returncode}: {tail}")


def chinese_text(value: str) -> str:
    """The Chinese runs of one field, joined with a space."""
    return " ".join(_CHINESE_RUN.findall(value))


def read_corpus(sources: Sequence[Path]) -> tuple[list[list[str]], list[str]]:
    """Return the raw Chinese text of each record (one string per non-empty field) and the names of the sources."""
    records: list[list[str]] = []
    names: list[str] = []
    for path in sources:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        names.append(f"{path.name} ({len(rows)} rows)")
        for row in rows:
            fields = [chinese_text(row.get(name) or "") for name in TEXT_FIELDS]
            fields = [text for text in fields if text]
            if fields:
                records.append(fields)
    return records, names


def read_gold(path: Path) -> list[list[str]]:
    """The gold lines as lists of words; lines starting with '#' are comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split() for line in lines if line.strip() and not line.startswith("#")]


def convert(texts: list[str], config: str, runner: Runner) -> tuple[list[str], str]:
    """OpenCC conversion here when this interpreter has opencc, else in the candidate interpreter."""
    try:
        import opencc
    except ImportError:
        result = runner.run("convert", config, {"texts": texts})
        return list(result["texts"]), str(result["version"])
    converter = opencc.OpenCC(config)
    return [converter.convert(text) for text in texts], importlib.metadata.version("opencc")


def _is_scored(token: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" for char in token)


def spans(text: str, words: Iterable[str]) -> set[tuple[int, int]]:
    """Character spans of the scored words, found left to right in text (segmenters may drop spaces)."""
    found: set[tuple[int, int]] = set()
    pos = 0
    for word in words:
        word = word.strip()
        if not word:
            continue
        start = text.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        if _is_scored(word):
            found.add((start, pos))
    return found


@dataclass
class Quality:
    """Word-level scores against the gold standard."""

    precision: float
    recall: float
    f1: float
    critical: dict[str, list[int]] = field(default_factory=dict)  # word -> [kept whole, occurrences]

    @property
    def critical_kept(self) -> tuple[int, int]:
        return sum(v[0] for v in self.critical.values()), sum(v[1] for v in self.critical.values())


def findable(gold: list[list[str]], texts: list[str], output: list[list[str]], queries: dict[str, list[str]]
             ) -> tuple[int, int]:
    """How many gold word occurrences a search for that word alone would find as a phrase: [found, total].

    A word is findable in its line when the segmentation of the word on its own (the query) lines up with the
    segmentation of the line (the index): every query token is a token of the line, in order, at the word's place.
    """
    found = total = 0
    for gold_words, text, system_words in zip(gold, texts, output, strict=True):
        system_spans = spans(text, system_words)
        offset = 0
        for word in gold_words:
            if _is_scored(word) and word in queries:
                total += 1
                pieces = [piece for piece in queries[word] if piece.strip()]
                query_spans = _offset_spans(pieces)
                shifted = {(start + offset, end + offset) for start, end in query_spans}
                found += "".join(pieces) == word and shifted <= system_spans
            offset += len(word)
    return found, total


def score(gold: list[list[str]], texts: list[str], output: list[list[str]]) -> Quality:
    """Micro-averaged P/R/F1 of output against gold; texts are the strings that were segmented."""
    correct = gold_total = system_total = 0
    critical = {word: [0, 0] for word in CRITICAL_WORDS}
    for gold_words, text, system_words in zip(gold, texts, output, strict=True):
        gold_spans = _offset_spans(gold_words)
        system_spans = spans(text, system_words)
        correct += len(gold_spans & system_spans)
        gold_total += len(gold_spans)
        system_total += len(system_spans)
        offset = 0
        for word in gold_words:
            if word in critical:
                critical[word][1] += 1
                critical[word][0] += (offset, offset + len(word)) in system_spans
            offset += len(word)
    precision = correct / system_total if system_total else 0.0
    recall = correct / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(precision, recall, f1, critical)


def critical_in_search(gold: list[list[str]], output: list[list[str]]) -> dict[str, list[int]]:
    """Per search-critical word: [occurrences found among the search-mode tokens of their line, occurrences].

    Search mode emits overlapping tokens, so a gold occurrence counts as found when its line's tokens contain the word.
    """
    found = {word: [0, 0] for word in CRITICAL_WORDS}
    for gold_words, tokens in zip(gold, output, strict=True):
        for word in gold_words:
            if word in found:
                found[word][1] += 1
                found[word][0] += word in tokens
    return found


def _offset_spans(words: list[str]) -> set[tuple[int, int]]:
    """Gold spans by position (the text segmented is the gold joined, or a conversion of the same length)."""
    found: set[tuple[int, int]] = set()
    offset = 0
    for word in words:
        if _is_scored(word):
            found.add((offset, offset + len(word)))
        offset += len(word)
    return found


@dataclass
class Row:
    """Everything measured for one configuration."""

    config: str
    version: str
    memory_mb: float = 0.0
    peak_mb: float = 0.0
    startup_ms: float = 0.0
    startup_spread_ms: tuple[float, float] = (0.0, 0.0)
    cold_startup_ms: float = 0.0
    chars_per_s: float = 0.0
    speed_spread: tuple[float, float] = (0.0, 0.0)
    records_per_s: float = 0.0
    search_chars_per_s: float | None = None
    quality: Quality | None = None
    critical_search: dict[str, list[int]] | None = None
    quality_trad: Quality | None = None
    findable: tuple[int, int] = (0, 0)
    query_words: list[str] = field(default_factory=list)
    error: str | None = None


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def measure(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="segbench-"))
    try:
        return _measure(args, Runner(args.python, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(args: argparse.Namespace, runner: Runner) -> tuple[list[Row], dict[str, Any]]:
    probe = runner.run("probe")
    wanted = set(args.only.split(",")) if args.only else None
    libraries: list[Library] = []
    skipped: dict[str, str] = {}
    for lib in LIBRARIES:
        entry = probe[lib.name]
        if wanted is not None and lib.name not in wanted:
            continue
        if entry["problem"]:
            skipped[lib.name] = entry["problem"]
            print(f"skip {lib.name}: {entry['problem']}", file=sys.stderr)
        else:
            libraries.append(lib)

    raw_records, source_names = read_corpus(args.sources)
    flat_raw = [text for fields in raw_records for text in fields]
    folded, opencc_version = convert(flat_raw, "t2s", runner)
    n_chars = sum(len(text) for text in folded)
    n_ideographs = sum(len(re.findall(f"[{_IDEOGRAPH}]", text)) for text in folded)
    gold = read_gold(args.gold)
    gold_texts = ["".join(words) for words in gold]
    trad_texts, _ = convert(gold_texts, "s2t", runner)
    meta: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": probe["python"],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "opencc": opencc_version,
        "sources": source_names,
        "records": len(raw_records),
        "fields": len(folded),
        "chars": n_chars,
        "ideographs": n_ideographs,
        "gold_lines": len(gold),
        "gold_words": sum(len(words) for words in gold),
        "repeats": args.repeats,
        "skipped": skipped,
        "versions": {lib.name: probe[lib.name]["version"] for lib in libraries},
    }
    print(f"corpus: {len(raw_records)} records, {len(folded)} fields, {n_chars} chars ({n_ideographs} ideographs); "
          f"gold: {len(gold)} lines", file=sys.stderr)

    rows = {config: Row(config, probe[lib.name]["version"]) for lib in libraries for config in config_names(lib)}
    failed: dict[str, str] = {}

    # Start-up and memory: one cold process per library (empty TMPDIR), then round-robin warm processes.
    startup: dict[str, list[dict[str, Any]]] = {lib.name: [] for lib in libraries}
    startup[BASELINE] = []
    cold: dict[str, float] = {}
    for lib in libraries:
        try:
            cold[lib.name] = runner.run("startup", config_names(lib)[-1])["startup_ms"]
        except (ChildError, subprocess.TimeoutExpired) as exc:
            failed[lib.name] = str(exc)
    for round_no in range(args.repeats):
        for name in [BASELINE] + [lib.name for lib in libraries if lib.name not in failed]:
            config = BASELINE if name == BASELINE else config_names(LIBRARY_BY_NAME[name])[-1]
            startup[name].append(runner.run("startup", config))
        print(f"start-up round {round_no + 1}/{args.repeats} done", file=sys.stderr)
    base_rss = _median([r["rss_kb"] for r in startup[BASELINE]])
    base_hwm = _median([r["hwm_kb"] for r in startup[BASELINE]])
    meta["baseline_rss_mb"] = base_rss / 1024

    corpus_data = {"texts": folded, "repeats": args.repeats}
    gold_vocabulary = sorted({word for words in gold for word in words if _is_scored(word)})
    gold_data = {"simplified": gold_texts, "traditional": trad_texts, "vocabulary": gold_vocabulary}
    for lib in libraries:
        for config in config_names(lib):
            row = rows[config]
            if lib.name in failed:
                row.error = failed[lib.name]
                continue
            runs = startup[lib.name]
            times = [r["startup_ms"] for r in runs]
            row.startup_ms = _median(times)
            row.startup_spread_ms = (min(times), max(times))
            row.cold_startup_ms = cold[lib.name]
            row.memory_mb = (_median([r["rss_kb"] for r in runs]) - base_rss) / 1024
            row.peak_mb = (_median([r["hwm_kb"] for r in runs]) - base_hwm) / 1024
            try:
                speed = runner.run("speed", config, corpus_data)
                seg = runner.run("segment", config, gold_data | {"query": [STARTUP_QUERY]})
            except (ChildError, subprocess.TimeoutExpired) as exc:
                row.error = str(exc)
                continue
            passes = speed["times_s"]
            row.chars_per_s = n_chars / _median(passes)
            row.speed_spread = (n_chars / max(passes), n_chars / min(passes))
            row.records_per_s = len(raw_records) / _median(passes)
            if speed["search_times_s"]:
                row.search_chars_per_s = n_chars / _median(speed["search_times_s"])
            if seg["search"] is not None:
                row.critical_search = critical_in_search(gold, seg["search"])
            row.quality = score(gold, gold_texts, seg["simplified"])
            same_length = [len(t) == len(s) for t, s in zip(trad_texts, gold_texts, strict=True)]
            row.quality_trad = score([g for g, ok in zip(gold, same_length, strict=True) if ok],
                                     [t for t, ok in zip(trad_texts, same_length, strict=True) if ok],
                                     [o for o, ok in zip(seg["traditional"], same_length, strict=True) if ok])
            row.query_words = seg["query"][0]
            row.findable = findable(gold, gold_texts, seg["simplified"],
                                    dict(zip(gold_vocabulary, seg["vocabulary"], strict=True)))
            print(f"{config}: done", file=sys.stderr)
    return list(rows.values()), meta


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def render(rows: list[Row], meta: dict[str, Any]) -> str:
    """The result as Markdown tables."""
    out = [
        f"Run {meta['date']} · Python {meta['python']} · {meta['cpu']} · {meta['cores']} cores (shared) · "
        f"OpenCC {meta['opencc']} t2s",
        f"Corpus: {meta['records']} records, {meta['fields']} fields, {meta['chars']:,} chars "
        f"({meta['ideographs']:,} ideographs) · gold: {meta['gold_lines']} lines, {meta['gold_words']} words · "
        f"medians of {meta['repeats']} · baseline process RSS {meta['baseline_rss_mb']:.1f} MB",
        "",
        "| segmenter | version | memory MB (peak) | start-up ms (min–max) | cold start ms | chars/s (min–max) "
        "| records/s | search-mode chars/s | P | R | F1 | F1 trad | critical words kept (search mode) "
        "| words findable |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.error or row.quality is None or row.quality_trad is None:
            out.append(f"| {row.config} | {row.version} | failed: {row.error} |" + " |" * 11)
            continue
        kept, total = row.quality.critical_kept
        search_speed = f"{row.search_chars_per_s:,.0f}" if row.search_chars_per_s else "–"
        search_kept = ""
        if row.critical_search:
            search_kept = f" ({sum(v[0] for v in row.critical_search.values())})"
        out.append(
            f"| {row.config} | {row.version} | {row.memory_mb:.0f} ({row.peak_mb:.0f}) "
            f"| {row.startup_ms:.0f} ({row.startup_spread_ms[0]:.0f}–{row.startup_spread_ms[1]:.0f}) "
            f"| {row.cold_startup_ms:.0f} "
            f"| {row.chars_per_s:,.0f} ({row.speed_spread[0]:,.0f}–{row.speed_spread[1]:,.0f}) "
            f"| {row.records_per_s:,.0f} | {search_speed} | {row.quality.precision:.3f} | {row.quality.recall:.3f} "
            f"| {row.quality.f1:.3f} | {row.quality_trad.f1:.3f} | {kept}/{total}{search_kept} "
            f"| {row.findable[0]}/{row.findable[1]} |"
        )
    out += ["", "Search-critical words kept whole (kept/occurrences as gold words; in brackets: found among the "
            "search-mode tokens):", "",
            "| segmenter | " + " | ".join(CRITICAL_WORDS) + f" | {STARTUP_QUERY} → |",
            "|---|" + "---|" * (len(CRITICAL_WORDS) + 1)]
    for row in rows:
        if row.quality is None:
            continue
        cells = [f"{row.quality.critical[w][0]}/{row.quality.critical[w][1]}"
                 + (f" ({row.critical_search[w][0]})" if row.critical_search else "") for w in CRITICAL_WORDS]
        out.append(f"| {row.config} | " + " | ".join(cells) + f" | {' / '.join(row.query_words)} |")
    if meta["skipped"]:
        out.append("")
    out += [f"skipped {name}: {problem}" for name, problem in meta["skipped"].items()]
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that has the candidate segmenters installed (default: this one)")
    parser.add_argument("--repeats", type=int, default=5, help="start-up processes and timed passes (default 5)")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="hand-segmented gold file")
    parser.add_argument("--sources", type=Path, nargs="+", default=list(DEFAULT_SOURCES), help="corpus CSV files")
    parser.add_argument("--only", help="comma-separated library names to measure (default: all installed)")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--config", default=BASELINE, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.config, args.input)
        return 0
    if shutil.which(args.python) is None and not Path(args.python).exists():
        print(f"no such interpreter: {args.python}", file=sys.stderr)
        return 2
    rows, meta = measure(args)
    if not rows:
        print("no candidate segmenter is installed in " + args.python, file=sys.stderr)
        for name, problem in meta["skipped"].items():
            print(f"  {name}: {problem}", file=sys.stderr)
        return 1
    print(render(rows, meta))
    if args.json:
        payload = {"meta": meta, "rows": [asdict(row) for row in rows]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
