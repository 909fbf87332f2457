"""Left-over upload folders are swept at start (issue 19, item 14): a cancelled job whose worker died, and an API
killed while storing an upload (files, no job row). Folders of live jobs, and an upload being stored, stay."""

import time

from fastapi.testclient import TestClient

from ingest.jobs.queue import make_job_queue
from ingest.jobs.uploads import storing, uploads_dir
from rag.store.jobs import JobStore
from tests.helpers.apps import make_app


def _folder(settings, job_id: str):
    folder = uploads_dir(settings, job_id)
    folder.mkdir(parents=True)
    (folder / "a.pdf").write_bytes(b"%PDF-1.4 partial")
    return folder


def test_a_worker_start_ends_a_cancelled_job_of_a_dead_worker_and_removes_its_uploads(tmp_path):
    _, services = make_app(tmp_path / "data")
    jobs = JobStore(services.kb.store)
    cfg = services.settings
    for job_id in ("cancelled1", "queued1"):
        jobs.add(job_id, "hr", [("a.pdf", str(_folder(cfg, job_id) / "a.pdf"), "uploads/a.pdf")])
    assert jobs.claim("cancelled1", "deadhost:1:t", stale_s=30)
    jobs.cancel("cancelled1")  # asked while running; then the worker died
    with services.kb.store.sql.write() as db:
        db.execute("UPDATE jobs SET heartbeat=? WHERE id='cancelled1'", (time.time() - 3600,))
    make_job_queue(cfg, jobs, services).recover(startup=True)
    assert jobs.get("cancelled1").state == "cancelled" and not uploads_dir(cfg, "cancelled1").exists()
    assert uploads_dir(cfg, "queued1").exists()  # its job is still to run


def test_an_api_start_removes_a_partial_upload_without_a_job(tmp_path):
    app, services = make_app(tmp_path / "data")
    partial = _folder(services.settings, "killedmidway")
    documents = [d.id for d in services.kb.store.documents()]
    with TestClient(app):  # the lifespan runs: the API starts
        pass
    assert not partial.exists()
    assert [d.id for d in services.kb.store.documents()] == documents


def test_an_upload_being_stored_is_left_alone(tmp_path):
    app, services = make_app(tmp_path / "data")
    with storing(services.settings):  # another API process is storing this one
        partial = _folder(services.settings, "inflight")
        with TestClient(app):
            pass
        assert partial.exists()
