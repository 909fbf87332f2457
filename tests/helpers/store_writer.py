"""One of several processes writing the same store at once (tests/integration/test_store_concurrency.py).

    python -m tests.helpers.store_writer URL WORKER ROUNDS GO_FILE OUT_JSON

Waits for GO_FILE (so that every process starts writing together), then for ROUNDS rounds replaces every document
of `PATHS` (a version whose id every writer of that round shares, so two writers store the very same chunk ids at
once) and tries to claim every queued job; writes what it did to OUT_JSON.
"""

import json
import sys
import time
from pathlib import Path

from rag.core.types import Chunk, Document
from rag.store.database import open_database
from rag.store.jobs import JobStore
from rag.store.sql import SqlStore

PATHS = ["/shared/a.pdf", "/shared/b.pdf", "/shared/c.pdf"]
CHUNKS = 12


def version(path: str, round_: int) -> tuple[Document, list[Chunk]]:
    doc_id = f"{Path(path).stem}-v{round_}"
    doc = Document(id=doc_id, name=Path(path).name, path=path, collection="default", sha256=doc_id, status="ok", pages=2)
    return doc, [Chunk(id=f"{doc_id}-{k}", doc_id=doc_id, page=1 + k % 2, text=f"{doc_id} text {k}") for k in range(CHUNKS)]


def main(url: str, worker: str, rounds: int, go: Path, out: Path) -> None:
    store = SqlStore(open_database(url, out.parent))
    jobs = JobStore(store)
    deadline = time.time() + 60
    while not go.exists() and time.time() < deadline:
        time.sleep(0.005)
    replaced, claimed = 0, []
    for round_ in range(rounds):
        for path in PATHS:
            doc, chunks = version(path, round_)
            _, new = store.replace_document(doc, 100, float(round_), chunks)
            assert len(new) == CHUNKS
            replaced += 1
        claimed += [job_id for job_id in jobs.unfinished(stale_s=3600) if jobs.claim(job_id, worker, stale_s=3600)]
    store.close()
    out.write_text(json.dumps({"worker": worker, "replaced": replaced, "claimed": claimed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
