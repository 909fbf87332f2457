"""Routes for documents and ingestion jobs: upload or name files (a job, 202), follow and cancel jobs, read and
delete documents. The API stores uploads and queues jobs; it never parses (`rag worker` does)."""

import os
import shutil
from functools import cached_property
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.http.schemas import PathsRequest
from api.http.uploads import read_form, upload_body
from ingest.jobs.protocol import JobQueue
from ingest.jobs.queue import make_job_queue, new_job_id
from ingest.jobs.uploads import storing, sweep, uploads_dir
from ingest.parse.sniff import sniff
from ingest.pipeline import expand
from rag.core.errors import BadInput, Forbidden, NotFound, RagError, UnsupportedType
from rag.core.files import layout_html_path
from rag.core.types import Document, DocumentDetail, Job
from rag.service.access import AllowedRoots, Principal, check_collection, safe_filename
from rag.store.jobs import JobStore


class DocumentRoutes:
    def __init__(self, services, auth):
        self.services = services
        self.settings = services.settings
        self.auth = auth

    @cached_property
    def queue(self) -> JobQueue:
        return make_job_queue(self.settings, JobStore(self.services.kb.store))

    # ---- uploads and server-side paths -> files of a job -------------------------------------------
    async def uploaded_files(self, request: Request, job_id: str) -> tuple[str, list]:
        cfg = self.settings
        form = await read_form(request, cfg.max_upload_files, cfg.max_upload_mb)
        try:
            uploads = [v for k, v in form.multi_items() if k in ("files", "file") and isinstance(v, UploadFile)]
            field = form.get("collection")
            collection = field if isinstance(field, str) else "default"
            if not uploads:
                raise BadInput("no files: send one or more multipart fields named 'files'")
            folder = uploads_dir(cfg, job_id)
            try:
                return collection, await run_in_threadpool(self._store_uploads, uploads, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        finally:
            await form.close()

    def _store_uploads(self, uploads: list[UploadFile], folder: Path) -> list[tuple[str, str, str]]:
        """Copy the uploads (each already within its size: `read_form` counted it) into the job's folder."""
        folder.mkdir(parents=True, exist_ok=True)
        files, seen = [], set()
        for up in uploads:
            name = safe_filename(up.filename)
            stem, dot, ext = name.rpartition(".")
            k = 2
            while name in seen:
                name = f"{stem or ext} ({k}){dot}{ext if stem else ''}"
                k += 1
            seen.add(name)
            path = folder / name
            with open(path, "wb") as out:
                shutil.copyfileobj(up.file, out, 1 << 20)
            sniff(path)  # by content: a text file named .pdf is 415 here, before anything is queued
            files.append((name, str(path), f"uploads/{name}"))
        return files

    def server_files(self, paths: list[str]) -> list[tuple[str, str, None]]:
        roots = AllowedRoots(self.settings.ingest.allowed_roots)
        if not roots.roots:
            raise Forbidden("server-side paths are not allowed here (the admin sets RAG_INGEST__ALLOWED_ROOTS)")

        files: list[tuple[str, str, None]] = []
        for raw in paths:
            if "\x00" in raw or not os.path.isabs(raw):
                raise BadInput(f"not an absolute path: {raw!r}")
            real = Path(os.path.realpath(raw))
            if not roots.contains(real):
                raise Forbidden(f"{raw} is outside the allowed roots")
            if not real.exists():
                raise NotFound(f"no such file or folder: {raw}")
            found, _ = expand([real])
            for f in found:
                target = Path(os.path.realpath(f))
                if not roots.contains(target):  # a link inside a root pointing outside it
                    raise Forbidden(f"{f} leads outside the allowed roots")
                files.append((target.name, str(target), None))
        if not files:
            raise BadInput("no files found under the given paths")
        return files

    # ---- routes ------------------------------------------------------------------------------------
    def router(self) -> APIRouter:
        r = APIRouter(prefix="/v1")
        auth = self.auth

        @r.post(
            "/documents",
            status_code=202,
            response_model=Job,
            openapi_extra=upload_body("files", PathsRequest.model_json_schema()),
            responses={202: {"description": "the job, queued; follow it at /v1/jobs/{id}"}},
        )
        async def add_documents(request: Request, who: Principal = Depends(auth)):
            """Ingest uploaded files (multipart `files`, `collection`) or server-side files and folders (JSON
            `{"paths": [...], "collection": ...}`) in the background: 202 with the job."""
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("multipart/form-data"):
                who.check_write()
                with storing(self.settings):  # until the job row is written: a sweep leaves the folder alone
                    return await self._queue_uploads(request, who)
            if ctype.startswith("application/json"):
                try:
                    body = PathsRequest.model_validate(await request.json())
                except ValidationError as exc:
                    raise RequestValidationError(exc.errors(include_input=False)) from None
                except ValueError:
                    raise BadInput("the body is not valid JSON") from None
                collection = body.collection
                check_collection(collection)
                who.check_write(collection)
                files = await run_in_threadpool(self.server_files, body.paths)
                return await self._queued(new_job_id(), collection, files, who)
            raise UnsupportedType("send multipart/form-data (files) or application/json (paths)")

        @r.get("/jobs", response_model=list[Job])
        def jobs(limit: int = Query(50, ge=1, le=500), who: Principal = Depends(auth)) -> list[Job]:
            """The latest jobs of the collections the key may read."""
            return self.queue.jobs.recent(who.visible(), limit)

        @r.get("/jobs/{job_id}", response_model=Job)
        def job(job_id: str, who: Principal = Depends(auth)) -> Job:
            """A job's state (queued, running, done, failed, cancelled) and each file's progress and error."""
            return self._job(job_id, who)

        @r.delete("/jobs/{job_id}", response_model=Job)
        def cancel_job(job_id: str, who: Principal = Depends(auth)) -> Job:
            """Cancel a job: at once when queued, after the current file when running (files done stay)."""
            who.check_write(self._job(job_id, who).collection)
            return self.queue.cancel(job_id)

        @r.get("/documents/{doc_id}", response_model=DocumentDetail)
        def document(doc_id: str, html: bool = True, who: Principal = Depends(auth)) -> DocumentDetail:
            """A document's status, pages, chunks and (unless `html=false`) its layout HTML."""
            doc = self._document(doc_id, who)
            path = layout_html_path(self.settings.data_dir, doc.id)
            text = path.read_text(encoding="utf-8") if html and path.exists() else None
            return DocumentDetail(**doc.model_dump(), html=text)

        @r.delete("/documents/{doc_id}")
        def delete_document(doc_id: str, alias: str | None = None, who: Principal = Depends(auth)) -> dict:
            """Remove a document's name: the document goes from the store and from every index (a new index
            version is published) unless another name (an alias: the same content found under another path) still
            refers to it; then it stays under that name. `alias=PATH` removes that alias only."""
            doc = self._document(doc_id, who)
            who.check_write(doc.collection)
            if alias is not None and alias not in doc.aliases:
                raise NotFound(f"document {doc.id} has no alias {alias!r}")
            what, _, removed = self.services.kb.remove_name(doc.collection, alias or doc.path)  # with its layout HTML
            kept = self.services.kb.store.document(doc.id)
            out = {"deleted": doc.id if what == "deleted" else None, "name": doc.name, "collection": doc.collection}
            return out | {"chunks": removed, "outcome": what, "kept_as": kept.path if kept else None}

        return r

    async def _queue_uploads(self, request: Request, who: Principal) -> JSONResponse:
        job_id = new_job_id()
        collection, files = await self.uploaded_files(request, job_id)
        try:
            check_collection(collection)
            who.check_write(collection)
        except RagError:
            shutil.rmtree(uploads_dir(self.settings, job_id), ignore_errors=True)
            raise
        return await self._queued(job_id, collection, files, who)

    async def _queued(self, job_id: str, collection: str, files: list, who: Principal) -> JSONResponse:
        job = await run_in_threadpool(self.queue.submit, job_id, collection, files, who.key_id)
        return JSONResponse(job.model_dump(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

    def sweep_uploads(self) -> list[str]:
        """Upload folders left by ended jobs and by an API killed while storing (at start)."""
        return sweep(self.settings, JobStore(self.services.kb.store))

    def _job(self, job_id: str, who: Principal) -> Job:
        job = self.queue.jobs.get(job_id)
        if job is None or not _sees(who, job.collection):
            raise NotFound(f"no job {job_id}")
        return job

    def _document(self, doc_id: str, who: Principal):
        return visible_document(self.services.kb.store, doc_id, who)


def visible_document(store, doc_id: str, who: Principal) -> Document:
    """The stored document `doc_id` if the key may read its collection; NotFound otherwise (as if it did not exist)."""
    doc = store.document(doc_id)
    if doc is None or not _sees(who, doc.collection):
        raise NotFound(f"no document {doc_id}")
    return doc


def _sees(who: Principal, collection: str) -> bool:
    return who.collections is None or collection in who.collections
