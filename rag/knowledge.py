"""The knowledge base: the SQLite store, the published FAISS index and the embedder, kept in agreement.

Writers hold a file lock on the data dir, commit to SQLite, then publish a new index version.
If a crash falls between the two, `repair()` (run under the same lock before every write and
at server start) re-embeds what the index lacks and drops what SQLite no longer has.
Readers notice a newly published version (from any process) and reload it.
"""

import fcntl
import json
import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from rag.embedder import Embedder
from rag.settings import Settings
from rag.store import SqliteStore
from rag.types import Chunk, Document, Hit
from rag.vector_index import FaissIndex, IndexVersions

log = logging.getLogger(__name__)


def embed_text(heading: str, text: str) -> str:
    """What the embedder sees for a chunk: its heading breadcrumb, then its text."""
    return f"{heading}\n{text}" if heading else text


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = SqliteStore(self.data_dir / "store.sqlite")
        self.versions = IndexVersions(self.data_dir, settings.index.keep_versions)
        self.embedder = embedder
        self._index: FaissIndex | None = None
        self._version: Path | None = None
        self._read_lock = threading.Lock()

    # ---- reading -------------------------------------------------------------------------------
    def index(self) -> FaissIndex:
        """The live index, reloaded when another process has published a newer version."""
        with self._read_lock:
            current = self.versions.current()
            if self._index is None or current != self._version:
                self._index = self._load(current)
                self._version = current
            return self._index

    def _load(self, folder: Path | None) -> FaissIndex:
        if folder is None:
            return FaissIndex(self.embedder.dim, self.settings.index.use_gpu)
        return FaissIndex.load(folder, self.settings.index.use_gpu)

    def search(self, query: str, k: int, collection: str | None = None) -> tuple[list[Hit], dict]:
        """Top-k chunks for a question, best first, with embed and search timings in ms."""
        index = self.index()
        if index.size == 0:
            return [], {"embed_ms": 0.0, "search_ms": 0.0}
        t0 = time.perf_counter()
        qvec = self.embedder.embed([query])[0]
        t1 = time.perf_counter()
        allowed = self.store.vids_in_collection(collection) if collection else None
        found = index.search(qvec, k, allowed)
        rows = self.store.chunks_by_vid([vid for vid, _ in found])
        hits = [Hit(chunk_id=r["id"], doc_id=r["doc_id"], doc=r["doc_name"], page=r["page"],
                    bbox=json.loads(r["bbox"]), score=round(score, 4), text=r["text"])
                for vid, score in found if (r := rows.get(vid))]
        t2 = time.perf_counter()
        return hits, {"embed_ms": round((t1 - t0) * 1000, 2), "search_ms": round((t2 - t1) * 1000, 2)}

    def info(self) -> dict:
        manifest = self.versions.manifest()
        return {"version": manifest.get("version"), "vectors": self.index().size,
                "chunks": self.store.count_chunks(), "documents": len(self.store.documents()),
                "device": self.index().device, "embedder": manifest.get("embedder")}

    # ---- writing -------------------------------------------------------------------------------
    @contextmanager
    def writing(self):
        """Exclusive write access across processes; yields the freshly loaded, repaired index."""
        lock_path = self.data_dir / ".write.lock"
        with open(lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                index = self._load(self.versions.current())
                self._repair(index)
                yield index
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def repair(self) -> dict:
        """Make the index agree with SQLite; publishes a new version only when something changed."""
        with self.writing() as index:
            pass
        return {"vectors": index.size}

    def _repair(self, index: FaissIndex) -> bool:
        have = set(index.ids().tolist())
        want = set(self.store.all_vids())
        extra, missing = sorted(have - want), sorted(want - have)
        if not extra and not missing:
            return False
        log.warning("index disagrees with the store: %d missing, %d stale vectors; repairing", len(missing), len(extra))
        index.remove(extra)
        rows = self.store.chunks_by_vid(missing)
        vids = [v for v in missing if v in rows]
        index.add(vids, self.embedder.embed([embed_text(rows[v]["heading"], rows[v]["text"]) for v in vids]))
        self._publish(index)
        return True

    def put_document(self, doc: Document, size: int, mtime: float, chunks: list[Chunk]) -> int:
        """Store a document with its chunks, replacing an earlier version at the same path; returns vectors added."""
        vecs = self.embedder.embed([embed_text(c.heading, c.text) for c in chunks])
        with self.writing() as index:
            old_vids, new_vids = self.store.replace_document(doc, size, mtime, chunks)
            index.remove(old_vids)
            index.add(new_vids, vecs)
            self._publish(index)
        return len(new_vids)

    def delete_document(self, doc_id: str) -> int:
        with self.writing() as index:
            vids = self.store.delete_document(doc_id)
            index.remove(vids)
            self._publish(index)
        return len(vids)

    def _publish(self, index: FaissIndex) -> None:
        embedder = {"name": self.embedder.name, "sha256": getattr(self.embedder, "sha256", "")}
        self.versions.publish(index, {"embedder": embedder})


