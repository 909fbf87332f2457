"""The REST API (FastAPI). Routes are sync so blocking model calls run in the thread pool."""

import asyncio
import json
import logging
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

import rag
from api.schemas import AskRequest, SearchRequest
from rag.errors import Busy, Cancelled, RagError, TooLarge
from rag.services import Services
from rag.serving import Gate, Ticket
from rag.settings import Settings
from rag.types import Answer, Document, SearchResult

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, warm_up: bool = True) -> FastAPI:
    """The app; models are verified and loaded at start-up unless `warm_up` is False."""
    services = Services(settings)
    serving = services.settings.serving
    gate = Gate(serving.max_concurrent, serving.queue_size, serving.queue_timeout_s,
                services.settings.generator.timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            services.warm_up()
        yield

    app = FastAPI(title="grounded-rag", version=rag.__version__, lifespan=lifespan,
                  description="Grounded question answering over your own documents, with page citations.")
    app.state.services = services
    app.state.gate = gate

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
        return JSONResponse(status_code=exc.status, content={"detail": exc.message}, headers=headers)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "index_version": services.kb.versions.manifest().get("version")}

    @app.get("/v1/info")
    def info() -> dict:
        return dict(services.info(), serving={"slots": gate.slots, "queue": gate.queue,
                                              "admitted": gate.admitted, "waiting": gate.waiting})

    @app.get("/v1/documents", response_model=list[Document])
    def documents(collection: str | None = None) -> list[Document]:
        return services.kb.store.documents(collection)

    @app.post("/v1/search", response_model=SearchResult)
    def search(body: SearchRequest) -> SearchResult:
        return services.search(body.question, body.k, body.collection, body.filters)

    @app.post("/v1/ask", response_model=Answer,
              responses={503: {"description": "busy: retry after the Retry-After header's seconds"}})
    async def ask(body: AskRequest, request: Request):
        """A checked, cited answer, or with `"stream": true` server-sent events (token..., answer | error)."""
        ticket = gate.admit()  # Busy (503) at once when every slot and the queue are taken

        def work(on_token=None) -> Answer:
            with ticket:
                ticket.wait()
                try:
                    return services.ask(body.question, body.k, body.collection, body.filters, mode=body.mode,
                                        summarize=body.summarize, on_token=ticket.chain(on_token))
                except Cancelled:
                    log.warning("generation stopped: the client disconnected")
                    raise

        if body.stream:
            return StreamingResponse(_events(work, ticket), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return await _watch(asyncio.ensure_future(run_in_threadpool(work)), ticket, request)

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


async def _watch(task: asyncio.Future, ticket: Ticket, request: Request):
    """Await the work; cancel its generation if the client disconnects first."""
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                ticket.cancel()
    except asyncio.CancelledError:
        ticket.cancel()
        raise


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(work, ticket: Ticket):
    """Server-sent events: `token` per piece of generated text, then one `answer` (or `error`), then the end.

    When the client goes away, the stream is cancelled and so is the generation behind it.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def on_token(piece: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("token", {"text": piece}))

    async def run() -> None:
        try:
            answer = await run_in_threadpool(work, on_token)
            await queue.put(("answer", answer.model_dump()))
        except RagError as exc:
            await queue.put(("error", {"detail": exc.message, "status": exc.status}))
        except Exception:  # noqa: BLE001 - reported to the client as an event, logged in full here
            log.exception("streamed answer failed")
            await queue.put(("error", {"detail": "internal error", "status": 500}))
        finally:
            await queue.put(None)

    task = asyncio.ensure_future(run())
    try:
        while (item := await queue.get()) is not None:
            yield _sse(*item)
    finally:
        ticket.cancel()  # the client left (or the stream ended): stop generating
        if not task.done():
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
