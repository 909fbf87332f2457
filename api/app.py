"""The REST API (FastAPI). Routes are sync so blocking model calls run in the thread pool."""

import logging
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

import rag
from api.schemas import AskRequest, SearchRequest
from rag.errors import RagError, TooLarge
from rag.services import Services
from rag.settings import Settings
from rag.types import Answer, Document, SearchResult

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, warm_up: bool = True) -> FastAPI:
    """The app; models are verified and loaded at start-up unless `warm_up` is False."""
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            services.warm_up()
        yield

    app = FastAPI(title="grounded-rag", version=rag.__version__, lifespan=lifespan,
                  description="Grounded question answering over your own documents, with page citations.")
    app.state.services = services

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        return JSONResponse(status_code=exc.status, content={"detail": exc.message})

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "index_version": services.kb.versions.manifest().get("version")}

    @app.get("/v1/info")
    def info() -> dict:
        return services.info()

    @app.get("/v1/documents", response_model=list[Document])
    def documents(collection: str | None = None) -> list[Document]:
        return services.kb.store.documents(collection)

    @app.post("/v1/search", response_model=SearchResult)
    def search(body: SearchRequest) -> SearchResult:
        return services.search(body.question, body.k, body.collection, body.filters)

    @app.post("/v1/ask", response_model=Answer)
    def ask(body: AskRequest) -> Answer:
        return services.ask(body.question, body.k, body.collection, body.filters)

    @app.post("/v1/parse", response_class=HTMLResponse)
    def parse(file: UploadFile = File(...)) -> HTMLResponse:
        """Layout HTML of one uploaded PDF or page image (nothing is stored)."""
        from ingest.html import to_html
        from ingest.pipeline import Ingestor

        if getattr(app.state, "ingestor", None) is None:
            app.state.ingestor = Ingestor(services)
        limit = services.settings.max_upload_mb * 1024 * 1024
        name = Path(file.filename or "upload").name
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            size = 0
            with open(path, "wb") as out:
                while block := file.file.read(1 << 20):
                    size += len(block)
                    if size > limit:
                        raise TooLarge(f"file larger than {services.settings.max_upload_mb} MB")
                    out.write(block)
            return HTMLResponse(to_html(app.state.ingestor.parse(path)))

    return app
