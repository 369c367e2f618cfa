"""Writing a whole index generation fast: a term-grouped posting pool and parallel segments.

Owns full rebuilds' write path. Whoosh's own writer keeps one tuple per posting and sorts all of
them at commit (spilling sorted runs to disk and merging them back once its pool is full), and
looks up a document's field length once per posting while writing; together that was most of a
rebuild's time at 100k items. Here:

- a rebuild adds documents in increasing document-number order, so the postings of each term
  already arrive sorted: `TermGroupedPool` groups them by (field, term) as they come and sorts
  only the distinct terms;
- field lengths are read once per document and field, not once per posting;
- the documents are split between worker processes, each writing its own segment, and one table
  of contents lists them all (no merge: searches read every segment anyway).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.writing import SegmentWriter

# (fieldname, term bytes, docnum, weight, value bytes), as Whoosh's field writer expects them.
Posting = tuple[str, bytes, int, float, Any]
Document = dict[str, Any]
# How long the parent waits for a worker's finished segment after the last batch.
WORKER_FINISH_TIMEOUT_S = 3600.0


class TermGroupedPool:
    """Collects postings by (field, term) for a writer whose document numbers only grow.

    Stands in for `whoosh.writing.PostingPool` (`add`, `iter_postings`, `cleanup`,
    `fieldnames`). It refuses postings that go back in document order, which a writer merging
    existing segments into itself would send.
    """

    def __init__(self) -> None:
        # Each value is a flat list: docnum, weight, value, docnum, weight, value, ...
        # (three list slots per posting instead of a tuple object each).
        self._postings: dict[tuple[str, bytes], list[Any]] = {}
        self.fieldnames: set[str] = set()
        self._last_docnum = -1

    def add(self, item: Posting) -> None:
        """Add one posting; document numbers must never decrease between calls."""
        fieldname, tbytes, docnum, weight, vbytes = item
        if docnum != self._last_docnum:
            if docnum < self._last_docnum:
                raise ValueError(f"posting for document {docnum} after document {self._last_docnum}")
            self._last_docnum = docnum
        key = (fieldname, tbytes)
        flat = self._postings.get(key)
        if flat is None:
            self._postings[key] = flat = []
            self.fieldnames.add(fieldname)
        flat.extend((docnum, weight, vbytes))

    def posting_count(self) -> int:
        """Return how many postings the pool holds."""
        return sum(len(flat) for flat in self._postings.values()) // 3

    def iter_postings(self) -> Iterator[Posting]:
        """Yield every posting sorted by field, term and document, releasing memory as it goes."""
        postings = self._postings
        for key in sorted(postings):
            fieldname, tbytes = key
            flat = postings.pop(key)
            for i in range(0, len(flat), 3):
                yield fieldname, tbytes, flat[i], flat[i + 1], flat[i + 2]

    def cleanup(self) -> None:
        """Drop whatever is left (a cancelled writer)."""
        self._postings.clear()


class _FieldLengths:
    """Every document's field lengths of a just-written segment, read once per field."""

    def __init__(self, per_doc_reader: Any, doc_count: int) -> None:
        self._reader = per_doc_reader
        self._doc_count = doc_count
        self._by_field: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        """Return the length of fieldname in document docnum, as Whoosh's reader would."""
        lengths = self._by_field.get(fieldname)
        if lengths is None:
            read = self._reader.doc_field_length
            lengths = [read(d, fieldname, default) for d in range(self._doc_count)]
            self._by_field[fieldname] = lengths
        return lengths[docnum]


