"""Ingestion jobs: created by the API (files stored first, then queued), run by `rag worker`.

The queue is Huey: `SqliteHuey` on `<data dir>/queue.sqlite` by default (one machine), `RedisHuey` for several.
It carries only job ids; the job's state and per-file progress are rows of the store (`rag.store.jobs.JobStore`), so
a worker killed mid-job loses nothing: on restart (and every minute) workers re-queue jobs whose worker stopped
beating, and the job goes on from its first unfinished file. Files already stored are recognised by their
sha256 and key and skipped, and a file is stored in one transaction, so a re-run never duplicates a chunk.
"""

import logging
import os
import shutil
import socket
import threading
import uuid
from pathlib import Path

from ingest.jobs.protocol import JobQueue
from ingest.jobs.uploads import sweep, uploads_dir
from ingest.pipeline import Ingestor, Prepared
from ingest.results import FileResult
from rag.core.errors import BadInput, MissingExtra, NotFound, RagError
from rag.core.filesystems import refuse_network_sqlite
from rag.core.settings import Settings
from rag.core.types import Job
from rag.service.access import AllowedRoots
from rag.store.jobs import JobStore

log = logging.getLogger(__name__)
TASK = "rag.ingest_job"


def make_huey(settings: Settings):
    """The Huey instance for these settings (nothing connects until it is used)."""
    cfg = settings.jobs
    if cfg.queue == "redis":
        try:
            import redis  # noqa: F401 - huey imports it quietly and fails only at the first use without it
        except ImportError as exc:  # the redis client is optional
            raise MissingExtra("RAG_JOBS__QUEUE=redis needs the redis package: pip install 'grounded-rag[redis]'") from exc
        from huey import RedisHuey

        return RedisHuey("rag-jobs", url=cfg.redis_url, results=False)
    from huey import SqliteHuey

    path = Path(settings.data_dir) / "queue.sqlite"
    refuse_network_sqlite(path, "SQLite job queue")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("rag-jobs", filename=str(path), results=False)


def make_job_queue(settings: Settings, jobs: JobStore, services=None, metrics=None) -> JobQueue:
    """The job queue for these settings (Huey on SQLite or Redis); `services` only in a worker, which runs jobs."""
    return HueyJobQueue(settings, jobs, services, metrics)


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


class HueyJobQueue:
    """Create, queue, cancel and (in a worker) run ingestion jobs (the `JobQueue` protocol on Huey)."""

    def __init__(self, settings: Settings, jobs: JobStore, services=None, metrics=None):
        self.settings = settings
        self.jobs = jobs
        self.services = services  # only a worker has (and needs) the models
        self.metrics = metrics  # a worker's own WorkerMetrics, if it serves them
        self.huey = make_huey(settings)
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"
        self.task = self.huey.task(name=TASK, retries=0)(self._run_task)
        self.huey.periodic_task(_every_minute(), name="rag.recover_jobs")(self.recover)
        if settings.ingest.reindex_cron and services is not None:
            self.huey.periodic_task(cron(settings.ingest.reindex_cron), name="rag.reindex")(self.reindex)

    # ---- API side: record, then queue ----------------------------------------------------------
    def submit(self, job_id: str, collection: str, files: list[tuple[str, str, str | None]], key_id: str | None = None) -> Job:
        """Record a job over files already in place, then queue it (a queue that is down loses nothing:
        a worker starting later finds the queued job in the store)."""
        job = self.jobs.add(job_id, collection, files, key_id)
        try:
            self.task(job_id)
        except Exception:  # noqa: BLE001 - the job is recorded; `recover()` queues it when a worker starts
            log.exception("could not queue job %s; a worker will pick it up from the store", job_id)
        return job

    def cancel(self, job_id: str) -> Job:
        job = self.jobs.cancel(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.state == "cancelled":
            shutil.rmtree(uploads_dir(self.settings, job_id), ignore_errors=True)
        return job

    # ---- worker side ---------------------------------------------------------------------------
    def recover(self, startup: bool = False) -> list[str]:
        """Queue again every job that should be running and is not (queued, or its worker is dead or stopped
        beating). `startup`: no job of this process can be running yet (a restarted container reuses pids)."""
        self._alive_mark()
        self._release_orphans(startup)
        self.jobs.reap_cancelled(self.settings.jobs.stale_after_s)
        sweep(self.settings, self.jobs)
        ids = self.jobs.unfinished(self.settings.jobs.stale_after_s)
        for job_id in ids:
            self.task(job_id)
        if ids:
            log.info("re-queued %d unfinished jobs", len(ids))
        return ids

    def _alive_mark(self) -> None:
        """Touch `<data dir>/workers/<hostname>.alive` (what the container healthcheck reads)."""
        if self.services is None:
            return
        try:
            mark = Path(self.settings.data_dir) / "workers" / f"{socket.gethostname()}.alive"
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.touch()
        except OSError:
            log.warning("could not write the worker's alive mark")

    def reindex(self) -> None:
        """The scheduled re-index of `RAG_INGEST__SOURCES` (in a worker)."""
        from ingest.jobs.reindex import reindex

        if not self.settings.ingest.sources:
            log.warning("RAG_INGEST__REINDEX_CRON is set but RAG_INGEST__SOURCES is empty: nothing to re-index")
            return
        report = reindex(self.services, self.settings.ingest.sources)
        log.info("scheduled reindex: %s", report.as_dict()["counts"])

    def _release_orphans(self, startup: bool) -> None:
        """Running jobs of workers on this machine whose process is gone (killed, crashed) are free at once."""
        host = socket.gethostname()
        for job_id, worker in self.jobs.running():
            w_host, _, rest = worker.partition(":")
            pid = rest.split(":")[0]
            if w_host == host and pid.isdigit() and ((startup and int(pid) == os.getpid()) or not _alive(int(pid))):
                log.warning("job %s was left running by dead worker %s: taking it over", job_id, worker)
                self.jobs.release(job_id)

    def _run_task(self, job_id: str) -> None:
        run_job(
            self.services, self.jobs, job_id, f"{self.worker_name}:{threading.current_thread().name}", self.settings, self.metrics
        )

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def consumer(self, workers: int | None = None):
        cfg = self.settings.jobs
        return self.huey.create_consumer(
            workers=workers or cfg.workers,
            worker_type="thread",
            periodic=True,
            initial_delay=0.1,
            backoff=1.15,
            max_delay=cfg.poll_max_s,
        )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cron(expression: str):
    """A Huey schedule from a five-field cron expression (minute hour day-of-month month day-of-week)."""
    from huey import crontab

    fields = expression.split()
    if len(fields) != 5:
        raise BadInput(f"a cron expression has 5 fields (m h dom mon dow), got {expression!r}")
    return crontab(*fields)


def _every_minute():
    from huey import crontab

    return crontab(minute="*")


class _Heartbeat:
    """Beats for a running job every few seconds, so other workers know it is alive."""

    def __init__(self, jobs: JobStore, job_id: str, worker: str, every_s: float):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, args=(jobs, job_id, worker, every_s), daemon=True)

    def _beat(self, jobs, job_id, worker, every_s):
        while not self.stop.wait(every_s):
            try:
                jobs.beat(job_id, worker)
            except Exception:  # noqa: BLE001 - a missed beat only risks a takeover, which is harmless
                log.warning("heartbeat of job %s failed", job_id)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


