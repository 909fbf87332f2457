"""Page routes: a stored document's pages (sizes, labels, warnings) and each page as a PNG for the web app's viewer,
with the same per-key access as the other document routes (a document of another collection is not found)."""

import time

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.http.documents import visible_document
from ingest.pages.cache import PageImageCache
from ingest.pages.layout import PageTable
from ingest.pages.quote import quote_boxes
from ingest.pages.render import clamp_dpi, no_page_images, page_source, render_png
from rag.core.errors import RagError
from rag.core.types import DocumentPages, PageInfo
from rag.service.access import Principal

MB = 1024 * 1024
MAX_QUOTE = 2000  # characters of a quote looked for on a page


class PageRoutes:
    def __init__(self, services, auth):
        self.services = services
        self.settings = services.settings
        self.auth = auth
        self.table = PageTable(self.settings.data_dir)
        self.cache = PageImageCache(self.settings.data_dir, self.settings.pages.cache_mb * MB)

    def router(self) -> APIRouter:
        r = APIRouter(prefix="/v1")
        auth, store, data_dir = self.auth, self.services.kb.store, self.settings.data_dir

        @r.get(
            "/documents/{doc_id}/pages/{n}.png",
            response_class=Response,
            responses={
                200: {"content": {"image/png": {}}, "description": "the page, upright"},
                404: {"description": "no such document or page, or its original file is not kept"},
                415: {"description": "a document of a kind without pages (office, web, e-mail, text)"},
            },
        )
        def page_image(
            doc_id: str,
            n: int,
            dpi: int | None = Query(None, description="resolution; clamped to RAG_PAGES__MIN_DPI..RAG_PAGES__MAX_DPI"),
            who: Principal = Depends(auth),
        ) -> Response:
            """Page `n` of a PDF, scan or page image as PNG, rendered from the kept original and cached on disk
            (`X-Page-Cache: hit|miss`; `Server-Timing` says the render time)."""
            doc = visible_document(store, doc_id, who)
            info = self.table.page(doc.id, n)
            if info.label:  # a section of a document without printed pages (a heading, a slide, a sheet)
                raise no_page_images(doc)
            resolution = clamp_dpi(dpi, self.settings.pages)
            t0 = time.perf_counter()
            data = self.cache.get(doc.id, n, resolution)
            outcome = "hit"
            if data is None:
                outcome = "miss"
                source = page_source(data_dir, doc)
                data = render_png(source, n, resolution, info.rotation, self.settings.parse.max_render_pixels)
                self.cache.put(doc.id, n, resolution, data)
            ms = (time.perf_counter() - t0) * 1000
            headers = {
                "Cache-Control": "private, max-age=3600",
                "X-Page-Cache": outcome,
                "X-Page-Dpi": str(resolution),
                "Server-Timing": f"{'cache' if outcome == 'hit' else 'render'};dur={ms:.1f}",
            }
            return Response(data, media_type="image/png", headers=headers)

        @r.get("/documents/{doc_id}/pages", response_model=DocumentPages)
        def pages(doc_id: str, who: Principal = Depends(auth)) -> DocumentPages:
            """Every page's size (page units), label, rotation, warning and error, and whether page images exist."""
            doc = visible_document(store, doc_id, who)
            listed = self.table.pages(doc.id)
            images, reason = True, ""
            try:
                if any(p.label for p in listed):
                    raise no_page_images(doc)
                page_source(data_dir, doc)
            except RagError as exc:
                images, reason = False, exc.message
            return DocumentPages(doc_id=doc.id, name=doc.name, images=images, reason=reason, pages=listed)

        @r.get("/documents/{doc_id}/pages/{n}", response_model=PageInfo)
        def page(
            doc_id: str,
            n: int,
            quote: str | None = Query(None, max_length=MAX_QUOTE, description="a citation's quote to locate on the page"),
            who: Principal = Depends(auth),
        ) -> PageInfo:
            """One page's size and notes; with `quote`, the boxes of the lines it is written on (born-digital PDF
            pages; [] where it cannot be located: scans, images, a quote the text layer does not hold)."""
            doc = visible_document(store, doc_id, who)
            info = self.table.page(doc.id, n)
            if not quote or info.source != "text":
                return info
            try:
                source = page_source(data_dir, doc)
            except RagError:
                return info
            if source.kind != "pdf":
                return info
            return info.model_copy(update={"quote_boxes": quote_boxes(source.path, n, quote)})

        return r
