"""Vector index seam: FAISS exact inner-product search over stable int64 ids (chunk rowids).

Versions live in `indexes/<version>/` with a manifest; `current` names the live one and is switched
atomically (write beside, fsync, rename). A crash leaves the previous version serving.
"""

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _faiss():
    import faiss

    return faiss


def gpu_available() -> bool:
    """True when this faiss build has GPU support and sees a GPU."""
    faiss = _faiss()
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class FaissIndex:
    """Flat inner-product index with ids (`IndexIDMap2`). On GPU for search when asked and possible."""

    def __init__(self, dim: int, use_gpu: str = "auto", index=None):
        faiss = _faiss()
        self.dim = dim
        self.cpu = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.use_gpu = use_gpu
        self._gpu = None
        self.device = "cpu"
        self._to_gpu()

    def _to_gpu(self):
        if self.use_gpu == "never" or (self.use_gpu == "auto" and not gpu_available()):
            self._gpu, self.device = None, "cpu"
            return
        faiss = _faiss()
        try:
            self._res = getattr(self, "_res", None) or faiss.StandardGpuResources()
            self._gpu = faiss.index_cpu_to_gpu(self._res, 0, self.cpu)
            self.device = "cuda:0"
        except Exception as exc:  # noqa: BLE001 - fall back, never fail a query for want of a GPU
            if self.use_gpu == "always":
                raise
            log.warning("FAISS GPU unavailable (%s); searching on CPU", exc)
            self._gpu, self.device = None, "cpu"

    @property
    def size(self) -> int:
        return int(self.cpu.ntotal)

    def ids(self) -> np.ndarray:
        return _faiss().vector_to_array(self.cpu.id_map).astype(np.int64)

    def add(self, ids: list[int], vecs: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self.cpu.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        self._to_gpu()

    def remove(self, ids: list[int]) -> int:
        if len(ids) == 0:
            return 0
        n = self.cpu.remove_ids(np.asarray(ids, dtype=np.int64))
        self._to_gpu()
        return int(n)

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (id, score) for one query vector; `allowed` restricts the ids searched (before the cut)."""
        if self.size == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        faiss = _faiss()
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.size)
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            scores, ids = self.cpu.search(q, k, params=faiss.SearchParameters(sel=sel))
        else:
            scores, ids = (self._gpu or self.cpu).search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        _faiss().write_index(self.cpu, str(folder / "faiss.index"))

    @classmethod
    def load(cls, folder: Path, use_gpu: str = "auto") -> "FaissIndex":
        index = _faiss().read_index(str(folder / "faiss.index"))
        return cls(index.d, use_gpu, index)


class IndexVersions:
    """Publishes index versions under `<data>/indexes/` and reads the live one."""

    def __init__(self, data_dir: Path, keep: int = 2):
        self.root = Path(data_dir) / "indexes"
        self.pointer = Path(data_dir) / "current"
        self.keep = max(1, keep)

    def current(self) -> Path | None:
        try:
            name = self.pointer.read_text().strip()
        except OSError:
            return None
        folder = self.root / name
        return folder if (folder / "manifest.json").exists() else None

    def manifest(self) -> dict:
        folder = self.current()
        return json.loads((folder / "manifest.json").read_text()) if folder else {}

    def publish(self, index: FaissIndex, meta: dict, extra=None) -> Path:
        """Write `index` (and whatever `extra(folder)` writes) as a new version, then switch `current` to it atomically."""
        version = f"{self._next_number():08d}-{time.strftime('%Y%m%dT%H%M%S')}"
        folder = self.root / version
        index.save(folder)
        if extra is not None:
            extra(folder)
        manifest = dict(meta, version=version, dim=index.dim, count=index.size,
                        kind="flat-ip", created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _fsync_dir(folder)
        tmp = self.pointer.with_name("current.tmp")
        with open(tmp, "w") as f:
            f.write(version)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.pointer.parent)
        self._prune(version)
        return folder

    def _next_number(self) -> int:
        """Versions are numbered so that name order is publication order (callers hold the write lock)."""
        numbers = [int(p.name.split("-")[0]) for p in self.root.glob("*-*") if p.name.split("-")[0].isdigit()]
        return max(numbers, default=0) + 1

    def _prune(self, live: str) -> None:
        versions = sorted(p for p in self.root.iterdir() if p.is_dir())
        for old in versions[: -self.keep]:
            if old.name != live:
                shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
