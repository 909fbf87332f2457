"""Store write throughput, SQLite vs PostgreSQL: W processes each storing N new documents of C chunks at once.

Each writer opens its own store (as `rag worker` processes do) and calls `replace_document` for documents of its
own (distinct paths), then re-stores each once (a re-ingest: the old version's chunks deleted, new ones inserted).
SQLite is the service's file (WAL, synchronous=NORMAL); PostgreSQL is a local server started here by the tests'
helper with its default durability (fsync, synchronous commit on), on the same disk. Documents/s and chunks/s
over all writers, from the first write to the last. Reports timings only.

Run:  .venv/bin/python bench/store_writes.py [--docs 200] [--chunks 20] [--writers 1,4]
Writes bench/out/store_writes.json.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, table, write_result  # noqa: E402


def writer(url: str, name: str, docs: int, chunks: int, go: Path, out: Path) -> None:
    from rag.core.types import Chunk, Document
    from rag.store.database import open_database
    from rag.store.sql import SqlStore

    store = SqlStore(open_database(url, out.parent))
    text = "The quarterly report states revenue, costs and the outlook for each region in some detail. " * 8
    while not go.exists():
        time.sleep(0.002)
    t0 = time.perf_counter()
    for again in (0, 1):
        for i in range(docs):
            doc_id = f"{name}-{i}-{again}"
            doc = Document(id=doc_id, name=f"{i}.pdf", path=f"/{name}/{i}.pdf", collection="default", sha256=doc_id, status="ok")
            store.replace_document(
                doc, 1000, 1.0, [Chunk(id=f"{doc_id}-{k}", doc_id=doc_id, page=1, text=text) for k in range(chunks)]
            )
    out.write_text(json.dumps({"start": t0, "end": time.perf_counter()}))
    store.close()


def run(url: str, writers: int, docs: int, chunks: int, tmp: Path) -> dict:
    go = tmp / f"go-{writers}-{time.time_ns()}"
    outs = [tmp / f"{go.name}-{w}.json" for w in range(writers)]
    procs = [
        subprocess.Popen([sys.executable, __file__, "--writer", url, f"w{w}", str(docs), str(chunks), str(go), str(outs[w])])
        for w in range(writers)
    ]
    time.sleep(3)  # every writer has opened its store
    go.touch()
    for p in procs:
        assert p.wait(timeout=1800) == 0
    spans = [json.loads(o.read_text()) for o in outs]
    seconds = max(s["end"] for s in spans) - min(s["start"] for s in spans)
    writes = writers * docs * 2
    return {
        "writers": writers,
        "writes": writes,
        "seconds": round(seconds, 2),
        "docs_per_s": round(writes / seconds, 1),
        "chunks_per_s": round(writes * chunks / seconds),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        url, name, docs, chunks, go, out = sys.argv[2:8]
        return writer(url, name, int(docs), int(chunks), Path(go), Path(out))
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--chunks", type=int, default=20)
    ap.add_argument("--writers", default="1,4")
    args = ap.parse_args()
    from tests.helpers.postgres import PostgresServer, binaries

    bin_dir = binaries()
    assert bin_dir is not None, "PostgreSQL is not installed: scripts/test-tools.sh"
    server = PostgresServer(bin_dir).start(durable=True)
    rows, results = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            for w in [int(x) for x in args.writers.split(",")]:
                for backend in ("sqlite", "postgresql"):
                    url = f"sqlite://{tmp}/{backend}-{w}.sqlite" if backend == "sqlite" else server.schema_url()
                    r = dict(run(url, w, args.docs, args.chunks, tmp), backend=backend)
                    results.append(r)
                    rows.append([backend, w, r["writes"], r["seconds"], r["docs_per_s"], r["chunks_per_s"]])
    finally:
        server.stop()
    print(table(["store", "writers", "documents written", "s", "documents/s", "chunks/s"], rows, "store writes"))
    write_result("store_writes", {"env": env_info(), "docs": args.docs, "chunks": args.chunks, "results": results})


if __name__ == "__main__":
    main()
