"""Benchmark the public pages under gunicorn side by side with a Flask hello-world, in one run.

Owns the page benchmark: import the bench CSV into a temporary data directory, serve the museum and
benchmarks/hello_app.py with the same gunicorn settings, load both on 127.0.0.1 from a second
process (wrk, or the Python generator below), and print requests/s, p50/p95 latency, the ratios
to hello-world and the two targets.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, quote_plus

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "bench" / "cmoa_artworks_all.csv"
HOST = "127.0.0.1"
# The `museum` console script, spelled so it runs this checkout whether or not it is installed.
MUSEUM_MAIN = "from museum.cli import main; main(prog_name='museum')"
# Mirror of museum/serving.py run_gunicorn(): the hello-world baseline must be served the same way.
GUNICORN_WORKERS = 2
GUNICORN_FLAGS = ["--worker-class", "sync", "--timeout", "60", "--access-logfile", "-"]
# Settings.page_size default: items per collection page, used to list the collection pages.
PAGE_SIZE = 24
# Seed of every shuffle, so two runs request the same pages in the same order.
SEED = 20261129
CACHED_RATIO_TARGET = 0.5
UNCACHED_P50_TARGET_MS = 20.0
# Common title words that make poor search terms (Whoosh drops most of them anyway).
STOP_WORDS = {"with", "from", "that", "this", "untitled", "their", "into", "after"}


@dataclass
class PathPool:
    """Paths that are each requested once, shared by the scenarios that draw from them."""

    paths: list[str]
    used: int = 0

    def left(self) -> list[str]:
        """Return the paths nobody has requested yet."""
        return self.paths[self.used:]


@dataclass
class Scenario:
    """One kind of request: which server, which paths (a fixed list, or a pool used once each)."""

    name: str
    server: str
    paths: list[str] | PathPool
    warmup: float = 0.0
    # None means the --concurrency of the run.
    concurrency: int | None = None


@dataclass
class RunResult:
    """The measurements of one timed run of one scenario."""

    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p95_ms: float
    statuses: dict[str, int]
    errors: int
    mean_bytes: float
    loadgen_cpu: float
    exhausted: bool


@dataclass
class Summary:
    """The median of a scenario's runs and its ratio to the hello-world rate."""

    name: str
    concurrency: int
    rate: float
    p50_ms: float
    p95_ms: float
    ratio_to_hello: float
    requests: int
    errors: int
    loadgen_cpu: float
    exhausted: bool
    runs: list[RunResult] = field(default_factory=list)


# ----- the load generator (runs in its own process) ----------------------------------------


def _fetch(address: tuple[str, int], payload: bytes) -> tuple[int, int]:
    """Send one request on a fresh connection and return its status (0 on failure) and size."""
    head = b""
    size = 0
    try:
        # A plain connect to the numeric address skips getaddrinfo, which would cost the
        # generator more CPU per request than the hello-world server spends.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(address)
            sock.sendall(payload)
            while chunk := sock.recv(65536):
                if len(head) < 12:
                    head += chunk[:12]
                size += len(chunk)
    except OSError:
        return 0, size
    if head.startswith(b"HTTP/1.") and head[9:12].isdigit():
        return int(head[9:12]), size
    return 0, size


