"""A stored document's page as a PNG: rendered with pdfium from the kept original (a PDF, born-digital or scanned)
or read with Pillow (a page image), turned upright as ingest turned it, so the boxes of its layout HTML (PDF points,
or pixels of an image) fall where they belong on it.

pdfium may not be called from two threads at once, even on different documents: every call here holds `PDFIUM`.
"""

import io
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from ingest.parse.limits import ParseLimits
from ingest.parse.sniff import sniff
from rag.core.errors import NotFound, RagError, UnsupportedType
from rag.core.files import original_path
from rag.core.hashing import sha256_file
from rag.core.settings import PagesSettings
from rag.core.types import Document

PDFIUM = threading.Lock()
PAGED = ("pdf", "image")  # the kinds with page images
IMAGE_DPI = 150.0  # the resolution assumed for a page image that states none


@dataclass(frozen=True)
class PageSource:
    """The file a document's page images are rendered from, and its kind (pdf or image)."""

    path: Path
    kind: str


def clamp_dpi(dpi: int | None, cfg: PagesSettings) -> int:
    """The resolution served: the default when none is asked for, else within [min_dpi, max_dpi]."""
    if dpi is None:
        return cfg.default_dpi
    return max(cfg.min_dpi, min(cfg.max_dpi, int(dpi)))


def no_page_images(doc: Document, kind: str = "") -> UnsupportedType:
    """The refusal for a document without printed pages (office, web, e-mail, text: sections, slides, sheets)."""
    what = f"is a {kind} document" if kind else "has no printed pages"
    return UnsupportedType(
        f"{doc.name} {what}: its sections are no printed pages, so it has no page images (PDFs, scans and page images have them)"
    )


def page_source(data_dir: Path, doc: Document) -> PageSource:
    """The kept original of `doc` (`<data dir>/originals/<id>`), else the file at its path while it still holds the
    same content (a document ingested before originals were kept); NotFound when neither exists; UnsupportedType
    for a document of a kind without pages (office, web, e-mail, text)."""
    for path, check in ((original_path(data_dir, doc.id), False), (Path(doc.path), True)):
        if not path.is_absolute() and check:
            continue
        try:
            if not path.is_file():
                continue
            kind = sniff(path)
            if check and sha256_file(path) != doc.sha256:
                continue
        except (OSError, RagError):
            continue
        if kind not in PAGED:
            raise no_page_images(doc, kind)
        return PageSource(path, kind)
    raise NotFound(
        f"no page images for {doc.name}: its original file is not kept (ingest it again with RAG_PAGES__KEEP_ORIGINALS=true)"
    )


def render_png(source: PageSource, page: int, dpi: int, rotation: int = 0, max_pixels: int = 40_000_000) -> bytes:
    """Page `page` (1-based) of `source` at `dpi` as PNG bytes, turned back by `rotation` (the clockwise degrees
    ingest found the page turned by, `data-rotation`); at most `max_pixels` pixels (the resolution is lowered to fit).
    NotFound for a page the file does not have."""
    from PIL import Image

    if source.kind == "pdf":
        image = _render_pdf_page(source.path, page, dpi, max_pixels)
    else:
        if page != 1:
            raise NotFound(f"page {page} not found: a page image has 1 page")
        with Image.open(source.path) as img:
            img.load()
            stated = img.info.get("dpi", (IMAGE_DPI, IMAGE_DPI))[0] or IMAGE_DPI
            image = img.convert("RGB")
        scale = min(1.0, dpi / float(stated), math.sqrt(max_pixels / max(image.width * image.height, 1)))
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
    if rotation in (90, 180, 270):
        image = image.transpose(Image.Transpose[f"ROTATE_{rotation}"])
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _render_pdf_page(path: Path, page: int, dpi: int, max_pixels: int):
    import pypdfium2 as pdfium

    with PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 1 <= page <= len(pdf):
                raise NotFound(f"page {page} not found: the document has {len(pdf)} pages")
            p = pdf[page - 1]
            width, height = p.get_size()
            scale = ParseLimits(max_pixels=max_pixels).render_scale(width, height, dpi / 72.0)
            return p.render(scale=scale).to_pil().convert("RGB")
        finally:
            pdf.close()
