"""Ingestion jobs without a worker process: the job rows, the upload and path checks of `POST /v1/documents`,
and `run_job` in-process on real small PDFs with a fake embedder (the e2e tests run the real worker)."""

import os
import sys
import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from ingest.jobs.queue import make_huey, make_job_queue, run_job
from ingest.jobs.worker_metrics import WorkerMetrics
from rag.core.errors import MissingExtra
from rag.core.settings import Settings
from rag.service.access import KeyRing
from rag.store.jobs import JobStore
from tests.helpers import docgen
from tests.helpers.apps import client, make_app


def test_job_rows_claim_cancel_and_takeover(make_store):
    jobs = JobStore(make_store())
    job = jobs.add("j1", "hr", [("a.pdf", "/x/a.pdf", None), ("b.pdf", "/x/b.pdf", "uploads/b.pdf")])
    assert job.state == "queued" and job.total == 2 and [f.status for f in job.files] == ["queued", "queued"]
    assert jobs.claim("j1", "w1", stale_s=30) and not jobs.claim("j1", "w2", stale_s=30)
    assert jobs.unfinished(stale_s=30) == []
    assert jobs.unfinished(stale_s=-1) == ["j1"]  # its worker stopped beating: up for takeover
    assert jobs.claim("j1", "w2", stale_s=-1)
    jobs.set_file("j1", 0, "ok", pages=2, chunks=3, doc_id="d1")
    assert jobs.cancel("j1").cancel_requested and jobs.get("j1").state == "running"
    jobs.finish("j1", "cancelled")
    done = jobs.get("j1")
    assert done.state == "cancelled" and [f.status for f in done.files] == ["ok", "cancelled"] and done.done == 1
    jobs.add("j2", "hr", [("c.pdf", "/x/c.pdf", None)])
    assert jobs.cancel("j2").state == "cancelled" and not jobs.claim("j2", "w1", 30)
    assert jobs.by_state() == {"queued": 0, "running": 0, "done": 0, "failed": 0, "cancelled": 2}


@pytest.fixture()
def pdfs(tmp_path):
    d = tmp_path / "pdfs"
    d.mkdir()
    return [
        docgen.simple_pdf(
            d / f"doc{i}.pdf", [(f"Topic {i}", [f"The secret number of document {i} is {1000 + i}."])], title=f"Document {i}"
        )
        for i in range(3)
    ]


def _files(paths):
    return [("files", (Path(p).name, Path(p).read_bytes(), "application/pdf")) for p in paths]