def _drive(spec: dict[str, Any], duration: float) -> dict[str, Any]:
    """Keep `concurrency` requests in flight for `duration` seconds and collect what happened."""
    address = (str(spec["host"]), int(spec["port"]))
    headers = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    payloads = [
        f"GET {path} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n{headers}"
        "Connection: close\r\n\r\n".encode("latin-1")
        for path in spec["paths"]
    ]
    distinct = bool(spec["distinct"])
    concurrency = int(spec["concurrency"])
    shared = iter(range(len(payloads)))
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: list[Counter[int]] = [Counter() for _ in range(concurrency)]
    sizes = [0] * concurrency
    exhausted = threading.Event()
    start = time.perf_counter()
    deadline = start + duration

    def worker(slot: int) -> None:
        """Issue requests back to back until the deadline (or the distinct paths run out)."""
        turn = slot
        while time.perf_counter() < deadline:
            if distinct:
                with lock:
                    index = next(shared, None)
                if index is None:
                    exhausted.set()
                    return
            else:
                index = turn % len(payloads)
                turn += concurrency
            began = time.perf_counter()
            status, size = _fetch(address, payloads[index])
            latencies[slot].append(time.perf_counter() - began)
            statuses[slot][status] += 1
            sizes[slot] += size

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    merged = sorted(value for values in latencies for value in values)
    status_total: Counter[int] = Counter()
    for counter in statuses:
        status_total.update(counter)
    return {"latencies": merged, "statuses": dict(status_total), "bytes": sum(sizes),
            "seconds": elapsed, "cpu": cpu, "exhausted": exhausted.is_set()}


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of an ascending sequence (0 when it is empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then measure one scenario run and return rate, latencies and statuses."""
    if spec["warmup"] > 0 and not spec["distinct"]:
        _drive(spec, float(spec["warmup"]))
    raw = _drive(spec, float(spec["duration"]))
    count = len(raw["latencies"])
    errors = sum(n for status, n in raw["statuses"].items() if status != 200)
    return asdict(RunResult(
        requests=count,
        seconds=raw["seconds"],
        rate=count / raw["seconds"] if raw["seconds"] else 0.0,
        p50_ms=_percentile(raw["latencies"], 0.50) * 1000,
        p95_ms=_percentile(raw["latencies"], 0.95) * 1000,
        statuses={str(k): v for k, v in sorted(raw["statuses"].items())},
        errors=errors,
        mean_bytes=raw["bytes"] / count if count else 0.0,
        loadgen_cpu=raw["cpu"] / raw["seconds"] if raw["seconds"] else 0.0,
        exhausted=raw["exhausted"],
    ))


def loadgen_main() -> None:
    """Read a scenario spec as JSON on stdin, load the server, and write the result on stdout."""
    spec = json.load(sys.stdin)
    json.dump(run_load(spec), sys.stdout)


# ----- servers ------------------------------------------------------------------------------


class Servers:
    """Start servers in their own process groups and kill every group on the way out."""

    def __init__(self, log_dir: Path) -> None:
        """Remember where server logs go."""
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        """Start one server in a new session so the whole group can be signalled."""
        log = (self.log_dir / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def log_tail(self, name: str, lines: int = 30) -> str:
        """Return the last lines of a server's log."""
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, name: str, port: int, path: str, timeout: float = 180.0) -> None:
        """Poll the server until `path` answers 200, or fail with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} server exited:\n{self.log_tail(name)}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                try:
                    conn.request("GET", path)
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"{name} server not ready after {timeout:.0f} s:\n{self.log_tail(name)}")

    def stop_all(self) -> None:
        """Terminate every server's process group, killing any that linger."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            # Workers may outlive a master that died first; the group id is the master's pid.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    """Turn a termination signal into SystemExit so cleanup code runs."""
    raise SystemExit(128 + signum)


# ----- data ---------------------------------------------------------------------------------


def read_records(path: Path, limit: int | None) -> list[dict[str, str]]:
    """Return the CSV's records (at most `limit`), as the importer will read them."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        records = []
        for row in reader:
            if limit is not None and len(records) >= limit:
                break
            records.append(row)
    return records


def write_subset(records: list[dict[str, str]], path: Path) -> None:
    """Write records back out as a CSV with the same columns."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(records[0].keys()))
        writer.writeheader()
        writer.writerows(records)


def slugify(text: str) -> str:
    """Return the URL slug the importer derives from a collection name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def shuffled(values: Iterator[str] | list[str]) -> list[str]:
    """Return the values in a fixed pseudo-random order."""
    result = list(values)
    random.Random(SEED).shuffle(result)
    return result


def discover_collections(port: int, headers: dict[str, str]) -> set[str]:
    """Return the collection slugs the running museum links from /collections."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", "/collections", headers=headers)
        body = conn.getresponse().read().decode("utf-8", errors="replace")
    finally:
        conn.close()
    return set(re.findall(r'href="/collections/([a-z0-9-]+)"', body))


