"""Parse processes for bulk ingestion (`rag ingest` on folders of many files).

The slow part of ingesting a file, parsing it into layout HTML and chunks (`Ingestor.build`), runs in a pool of
processes; each loads its models once and keeps to its share of the cores (`rag.core.threads`). The ingesting process
keeps the quick and the shared parts: hashing and the unchanged-file check against the store, embedding (batched
across documents) and the writes. Results come back in the order the files were given, at most `window` files
ahead of the one being written, so memory stays bounded and the report reads like a serial run.
"""

import logging
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ingest.results import FileResult
from rag.core.errors import RagError
from rag.core.orphans import process_pool
from rag.core.settings import Settings
from rag.core.threads import limit_threads, share, with_threads

log = logging.getLogger(__name__)

_parser = None  # in a parse process: its Ingestor, built once by `_start`


def _start(settings: Settings, threads: int, make_parser) -> None:
    """Set up a parse process: thread limits first (before the libraries load), then its own parser, built by
    `make_parser(settings)` (a module-level function, so it reaches the process by name)."""
    global _parser
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the ingesting process, which stops the pool
    limit_threads(threads)
    _parser = make_parser(with_threads(settings, threads))


def _build(todo):
    return _parser.build(todo)


class ParsePool:
    """`processes` parse processes with `threads` inference threads each (default: the setting, else their share
    of the cores). A context manager: leaving it stops the processes, dropping files not started yet."""

    def __init__(self, settings: Settings, processes: int, make_parser, threads: int = 0, window: int = 0):
        self.settings = settings
        self.make_parser = make_parser
        self.processes = max(1, processes)
        self.threads = threads or settings.parse.threads or share(self.processes)
        self.window = window or 8 * self.processes
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "ParsePool":
        self._pool = self._new_pool()
        return self

    def __exit__(self, *exc) -> None:
        self._started().shutdown(wait=True, cancel_futures=True)

    def _started(self) -> ProcessPoolExecutor:
        """The running pool (there is one only inside the `with` block)."""
        if self._pool is None:
            raise RagError("the parse pool is used outside its `with` block")
        return self._pool

    def _new_pool(self) -> ProcessPoolExecutor:
        return process_pool(self.processes, _start, (self.settings, self.threads, self.make_parser))

    def build_all(self, items: Iterable) -> Iterator:
        """Each item in order: a `FileResult` (nothing to parse) as it is; a `ToParse` built in a parse process,
        as the `Prepared` (or failed `FileResult`) that `Ingestor.build` returns."""
        queue: deque = deque()
        for item in items:
            queue.append(item if isinstance(item, FileResult) else self._submit(item))
            while queue and (len(queue) >= self.window or _done(queue[0])):
                yield self._result(queue.popleft())
        while queue:
            yield self._result(queue.popleft())

    def _submit(self, item) -> tuple:
        """(item, its future, the pool it runs in): a file sent to a parse process."""
        pool = self._started()
        return item, pool.submit(_build, item), pool

    def _result(self, entry):
        if isinstance(entry, FileResult):
            return entry
        todo, future, pool = entry
        try:
            return future.result()
        except BrokenProcessPool:
            if pool is self._pool:  # the first file to find it broken starts a new pool for the rest
                log.error("a parse process died; starting new ones")
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            reason = "its parse process died (killed, or out of memory) while it or another file was being parsed"
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back: reported per file
            reason = f"{type(exc).__name__}: {exc}"
        log.warning("ingest failed: %s: %s", todo.path, reason)
        return FileResult(str(todo.path), "failed", reason, seconds=time.perf_counter() - todo.t0)


def _done(entry) -> bool:
    return not isinstance(entry, tuple) or entry[1].done()
