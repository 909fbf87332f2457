"""The REST API (FastAPI). Routes are sync so blocking model calls run in the thread pool."""

import asyncio
import logging
import tempfile
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

import rag
from api.http.auth import Auth
from api.http.boundary import TrustBoundary, allowed_hosts
from api.http.conversations import ConversationRoutes
from api.http.documents import DocumentRoutes
from api.http.errors import install_error_handlers
from api.http.observe import Metrics, Readiness, install
from api.http.openai_chat import OpenAIRoutes
from api.http.pages import PageRoutes
from api.http.schemas import AskRequest, SearchRequest
from api.http.streaming import named_events, watch
from api.http.uploads import MB, BodyLimit, read_form, upload_body
from api.http.webapp import install_web_app
from rag.core.errors import BadInput, Cancelled
from rag.core.settings import Settings
from rag.core.types import Answer, Document, SearchResult
from rag.service.access import KeyRing, Principal, RateLimiter, auth_required, safe_filename
from rag.service.chat import Chat
from rag.service.gate import Gate
from rag.service.services import Services

PING_S = 15  # seconds between keep-alive comments on an answer stream

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, warm_up: bool = True, host: str | None = None, services: Services | None = None
) -> FastAPI:
    """The app; models are verified and loaded in the background at start-up (`/readyz`) unless `warm_up` is False.

    `host` is the address the server binds: with `RAG_AUTH__REQUIRED=auto`, API keys are required unless it is
    a loopback address (an unknown host counts as public). `services` may be given ready-made (tests)."""
    services = services or Services(settings)
    cfg = services.settings
    services.isolate_generator = cfg.generator.isolate
    auth = Auth(KeyRing(services.kb.store), auth_required(cfg.auth.required, host), RateLimiter(cfg.auth.rate_per_min))
    if not auth.required:
        log.warning("API keys are not required (RAG_AUTH__REQUIRED=%s, host %s)", cfg.auth.required, host)
    serving = services.settings.serving
    gate = Gate(serving.max_concurrent, serving.queue_size, serving.queue_timeout_s, services.settings.generator.timeout_s)

    readiness = Readiness()
    document_routes = DocumentRoutes(services, auth)
    if not warm_up:
        readiness.event.set()  # models load on first use

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Models load in the background: /healthz answers at once, /readyz says 503 until they are loaded,
        # and requests that need them wait for the warm-up (or get its error).
        if warm_up:
            threading.Thread(target=readiness.run, args=(services.warm_up,), name="warm-up", daemon=True).start()
        document_routes.sweep_uploads()  # left by ended jobs, or by this API killed while it stored an upload
        yield

    app = FastAPI(
        title="grounded-rag",
        version=rag.__version__,
        lifespan=lifespan,
        description="Grounded question answering over your own documents, with page citations.",
    )
    app.state.services = services
    app.state.gate = gate
    app.state.auth = auth
    app.state.readiness = readiness
    metrics = app.state.metrics = Metrics(services, gate, readiness)

    def models_loaded(_: Principal = Depends(auth)) -> None:
        """Wait for the warm-up (after the key check, so a request without a valid key never waits)."""
        readiness.wait(serving.queue_timeout_s)

    install_error_handlers(app)
    app.add_middleware(BodyLimit, upload_limit=(cfg.max_upload_mb * cfg.max_upload_files + 1) * MB)
    app.add_middleware(TrustBoundary, hosts=allowed_hosts(cfg.http, host, auth.required), origins=cfg.http.allowed_origins)
    install(app, metrics)  # added last, so it wraps everything: every response has its request id

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "index_version": services.kb.versions.manifest().get("version")}

    @app.get("/readyz", responses={503: {"description": "models or index not loaded yet (or warm-up failed)"}})
    def readyz():
        """200 once the models are verified and loaded and the index agrees with the store; 503 before."""
        if readiness.ready and not services.answers_unavailable:
            return {"status": "ready", "index_version": services.kb.versions.manifest().get("version")}
        detail = readiness.error.message if readiness.error else services.answers_unavailable or "loading models and index"
        return JSONResponse(status_code=503, content={"detail": detail})

    @app.get("/v1/info")
    def info(who: Principal = Depends(auth)) -> dict:
        """Versions, models and the index; counts of the key's collections only, server paths only without a
        collection scope (the operator on loopback)."""
        return dict(
            services.info(who.collections),
            serving={"slots": gate.slots, "queue": gate.queue, "admitted": gate.admitted, "waiting": gate.waiting},
        )

    @app.get("/v1/documents", response_model=list[Document])
    def documents(collection: str | None = None, who: Principal = Depends(auth)) -> list[Document]:
        """Stored documents of `collection`, or of every collection the API key may read."""
        return services.kb.store.documents(collections=who.visible(collection))

    @app.post("/v1/search", response_model=SearchResult, dependencies=[Depends(models_loaded)])
    def search(body: SearchRequest, who: Principal = Depends(auth)) -> SearchResult:
        collection, filters = who.scope(body.collection, body.filters)
        return services.search(body.question, body.k, collection, filters)

    @app.post(
        "/v1/ask",
        response_model=Answer,
        dependencies=[Depends(models_loaded)],
        responses={503: {"description": "busy: retry after the Retry-After header's seconds"}},
    )
    async def ask(body: AskRequest, request: Request, who: Principal = Depends(auth)):
        """A checked, cited answer, or with `"stream": true` server-sent events (token..., answer | error)."""
        collection, filters = who.scope(body.collection, body.filters)
        ticket = gate.admit()  # Busy (503) at once when every slot and the queue are taken

        def work(on_token=None) -> Answer:
            with ticket:
                ticket.wait()
                try:
                    answer = services.ask(
                        body.question,
                        body.k,
                        collection,
                        filters,
                        mode=body.mode,
                        summarize=body.summarize,
                        on_token=ticket.chain(on_token),
                    )
                    metrics.observe_answer(answer)
                    return answer
                except Cancelled:
                    log.warning("generation stopped: the client disconnected")
                    raise

        if body.stream:
            events = named_events(lambda send: work(lambda piece: send("token", {"text": piece})), ticket)
            return EventSourceResponse(events, sep="\n", ping=PING_S)
        return await watch(asyncio.ensure_future(run_in_threadpool(work)), ticket.cancel, request)

    app.include_router(document_routes.router())
    chat = app.state.chat = Chat(services)
    app.include_router(ConversationRoutes(chat, auth, gate, metrics, models_loaded, PING_S).router())
    app.include_router(OpenAIRoutes(chat, auth, gate, metrics, models_loaded, PING_S).router())
    app.include_router(PageRoutes(services, auth).router())
    install_web_app(app)

    @app.post(
        "/v1/parse",
        response_class=HTMLResponse,
        dependencies=[Depends(models_loaded)],
        openapi_extra=upload_body("file"),
    )
    async def parse(request: Request, who: Principal = Depends(auth)) -> HTMLResponse:
        """Layout HTML of one uploaded PDF or page image (nothing is stored). Needs a key with write rights.
        The parse stops, between pages, when the client goes away."""
        from ingest.parse.html import to_html
        from ingest.pipeline import Ingestor

        who.check_write()
        if getattr(app.state, "ingestor", None) is None:
            app.state.ingestor = Ingestor(services)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadInput("send the file as multipart/form-data, field 'file'")
        form = await read_form(request, 1, cfg.max_upload_mb)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadInput("no file: send it as the multipart field 'file'")
            left = threading.Event()

            def work() -> str:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / safe_filename(upload.filename)
                    with open(path, "wb") as out:
                        while block := upload.file.read(MB):
                            out.write(block)
                    return to_html(app.state.ingestor.parse(path, stop=left.is_set))

            html = await watch(asyncio.ensure_future(run_in_threadpool(work)), left.set, request)
            return HTMLResponse(html)
        finally:
            await form.close()

    return app
