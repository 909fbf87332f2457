"""The pages of a stored document as its layout HTML records them (size, label, rotation, warning, error), read once
per version of the file and kept in a small cache."""

import threading
from collections import OrderedDict
from pathlib import Path

from ingest.parse.from_html import read_layout_html
from rag.core.errors import NotFound
from rag.core.files import layout_html_path
from rag.core.types import PageInfo

KEPT = 64  # documents whose pages are kept in memory


class PageTable:
    """Each document's `PageInfo`s, read from `<data dir>/html/<id>.html` and kept for the last `KEPT` documents."""

    def __init__(self, data_dir: Path, kept: int = KEPT):
        self.data_dir = Path(data_dir)
        self.kept = kept
        self._cache: OrderedDict[tuple[str, int], list[PageInfo]] = OrderedDict()
        self._lock = threading.Lock()

    def pages(self, doc_id: str) -> list[PageInfo]:
        path = layout_html_path(self.data_dir, doc_id)
        try:
            key = (doc_id, path.stat().st_mtime_ns)
        except FileNotFoundError:
            raise NotFound(f"document {doc_id} has no layout HTML kept, so no page sizes") from None
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        parsed = read_layout_html(path.read_text(encoding="utf-8"))
        pages = [
            PageInfo(
                n=p.number,
                width=p.width,
                height=p.height,
                source=p.source,
                label=p.label,
                rotation=p.rotation,
                warning=p.warning,
                error=p.error,
            )
            for p in parsed.pages
        ]
        with self._lock:
            self._cache[key] = pages
            while len(self._cache) > self.kept:
                self._cache.popitem(last=False)
        return pages

    def page(self, doc_id: str, n: int) -> PageInfo:
        pages = self.pages(doc_id)
        for p in pages:
            if p.n == n:
                return p
        raise NotFound(f"page {n} not found: the document has {len(pages)} pages")
