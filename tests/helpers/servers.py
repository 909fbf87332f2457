"""Real servers and workers for the end-to-end tests: the `rag` command, free ports, a worker process, job uploads."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.models import MODELS_DIR

RAG = [sys.executable, "-m", "api"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    e = dict(
        os.environ,
        RAG_MODELS_DIR=str(MODELS_DIR),
        RAG_AUTH__REQUIRED="true",
        RAG_JOBS__PUBLISH_EVERY="1",
        RAG_JOBS__POLL_MAX_S="0.5",
        RAG_LOG_FORMAT="json",
        RAG_AUTH__RATE_PER_MIN="100000",
    )
    e.pop("RAG_GENERATOR__MODEL", None)
    return e


@contextmanager
def worker(data: Path, log: Path, *options: str, environ: dict | None = None):
    with open(log, "a") as out:
        proc = subprocess.Popen(
            [*RAG, "--data-dir", str(data), "worker", *options], stdout=out, stderr=subprocess.STDOUT, env=environ or env()
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def upload(client, paths) -> dict:
    r = client.post(
        "/v1/documents", files=[("files", (p.name, p.read_bytes(), "application/pdf")) for p in paths], data={"collection": "hr"}
    )
    assert r.status_code == 202, r.text
    return r.json()


def wait(client, job_id: str, until, timeout: float = 600) -> dict:
    deadline = time.time() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if until(job):
            return job
        assert time.time() < deadline, job
        time.sleep(0.2)
