"""Fixtures of the end-to-end suites: one `rag serve` shared by the files that ask it questions (test_server.py, then
test_server_chat.py; it starts with an empty index, and test_server.py's first test relies on that), and the two
generated PDFs they ingest."""

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import docgen
from tests.helpers.apps import wait_ready
from tests.helpers.models import MODELS_DIR
from tests.helpers.servers import RAG, free_port


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("server-data")
    port = free_port()
    # One generation at a time and no queue, so a second concurrent request is refused (503).
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR), RAG_SERVING__MAX_CONCURRENT="1", RAG_SERVING__QUEUE_SIZE="0")
    env.pop("RAG_GENERATOR__MODEL", None)
    log = open(data.parent / f"{data.name}.log", "w")
    proc = subprocess.Popen(
        [*RAG, "--data-dir", str(data), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, log.name)
        with httpx.Client(base_url=base, timeout=300) as client:
            yield client, data, Path(log.name)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def two_pdfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e-docs")
    handbook = docgen.simple_pdf(
        d / "handbook.pdf",
        [
            ("Working hours", ["Core working hours are from 10:00 to 15:00 on weekdays."]),
            ("Travel", ["The daily meal allowance on business trips is 55 EUR within Europe."]),
        ],
        title="Staff Handbook",
    )
    plants = docgen.simple_pdf(
        d / "plants.pdf",
        [
            ("Fjordvik", ["The Fjordvik hydro plant produced 455 GWh in the fourth quarter."]),
        ],
        title="Plant Report",
    )
    return handbook, plants
