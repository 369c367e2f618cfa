"""Benchmark image work in one run: the medium derivative against pyvips, first IIIF tiles, cached tiles.

Makes a 24-megapixel JPEG, times our derivative pipeline against pyvips.Image.thumbnail, then serves it with
`museum serve` and measures first-request tile latency and cached-tile throughput against a cached item page.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import http.client
import io
import json
import math
import os
import pstats
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

# The page benchmark next to this file: its server handling, load generator and machine facts are
# reused so that both benchmarks load the server the same way.
import pages
from pages import HOST, MUSEUM_MAIN, RunResult, Servers, free_port, run_loadgen

REPO_ROOT = pages.REPO_ROOT
# The derivative and profile parts import the museum in this process: use this checkout.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# bentheim.jpg (3000 × 2279, Jacob van Ruisdael, public domain) is the largest public-domain
# photograph or painting in the shared test images; see SOURCES.txt there.
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "images" / "bentheim.jpg"
TEST_MEGAPIXELS = 24.0
TEST_JPEG_QUALITY = 90
# Mirror of museum/images/derivatives.py _save(): the baseline must encode like our pipeline does.
JPEG_QUALITY = 85
WEBP_QUALITY = 80
WEBP_METHOD = 4
GUNICORN_WORKERS = pages.GUNICORN_WORKERS
COLLECTION = "bench-images"
ITEM_ID = "bench:bentheim-24mp"
IMAGE_NAME = "bentheim-24mp.jpg"
SEED = pages.SEED
DERIVATIVE_RATIO_TARGET = 1.5
FIRST_TILE_P50_TARGET_MS = 80.0
CACHED_TILE_RATIO_TARGET = 1.0
# A JPEG decodes at 1/1, 1/2, 1/4 or 1/8 scale (museum/images/iiif.py render()).
MAX_JPEG_REDUCTION = 8
PAGE_HEADERS = {"Accept-Language": "zh-CN", "Accept": "text/html", "User-Agent": "museum-benchmark"}
IMAGE_HEADERS = {"Accept-Language": "zh-CN", "Accept": "image/avif,image/webp,image/*,*/*;q=0.8",
                 "User-Agent": "museum-benchmark"}
VERDICT = {True: "PASS", False: "FAIL", None: "SKIPPED"}
T = TypeVar("T")


@dataclass(frozen=True)
class Tile:
    """One tile of the image's IIIF tile pyramid, as the site's viewer (static/js/viewer.js) asks for it."""

    scale: int
    col: int
    row: int
    region: str
    size: str
    out: tuple[int, int]
    # The JPEG decode scale the server picks for it (1 = full size); see decode_reduction().
    reduction: int

    def path(self, sha256: str, fmt: str) -> str:
        """Return the Image API URL path of this tile in fmt."""
        return f"/iiif/3/{sha256}/{self.region}/{self.size}/0/default.{fmt}"

    @property
    def finer_decode(self) -> bool:
        """Tell whether the server decodes this tile finer than the level's scale factor needs."""
        return self.reduction < min(self.scale, MAX_JPEG_REDUCTION)


@dataclass
class Timing:
    """Wall and CPU seconds of repeated runs of one case, with the output it made."""

    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    output_bytes: int = 0
    output_size: tuple[int, int] = (0, 0)

    @property
    def wall_ms(self) -> float:
        """Return the median wall time in milliseconds."""
        return statistics.median(self.wall) * 1000 if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        """Return the median CPU time (all threads of this process) in milliseconds."""
        return statistics.median(self.cpu) * 1000 if self.cpu else 0.0


@dataclass
class Fetch:
    """One HTTP request's outcome as the client saw it."""

    status: int
    size: int
    seconds: float
    content_type: str


# ----- the test image -------------------------------------------------------------------------


def make_test_image(source: Path, out: Path, megapixels: float) -> dict[str, Any]:
    """Upscale source with LANCZOS to about `megapixels` at the same aspect and save a baseline JPEG."""
    from PIL import Image

    began = time.perf_counter()
    with Image.open(source) as original:
        picture = original.convert("RGB")
    scale = math.sqrt(megapixels * 1_000_000 / (picture.width * picture.height))
    size = (round(picture.width * scale), round(picture.height * scale))
    big = picture.resize(size, Image.Resampling.LANCZOS)
    # Pillow's defaults otherwise: baseline (not progressive), 4:2:0 chroma, no metadata at all.
    big.save(out, "JPEG", quality=TEST_JPEG_QUALITY)
    return {"source": str(source), "source_size": list(picture.size), "size": list(size),
            "megapixels": size[0] * size[1] / 1e6, "bytes": out.stat().st_size,
            "quality": TEST_JPEG_QUALITY, "seconds": time.perf_counter() - began}


def describe_image(path: Path) -> dict[str, Any]:
    """Return the size and byte count of a JPEG given with --image."""
    from PIL import Image

    with Image.open(path) as image:
        size = image.size
        if image.format != "JPEG":
            raise SystemExit(f"{path}: --image must be a JPEG, not {image.format}")
    return {"source": str(path), "size": list(size), "megapixels": size[0] * size[1] / 1e6,
            "bytes": path.stat().st_size, "quality": None, "seconds": 0.0}


# ----- part 1: the medium derivative against pyvips ---------------------------------------------


def load_pyvips() -> Any | None:
    """Return the pyvips module ready for timing, or None (with a message) when it is not installed."""
    try:
        import pyvips  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except Exception as exc:  # noqa: BLE001 - a missing libvips shows up as OSError, ImportError or others
        print(f"pyvips is not available ({type(exc).__name__}: {exc}); skipping the pyvips baseline.\n"
              "Install it (not a project dependency) with: pip install pyvips pyvips-binary")
        return None
    # libvips caches operations by their arguments, so a second thumbnail of the same file would be
    # answered from memory; every timed run must do the whole job.
    pyvips.cache_set_max(0)
    return pyvips


