"""Ingestion jobs as rows of the store (SQLite or PostgreSQL): the job, its files with per-file progress, and who runs it.

The task queue (Huey) only carries job ids; the state lives here, so it survives a dead worker or queue.
A worker *claims* a job (queued, or running under a worker that stopped beating) in one UPDATE, beats while it
works, records each file as it finishes, and ends the job. A cancel is a flag the worker reads between files.
"""

import time

from rag.core.errors import NotFound
from rag.core.types import Job, JobFile
from rag.store.database import in_list, utc_now
from rag.store.protocol import Store

TERMINAL = ("done", "failed", "cancelled")
STATES = ("queued", "running", *TERMINAL)


class JobStore:
    """Jobs and their files in the store's database. Every change is one transaction; the claim is one UPDATE
    whose WHERE is checked again under the row's lock (PostgreSQL) or the write lock (SQLite), so of two workers
    claiming a job at once exactly one gets it."""

    def __init__(self, store: Store):
        self.store = store
        self.sql = store.sql

    def add(self, job_id: str, collection: str, files: list[tuple[str, str, str | None]], key_id: str | None = None) -> Job:
        """A queued job over `files`: (name shown, path to read, identity key or None for the path)."""
        with self.sql.write() as db:
            db.execute(
                "INSERT INTO jobs(id,collection,state,key_id,created_at) VALUES (?,?,?,?,?)",
                (job_id, collection, "queued", key_id, utc_now()),
            )
            db.executemany(
                "INSERT INTO job_files(job_id,n,name,path,key) VALUES (?,?,?,?,?)",
                [(job_id, n, name, path, key) for n, (name, path, key) in enumerate(files)],
            )
        return self.require(job_id)

    def require(self, job_id: str) -> Job:
        """A job known to exist (just added, listed or claimed: job rows are never deleted)."""
        job = self.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job

    def get(self, job_id: str) -> Job | None:
        row = self.sql.one("SELECT * FROM jobs WHERE id=?", (job_id,))
        if row is None:
            return None
        files = [
            JobFile(
                n=f["n"],
                name=f["name"],
                status=f["status"],
                reason=f["reason"],
                pages=f["pages"],
                chunks=f["chunks"],
                doc_id=f["doc_id"],
                seconds=round(f["seconds"], 2),
            )
            for f in self.sql.all("SELECT * FROM job_files WHERE job_id=? ORDER BY n", (job_id,))
        ]
        counts = {s: sum(f.status == s for f in files) for s in ("queued", "running", "ok", "skipped", "failed", "cancelled")}
        return Job(
            id=row["id"],
            collection=row["collection"],
            state=row["state"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            error=row["error"],
            cancel_requested=bool(row["cancel"]),
            total=len(files),
            done=counts["ok"] + counts["skipped"] + counts["failed"],
            counts=counts,
            files=files,
        )

    def paths(self, job_id: str) -> list[tuple[int, str, str | None, str]]:
        """(n, path, key, status) of every file of a job."""
        return [
            (r["n"], r["path"], r["key"], r["status"])
            for r in self.sql.all("SELECT n, path, key, status FROM job_files WHERE job_id=? ORDER BY n", (job_id,))
        ]

    def recent(self, collections: list[str] | None = None, limit: int = 100) -> list[Job]:
        where, args = in_list("collection", collections) if collections is not None else ("1=1", [])
        rows = self.sql.all(f"SELECT id FROM jobs WHERE {where} ORDER BY created_at DESC, id LIMIT ?", [*args, limit])
        return [self.require(r[0]) for r in rows]

    def claim(self, job_id: str, worker: str, stale_s: float) -> bool:
        """Take a queued job, or a running one whose worker stopped beating `stale_s` ago. True if it is ours."""
        now = time.time()
        with self.sql.write() as db:
            cur = db.execute(
                "UPDATE jobs SET state='running', worker=?, heartbeat=?, started_at=COALESCE(started_at, ?)"
                " WHERE id=? AND cancel=0 AND (state='queued' OR (state='running' AND"
                " (heartbeat IS NULL OR heartbeat<?)))",
                (worker, now, utc_now(), job_id, now - stale_s),
            )
            return cur.rowcount == 1

    def beat(self, job_id: str, worker: str) -> None:
        with self.sql.write() as db:
            db.execute("UPDATE jobs SET heartbeat=? WHERE id=? AND worker=?", (time.time(), job_id, worker))

    def set_file(
        self,
        job_id: str,
        n: int,
        status: str,
        reason: str = "",
        pages: int = 0,
        chunks: int = 0,
        doc_id: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        with self.sql.write() as db:
            db.execute(
                "UPDATE job_files SET status=?, reason=?, pages=?, chunks=?, doc_id=?, seconds=? WHERE job_id=? AND n=?",
                (status, reason, pages, chunks, doc_id, seconds, job_id, n),
            )

    def cancel_requested(self, job_id: str) -> bool:
        row = self.sql.one("SELECT cancel FROM jobs WHERE id=?", (job_id,))
        return bool(row and row[0])

    def finish(self, job_id: str, state: str, error: str | None = None) -> None:
        """End a job; files not finished are marked cancelled."""
        with self.sql.write() as db:
            db.execute(
                "UPDATE jobs SET state=?, error=?, finished_at=?, heartbeat=NULL WHERE id=?", (state, error, utc_now(), job_id)
            )
            db.execute("UPDATE job_files SET status='cancelled' WHERE job_id=? AND status IN ('queued','running')", (job_id,))

    def cancel(self, job_id: str) -> Job | None:
        """A queued job is cancelled at once; a running one when its worker reaches the next file."""
        with self.sql.write() as db:
            db.execute("UPDATE jobs SET cancel=1 WHERE id=? AND state IN ('queued','running')", (job_id,))
            queued = db.execute(
                "UPDATE jobs SET state='cancelled', finished_at=? WHERE id=? AND state='queued'", (utc_now(), job_id)
            ).rowcount
            if queued:
                db.execute("UPDATE job_files SET status='cancelled' WHERE job_id=? AND status='queued'", (job_id,))
        return self.get(job_id)

    def unfinished(self, stale_s: float) -> list[str]:
        """Jobs a worker should (re)start: queued ones, and running ones whose worker stopped beating."""
        rows = self.sql.all(
            "SELECT id FROM jobs WHERE cancel=0 AND (state='queued' OR (state='running' AND"
            " (heartbeat IS NULL OR heartbeat<?))) ORDER BY created_at",
            (time.time() - stale_s,),
        )
        return [r[0] for r in rows]

    def running(self) -> list[tuple[str, str]]:
        """(job id, worker) of every running job."""
        return [(r[0], r[1] or "") for r in self.sql.all("SELECT id, worker FROM jobs WHERE state='running'")]

    def release(self, job_id: str) -> None:
        """Forget a running job's heartbeat (its worker is known dead), so any worker may take it over now."""
        with self.sql.write() as db:
            db.execute("UPDATE jobs SET heartbeat=NULL WHERE id=? AND state='running'", (job_id,))

    def reap_cancelled(self, stale_s: float) -> int:
        """Jobs whose cancel was asked while running and whose worker then died: cancelled now."""
        with self.sql.write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM jobs WHERE cancel=1 AND state='running' AND (heartbeat IS NULL OR heartbeat<?)",
                    (time.time() - stale_s,),
                ).fetchall()
            ]
        for job_id in ids:
            self.finish(job_id, "cancelled")
        return len(ids)

    def by_state(self) -> dict[str, int]:
        counts = {r[0]: r[1] for r in self.sql.all("SELECT state, COUNT(*) FROM jobs GROUP BY state")}
        return {s: counts.get(s, 0) for s in STATES}
