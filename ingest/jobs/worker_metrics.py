"""A worker's own Prometheus metrics (`rag worker --metrics-port`), served by prometheus_client's HTTP server.

What this worker process did and is doing: jobs ended by state, files by outcome, pages and chunks written, the time
each file took, jobs running now, its thread budget, and the queue's waiting tasks. What the store holds (documents,
chunks, jobs by state, everything ever ingested by any process) is on the API's `/metrics`.
"""

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


class WorkerMetrics:
    """Counters of one worker process, in a registry of its own."""

    def __init__(self, pending=None, threads: int = 0):
        """`pending()`: tasks waiting in the queue (read at scrape time); `threads`: the inference thread budget."""
        r = self.registry = CollectorRegistry()
        self.jobs = Counter("rag_worker_jobs", "Jobs this worker ended, by final state", ["state"], registry=r)
        self.files = Counter("rag_worker_files", "Files this worker handled, by outcome", ["status"], registry=r)
        self.pages = Counter("rag_worker_pages", "Pages this worker ingested", registry=r)
        self.chunks = Counter("rag_worker_chunks", "Chunks this worker wrote", registry=r)
        self.file_seconds = Histogram(
            "rag_worker_file_seconds",
            "Time to ingest one file (parse, embed, write)",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.running = Gauge("rag_worker_jobs_running", "Jobs running in this worker now", registry=r)
        Gauge("rag_worker_inference_threads", "Inference threads of this worker (0: every core)", registry=r).set(threads)
        if pending is not None:
            Gauge("rag_worker_queue_pending", "Tasks waiting in the job queue (for every worker)", registry=r).set_function(
                lambda: _safe(pending)
            )

    def file_done(self, status: str, pages: int = 0, chunks: int = 0, seconds: float = 0.0) -> None:
        self.files.labels(status).inc()
        if status == "ok":
            self.pages.inc(pages)
            self.chunks.inc(chunks)
        if status != "cancelled":
            self.file_seconds.observe(seconds)

    def job_done(self, state: str) -> None:
        self.jobs.labels(state).inc()

    def serve(self, port: int, host: str = "127.0.0.1"):
        """Serve `/metrics` (the Prometheus text format) on host:port from a daemon thread."""
        return start_http_server(port, addr=host, registry=self.registry)


def _safe(read) -> float:
    try:
        return float(read())
    except Exception:  # noqa: BLE001 - a scrape must not fail because the queue is unreachable
        log.warning("metrics: could not read the queue length")
        return float("nan")
