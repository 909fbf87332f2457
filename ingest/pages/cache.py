"""Rendered page images kept on disk (`<data dir>/page_images/<document id>/<page>-<dpi>.png`) within a size cap:
when a new image takes the total over it, the least recently used go (a hit refreshes an image's time) until the
total is under 90% of the cap. A cap of 0 keeps nothing. Files are written beside and renamed into place, so a
reader never sees half an image; a document's images go with it (`rag.core.files.remove_document_files`)."""

import os
import threading
from pathlib import Path

from rag.core.files import page_images_dir

LOW_WATER = 0.9  # eviction stops under this share of the cap


class PageImageCache:
    def __init__(self, data_dir: Path, cap_bytes: int):
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "page_images"
        self.cap = max(0, int(cap_bytes))
        self.hits = 0
        self.misses = 0
        self._total: int | None = None  # bytes on disk, counted once, then kept up to date
        self._lock = threading.Lock()

    def path(self, doc_id: str, page: int, dpi: int) -> Path:
        return page_images_dir(self.data_dir, doc_id) / f"{page}-{dpi}.png"

    def get(self, doc_id: str, page: int, dpi: int) -> bytes | None:
        path = self.path(doc_id, page, dpi)
        try:
            data = path.read_bytes()
            os.utime(path)  # most recently used
        except FileNotFoundError:
            with self._lock:
                self.misses += 1
            return None
        with self._lock:
            self.hits += 1
        return data

    def put(self, doc_id: str, page: int, dpi: int, data: bytes) -> None:
        if self.cap == 0 or len(data) > self.cap:
            return
        path = self.path(doc_id, page, dpi)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        with self._lock:
            total = self._counted()
            old = path.stat().st_size if path.exists() else 0
            os.replace(tmp, path)
            self._total = total - old + len(data)
            if self._total > self.cap:
                self._evict()

    def size(self) -> int:
        """Bytes of page images on disk."""
        with self._lock:
            return self._counted()

    def _files(self) -> list[tuple[float, int, Path]]:
        out = []
        for path in self.root.glob("*/*.png") if self.root.is_dir() else []:
            try:
                st = path.stat()
            except FileNotFoundError:  # its document was removed meanwhile
                continue
            out.append((st.st_mtime, st.st_size, path))
        return out

    def _counted(self) -> int:
        if self._total is None:
            self._total = sum(size for _, size, _ in self._files())
        return self._total

    def _evict(self) -> None:
        files = sorted(self._files())  # oldest first
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self.cap * LOW_WATER:
                break
            path.unlink(missing_ok=True)
            total -= size
        self._total = total