def run_job(services, jobs: JobStore, job_id: str, worker: str, settings: Settings, metrics=None) -> str | None:
    """Run a job from its first unfinished file; returns its final state (None if another worker has it).
    `metrics`: a WorkerMetrics told about every file and the job's end."""
    cfg = settings.jobs
    if not jobs.claim(job_id, worker, cfg.stale_after_s):
        log.info("job %s is finished, cancelled or running elsewhere", job_id)
        return None
    job = jobs.require(job_id)
    todo = [(n, path, key) for n, path, key, status in jobs.paths(job_id) if status in ("queued", "running")]
    log.info("job %s: %d of %d files to ingest into %s", job_id, len(todo), job.total, job.collection)
    ingestor = Ingestor(services)
    roots = AllowedRoots(settings.ingest.allowed_roots)
    cancelled = False

    def stop() -> bool:
        return jobs.cancel_requested(job_id)

    def record(n: int, r) -> None:
        jobs.set_file(job_id, n, r.status, r.reason, r.pages, r.chunks, r.doc_id or None, r.seconds)
        if metrics is not None:
            metrics.file_done(r.status, r.pages, r.chunks, r.seconds)

    if metrics is not None:
        metrics.running.inc()
    try:
        with _Heartbeat(jobs, job_id, worker, max(1.0, cfg.stale_after_s / 6)):
            step = max(1, cfg.publish_every)
            for start in range(0, len(todo), step):
                # parse, chunk and embed without the write lock (other workers and deletes go on meanwhile) ...
                prepared = []
                for n, path, key in todo[start : start + step]:
                    if stop():
                        cancelled = True
                        break
                    jobs.set_file(job_id, n, "running")
                    refused = _refused_server_file(path, roots) if key is None else None
                    if refused is not None:
                        record(n, refused)
                        continue
                    r = ingestor.prepare_file(Path(path), job.collection, key=key, stop=stop)
                    if stop():  # asked while this file was parsed: it is not stored, and the job ends cancelled
                        cancelled = True
                        break
                    if isinstance(r, Prepared):
                        prepared.append((n, r))
                    else:
                        record(n, r)
                # ... then write the batch under the lock and publish it as one index version
                if prepared:
                    with services.kb.bulk():
                        for n, p in prepared:
                            record(n, ingestor.apply(p))
                if cancelled:
                    break
    except Exception as exc:  # noqa: BLE001 - recorded on the job; the worker goes on with the next one
        log.exception("job %s broke", job_id)
        jobs.finish(job_id, "failed", f"{type(exc).__name__}: {exc}")
        return _ended(metrics, "failed")
    final = jobs.require(job_id)
    if cancelled:
        state, error = "cancelled", None
    elif final.total and final.counts["failed"] == final.total:
        state, error = "failed", "every file failed"
    else:
        failed = final.counts["failed"]
        state, error = "done", (f"{failed} of {final.total} files failed" if failed else None)
    jobs.finish(job_id, state, error)
    shutil.rmtree(uploads_dir(settings, job_id), ignore_errors=True)  # stored as HTML and chunks now
    log.info("job %s %s", job_id, state)
    return _ended(metrics, state)


def _refused_server_file(path: str, roots: AllowedRoots) -> FileResult | None:
    """A server-side file checked again as the worker opens it (a link may have been swapped in since the API
    checked it): its failed result, or None when it may be read."""
    try:
        roots.check_open(path)
    except RagError as exc:
        log.warning("job file refused: %s", exc.message)
        return FileResult(path, "failed", exc.message)
    return None


def _ended(metrics, state: str) -> str:
    if metrics is not None:
        metrics.running.dec()
        metrics.job_done(state)
    return state
