"""Kill -9 an ingest in the middle of a batch: the previous index version keeps answering, nothing is
half-visible, its parse processes go too, and the next run makes the indexes agree with the store again, ingesting
the rest without storing anything twice."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from rag.service.services import Services
from tests.helpers import docgen
from tests.helpers.models import MODELS_DIR, make_settings

pytestmark = pytest.mark.slow


def test_killed_ingest_leaves_the_previous_index_serving(tmp_path):
    data = tmp_path / "data"
    first = docgen.simple_pdf(tmp_path / "first.pdf", [("Parking", ["Parking permits cost 40 EUR per month."])])
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR))
    cmd = [sys.executable, "-m", "api", "--data-dir", str(data), "ingest"]
    subprocess.run(cmd + [str(first)], env=env, check=True, capture_output=True, timeout=600)
    before = (data / "current").read_text()

    batch = tmp_path / "batch"
    batch.mkdir()
    for i in range(20):
        # 30 pages each: enough work that the batch is still running when it is killed, even on a fast machine
        pages = [(f"Memo {i}", [f"Memo number {i} concerns valve V{i}."])]
        pages += [
            (f"Memo {i}, annex {j}", [f"Annex {j} of memo {i} lists the valve's inspection history."] * 6) for j in range(1, 30)
        ]
        docgen.simple_pdf(batch / f"memo-{i:02d}.pdf", pages)
    proc = subprocess.Popen(cmd + [str(batch), "--processes", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data / "store.sqlite"
    deadline = time.time() + 300
    while time.time() < deadline:  # wait until part of the batch (4 files, besides first.pdf) is committed to SQLite
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 5:
                break
        time.sleep(0.2)
    parsers = psutil.Process(proc.pid).children()
    parsers = [p for p in parsers if "spawn_main" in _cmdline(p)]  # the parse processes (not a child that just ended)
    assert len(parsers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(parsers, timeout=30)
    assert not alive, "parse processes outlived the ingest they worked for"

    assert (data / "current").read_text() == before  # the batch was never published
    services = Services(make_settings(data))
    hits, _ = services.kb.search("How much does a parking permit cost?", 3)
    assert hits and hits[0].doc == "first.pdf"
    stored = services.kb.store.count_chunks()
    assert stored > services.kb.index().size  # committed chunks are not visible yet

    services.kb.repair()  # what the next ingest or server start does
    live = services.kb.live()
    assert live.vectors.size == live.lexical.size == stored
    hits, _ = services.kb.search("Which valve does memo number 2 concern?", 3)
    assert hits[0].doc == "memo-02.pdf"

    rerun = subprocess.run(cmd + [str(batch), "--processes", "2"], env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    m = re.search(r"files: (\d+) ok, (\d+) unchanged, 0 failed", rerun.stdout)
    assert m and int(m[1]) + int(m[2]) == 20 and int(m[2]) >= 4, rerun.stdout  # the stored part is skipped
    assert "files/s" in rerun.stderr and "ETA" in rerun.stderr  # progress lines (stderr is not a terminal here)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 21
        dupes = conn.execute("SELECT COUNT(*) FROM (SELECT doc_id, ord FROM chunks GROUP BY doc_id, ord HAVING COUNT(*) > 1)")
        assert dupes.fetchone()[0] == 0
    after = Services(make_settings(data))
    live = after.kb.live()
    assert live.vectors.size == live.lexical.size == after.kb.store.count_chunks()


def _cmdline(process) -> str:
    try:
        return " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return ""
