"""Vectors of texts already embedded, so that text embedded once is not embedded again.

A chunk's vector depends only on the embedder (its identity: model, weights sha256, backend, version) and the text it
embeds (heading, document label, text). Re-ingesting an edited document, re-chunking after a chunker change
(`rag index rebuild --rechunk`), the nightly re-index and a repair re-embed mostly texts that were embedded before;
embedding is most of the time those take on CPU (about 20 chunks/s on 2 cores). This cache keeps each vector under
the sha256 of (identity, text), in one SQLite file in the data directory (`vector_cache.sqlite`; a machine-local
cache: deleting it loses nothing but time). A rebuild of every vector keeps only the entries of the texts indexed
now, so the file stays about the size of the vectors (1.7 KB per chunk for a 384-d model).

Question vectors never go through it: they are cheap one at a time, and a cache of them would grow without bound.
"""

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from rag.core.filesystems import refuse_network_sqlite

BATCH = 500  # keys per SQL statement (SQLite's default limit of bound parameters is 32766)


def identity_key(identity: dict) -> bytes:
    """The part of every cache key that names the embedder (the same dict an index manifest records)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).digest()


def text_key(identity: bytes, text: str) -> bytes:
    return hashlib.sha256(identity + b"\x00" + text.encode("utf-8")).digest()[:20]


class VectorCache:
    """`embed(texts, compute)`: the cached vectors of `texts`, computing (and storing) only the missing ones."""

    def __init__(self, path: Path, identity: dict, dim: int):
        self.path = Path(path)
        self.identity = identity_key(identity)
        self.dim = dim
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            refuse_network_sqlite(
                self.path,
                "vector cache",
                "It is a cache of one machine: turn it off (RAG_INDEX__VECTOR_CACHE=false) where the data directory is shared",
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            # 16 KiB pages in a rowid table: 1.7 KB a 384-d vector on disk (4 KiB pages WITHOUT ROWID: 4.7 KB); the page
            # size only takes on a new file, before WAL
            db.execute("PRAGMA page_size=16384")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def embed(self, texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors of `texts` in order (float32 [n, dim]); `compute` embeds the texts the cache does not hold."""
        keys = [self.key(t) for t in texts]
        found = self._get(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if missing:
            unique: dict[bytes, int] = {}  # one computation per distinct text
            for i in missing:
                unique.setdefault(keys[i], i)
            fresh = np.asarray(compute([texts[i] for i in unique.values()]), dtype=np.float32)
            if fresh.shape != (len(unique), self.dim):
                raise ValueError(f"the embedder returned {fresh.shape} for {len(unique)} texts of dimension {self.dim}")
            found.update(zip(unique, fresh))
            self._put(zip(unique, fresh))
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    def _get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            db = self._conn()
            distinct = list(dict.fromkeys(keys))
            for start in range(0, len(distinct), BATCH):
                part = distinct[start : start + BATCH]
                marks = ",".join("?" * len(part))
                for key, blob in db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (self.dim,):
                        found[key] = vec
        return found

    def _put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items]
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def key(self, text: str) -> bytes:
        """The cache key of `text` under this embedder (20 bytes)."""
        return text_key(self.identity, text)

    def keep_only(self, keys: Iterable[bytes]) -> int:
        """Drop every entry but those of `keys` (see `key`); returns how many were dropped."""
        keep = set(keys)
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY) WITHOUT ROWID")
                db.execute("DELETE FROM keep")
                db.executemany("INSERT OR IGNORE INTO keep (key) VALUES (?)", ((k,) for k in keep))
                dropped = db.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM keep)").rowcount
                db.execute("DELETE FROM keep")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return dropped

    def __len__(self) -> int:
        with self._lock:
            return self._conn().execute("SELECT count(*) FROM vectors").fetchone()[0]