def build_scenarios(records: list[dict[str, str]], slugs: set[str]) -> tuple[list[Scenario],
                                                                             list[str]]:
    """Return the timed scenarios and the warm-up paths (never reused by uncached scenarios)."""
    ids = shuffled(r["id"] for r in records if r.get("title", "").strip() and r.get("id"))
    item_paths = ["/items/" + quote(item_id, safe="/:") for item_id in ids]
    counts = Counter(slugify(r.get("collection", "")) for r in records)
    sizes = {slug: n for slug, n in counts.items() if slug in slugs}
    if not sizes or len(item_paths) < 20:
        raise RuntimeError("too few items or collections to benchmark; import more rows")
    biggest = max(sizes, key=lambda slug: sizes[slug])
    # Every page after the first (those warm up), in each of the three sort orders.
    pages = [f"/collections/{slug}?page={page}{sort}"
             for slug, n in sorted(sizes.items()) for page in range(2, -(-n // PAGE_SIZE) + 1)
             for sort in ("", "&sort=date", "&sort=-date")]
    cached_collection = f"/collections/{biggest}?page=2" if sizes[biggest] > PAGE_SIZE \
        else f"/collections/{biggest}"
    pages = shuffled(p for p in pages if p != cached_collection)
    words = Counter(w for r in records for w in re.findall(r"[a-z]{4,}", r.get("title", "").lower())
                    if w not in STOP_WORDS)
    common = [w for w, _ in words.most_common()]
    searches = ["/search?q=" + quote_plus(w) for w in shuffled(common[3:])]
    warm = (item_paths[1:9] + [f"/collections/{slug}" for slug in sorted(sizes)]
            + ["/search?q=" + quote_plus(w) for w in common[1:3]] + ["/", "/collections"])
    items = PathPool(item_paths[9:])
    scenarios = [
        Scenario("hello-world", "hello", ["/"]),
        Scenario("item, cached", "museum", [item_paths[0]], warmup=0.5),
        Scenario("item, uncached", "museum", items),
        Scenario("item, uncached, 1 conn", "museum", items, concurrency=1),
        Scenario("collection, cached", "museum", [cached_collection], warmup=0.5),
        Scenario("collection, uncached", "museum", PathPool(pages)),
        Scenario("search, cached", "museum", ["/search?q=" + quote_plus(common[0])], warmup=0.5),
        Scenario("search, uncached", "museum", PathPool(searches)),
    ]
    return scenarios, warm


# ----- orchestration ------------------------------------------------------------------------


# wrk script: one thread walks the path list (once each when distinct, else round and round),
# counts statuses and prints one JSON line at the end. Paths file and flags are filled in.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  paths = {}
  for line in io.lines(%(paths)s) do paths[#paths + 1] = line end
  distinct = %(distinct)s
  headers = %(headers)s
  statuses = {}
  exhausted = 0
  turn = 0
end
function request()
  turn = turn + 1
  if turn > #paths then
    if distinct then exhausted = 1; turn = #paths; wrk.thread:stop() else turn = 1 end
  end
  return wrk.format("GET", paths[turn], headers)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local parts, exhausted = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do
      parts[#parts + 1] = string.format('"%%d": %%d', k, v)
    end
    exhausted = math.max(exhausted, t:get("exhausted"))
  end
  local e = summary.errors
  io.write(string.format('WRK-RESULT {"requests": %%d, "us": %%d, "bytes": %%d, "p50_us": %%f, '
    .. '"p95_us": %%f, "socket_errors": %%d, "exhausted": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), e.connect + e.read + e.write + e.timeout, exhausted,
    table.concat(parts, ", ")))
end
"""


def _lua_string(text: str) -> str:
    """Return ASCII text as a Lua string literal (JSON's escapes for it are Lua's too)."""
    return json.dumps(text)


def _wrk(spec: dict[str, Any], duration: float, workdir: Path, timeout: float) -> RunResult:
    """Run wrk once (one thread, `concurrency` connections) and return its measurements."""
    paths_file = workdir / "wrk-paths.txt"
    paths_file.write_text("\n".join(spec["paths"]) + "\n")
    headers = dict(spec["headers"], Connection="close")
    script = workdir / "wrk-script.lua"
    script.write_text(WRK_SCRIPT % {
        "paths": _lua_string(str(paths_file)),
        "distinct": "true" if spec["distinct"] else "false",
        "headers": "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}"
                                   for k, v in headers.items()) + "}",
    })
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["wrk", "--threads", "1", "--connections", str(spec["concurrency"]),
                           "--duration", f"{max(1, math.ceil(duration))}s", "--timeout", "30s",
                           "--script", str(script), f"http://{spec['host']}:{spec['port']}/"],
                          capture_output=True, timeout=timeout, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in done.stdout.decode(errors="replace").splitlines()
                 if x.startswith("WRK-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed:\n{(done.stdout + done.stderr).decode(errors='replace')}")
    raw = json.loads(line.removeprefix("WRK-RESULT "))
    seconds = raw["us"] / 1e6
    count = raw["requests"]
    statuses = {k: int(v) for k, v in sorted(raw["statuses"].items())}
    if raw["socket_errors"]:
        statuses["socket error"] = raw["socket_errors"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return RunResult(
        requests=count, seconds=seconds, rate=count / seconds if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, statuses=statuses,
        errors=sum(n for status, n in statuses.items() if status != "200"),
        mean_bytes=raw["bytes"] / count if count else 0.0,
        loadgen_cpu=cpu / seconds if seconds else 0.0, exhausted=bool(raw["exhausted"]))


def run_loadgen(spec: dict[str, Any], workdir: Path, timeout: float) -> RunResult:
    """Run the load generator (wrk, or this file with --loadgen) in a second process."""
    if spec["generator"] == "wrk":
        if spec["warmup"] > 0 and not spec["distinct"]:
            _wrk(spec, spec["warmup"], workdir, timeout)
        return _wrk(spec, spec["duration"], workdir, timeout)
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--loadgen"],
                          input=json.dumps(spec).encode(), capture_output=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr.decode(errors='replace')}")
    return RunResult(**json.loads(done.stdout))


def machine_facts() -> dict[str, Any]:
    """Return what a reader needs to compare these figures with another machine's."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("flask", "gunicorn", "werkzeug", "sqlalchemy", "flask-caching"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "commit": commit,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "loadavg_start": list(os.getloadavg()),
    }


def import_csv(csv_path: Path, env: dict[str, str], log_dir: Path) -> dict[str, Any]:
    """Import the CSV with `museum import` and return rows, seconds and rows per second."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MUSEUM_MAIN, "import", str(csv_path)],
                          env=env, cwd=REPO_ROOT, capture_output=True, check=False)
    seconds = time.perf_counter() - began
    (log_dir / "import.log").write_bytes(done.stdout + done.stderr)
    summary = done.stdout.decode(errors="replace").strip().splitlines()
    match = re.search(r"(\d+) rows: (\d+) created", summary[-1] if summary else "")
    if done.returncode != 0 or match is None:
        raise RuntimeError("import failed:\n" + (done.stdout + done.stderr).decode(errors="replace")
                           [-3000:])
    rows = int(match.group(1))
    return {"rows": rows, "created": int(match.group(2)), "seconds": seconds,
            "rows_per_s": rows / seconds, "summary": summary[-1]}


def summarise(scenarios: list[Scenario], runs: dict[str, list[RunResult]],
              concurrency: int) -> list[Summary]:
    """Return the median rate and latencies of every scenario and their ratio to hello-world.

    The ratio is the median of per-run ratios: each run is divided by the hello-world run of
    the same round, a few seconds earlier, so both saw the same neighbours on the machine.
    """
    hello = runs["hello-world"]
    result = []
    for scenario in scenarios:
        done = runs[scenario.name]
        ratios = [r.rate / h.rate if h.rate else 0.0 for r, h in zip(done, hello, strict=True)]
        result.append(Summary(
            name=scenario.name, concurrency=scenario.concurrency or concurrency,
            rate=statistics.median(r.rate for r in done),
            p50_ms=statistics.median(r.p50_ms for r in done),
            p95_ms=statistics.median(r.p95_ms for r in done),
            ratio_to_hello=statistics.median(ratios), exhausted=any(r.exhausted for r in done),
            requests=sum(r.requests for r in done), errors=sum(r.errors for r in done),
            loadgen_cpu=statistics.median(r.loadgen_cpu for r in done), runs=done))
    return result


def print_table(summaries: list[Summary]) -> None:
    """Print the medians as a Markdown table."""
    print("| scenario | conns | req/s | p50 ms | p95 ms | × hello rate | requests | errors "
          "| loadgen CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summaries:
        print(f"| {s.name} | {s.concurrency} | {s.rate:,.0f} | {s.p50_ms:.1f} | {s.p95_ms:.1f} | "
              f"{s.ratio_to_hello:.3f} | {s.requests:,} | {s.errors} | {s.loadgen_cpu:.0%} |")
    for s in summaries:
        if s.exhausted:
            print(f"note: {s.name} ran out of distinct paths in some run, so it has fewer "
                  "samples (and with wrk its rate is a lower bound); import more rows")


def check_targets(summaries: list[Summary]) -> dict[str, Any]:
    """Judge the two targets and return the verdicts with their figures."""
    by_name = {s.name: s for s in summaries}
    cached, uncached = by_name["item, cached"], by_name["item, uncached"]
    single = by_name["item, uncached, 1 conn"]
    hello_runs = by_name["hello-world"].runs
    per_run = [c.rate / h.rate for c, h in zip(cached.runs, hello_runs, strict=True) if h.rate]
    return {
        "cached_item_ratio": cached.ratio_to_hello,
        "cached_item_ratio_per_run": per_run,
        "cached_item_ratio_target": CACHED_RATIO_TARGET,
        "cached_item_pass": cached.ratio_to_hello >= CACHED_RATIO_TARGET and cached.errors == 0,
        "uncached_item_p50_ms": uncached.p50_ms,
        "uncached_item_p50_target_ms": UNCACHED_P50_TARGET_MS,
        "uncached_item_pass": uncached.p50_ms < UNCACHED_P50_TARGET_MS and uncached.errors == 0,
        "uncached_item_p50_ms_1_conn": single.p50_ms,
        "uncached_item_1_conn_pass": single.p50_ms < UNCACHED_P50_TARGET_MS and single.errors == 0,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="CSV to import")
    parser.add_argument("--rows", type=int, default=None, help="import only the first N records")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="connections kept in flight")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per server")
    parser.add_argument("--lang", default="zh-CN", help="Accept-Language of every request")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk (lighter, so the baseline is not starved of "
                             "CPU), the built-in Python one, or wrk when installed (default)")
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Import, serve, load and measure; return every figure of the run."""
    facts = machine_facts()
    print(f"machine: {facts['cpu_count']} CPUs ({facts['cpus_usable']} usable), "
          f"{facts['cpu_model']}, Python {facts['python']}, {facts['platform']}")
    print(f"commit {facts['commit']}; versions: {facts['versions']}; "
          f"load average {facts['loadavg_start']}")
    headers = {"Accept-Language": args.lang, "Accept": "text/html",
               "User-Agent": "museum-benchmark"}
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    if generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --generator python")
    if generator == "wrk" and args.duration != math.ceil(args.duration):
        print(f"note: wrk runs whole seconds; --duration {args.duration:g} becomes "
              f"{math.ceil(args.duration)} s")
    print(f"load generator: {generator}, {args.concurrency} connections, "
          f"Accept-Language {args.lang}")
    facts["load_generator"] = generator
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="museum-bench-")))
        servers = Servers(tmp)
        stack.callback(servers.stop_all)
        records = read_records(args.csv, args.rows)
        csv_path = args.csv
        if args.rows is not None:
            csv_path = tmp / "subset.csv"
            write_subset(records, csv_path)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
            MUSEUM_DATA_DIR=str(tmp / "data"), MUSEUM_IMPORT_DEFAULT_EXHIBIT="0")
        print(f"importing {len(records):,} records from {args.csv} ...", flush=True)
        imported = import_csv(csv_path, env, tmp)
        print(f"import: {imported['summary']}\n        {imported['seconds']:.1f} s, "
              f"{imported['rows_per_s']:,.0f} rows/s", flush=True)

        ports = {"hello": free_port(), "museum": free_port()}
        servers.start("hello", [sys.executable, "-m", "gunicorn", "--workers",
                                str(GUNICORN_WORKERS), *GUNICORN_FLAGS,
                                "--bind", f"{HOST}:{ports['hello']}", "hello_app:app"],
                      env, REPO_ROOT / "benchmarks")
        servers.start("museum", [sys.executable, "-c", MUSEUM_MAIN, "serve", "--port",
                                 str(ports["museum"]), "--workers", str(GUNICORN_WORKERS)],
                      env, REPO_ROOT)
        servers.wait_ready("hello", ports["hello"], "/")
        servers.wait_ready("museum", ports["museum"], "/")
        scenarios, warm = build_scenarios(records, discover_collections(ports["museum"], headers))

        def spec(server: str, paths: list[str], distinct: bool, duration: float,
                 warmup: float, concurrency: int | None = None) -> dict[str, Any]:
            """Return a load generator spec."""
            return {"host": HOST, "port": ports[server], "paths": paths, "distinct": distinct,
                    "duration": duration, "warmup": warmup, "headers": headers,
                    "concurrency": concurrency or args.concurrency, "generator": generator}

        limit = args.duration * 4 + 120
        print(f"warming up each server for {args.warmup:.1f} s ...", flush=True)
        run_loadgen(spec("hello", ["/"], False, args.warmup, 0.0), tmp, limit)
        run_loadgen(spec("museum", warm, False, args.warmup, 0.0), tmp, limit)

        runs: dict[str, list[RunResult]] = {s.name: [] for s in scenarios}
        for repeat in range(1, args.repeats + 1):
            for scenario in scenarios:
                pool = scenario.paths if isinstance(scenario.paths, PathPool) else None
                paths = pool.left() if pool else list(scenario.paths)
                if not paths:
                    raise RuntimeError(f"{scenario.name}: every distinct path is used up; "
                                       "import more rows or shorten --duration")
                result = run_loadgen(spec(scenario.server, paths, pool is not None,
                                          args.duration, scenario.warmup, scenario.concurrency),
                                     tmp, limit)
                if pool:
                    # Every request the generator started was answered, so exactly these are used.
                    pool.used += result.requests
                runs[scenario.name].append(result)
                note = " (paths exhausted)" if result.exhausted else ""
                print(f"run {repeat}/{args.repeats} {scenario.name:22} {result.rate:8,.0f} req/s"
                      f"  p50 {result.p50_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms"
                      f"  errors {result.errors}{note}", flush=True)
        for name in ("museum", "hello"):
            log = (tmp / f"{name}.log").read_text(errors="replace")
            if "Traceback" in log:
                print(f"warning: the {name} server logged tracebacks:\n{servers.log_tail(name)}")

    summaries = summarise(scenarios, runs, args.concurrency)
    targets = check_targets(summaries)
    facts["loadavg_end"] = list(os.getloadavg())
    print(f"\nmedian of {args.repeats} runs of {args.duration:g} s ({generator}), "
          f"gunicorn {GUNICORN_WORKERS} sync workers, Accept-Language {args.lang}; "
          "× hello = median of each run's rate / the same round's hello-world rate:\n")
    print_table(summaries)
    verdict = {True: "PASS", False: "FAIL"}
    print(f"\ncached item rate / hello-world rate = {targets['cached_item_ratio']:.3f} "
          f"(per run {', '.join(f'{r:.3f}' for r in targets['cached_item_ratio_per_run'])}); "
          f"target >= {CACHED_RATIO_TARGET}: {verdict[targets['cached_item_pass']]}")
    print(f"uncached item p50 = {targets['uncached_item_p50_ms']:.1f} ms with "
          f"{args.concurrency} connections; target < {UNCACHED_P50_TARGET_MS:g} ms: "
          f"{verdict[targets['uncached_item_pass']]} (one connection at a time: "
          f"{targets['uncached_item_p50_ms_1_conn']:.1f} ms, "
          f"{verdict[targets['uncached_item_1_conn_pass']]})")
    print(f"import: {imported['rows']:,} rows in {imported['seconds']:.1f} s = "
          f"{imported['rows_per_s']:,.0f} rows/s; load average at end {facts['loadavg_end']}")
    return {"machine": facts, "settings": {k: str(v) for k, v in vars(args).items()},
            "import": imported, "scenarios": [asdict(s) for s in summaries], "targets": targets}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with --loadgen, be the load generator process)."""
    args = parse_args(argv)
    if args.loadgen:
        loadgen_main()
        return 0
    # Ctrl-C must reach the cleanup even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    report = benchmark(args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