class BulkSegmentWriter(SegmentWriter):  # type: ignore[misc]
    """A Whoosh segment writer for documents added in order into a segment of their own."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool = TermGroupedPool()

    def _flush_segment(self) -> None:
        """Write the postings (Whoosh's own flush, with field lengths read once per field)."""
        self.perdocwriter.close()
        per_doc = self.per_document_reader() if self.codec.length_stats else None
        lengths = _FieldLengths(per_doc, self.docnum - self.docbase) if per_doc is not None else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if per_doc is not None:
            per_doc.close()


def index_workers() -> int:
    """Return how many processes a rebuild writes with: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def write_documents(index_dir: Path, batches: Iterable[list[Document]], workers: int) -> int:
    """Write every document into the empty index at index_dir and commit; return the count.

    With more than one worker, batches go round-robin to worker processes that each write one
    segment, and a single table of contents lists their segments.
    """
    ix = whoosh_index.open_dir(str(index_dir))
    if workers <= 1:
        writer = BulkSegmentWriter(ix)
        count = 0
        try:
            for batch in batches:
                for doc in batch:
                    writer.add_document(**doc)
                count += len(batch)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        return count
    return _write_in_parallel(ix, index_dir, batches, workers)


def _write_in_parallel(ix: Any, index_dir: Path, batches: Iterable[list[Document]], workers: int) -> int:
    """Farm batches out to worker processes and commit the segments they return."""
    with contextlib.ExitStack() as stack:
        children = [stack.enter_context(_SegmentChild(index_dir, n)) for n in range(workers)]
        count = 0
        for n, batch in enumerate(batches):
            children[n % workers].send(batch)
            count += len(batch)
        segments = [segment for child in children if (segment := child.finish()) is not None]
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
    return count


class _SegmentChild:
    """One worker process writing a segment, fed pickled batches over its stdin by a thread.

    A separate interpreter (`python -m museum.search.bulk_writer`), not multiprocessing: that
    would re-run the parent's main script in the child, and the parent may be a web worker with
    open database connections and threads that a fork would copy.
    """

    def __init__(self, index_dir: Path, number: int) -> None:
        # Closed in __exit__; a file rather than a pipe, so a chatty child can never block.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        # Our own module, run by this interpreter: no outside input reaches the command line.
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "museum.search.bulk_writer", str(index_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=_child_environment())
        # A short queue: the parent prepares the next batches while the child indexes this one.
        self._outbox: queue.Queue[list[Document] | None] = queue.Queue(maxsize=2)
        self._feeder = threading.Thread(target=self._feed, name=f"museum-index-feed-{number}", daemon=True)
        self._feed_error: BaseException | None = None
        self._feeder.start()

    def __enter__(self) -> _SegmentChild:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._process.wait()
        self._stderr.close()

    def _feed(self) -> None:
        """Write queued batches to the child's stdin until the end marker."""
        stdin = self._process.stdin
        if stdin is None:
            raise RuntimeError("index worker started without stdin")
        try:
            while True:
                batch = self._outbox.get()
                pickle.dump(batch, stdin, protocol=pickle.HIGHEST_PROTOCOL)
                if batch is None:
                    break
            stdin.close()
        except (BrokenPipeError, OSError) as error:
            self._feed_error = error

    def send(self, batch: list[Document]) -> None:
        """Queue a batch for the child, failing instead of hanging if the child has stopped."""
        while True:
            if self._feed_error is not None or self._process.poll() is not None:
                raise RuntimeError(f"an index worker stopped: {self._error_text()}")
            try:
                self._outbox.put(batch, timeout=1.0)
                return
            except queue.Full:
                continue

    def finish(self) -> Segment | None:
        """Tell the child there is no more and return the segment it wrote (None if empty)."""
        self._outbox.put(None)
        self._feeder.join()
        if self._process.stdout is None:
            raise RuntimeError("index worker started without stdout")
        reply = self._process.stdout.read()
        if self._process.wait(timeout=WORKER_FINISH_TIMEOUT_S) != 0 or not reply:
            raise RuntimeError(f"an index worker failed: {self._error_text()}")
        # The bytes come from the child this process started, over a private pipe.
        segment: Segment | None = pickle.loads(reply)  # noqa: S301
        return segment

    def _error_text(self) -> str:
        """Return the end of what the child wrote to stderr."""
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self._process.poll()}"


def _child_environment() -> dict[str, str]:
    """Return the environment of a worker: this one, with this museum package importable.

    A checkout run without installing (the benchmarks do) has the package only on the
    parent's sys.path.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    inherited = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, inherited) if p)}


def _child_main(index_dir: str) -> None:
    """In a worker process: write the batches read from stdin into one new segment, pickle it to stdout."""
    reply = os.fdopen(os.dup(1), "wb")
    # Anything a library prints goes to stderr, never into the reply.
    os.dup2(2, 1)
    ix = whoosh_index.open_dir(index_dir)
    # No lock: the parent holds the rebuild lock, and each worker writes a segment of its own.
    writer = BulkSegmentWriter(ix, _lk=False)
    added = False
    # The batches come from the parent that started this process, over a private pipe.
    while (batch := pickle.load(sys.stdin.buffer)) is not None:  # noqa: S301
        for doc in batch:
            writer.add_document(**doc)
            added = True
    if added:
        segment = writer._finalize_segment()
    else:
        writer._close_segment()
        segment = None
    pickle.dump(segment, reply, protocol=pickle.HIGHEST_PROTOCOL)
    reply.close()


if __name__ == "__main__":
    _child_main(sys.argv[1])
