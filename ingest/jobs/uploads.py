"""The uploaded copies of a job's files: `<data dir>/uploads/<job id>/`, stored by the API before the job is recorded,
removed by the worker when the job ends.

Two things can leave a folder behind: a job cancelled while running whose worker then died (it is ended by
`JobStore.reap_cancelled`, but its worker never reached its clean-up), and an API killed while it stored an upload
(files, no job row). `sweep` removes both, at API and worker start and every minute in a worker. An upload being
stored holds a shared lock on `uploads/.storing` until its job row is written; folders without a job row are only
swept while nobody holds it.
"""

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.core.files import locked, locked_if_free
from rag.core.settings import Settings
from rag.store.jobs import TERMINAL, JobStore

log = logging.getLogger(__name__)
STORING = ".storing"


def uploads_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "uploads"


def uploads_dir(settings: Settings, job_id: str) -> Path:
    return uploads_root(settings) / job_id


@contextmanager
def storing(settings: Settings) -> Iterator[None]:
    """Held (shared) by the API from the first byte stored until the job row is written."""
    root = uploads_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / STORING, shared=True):
        yield


def sweep(settings: Settings, jobs: JobStore) -> list[str]:
    """Remove the upload folders of ended jobs, and (when no upload is being stored) those of no job; their names."""
    root = uploads_root(settings)
    if not root.is_dir():
        return []
    removed = []
    with locked_if_free(root / STORING) as nobody_storing:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            job = jobs.get(folder.name)
            if (job is not None and job.state in TERMINAL) or (job is None and nobody_storing):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
    if removed:
        log.info("removed %d left-over upload folders", len(removed))
    return removed
