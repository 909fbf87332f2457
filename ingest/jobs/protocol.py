"""Job queue seam: what the API and `rag worker` need of a queue of ingestion jobs.

One backend today, Huey (`ingest.jobs.queue.HueyJobQueue`) on SQLite or Redis storage, chosen by
`RAG_JOBS__QUEUE`. The queue carries job ids only; a job's state and its files' progress live in the store
(`rag.store.jobs.JobStore`), so a backend only has to deliver ids at least once and run the periodic recovery.
"""

from typing import Protocol

from rag.core.types import Job
from rag.store.jobs import JobStore


class Consumer(Protocol):
    def run(self) -> None: ...

    def stop(self, graceful: bool = False) -> None: ...


class JobQueue(Protocol):
    jobs: JobStore  # the jobs' state and their files' progress
    worker_name: str  # what this process's worker records on the jobs it claims ("host:pid")
    metrics: object | None  # a worker's own metrics (WorkerMetrics) when it serves them

    def submit(self, job_id: str, collection: str, files: list[tuple[str, str, str | None]], key_id: str | None = None) -> Job:
        """Record a job over files already in place, then queue it."""
        ...

    def cancel(self, job_id: str) -> Job: ...

    def recover(self, startup: bool = False) -> list[str]:
        """Queue again every job that should be running and is not; the ids queued."""
        ...

    def pending(self) -> int:
        """Jobs queued and not yet taken by a worker."""
        ...

    def consumer(self, workers: int | None = None) -> Consumer:
        """The worker loop: runs queued jobs (and the periodic recovery and re-index) until stopped."""
        ...
