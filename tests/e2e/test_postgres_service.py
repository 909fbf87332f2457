"""The service on a PostgreSQL store (`RAG_STORE__URL=postgresql://...`): `rag db upgrade` migrates it, then
`rag serve` (not allowed to migrate) queues uploads and `rag worker` runs them; documents, chunks and jobs are rows
in PostgreSQL and no SQLite store is made."""

import json
import subprocess

import pytest

from rag.store.database import open_database
from rag.store.migrations import LATEST
from rag.store.sql import SqlStore
from tests.e2e.test_redis_queue import server
from tests.helpers import docgen
from tests.helpers.servers import RAG, env, upload, wait, worker

pytestmark = pytest.mark.slow


def test_jobs_and_search_on_a_postgresql_store(postgres, tmp_path):
    data = tmp_path / "data"
    url = postgres.schema_url()
    environ = dict(env(), RAG_STORE__URL=url, RAG_STORE__MIGRATE="false", RAG_AUTH__REQUIRED="auto")
    upgraded = subprocess.run(
        [*RAG, "--data-dir", str(data), "db", "upgrade", "--json"], env=environ, capture_output=True, text=True, timeout=120
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["version"] == LATEST
    pdfs = [docgen.simple_pdf(tmp_path / f"memo{i}.pdf", [(f"Memo {i}", [f"Memo {i} concerns valve V{i}."])]) for i in range(2)]
    with server(data, environ) as client:
        job = upload(client, pdfs)
        with worker(data, tmp_path / "worker.log", environ=environ):
            done = wait(client, job["id"], lambda j: j["state"] in ("done", "failed", "cancelled"))
        assert done["state"] == "done" and done["counts"]["ok"] == 2, done
        hits = client.post("/v1/search", json={"question": "Which valve does memo 1 concern?", "k": 1}).json()["hits"]
        assert hits[0]["doc"] == "memo1.pdf"
        assert sorted(d["name"] for d in client.get("/v1/documents").json()) == ["memo0.pdf", "memo1.pdf"]
    assert not (data / "store.sqlite").exists()
    store = SqlStore(open_database(url, data), migrate=False)
    try:
        assert sorted(d.name for d in store.documents()) == ["memo0.pdf", "memo1.pdf"]
        assert store.count_chunks() == sum(d.chunks for d in store.documents()) > 0
        assert store.sql.one("SELECT state FROM jobs WHERE id=?", (job["id"],))[0] == "done"
    finally:
        store.close()