def timed(run: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, float, T]:
    """Call run once; return its wall and process CPU seconds (all threads, as libvips uses them) and result."""
    cpu = time.process_time()
    began = time.perf_counter()
    result = run(*args, **kwargs)
    return time.perf_counter() - began, time.process_time() - cpu, result


def derivative_cases(image: Path, sha256: str, vips: Any | None) -> list[tuple[str, Callable[[Path], Path]]]:
    """Return (name, make(out_dir) -> output file) for every way of making the medium derivative."""
    from museum.images.derivatives import DERIVATIVE_SIZES, ensure_derivative

    edge = DERIVATIVE_SIZES["medium"]
    # Only called when pyvips is there; typed Any as pyvips has no type information.
    lib: Any = vips

    def ours(fmt: str) -> Callable[[Path], Path]:
        """Return what the site does on a request for a missing medium derivative."""
        return lambda out: ensure_derivative(image, out, sha256, "medium", fmt)

    def thumbnail(name: str, threads: int | None = None, **options: Any) -> Callable[[Path], Path]:
        """Return pyvips' thumbnail of the file, written with the given save options."""
        def make(out: Path) -> Path:
            """Make one thumbnail file in out."""
            target = out / name
            default = lib.concurrency_get()
            if threads is not None:
                lib.concurrency_set(threads)
            try:
                lib.Image.thumbnail(str(image), edge).write_to_file(str(target), **options)
            finally:
                lib.concurrency_set(default)
            return target
        return make

    cases: list[tuple[str, Callable[[Path], Path]]] = [("ours, JPEG", ours("jpeg"))]
    if vips is not None:
        cases += [
            ("pyvips, JPEG", thumbnail("m.jpg", Q=JPEG_QUALITY)),
            # Our JPEGs are progressive with optimised Huffman tables, which costs encoder time;
            # this variant asks libvips for the same, for a like-for-like encoder.
            ("pyvips, JPEG progressive+optimised", thumbnail("p.jpg", Q=JPEG_QUALITY, interlace=True,
                                                             optimize_coding=True)),
            # libvips runs a thread pool (2 threads here) where Pillow uses one core.
            ("pyvips, JPEG, 1 thread", thumbnail("t.jpg", threads=1, Q=JPEG_QUALITY)),
        ]
    cases.append(("ours, WebP", ours("webp")))
    if vips is not None:
        cases.append(("pyvips, WebP", thumbnail("m.webp", Q=WEBP_QUALITY, effort=WEBP_METHOD)))
    return cases


def bench_derivatives(image: Path, sha256: str, work: Path, repeats: int, vips: Any | None) -> dict[str, Any]:
    """Time every derivative case `repeats` times, interleaved, plus our pipeline's stages."""
    from PIL import Image

    cases = derivative_cases(image, sha256, vips)
    timings = {name: Timing(name) for name, _ in cases}
    counter = 0

    def fresh() -> Path:
        """Return a new empty output folder, so nothing is ever found already made."""
        nonlocal counter
        counter += 1
        out = work / f"derivative-{counter}"
        out.mkdir()
        return out

    # One unmeasured run of each: loads codecs and libraries and puts the original in the page cache.
    for _, make in cases:
        make(fresh())
    for repeat in range(repeats):
        # Rotate the order every round so no case always runs right after the same neighbour.
        shift = repeat % len(cases)
        for name, make in cases[shift:] + cases[:shift]:
            out = fresh()
            wall, cpu, made = timed(make, out)
            timing = timings[name]
            timing.wall.append(wall)
            timing.cpu.append(cpu)
            timing.output_bytes = made.stat().st_size
            with Image.open(made) as result:
                timing.output_size = result.size
            shutil.rmtree(out)
    stages = bench_stages(image, work, repeats)
    ingest = bench_make_derivatives(image, sha256, work, max(1, min(3, repeats)))
    scales = bench_decode_scales(image, max(1, min(3, repeats)))
    return {"cases": list(timings.values()), "stages": stages, "make_derivatives": ingest, "decode_scales": scales}


def cache_request(image: Path, reduction: int) -> int | None:
    """Return the needed_edge the decoded-image cache passes to open_for_display (iiif.py _DecodedCache.get())."""
    from PIL import Image

    with Image.open(image) as probe:
        longest = max(probe.size)
    return None if reduction == 1 else longest // reduction


def decoded_sizes(image: Path) -> dict[int, tuple[int, int]]:
    """Return the size the server's decode really has for each scale render() asks for (no pixels decoded)."""
    from PIL import Image

    from museum.images.ingest import _draft_for_edge

    sizes = {}
    reduction = 1
    while reduction <= MAX_JPEG_REDUCTION:
        with Image.open(image) as probe:
            needed = cache_request(image, reduction)
            if needed is not None:
                # The same draft request open_for_display makes; draft() only sets the decode scale.
                _draft_for_edge(probe, needed)
            sizes[reduction] = probe.size
        reduction *= 2
    return sizes


def bench_decode_scales(image: Path, repeats: int) -> dict[str, dict[str, Any]]:
    """Return the median ms and real size of open_for_display at each scale a tile can ask for (cold-tile cost)."""
    from museum.images.ingest import open_for_display

    result = {}
    for reduction, size in decoded_sizes(image).items():
        needed = cache_request(image, reduction)
        walls = [timed(open_for_display, image, needed_edge=needed)[0] for _ in range(repeats)]
        result[f"1/{reduction}"] = {"ms": statistics.median(walls) * 1000, "decoded": list(size)}
    return result


