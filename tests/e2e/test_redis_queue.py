"""The job queue on a live Redis server (`RAG_JOBS__QUEUE=redis`): `rag serve` queues, `rag worker` runs, and the
SQLite queue is never made. Skipped where `redis-server` or the `redis` package (extra `redis`) is missing."""

import importlib.util
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from rag.core.settings import Settings
from tests.helpers import docgen
from tests.helpers.servers import RAG, env, free_port, upload, wait, worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server program"),
    pytest.mark.skipif(importlib.util.find_spec("redis") is None, reason="no redis package (extra redis)"),
]


@contextmanager
def redis_server(folder: Path):
    import redis

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def server(data: Path, environ: dict):
    port = free_port()
    with open(data.parent / "server.log", "w") as log:
        proc = subprocess.Popen(
            [*RAG, "--data-dir", str(data), "serve", "--port", str(port), "--no-warm-up"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            assert proc.poll() is None, (data.parent / "server.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=120) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_jobs_go_through_a_live_redis_queue(tmp_path):
    from ingest.jobs.queue import make_huey

    data = tmp_path / "data"
    pdfs = [docgen.simple_pdf(tmp_path / f"memo{i}.pdf", [(f"Memo {i}", [f"Memo {i} concerns valve V{i}."])]) for i in range(2)]
    with redis_server(tmp_path) as url:
        environ = dict(env(), RAG_JOBS__QUEUE="redis", RAG_JOBS__REDIS_URL=url, RAG_AUTH__REQUIRED="auto")
        queue = make_huey(Settings(data_dir=data, jobs={"queue": "redis", "redis_url": url}))
        with server(data, environ) as client:
            job = upload(client, pdfs)
            assert queue.pending_count() == 1  # the job's id waits in Redis
            with worker(data, tmp_path / "worker.log", environ=environ):
                done = wait(client, job["id"], lambda j: j["state"] in ("done", "failed", "cancelled"))
            assert done["state"] == "done" and done["counts"]["ok"] == 2, done
            hits = client.post("/v1/search", json={"question": "Which valve does memo 1 concern?", "k": 1}).json()["hits"]
            assert hits[0]["doc"] == "memo1.pdf"
        assert queue.pending_count() == 0
    assert "queue redis" in (tmp_path / "worker.log").read_text()
    assert not (data / "queue.sqlite").exists()