def test_upload_creates_a_queued_job_with_the_files_stored_first(tmp_path, pdfs):
    app, services = make_app(tmp_path / "data", host="0.0.0.0")
    ring = KeyRing(services.kb.store)
    writer, reader = ring.create(["hr"], "write")[0], ring.create(["hr"], "read")[0]
    other = ring.create(["finance"], "write")[0]
    c = client(app, writer)
    r = c.post(
        "/v1/documents",
        files=_files(pdfs[:2]) + [("files", ("../../etc/passwd.pdf", pdfs[2].read_bytes()))],
        data={"collection": "hr"},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued" and job["collection"] == "hr" and r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert [f["name"] for f in job["files"]] == ["doc0.pdf", "doc1.pdf", "passwd.pdf"]
    stored = sorted(p.name for p in (tmp_path / "data" / "uploads" / job["id"]).iterdir())
    assert stored == ["doc0.pdf", "doc1.pdf", "passwd.pdf"]
    assert c.get(f"/v1/jobs/{job['id']}").json()["total"] == 3
    assert [j["id"] for j in c.get("/v1/jobs").json()] == [job["id"]]
    # other tenants: not found; a reader may look but not cancel or upload
    assert client(app, other).get(f"/v1/jobs/{job['id']}").status_code == 404
    assert client(app, other).delete(f"/v1/jobs/{job['id']}").status_code == 404
    assert client(app, other).get("/v1/jobs").json() == []
    assert client(app, reader).get(f"/v1/jobs/{job['id']}").status_code == 200
    assert client(app, reader).delete(f"/v1/jobs/{job['id']}").status_code == 403
    assert client(app, reader).post("/v1/documents", files=_files(pdfs[:1]), data={"collection": "hr"}).status_code == 403
    assert c.post("/v1/documents", files=_files(pdfs[:1]), data={"collection": "finance"}).status_code == 403
    # cancel while queued: cancelled at once, uploads removed
    r = c.delete(f"/v1/jobs/{job['id']}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert not (tmp_path / "data" / "uploads" / job["id"]).exists()
    assert 'rag_jobs{state="cancelled"} 1.0' in c.get("/metrics").text


def test_bad_uploads_are_refused_before_anything_is_queued(tmp_path, pdfs):
    app, services = make_app(tmp_path / "data", max_upload_mb=1, max_upload_files=2)
    c = client(app)
    cases = [
        (_files(pdfs[:1]) + [("files", ("notes.pdf", b"just text, not a PDF", "application/pdf"))], 415, "notes.pdf"),
        ([("files", ("empty.pdf", b"", "application/pdf"))], 422, "empty file"),
        ([("files", ("big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), "application/pdf"))], 413, "big.pdf"),
        (_files(pdfs), 413, "at most 2 files in one upload"),  # three files, two allowed
    ]
    for files, status, words in cases:
        r = c.post("/v1/documents", files=files)
        assert r.status_code == status and words in r.json()["detail"], r.text
    r = c.post("/v1/documents", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert c.post("/v1/documents", files=_files(pdfs[:1]), data={"collection": "../x"}).status_code == 422
    assert c.get("/v1/jobs").json() == []
    assert not any((tmp_path / "data" / "uploads").glob("*/*"))


def test_server_side_paths_only_under_allowed_roots(tmp_path, pdfs):
    root = pdfs[0].parent
    (root / "link.pdf").symlink_to("/etc/hostname")
    app, _ = make_app(tmp_path / "data")
    assert client(app).post("/v1/documents", json={"paths": [str(pdfs[0])]}).status_code == 403  # no roots set
    app, _ = make_app(tmp_path / "data", ingest={"allowed_roots": [str(root)]})
    c = client(app)
    for body, status in [
        ({"paths": ["/etc/passwd"]}, 403),
        ({"paths": [f"{root}/../../../etc/passwd"]}, 403),
        ({"paths": [str(root / "link.pdf")]}, 403),
        ({"paths": ["relative/x.pdf"]}, 422),
        ({"paths": [str(root / "missing.pdf")]}, 404),
        ({"paths": []}, 422),
        ({"nope": 1}, 422),
    ]:
        r = c.post("/v1/documents", json=body)
        assert r.status_code == status, (body, r.text)
    os.remove(root / "link.pdf")
    r = c.post("/v1/documents", json={"paths": [str(root)], "collection": "hr"})
    assert r.status_code == 202 and [f["name"] for f in r.json()["files"]] == ["doc0.pdf", "doc1.pdf", "doc2.pdf"]


def test_run_job_ingests_resumes_without_duplicates_and_documents_can_be_read_and_deleted(tmp_path, pdfs):
    app, services = make_app(tmp_path / "data", jobs={"publish_every": 2})
    c = client(app)
    job = c.post("/v1/documents", files=_files(pdfs), data={"collection": "hr"}).json()
    jobs = JobStore(services.kb.store)
    # a worker died after the first file: its job is "running" with an old heartbeat
    assert jobs.claim(job["id"], "deadhost:1:t", stale_s=30)
    queue = make_job_queue(services.settings, jobs, services)
    assert queue.recover() == []  # its worker might still be alive: not taken over yet
    assert run_job(services, jobs, job["id"], "w", services.settings) is None
    with services.kb.store.sql.write() as db:
        db.execute("UPDATE jobs SET heartbeat=? WHERE id=?", (time.time() - 60, job["id"]))
    assert queue.recover() == [job["id"]]
    assert list((tmp_path / "data" / "workers").glob("*.alive"))  # what the container healthcheck reads
    metrics = WorkerMetrics(pending=lambda: 0, threads=1)
    assert run_job(services, jobs, job["id"], "w", services.settings, metrics) == "done"
    done = c.get(f"/v1/jobs/{job['id']}").json()
    scraped = generate_latest(metrics.registry).decode()
    pages = sum(f["pages"] for f in done["files"])
    for line in (
        'rag_worker_jobs_total{state="done"} 1.0',
        'rag_worker_files_total{status="ok"} 3.0',
        f"rag_worker_pages_total {pages:.1f}",
        "rag_worker_file_seconds_count 3.0",
        "rag_worker_jobs_running 0.0",
        "rag_worker_inference_threads 1.0",
        "rag_worker_queue_pending 0.0",
    ):
        assert line in scraped, line
    assert done["state"] == "done" and done["counts"]["ok"] == 3 and all(f["chunks"] > 0 for f in done["files"])
    assert not (tmp_path / "data" / "uploads" / job["id"]).exists()
    chunks = services.kb.store.count_chunks()
    assert services.kb.index().size == chunks
    # the same files again: skipped, no new chunks
    again = c.post("/v1/documents", files=_files(pdfs), data={"collection": "hr"}).json()
    assert run_job(services, jobs, again["id"], "w", services.settings) == "done"
    assert c.get(f"/v1/jobs/{again['id']}").json()["counts"]["skipped"] == 3
    assert services.kb.store.count_chunks() == chunks and len(c.get("/v1/documents").json()) == 3
    doc_id = done["files"][1]["doc_id"]
    doc = c.get(f"/v1/documents/{doc_id}").json()
    assert doc["name"] == "doc1.pdf" and doc["path"] == "uploads/doc1.pdf" and doc["pages"] == 1
    assert "1001" in doc["html"] and doc["html"].startswith("<article")
    assert c.get(f"/v1/documents/{doc_id}", params={"html": "false"}).json()["html"] is None
    hits = c.post("/v1/search", json={"question": "secret number of document 1", "k": 5}).json()["hits"]
    assert "doc1.pdf" in {h["doc"] for h in hits}
    r = c.delete(f"/v1/documents/{doc_id}")
    assert r.status_code == 200 and r.json()["chunks"] > 0
    assert c.get(f"/v1/documents/{doc_id}").status_code == 404
    hits = c.post("/v1/search", json={"question": "secret number of document 1", "k": 5}).json()["hits"]
    assert "doc1.pdf" not in {h["doc"] for h in hits}
    assert services.kb.index().size == services.kb.store.count_chunks() < chunks


def test_queue_backend_is_sqlite_in_the_data_dir_by_default_and_redis_when_configured(tmp_path, monkeypatch):
    from huey import RedisHuey, SqliteHuey

    huey = make_huey(Settings(data_dir=tmp_path))
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "queue.sqlite")
    settings = Settings(data_dir=tmp_path / "other", jobs={"queue": "redis", "redis_url": "redis://queue.example:6390/3"})
    pytest.importorskip("redis")
    huey = make_huey(settings)  # nothing connects until the queue is used
    assert isinstance(huey, RedisHuey) and not (tmp_path / "other" / "queue.sqlite").exists()
    kwargs = huey.storage.pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("queue.example", 6390, 3)


def test_redis_queue_without_the_redis_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # what `import redis` meets when it is not installed
    with pytest.raises(MissingExtra, match=r"grounded-rag\[redis\]"):
        make_huey(Settings(data_dir=tmp_path, jobs={"queue": "redis"}))


def test_unknown_queue_backend_is_refused_by_the_settings(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("RAG_JOBS__QUEUE", "rabbitmq")
    with pytest.raises(ValidationError, match="sqlite"):
        Settings()