def bench_stages(image: Path, work: Path, repeats: int) -> dict[str, float]:
    """Return the median milliseconds of each stage of our medium JPEG (decode, resize, encode, write)."""
    from museum.images import derivatives
    from museum.images.ingest import open_for_display

    edge = derivatives.DERIVATIVE_SIZES["medium"]
    samples: dict[str, list[float]] = {}
    for repeat in range(repeats):
        timings: dict[str, float] = {}
        timings["decode (open_for_display, draft)"], _, display = timed(open_for_display, image, needed_edge=edge)
        # The private helpers are timed one by one so the stages add up to ensure_derivative().
        timings["resize (_fit, LANCZOS)"], _, fitted = timed(derivatives._fit, display, edge)
        timings["encode JPEG progressive+optimised (to memory)"] = timed(
            fitted.save, io.BytesIO(), "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)[0]
        timings["encode JPEG baseline (to memory, for comparison)"] = timed(
            fitted.save, io.BytesIO(), "JPEG", quality=JPEG_QUALITY)[0]
        target = work / f"stage-{repeat}" / "m.jpg"
        timings["encode + atomic write + fsync (_save)"] = timed(derivatives._save, fitted, target, "jpeg")[0]
        shutil.rmtree(target.parent)
        timings["encode WebP method 4 (to memory)"] = timed(
            fitted.save, io.BytesIO(), "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)[0]
        for name, seconds in timings.items():
            samples.setdefault(name, []).append(seconds)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def bench_make_derivatives(image: Path, sha256: str, work: Path, repeats: int) -> dict[str, Any]:
    """Time make_derivatives (all six renditions from one decode, as at ingest), for information."""
    from museum.images.derivatives import make_derivatives

    walls = []
    for repeat in range(repeats):
        out = work / f"ingest-{repeat}"
        walls.append(timed(make_derivatives, image, out, sha256)[0])
        shutil.rmtree(out)
    return {"renditions": 6, "repeats": repeats, "wall_ms": statistics.median(walls) * 1000}


# ----- the served image -------------------------------------------------------------------------


COLLECTION_TOML = """\
slug = "{slug}"
position = 1
institution = "bench"
cover = "{item}"

[title]
en = "Image benchmark"
zh-Hant = "圖像基準測試"
zh-Hans = "图像基准测试"

[[institutions]]
slug = "bench"
[institutions.name]
en = "Benchmark"
zh-Hant = "基準測試"
zh-Hans = "基准测试"
"""


def write_collection(folder: Path, image: Path) -> None:
    """Write a one-item collection folder whose published item shows the test image."""
    (folder / "images").mkdir(parents=True)
    shutil.copyfile(image, folder / "images" / IMAGE_NAME)
    (folder / "collection.toml").write_text(COLLECTION_TOML.format(slug=COLLECTION, item=ITEM_ID),
                                            encoding="utf-8")
    header = "id,title,title_alt,creator,date,object_type,status,image_filename,image_caption\r\n"
    row = (f"{ITEM_ID},本特海姆城堡（放大至二千四百万像素）,View of Bentheim Castle (upscaled to 24 MP),"
           "Jacob van Ruisdael,c. 1653,painting,published," + IMAGE_NAME + ",24 MP test JPEG\r\n")
    (folder / "items.csv").write_text(header + row, encoding="utf-8")


def import_folder(folder: Path, env: dict[str, str], log_dir: Path) -> dict[str, Any]:
    """Import the collection folder with `museum import` and return its summary and duration."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MUSEUM_MAIN, "import", str(folder)],
                          env=env, cwd=REPO_ROOT, capture_output=True, check=False)
    seconds = time.perf_counter() - began
    (log_dir / "import.log").write_bytes(done.stdout + done.stderr)
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        raise RuntimeError("import failed:\n" + (done.stdout + done.stderr).decode(errors="replace")[-3000:])
    return {"seconds": seconds, "summary": lines[-1] if lines else ""}


def decode_reduction(region: tuple[int, int, int, int], out: tuple[int, int]) -> int:
    """Return the JPEG decode scale the server picks for a region (mirror of iiif.render())."""
    factor = min(region[2] / out[0], region[3] / out[1])
    reduction = 1
    while reduction < MAX_JPEG_REDUCTION and reduction * 2 <= factor:
        reduction *= 2
    return reduction


def tile_pyramid(width: int, height: int) -> list[Tile]:
    """Return every tile of every scale factor in info.json, with the URL form of the site's viewer."""
    from museum.images import iiif

    tiles = []
    size = iiif.TILE_SIZE
    for scale in iiif.scale_factors(width, height):
        for col in range(-(-width // (size * scale))):
            for row in range(-(-height // (size * scale))):
                x, y = col * size * scale, row * size * scale
                w, h = min(size * scale, width - x), min(size * scale, height - y)
                region, size_text = f"{x},{y},{w},{h}", f"{math.ceil(w / scale)},"
                # The server's own parser gives the exact output size (its rounding, not ours).
                request = iiif.resolve_request(region, size_text, "0", "default", "jpg", width, height)
                tiles.append(Tile(scale, col, row, region, size_text, request.size,
                                  decode_reduction((x, y, w, h), request.size)))
    return tiles


def central_tile(tiles: list[Tile], scale: int, finer: bool = False) -> Tile:
    """Return the tile of a level nearest the image centre, among those with (or without) a finer decode."""
    level = [t for t in tiles if t.scale == scale and t.finer_decode == finer]
    if not level:
        raise RuntimeError(f"no {'finer-decoded' if finer else 'regular'} tile at scale factor {scale}")
    cols = max(t.col for t in tiles if t.scale == scale)
    rows = max(t.row for t in tiles if t.scale == scale)
    return min(level, key=lambda t: (abs(2 * t.col - cols) + abs(2 * t.row - rows), t.col, t.row))


# ----- HTTP ----------------------------------------------------------------------------------------


def fetch(port: int, path: str, headers: dict[str, str]) -> Fetch:
    """GET path on a new connection and return status, body size and the time to the last byte."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - began
        return Fetch(response.status, len(body), seconds, response.getheader("Content-Type", ""))
    finally:
        conn.close()


def fetch_together(port: int, paths: Sequence[str], headers: dict[str, str]) -> list[Fetch]:
    """GET the paths at the same time, one connection each (so sync workers take one each)."""
    results: list[Fetch | None] = [None] * len(paths)

    def one(index: int) -> None:
        """Fetch one path into its slot."""
        results[index] = fetch(port, paths[index], headers)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r if r is not None else Fetch(0, 0, 0.0, "") for r in results]


def expect_ok(results: Sequence[Fetch], what: str) -> None:
    """Fail loudly when a set-up request did not answer 200."""
    bad = [r.status for r in results if r.status != 200]
    if bad:
        raise RuntimeError(f"{what}: statuses {bad}")


def warm_app(port: int, sha256: str) -> None:
    """Let both workers serve pages and info.json, so first-use costs of the app are not timed."""
    item = "/items/" + quote(ITEM_ID, safe="/:")
    for _ in range(3):
        for path in ("/", item, f"/iiif/3/{sha256}/info.json", f"/collections/{COLLECTION}"):
            expect_ok(fetch_together(port, [path, path], PAGE_HEADERS), f"warm-up {path}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of values (0 when there are none)."""
    return pages._percentile(sorted(values), fraction)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    """Return count, p50, p95 and max of latencies in milliseconds."""
    return {"n": len(values_ms), "p50_ms": percentile(values_ms, 0.5), "p95_ms": percentile(values_ms, 0.95),
            "max_ms": max(values_ms, default=0.0)}


# ----- part 2: first-request tile latency ---------------------------------------------------------


class Museum:
    """The museum under gunicorn over one data directory, restartable for cold measurements."""

    def __init__(self, servers: Servers, env: dict[str, str], data_dir: Path) -> None:
        """Remember how to start the server."""
        self.servers = servers
        self.env = env
        self.data_dir = data_dir
        self.port = 0
        self.starts = 0

    def start(self) -> int:
        """Stop any running server, start a fresh one (new workers, empty memory caches) and wait for it."""
        self.servers.stop_all()
        self.port = free_port()
        self.starts += 1
        self.servers.start(f"museum-{self.starts}", [sys.executable, "-c", MUSEUM_MAIN, "serve", "--port",
                                                     str(self.port), "--workers", str(GUNICORN_WORKERS)],
                           self.env, REPO_ROOT)
        self.servers.wait_ready(f"museum-{self.starts}", self.port, "/")
        return self.port

    def forget_renditions(self) -> None:
        """Delete every rendered IIIF file, so the next request for any tile renders it."""
        shutil.rmtree(self.data_dir / "derivatives" / "iiif", ignore_errors=True)

    def tracebacks(self) -> list[str]:
        """Return the names of server logs that contain a traceback."""
        return [log.name for log in sorted(self.servers.log_dir.glob("museum-*.log"))
                if "Traceback" in log.read_text(errors="replace")]


def bench_cold(museum: Museum, sha256: str, tiles: list[Tile], repeats: int,
               sizes: dict[int, tuple[int, int]]) -> list[dict[str, Any]]:
    """Time the first tile in a fresh server, per level: the decode of the original is part of it."""
    factors = sorted({t.scale for t in tiles}, reverse=True)
    cases = [(f"{s}", central_tile(tiles, s)) for s in factors]
    finer = [t for t in tiles if t.finer_decode and t.reduction == 1]
    if finer:
        # An edge tile whose rounded size makes the server decode the full-size original.
        edge = central_tile(tiles, finer[0].scale, finer=True)
        cases.append((f"{edge.scale} (edge tile, decoded at 1/{edge.reduction})", edge))
    samples: dict[str, list[float]] = {label: [] for label, _ in cases}
    for repeat in range(repeats):
        for label, tile in cases:
            museum.forget_renditions()
            port = museum.start()
            warm_app(port, sha256)
            result = fetch(port, tile.path(sha256, "jpg"), IMAGE_HEADERS)
            expect_ok([result], f"cold tile {tile.path(sha256, 'jpg')}")
            samples[label].append(result.seconds * 1000)
            print(f"cold {repeat + 1}/{repeats} scale factor {label:36} decode 1/{tile.reduction}  "
                  f"{result.seconds * 1000:7.1f} ms  {result.size:,} bytes", flush=True)
    return [{"scale": label, "tile": tile.region + "/" + tile.size, "reduction": tile.reduction,
             "decoded": list(sizes[tile.reduction]), **latency_summary(samples[label]), "samples_ms": samples[label]}
            for label, tile in cases]


def warm_decodes(museum: Museum, sha256: str, tiles: list[Tile]) -> list[dict[str, Any]]:
    """Make both workers decode the original at every scale tiles need, with pairs of concurrent requests.

    A sync worker handles one request at a time, so of two requests sent together (each decoding for
    tens of milliseconds or more) each worker takes one.
    """
    log = []
    for reduction in sorted({t.reduction for t in tiles}, reverse=True):
        candidates = [t for t in tiles if t.reduction == reduction]
        for attempt in range(2):
            # Off the disk again, so the second pair must render too: fast only if both workers hold the decode.
            museum.forget_renditions()
            pair = [candidates[(2 * attempt + i) % len(candidates)] for i in range(2)]
            # As PNG, a format the timed rounds never ask for: no timed tile was served before.
            results = fetch_together(museum.port, [t.path(sha256, "png") for t in pair], IMAGE_HEADERS)
            expect_ok(results, f"decode warm-up at 1/{reduction}")
            log.append({"reduction": reduction, "attempt": attempt + 1,
                        "ms": [round(r.seconds * 1000, 1) for r in results]})
    return log


def bench_first_tiles(museum: Museum, sha256: str, tiles: list[Tile], formats: list[str],
                      rounds: int) -> dict[str, Any]:
    """Time first requests of every tile (not on disk) in every format, with warm workers, one at a time.

    Every round starts a fresh server (and warms its decodes again): the workers keep the tiles
    they served in their tile cache, so in the same server a second round would not be first
    requests.
    """
    samples: list[dict[str, Any]] = []
    warm_log: list[dict[str, Any]] = []
    for round_number in range(rounds):
        port = museum.start()
        warm_app(port, sha256)
        round_warm_log = warm_decodes(museum, sha256, tiles)
        warm_log.extend({**w, "round": round_number + 1} for w in round_warm_log)
        print(f"round {round_number + 1}: decode warm-up (ms per concurrent pair): "
              + "; ".join(f"1/{w['reduction']}#{w['attempt']} {w['ms']}" for w in round_warm_log), flush=True)
        museum.forget_renditions()
        order = [(fmt, tile) for fmt in formats for tile in tiles]
        random.Random(SEED + round_number).shuffle(order)
        for fmt, tile in order:
            answer = fetch(port, tile.path(sha256, fmt), IMAGE_HEADERS)
            expect_ok([answer], f"tile {tile.path(sha256, fmt)}")
            samples.append({"fmt": fmt, "scale": tile.scale, "finer_decode": tile.finer_decode,
                            "reduction": tile.reduction, "ms": answer.seconds * 1000, "bytes": answer.size})
        by_fmt = {fmt: [s["ms"] for s in samples[-len(order):] if s["fmt"] == fmt] for fmt in formats}
        print(f"first tiles round {round_number + 1}/{rounds}: "
              + ", ".join(f"{fmt} p50 {percentile(v, 0.5):.1f} ms p95 {percentile(v, 0.95):.1f} ms"
                          for fmt, v in by_fmt.items()), flush=True)
    result: dict[str, Any] = {"rounds": rounds, "tiles_per_round": len(tiles), "warm_up": warm_log,
                              "formats": {}}
    for fmt in formats:
        mine = [s for s in samples if s["fmt"] == fmt]
        levels = {str(scale): latency_summary([s["ms"] for s in mine if s["scale"] == scale])
                  for scale in sorted({t.scale for t in tiles})}
        for scale, summary in levels.items():
            summary["mean_bytes"] = statistics.mean(s["bytes"] for s in mine if str(s["scale"]) == scale)
        result["formats"][fmt] = {
            "overall": latency_summary([s["ms"] for s in mine]),
            "levels": levels,
            "regular_decode": latency_summary([s["ms"] for s in mine if not s["finer_decode"]]),
            "finer_decode": latency_summary([s["ms"] for s in mine if s["finer_decode"]]),
        }
    return result


# ----- part 3: cached tiles under load ------------------------------------------------------------


def bench_cached(museum: Museum, sha256: str, tiles: list[Tile], args: argparse.Namespace,
                 generator: str) -> dict[str, Any]:
    """Load one cached tile, a screenful of cached tiles and the cached item page, alternating per round."""
    port = museum.port
    one = central_tile(tiles, 1).path(sha256, "jpg")
    # What a viewer fetches opening the image and zooming in twice: the coarse levels whole, two finer tiles.
    coarse = [t for t in tiles if t.scale >= 4]
    screen = [t.path(sha256, "jpg") for t in coarse] + [central_tile(tiles, 2).path(sha256, "jpg"), one]
    item = "/items/" + quote(ITEM_ID, safe="/:")
    scenarios = [("tile, cached (1 URL)", [one], IMAGE_HEADERS),
                 (f"tiles, cached ({len(screen)} URLs)", screen, IMAGE_HEADERS),
                 ("item page, cached", [item], PAGE_HEADERS)]
    # Every URL must be on disk (tiles) or in the page cache before any timed run.
    for path in [*screen, item]:
        headers = PAGE_HEADERS if path == item else IMAGE_HEADERS
        expect_ok(fetch_together(port, [path, path], headers), f"cache warm-up {path}")
    runs: dict[str, list[RunResult]] = {name: [] for name, _, _ in scenarios}
    limit = args.duration * 4 + 120
    for repeat in range(args.repeats):
        # Alternate the order each round so tile and page runs share the machine's noise evenly.
        order = scenarios if repeat % 2 == 0 else scenarios[::-1]
        for name, paths, headers in order:
            spec = {"host": HOST, "port": port, "paths": paths, "distinct": False, "duration": args.duration,
                    "warmup": args.warmup, "headers": headers, "concurrency": args.concurrency,
                    "generator": generator}
            result = run_loadgen(spec, museum.servers.log_dir, limit)
            runs[name].append(result)
            print(f"load {repeat + 1}/{args.repeats} {name:24} {result.rate:8,.0f} req/s  p50 {result.p50_ms:6.1f} ms"
                  f"  p95 {result.p95_ms:6.1f} ms  {result.mean_bytes:8,.0f} B  errors {result.errors}", flush=True)
    item_runs = runs["item page, cached"]
    summaries = []
    for name, paths, _ in scenarios:
        done = runs[name]
        ratios = [r.rate / i.rate if i.rate else 0.0 for r, i in zip(done, item_runs, strict=True)]
        summaries.append({"name": name, "paths": paths, "rate": statistics.median(r.rate for r in done),
                          "p50_ms": statistics.median(r.p50_ms for r in done),
                          "p95_ms": statistics.median(r.p95_ms for r in done),
                          "mean_bytes": statistics.median(r.mean_bytes for r in done),
                          "ratio_to_item": statistics.median(ratios), "ratio_per_round": ratios,
                          "requests": sum(r.requests for r in done), "errors": sum(r.errors for r in done),
                          "loadgen_cpu": statistics.median(r.loadgen_cpu for r in done),
                          "runs": [asdict(r) for r in done]})
    return {"concurrency": args.concurrency, "duration": args.duration, "repeats": args.repeats,
            "generator": generator, "scenarios": summaries}


# ----- profiles (only with --profile) -------------------------------------------------------------


def top_costs(profile: cProfile.Profile, count: int, title: str) -> str:
    """Return the profile's top functions by own time and by cumulative time as text."""
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text).strip_dirs()
    text.write(f"\n=== profile: {title} ===\n")
    stats.sort_stats("tottime").print_stats(count)
    stats.sort_stats("cumulative").print_stats(count)
    return text.getvalue()


def run_profiles(image: Path, sha256: str, data_dir: Path, work: Path, tiles: list[Tile], count: int) -> str:
    """Profile, in this process, the medium derivative, warm first tiles and cached tile and page hits."""
    from museum import create_app
    from museum.images.derivatives import ensure_derivative

    report = []
    profile = cProfile.Profile()
    for repeat in range(5):
        out = work / f"profile-derivative-{repeat}"
        profile.runcall(ensure_derivative, image, out, sha256, "medium", "jpeg")
        shutil.rmtree(out)
    report.append(top_costs(profile, count, "ensure_derivative(medium, jpeg) x5"))

    app = create_app({"data_dir": str(data_dir), "import_default_exhibit": False})
    client = app.test_client()
    item = "/items/" + quote(ITEM_ID, safe="/:")

    def get(path: str, headers: dict[str, str]) -> None:
        """Request path in-process and insist on a 200."""
        response = client.get(path, headers=headers)
        response.close()
        if response.status_code != 200:
            raise RuntimeError(f"profile request {path}: {response.status_code}")

    # Tiles left on disk by the server would be sent without decoding: clear them before warming up.
    shutil.rmtree(data_dir / "derivatives" / "iiif", ignore_errors=True)
    for reduction in sorted({t.reduction for t in tiles}):
        get(next(t for t in tiles if t.reduction == reduction).path(sha256, "jpg"), IMAGE_HEADERS)
    shutil.rmtree(data_dir / "derivatives" / "iiif", ignore_errors=True)
    profile = cProfile.Profile()
    for tile in tiles:
        profile.runcall(get, tile.path(sha256, "jpg"), IMAGE_HEADERS)
    report.append(top_costs(profile, count, f"first requests of all {len(tiles)} JPEG tiles, decodes warm"))

    one = central_tile(tiles, 1).path(sha256, "jpg")
    hits = ((one, IMAGE_HEADERS, "cached tile"), (item, PAGE_HEADERS, "cached item page"))
    for path, headers, _ in hits:
        get(path, headers)
    # The profiler inflates code that makes many small calls, so time the hits without it first,
    # alternating the two in blocks so both see the same machine.
    plain: dict[str, list[float]] = {name: [] for _, _, name in hits}
    for _ in range(5):
        for path, headers, name in hits:
            began = time.perf_counter()
            for _ in range(400):
                get(path, headers)
            plain[name].append((time.perf_counter() - began) / 400 * 1000)
    report.append("\n=== in-process (Flask test client, no HTTP, no profiler), median of 5 × 400 ===\n"
                  + "".join(f"{name}: {statistics.median(ms):.3f} ms per request\n" for name, ms in plain.items()))
    for path, headers, name in hits:
        profile = cProfile.Profile()
        for _ in range(2000):
            profile.runcall(get, path, headers)
        report.append(top_costs(profile, count, f"{name} x2000 via the test client"))
    return "".join(report)


# ----- orchestration ---------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    """Return the page benchmark's machine facts plus the image libraries' versions."""
    from PIL import features

    facts = pages.machine_facts()
    for package in ("pillow", "pyvips", "pyvips-binary"):
        with contextlib.suppress(PackageNotFoundError):
            facts["versions"][package] = version(package)
    facts["versions"]["libjpeg-turbo (Pillow)"] = features.version("libjpeg_turbo")
    facts["versions"]["libwebp (Pillow)"] = features.version("webp")
    wrk = shutil.which("wrk")
    if wrk:
        done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        facts["versions"]["wrk"] = (done.stdout or done.stderr).split("[")[0].strip()
    return facts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", type=Path, default=None,
                        help="use this JPEG instead of making the 24 MP one from --source")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="picture to upscale to 24 MP")
    parser.add_argument("--derivative-repeats", type=int, default=9, help="timed runs per derivative case")
    parser.add_argument("--cold-repeats", type=int, default=3, help="fresh servers per cold tile level")
    parser.add_argument("--first-rounds", type=int, default=3,
                        help="rounds over every tile (renditions deleted before each)")
    parser.add_argument("--formats", default="jpg,webp", help="tile formats of the first-request rounds")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per timed load run")
    parser.add_argument("--repeats", type=int, default=5, help="load rounds (each runs every scenario)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections kept in flight under load")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each timed run")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk, the Python one of pages.py, or wrk when installed (default)")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: derivative,cold,first,load")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile each part in-process and print the top N functions")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser.parse_args(argv)


def print_report(report: dict[str, Any]) -> None:
    """Print every figure as Markdown tables and the verdicts on the three targets."""
    derivative = report.get("derivative")
    if derivative:
        cases: list[Timing] = derivative["cases"]
        base = {c.name: c for c in cases}
        print("\n## medium derivative (1024 px) from the 24 MP JPEG; "
              f"median of {len(cases[0].wall)} runs\n")
        print("| case | wall ms | CPU ms | × pyvips wall | output | bytes |")
        print("|---|---:|---:|---:|---|---:|")
        for case in cases:
            fmt = "WebP" if "WebP" in case.name else "JPEG"
            baseline = base.get(f"pyvips, {fmt}")
            ratio = f"{case.wall_ms / baseline.wall_ms:.2f}" if baseline and baseline.wall_ms else "-"
            print(f"| {case.name} | {case.wall_ms:.1f} | {case.cpu_ms:.1f} | {ratio} | "
                  f"{case.output_size[0]}×{case.output_size[1]} | {case.output_bytes:,} |")
        print("\nour medium JPEG, stage by stage (median ms):")
        for name, ms in derivative["stages"].items():
            print(f"  {name:52} {ms:7.1f}")
        ingest = derivative["make_derivatives"]
        print(f"  make_derivatives (all {ingest['renditions']} renditions, as at ingest): {ingest['wall_ms']:.0f} ms")
        print("open_for_display as the decoded-image cache calls it, per scale render() asks for (median ms): "
              + ", ".join(f"{scale} -> {row['decoded'][0]}×{row['decoded'][1]} {row['ms']:.0f} ms"
                          for scale, row in derivative["decode_scales"].items()))
    cold = report.get("cold")
    if cold:
        print("\n## first tile in a fresh server (cold decode), JPEG, one request\n")
        print("| scale factor | decode asked | really decoded | runs | p50 ms | max ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for row in cold:
            print(f"| {row['scale']} | 1/{row['reduction']} | {row['decoded'][0]}×{row['decoded'][1]} | {row['n']} | "
                  f"{row['p50_ms']:.1f} | {row['max_ms']:.1f} |")
    first = report.get("first")
    if first:
        print(f"\n## first requests of tiles not on disk, workers warm; {first['rounds']} rounds × "
              f"{first['tiles_per_round']} tiles per format, one at a time\n")
        print("| format | scale factor | n | p50 ms | p95 ms | max ms | mean bytes |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for fmt, data in first["formats"].items():
            for scale, row in data["levels"].items():
                print(f"| {fmt} | {scale} | {row['n']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                      f"{row['max_ms']:.1f} | {row['mean_bytes']:,.0f} |")
            for key, label in (("regular_decode", "tiles decoded at their level's scale"),
                               ("finer_decode", "edge tiles decoded finer"), ("overall", "**all levels**")):
                row = data[key]
                print(f"| {fmt} | {label} | {row['n']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                      f"{row['max_ms']:.1f} | |")
    load = report.get("load")
    if load:
        print(f"\n## cached under load: median of {load['repeats']} rounds × {load['duration']:g} s, "
              f"{load['generator']}, {load['concurrency']} connections\n")
        print("| scenario | req/s | p50 ms | p95 ms | bytes | × item page | requests | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for s in load["scenarios"]:
            print(f"| {s['name']} | {s['rate']:,.0f} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
                  f"{s['mean_bytes']:,.0f} | {s['ratio_to_item']:.3f} | {s['requests']:,} | {s['errors']} |")
    print("\n## targets\n")
    for target in report["targets"]:
        print(f"- {target['target']}: {target['figure']} -> {VERDICT[target['pass']]}")


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return each target with its figure and verdict (None when its part was skipped)."""
    targets = []
    derivative = report.get("derivative")
    cases = {c.name: c for c in derivative["cases"]} if derivative else {}
    if "pyvips, JPEG" in cases:
        ours, vips = cases["ours, JPEG"], cases["pyvips, JPEG"]
        ratio = ours.wall_ms / vips.wall_ms
        cpu_ratio = ours.cpu_ms / vips.cpu_ms
        matched = ours.wall_ms / cases["pyvips, JPEG progressive+optimised"].wall_ms
        webp = cases["ours, WebP"].wall_ms / cases["pyvips, WebP"].wall_ms
        # On a busy machine a one-thread pipeline waits for a core far longer than libvips' thread pool
        # does, so wall time then measures the neighbours; CPU time does not.
        starved = ours.wall_ms > 1.3 * ours.cpu_ms
        caution = f"; CAUTION: our wall time is {ours.wall_ms / ours.cpu_ms:.1f}× its CPU time, the machine was busy"
        targets.append({"target": f"medium JPEG within {DERIVATIVE_RATIO_TARGET}× of pyvips (wall time)",
                        "figure": f"{ratio:.2f}× ({ours.wall_ms:.1f} vs {vips.wall_ms:.1f} ms; CPU time "
                                  f"{cpu_ratio:.2f}×; {matched:.2f}× against a progressive optimised pyvips JPEG; "
                                  f"WebP {webp:.2f}×)" + (caution if starved else ""),
                        "value": ratio, "cpu_ratio": cpu_ratio, "starved": starved,
                        "pass": ratio <= DERIVATIVE_RATIO_TARGET})
    else:
        targets.append({"target": f"medium JPEG within {DERIVATIVE_RATIO_TARGET}× of pyvips",
                        "figure": "pyvips not installed or part skipped", "value": None, "pass": None})
    first = report.get("first")
    if first and "jpg" in first["formats"]:
        overall = first["formats"]["jpg"]["overall"]
        targets.append({"target": f"first tile p50 < {FIRST_TILE_P50_TARGET_MS:g} ms (JPEG, workers warm)",
                        "figure": f"{overall['p50_ms']:.1f} ms (p95 {overall['p95_ms']:.1f} ms, n={overall['n']})",
                        "value": overall["p50_ms"], "pass": overall["p50_ms"] < FIRST_TILE_P50_TARGET_MS})
    else:
        targets.append({"target": f"first tile p50 < {FIRST_TILE_P50_TARGET_MS:g} ms",
                        "figure": "part skipped", "value": None, "pass": None})
    load = report.get("load")
    if load:
        tile = load["scenarios"][0]
        targets.append({"target": f"cached tile ≥ {CACHED_TILE_RATIO_TARGET:g}× the cached item page's rate",
                        "figure": f"{tile['ratio_to_item']:.3f}× (rounds "
                                  f"{', '.join(f'{r:.2f}' for r in tile['ratio_per_round'])})",
                        "value": tile["ratio_to_item"],
                        "pass": tile["ratio_to_item"] >= CACHED_TILE_RATIO_TARGET and tile["errors"] == 0})
    else:
        targets.append({"target": f"cached tile ≥ {CACHED_TILE_RATIO_TARGET:g}× the cached item page",
                        "figure": "part skipped", "value": None, "pass": None})
    return targets


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Make the image, time derivatives, serve it, time tiles and load; return every figure."""
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = skip - {"derivative", "cold", "first", "load"}
    if unknown:
        raise SystemExit(f"--skip: unknown parts {sorted(unknown)}")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    if generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --generator python")
    facts = machine_facts()
    facts["load_generator"] = generator
    print(f"machine: {facts['cpu_count']} CPUs ({facts['cpus_usable']} usable), {facts['cpu_model']}, "
          f"Python {facts['python']}; commit {facts['commit']}; load average {facts['loadavg_start']}")
    print(f"versions: {facts['versions']}")
    report: dict[str, Any] = {"machine": facts, "settings": {k: str(v) for k, v in vars(args).items()}}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="museum-images-bench-")))
        if args.image:
            image = args.image.resolve()
            report["image"] = describe_image(image)
        else:
            image = tmp / IMAGE_NAME
            report["image"] = make_test_image(args.source, image, TEST_MEGAPIXELS)
        info = report["image"]
        print(f"test image: {info['size'][0]}×{info['size'][1]} = {info['megapixels']:.1f} MP, "
              f"{info['bytes']:,} bytes, from {info['source']}", flush=True)
        sha256 = hashlib.sha256(image.read_bytes()).hexdigest()
        work = tmp / "work"
        work.mkdir()
        if "derivative" not in skip:
            print("timing the medium derivative ...", flush=True)
            report["derivative"] = bench_derivatives(image, sha256, work, args.derivative_repeats, load_pyvips())

        servers = Servers(tmp)
        stack.callback(servers.stop_all)
        data_dir = tmp / "data"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
            MUSEUM_DATA_DIR=str(data_dir), MUSEUM_IMPORT_DEFAULT_EXHIBIT="0")
        tiles = tile_pyramid(*info["size"])
        sizes = decoded_sizes(image)
        info["decoded_sizes"] = {f"1/{r}": list(size) for r, size in sizes.items()}
        print("the server's decodes per scale render() asks for: "
              + ", ".join(f"1/{r} -> {w}×{h}" for r, (w, h) in sizes.items()), flush=True)
        needs_server = {"cold", "first", "load"} - skip
        if needs_server or args.profile:
            folder = tmp / "collections" / COLLECTION
            write_collection(folder, image)
            report["import"] = import_folder(folder, env, tmp)
            print(f"import: {report['import']['summary']} ({report['import']['seconds']:.1f} s)", flush=True)
        museum = Museum(servers, env, data_dir)
        if "cold" not in skip:
            report["cold"] = bench_cold(museum, sha256, tiles, args.cold_repeats, sizes)
        if "first" not in skip:
            report["first"] = bench_first_tiles(museum, sha256, tiles, formats, args.first_rounds)
        if "load" not in skip:
            if "first" in skip:
                port = museum.start()
                warm_app(port, sha256)
            report["load"] = bench_cached(museum, sha256, tiles, args, generator)
        report["server_logs_with_tracebacks"] = museum.tracebacks()
        servers.stop_all()
        if args.profile:
            report["profile"] = run_profiles(image, sha256, data_dir, work, tiles, args.profile)
    facts["loadavg_end"] = list(os.getloadavg())
    report["targets"] = judge(report)
    return report


def to_json(value: object) -> object:
    """Turn what json cannot write by itself into plain values (Timing keeps its medians)."""
    if isinstance(value, Timing):
        return asdict(value) | {"wall_ms": value.wall_ms, "cpu_ms": value.cpu_ms}
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print (and optionally save) its report."""
    args = parse_args(argv)
    # Ctrl-C and termination must reach the clean-up that stops the servers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, pages._raise_exit)
    signal.signal(signal.SIGHUP, pages._raise_exit)
    report = benchmark(args)
    print_report(report)
    if report.get("profile"):
        print(report["profile"])
    if report["server_logs_with_tracebacks"]:
        print(f"warning: server logs with tracebacks: {report['server_logs_with_tracebacks']}")
    print(f"load average at end {report['machine']['loadavg_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=to_json) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
