"""Several processes writing one store at once, on both backends: no lost update, no duplicate chunk, and every job
claimed by exactly one of them (the writers: tests/helpers/store_writer.py)."""

import json
import subprocess
import sys
from pathlib import Path

from rag.store.jobs import JobStore
from tests.helpers.store_writer import CHUNKS, PATHS

WRITERS, ROUNDS, JOBS = 4, 8, 24
ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_writers_lose_no_update_and_store_no_chunk_twice(make_store, store_url, tmp_path):
    store = make_store()
    jobs = JobStore(store)
    for j in range(JOBS):
        jobs.add(f"job{j:02d}", "default", [("a.pdf", "/x/a.pdf", None)])
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.helpers.store_writer",
                store_url,
                f"w{w}",
                str(ROUNDS),
                str(go),
                str(tmp_path / f"w{w}.json"),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
    reports = [json.loads((tmp_path / f"w{w}.json").read_text()) for w in range(WRITERS)]
    assert sum(r["replaced"] for r in reports) == WRITERS * ROUNDS * len(PATHS)

    # one document per path, the last round's version, with its chunks once each and no chunk of another version left
    docs = store.documents()
    assert sorted(d.path for d in docs) == sorted(PATHS)
    assert {d.id for d in docs} == {f"{Path(p).stem}-v{ROUNDS - 1}" for p in PATHS}
    assert all(d.chunks == CHUNKS for d in docs)
    rows = store.sql.all("SELECT id, doc_id FROM chunks")
    assert len(rows) == len({r["id"] for r in rows}) == len(PATHS) * CHUNKS == store.count_chunks()
    assert {r["doc_id"] for r in rows} == {d.id for d in docs}
    assert store.sql.one("SELECT COUNT(*) FROM document_aliases")[0] == 0
    # no lost update: every write's counter increment is there
    counters = store.totals()["counters"]
    assert counters["documents_ingested"] == WRITERS * ROUNDS * len(PATHS)
    assert counters["chunks_ingested"] == WRITERS * ROUNDS * len(PATHS) * CHUNKS
    # every job claimed, each by exactly one writer, and recorded as that writer's
    claimed = [(job_id, r["worker"]) for r in reports for job_id in r["claimed"]]
    assert sorted(job_id for job_id, _ in claimed) == [f"job{j:02d}" for j in range(JOBS)]
    assert {job_id: jobs.require(job_id).state for job_id, _ in claimed} == {job_id: "running" for job_id, _ in claimed}
    owners = dict(store.sql.all("SELECT id, worker FROM jobs"))
    assert owners == dict(claimed)
