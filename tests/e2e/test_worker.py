"""Ingestion jobs end to end: `rag serve` and `rag worker` as real processes on a free port, API keys made with
`rag keys create`, files uploaded over HTTP. Lifecycle, cancel (queued and running), and a worker killed with
SIGKILL mid-job then restarted: the job finishes and no chunk is stored twice."""

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import docgen
from tests.helpers.servers import RAG, env, free_port, upload, wait, worker

ALIVE_S = 60  # a generous bound on a loaded machine for a process to be gone (each goes within about a second)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("jobs-data")
    key = subprocess.run(
        [*RAG, "--data-dir", str(data), "keys", "create", "--collection", "hr", "--rights", "write"],
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    ).stdout.strip()
    port = free_port()
    log = open(data.parent / "jobs-server.log", "w")
    proc = subprocess.Popen(
        [*RAG, "--data-dir", str(data), "serve", "--port", str(port), "--no-warm-up"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            assert proc.poll() is None, Path(log.name).read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
            yield client, data
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("job-pdfs")
    out = []
    for i in range(16):
        pages = [
            (
                f"Section {i}.{p}",
                [
                    f"Document {i} page {p} states that the budget line {i}-{p} is {100 * i + p} EUR.",
                    f"Paragraph two of page {p} in document {i} repeats the code K{i}P{p} for lookups. " * 3,
                ],
            )
            for p in range(1, 5)
        ]
        out.append(docgen.simple_pdf(d / f"report{i:02d}.pdf", pages, title=f"Report {i}"))
    return out


def test_job_lifecycle_with_a_real_worker(server, pdfs, tmp_path):
    client, data = server
    job = upload(client, pdfs[:2])
    assert job["state"] == "queued" and job["total"] == 2
    port = free_port()
    with worker(data, tmp_path / "worker.log", "--metrics-port", str(port), "--inference-threads", "1"):
        done = wait(client, job["id"], lambda j: j["state"] in ("done", "failed", "cancelled"))
        own = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text  # the worker's own metrics
    assert done["state"] == "done" and done["counts"]["ok"] == 2, done
    for line in (
        'rag_worker_jobs_total{state="done"} 1.0',
        'rag_worker_files_total{status="ok"} 2.0',
        "rag_worker_pages_total 8.0",
        "rag_worker_jobs_running 0.0",
        "rag_worker_inference_threads 1.0",
        "rag_worker_queue_pending 0.0",
        "rag_worker_file_seconds_count 2.0",
    ):
        assert line in own, line
    assert all(f["pages"] == 4 and f["chunks"] > 0 for f in done["files"]), done
    docs = {d["name"]: d for d in client.get("/v1/documents").json()}
    assert set(docs) == {"report00.pdf", "report01.pdf"}
    detail = client.get(f"/v1/documents/{docs['report01.pdf']['id']}").json()
    assert detail["status"] == "ok" and detail["pages"] == 4 and "budget line 1-3" in detail["html"]
    hits = client.post("/v1/search", json={"question": "budget line 1-3", "k": 3}).json()["hits"]
    assert hits[0]["doc"] == "report01.pdf" and hits[0]["page"] == 3
    assert client.delete(f"/v1/documents/{docs['report01.pdf']['id']}").status_code == 200
    hits = client.post("/v1/search", json={"question": "budget line 1-3", "k": 5}).json()["hits"]
    assert "report01.pdf" not in {h["doc"] for h in hits}
    metrics = client.get("/metrics").text
    assert 'rag_jobs{state="done"} 1.0' in metrics and "rag_ingested_pages_total 8.0" in metrics
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines() if line.startswith("{")]
    assert any(f"job {job['id']} done" in line["msg"] for line in lines)
    assert "1 inference threads, metrics on 127.0.0.1:" in (tmp_path / "worker.log").read_text()


def test_cancel_a_queued_job_and_a_running_one(server, pdfs, tmp_path):
    client, data = server
    queued = upload(client, pdfs[2:3])
    r = client.delete(f"/v1/jobs/{queued['id']}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    running = upload(client, pdfs[4:16])
    with worker(data, tmp_path / "worker.log"):
        wait(client, running["id"], lambda j: j["done"] >= 1)
        r = client.delete(f"/v1/jobs/{running['id']}")
        assert r.status_code == 200 and r.json()["cancel_requested"]
        final = wait(client, running["id"], lambda j: j["state"] != "running", timeout=120)
        assert client.get(f"/v1/jobs/{queued['id']}").json()["state"] == "cancelled"  # never started
    assert final["state"] == "cancelled" and 1 <= final["done"] < final["total"], final
    assert final["counts"]["cancelled"] == final["total"] - final["done"]
    names = {d["name"] for d in client.get("/v1/documents").json()}
    assert "report02.pdf" not in names


def test_worker_killed_mid_job_and_restarted_finishes_without_duplicates(server, pdfs, tmp_path):
    client, data = server
    job = upload(client, pdfs[4:16])  # the cancelled run above stored a few of these already: they are skipped
    with worker(data, tmp_path / "worker.log") as proc:
        at_kill = wait(client, job["id"], lambda j: j["counts"]["ok"] >= 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert at_kill["done"] < at_kill["total"], "the job finished before the worker could be killed"
    assert client.get(f"/v1/jobs/{job['id']}").json()["state"] == "running"  # left behind by the dead worker
    with worker(data, tmp_path / "worker2.log"):
        done = wait(client, job["id"], lambda j: j["state"] != "running")
    assert done["state"] == "done" and done["counts"]["failed"] == 0 and done["done"] == 12, done
    db = sqlite3.connect(data / "store.sqlite")
    dupes = db.execute("SELECT COUNT(*) FROM (SELECT doc_id, ord FROM chunks GROUP BY doc_id, ord HAVING COUNT(*) > 1)")
    assert dupes.fetchone()[0] == 0
    per_doc = dict(db.execute("SELECT d.name, COUNT(c.vid) FROM documents d JOIN chunks c ON c.doc_id=d.id GROUP BY d.id"))
    assert {f"report{i:02d}.pdf" for i in range(4, 16)} <= set(per_doc)
    assert len(set(per_doc.values())) == 1  # every report has the same shape, so the same number of chunks
    info = client.get("/v1/info").json()["index"]  # a key of one collection sees that collection's counts
    assert info["chunks"] == sum(per_doc.values())


def test_cancelling_a_job_stops_its_file_between_pages_and_frees_the_worker(server, pdfs, tmp_path):
    """A 40-page scan takes minutes of OCR; cancelled while it is read, the file stops at its next page, is not
    stored, and the worker takes the next job."""
    client, data = server
    scan = docgen.scanned_pdf(
        tmp_path / "archive.pdf", [[f"Archive box {p} holds the invoices of {2000 + p}."] for p in range(40)]
    )
    long = upload(client, [scan])
    with worker(data, tmp_path / "worker.log"):
        wait(client, long["id"], lambda j: j["files"][0]["status"] == "running")
        assert client.delete(f"/v1/jobs/{long['id']}").json()["cancel_requested"]
        final = wait(client, long["id"], lambda j: j["state"] != "running", timeout=300)
        after = upload(client, pdfs[0:1])
        assert wait(client, after["id"], lambda j: j["state"] != "queued" and j["state"] != "running")["state"] == "done"
    assert final["state"] == "cancelled" and final["files"][0]["status"] == "cancelled", final  # not read to the end
    assert "archive.pdf" not in {d["name"] for d in client.get("/v1/documents").json()}
    assert not (data / "uploads" / long["id"]).exists()


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _running(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def test_a_worker_killed_while_a_long_pdf_is_read_in_processes_leaves_no_orphan(server, tmp_path):
    """A long PDF is read by page-range processes; the worker is killed with -9 while they run: they exit too."""
    client, data = server
    job = upload(client, [docgen.long_pdf(tmp_path / "long.pdf", 300)])
    with worker(data, tmp_path / "worker.log", environ=dict(env(), RAG_PARSE__WORKERS="2")) as proc:
        deadline = time.monotonic() + 300
        while len(children := _children(proc.pid)) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "no page-range processes started"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gone_by = time.monotonic() + ALIVE_S
    while any(_running(pid) for pid in children) and time.monotonic() < gone_by:
        time.sleep(0.2)
    assert not any(_running(pid) for pid in children), "parse processes outlived their worker"
    client.delete(f"/v1/jobs/{job['id']}")  # the next worker ends it as cancelled
