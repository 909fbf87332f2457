"""Ingestion: files and folders -> parsed, chunked, embedded and stored; a report of every file."""

import hashlib
import io
import logging
import os
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ingest.chunker import chunks_with
from ingest.formats.images import MIN_SIDE
from ingest.formats.readers import FORMATS, read_document
from ingest.ocr.engines import make_ocr
from ingest.page import Block, Page, ParsedDocument
from ingest.parse.from_html import read_layout_html
from ingest.parse.html import to_html
from ingest.parse.limits import ParseLimits, Stop
from ingest.parse.pdf import parse_image, parse_pdf, parse_picture
from ingest.parse.scan import ScanReader
from ingest.parse.sniff import sniff
from ingest.pool import ParsePool
from ingest.results import FileResult, Report
from rag.answering.steering import addressed_phrase
from rag.core.errors import EmptyFile, RagError
from rag.core.files import layout_html_path, original_path, remove_document_files
from rag.core.hashing import sha256_file, text_sha256
from rag.core.threads import cores
from rag.core.types import Chunk, Document
from rag.profiles.extract import build_profile
from rag.profiles.overrides import PROFILE_TAGS, apply_tags
from rag.profiles.pdf_metadata import pdf_metadata
from rag.service.services import Services

log = logging.getLogger(__name__)

ATTACHED = "#attachments/"  # an attachment's key: its message's key, this, its file name
PAGED_KINDS = ("pdf", "image")  # kinds with printed pages: their original is kept, page images rendered from it
MAX_ATTACHMENT_DEPTH = 3  # messages attached to messages: attachments read this many levels down, then only listed


@dataclass
class Prepared:
    """A parsed, chunked and embedded file, ready to be written."""

    result: FileResult
    doc: Document
    size: int
    mtime: float
    chunks: list
    vecs: object
    old_id: str | None
    t0: float
    attachments: list[tuple[str, bytes]] | None = None  # files inside it (e-mail attachments), ingested after it


@dataclass
class ToParse:
    """A file that is new or changed: what `Ingestor.build` needs to parse it (picklable, for parse processes)."""

    path: Path
    ident: str
    collection: str
    digest: str
    old: Document | None
    tags: dict[str, str] | None
    t0: float


def _failed(path: Path, exc: Exception, t0: float) -> FileResult:
    """The report line of a file that could not be ingested: a RagError's one-line reason, else the exception."""
    if isinstance(exc, RagError):
        log.warning("ingest failed: %s", exc.message)
        return FileResult(str(path), "failed", exc.message, seconds=time.perf_counter() - t0)
    log.error("unexpected error ingesting %s", path, exc_info=exc)
    return FileResult(str(path), "failed", f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)


def expand(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files named directly plus every non-hidden file under named folders, each once; missing paths reported."""
    files, missing = [], []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(
                    f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        elif p.exists():
            files.append(p)
        else:
            missing.append(FileResult(str(p), "failed", f"no such file or folder: {p}"))
    return _once(files), missing


def _once(files: list[Path]) -> list[Path]:
    """Each file once, where it was first named (a file named twice, or in a folder also named, is ingested once)."""
    seen: set[Path] = set()
    out: list[Path] = []
    for f in files:
        real = f.resolve()
        if real not in seen:
            seen.add(real)
            out.append(f)
    return out


class Ingestor:
    """Parses files into layout HTML and chunks, and writes them into the knowledge base."""

    def __init__(self, services: Services, ocr=None, workers: int | None = None, processes: int | None = None):
        """`workers`: processes for one long PDF; `processes`: files parsed at once by `ingest_paths` (default:
        the settings; 0 = one per core; 1 = here, in this process)."""
        self.services = services
        parse = services.settings.parse
        self.ocr = ocr or ScanReader(
            make_ocr(parse.ocr_engine, parse.tesseract_lang, parse.threads), registry=services.registry, threads=parse.threads
        )
        configured = parse.workers if workers is None else workers
        self.workers = configured or os.cpu_count() or 1
        self.processes = (parse.processes if processes is None else processes) or cores()

    def parse(self, path: Path, stop: Stop | None = None) -> ParsedDocument:
        """Layout of one file of any kind sniffed (raises RagError subclasses with a one-line reason), a PDF or page
        image within the parse limits of the settings; `stop()` true between a PDF's pages stops it (Cancelled)."""
        kind = sniff(path)
        parse = self.services.settings.parse
        if kind == "pdf":
            return parse_pdf(path, self.ocr, self.workers, parse.table_model, ParseLimits.of(parse), stop)
        if kind in FORMATS:
            return read_document(path, kind, read_image=self.read_picture)
        return parse_image(path, self.ocr, ParseLimits.of(parse))

    def read_picture(self, data: bytes) -> str:
        """The text of a picture inside a document, read as a page image is (OCR, layout); "" for a picture too
        small to hold text (`MIN_SIDE`), in a format Pillow cannot open (EMF, WMF), or that fails."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as img:
                if min(img.size) < MIN_SIDE:
                    return ""
                img.load()
                image = img.convert("RGB")
            page = parse_picture(image, self.ocr, "picture").pages[0]
        except Exception as exc:  # noqa: BLE001 - a picture that cannot be read leaves its alt text
            log.info("picture not read: %s", exc)
            return ""
        return "\n".join(b.text for b in page.blocks if b.text.strip())  # a picture's top line is no running header

    def ingest_file(
        self,
        path: Path,
        collection: str = "default",
        key: str | None = None,
        force: bool = False,
        tags: dict[str, str] | None = None,
    ) -> FileResult:
        """Ingest one file. `key` is its identity in the collection (default: its absolute path): a file with the
        same key and content is skipped (unless `force`), with new content it replaces the old version (an upload
        keeps its name as key, so uploading it again never duplicates it). `tags` (key=value metadata) replace the
        document's tags; None keeps the tags it already has (a nightly re-ingest without tags does not erase them)."""
        # Not embedded here: the knowledge base embeds at write time (inside a bulk, across documents at once).
        prepared = self.prepare_file(path, collection, key, force, tags, embed=False)
        return prepared if isinstance(prepared, FileResult) else self.apply(prepared)

    def prepare_file(
        self,
        path: Path,
        collection: str = "default",
        key: str | None = None,
        force: bool = False,
        tags: dict[str, str] | None = None,
        embed: bool = True,
        stop: Stop | None = None,
    ) -> "FileResult | Prepared":
        """Everything but the write: sniff, hash, parse, chunk, write the HTML, embed (unless `embed` is False).
        A `FileResult` when there is nothing to write (unchanged, failed), else a `Prepared` for `apply()`.
        `stop()` true between pages stops the parse (the file fails as cancelled)."""
        todo = self.check(path, collection, key, force, tags)
        if isinstance(todo, FileResult):
            return todo
        prepared = self.build(todo, stop)
        if embed and isinstance(prepared, Prepared):
            prepared.vecs = self.services.kb.embed_chunks(prepared.chunks, prepared.doc.profile)
        return prepared

    def check(
        self,
        path: Path,
        collection: str = "default",
        key: str | None = None,
        force: bool = False,
        tags: dict[str, str] | None = None,
    ) -> "FileResult | ToParse":
        """The quick part, against the store: sniff and hash the file; unchanged (same key and sha256) is skipped
        unless `force` (its tags updated when new ones are given); else what `build` needs to parse it."""
        t0 = time.perf_counter()
        path = Path(path).resolve()
        ident = key or str(path)
        try:
            sniff(path)
            digest = sha256_file(path)
            store = self.services.kb.store
            old = store.find_document(collection, ident)
            if old and old.sha256 == digest and old.status == "ok" and not force and not _profile_retagged(old, tags):
                reason = _retag(store, old, tags)
                return FileResult(str(path), "skipped", reason, old.pages, 0, time.perf_counter() - t0, doc_id=old.id)
            dup = store.find_duplicate(collection, digest, ident)
            if dup:
                return self._duplicate(path, collection, ident, dup, old is not None, t0)
            return ToParse(path, ident, collection, digest, old, tags, t0)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
            return _failed(path, exc, t0)

    def _duplicate(self, path: Path, collection: str, ident: str, dup: Document, had_own: bool, t0: float) -> FileResult:
        """The file's content is stored already under another name: record `ident` as an alias of that document
        (after taking the name from what it held before, if anything), nothing parsed or embedded."""
        kb = self.services.kb
        if had_own:
            kb.remove_name(collection, ident)
        stat = path.stat()
        kb.store.add_alias(dup.id, collection, ident, Path(ident).name, stat.st_size, stat.st_mtime)
        reason = f"duplicate of {dup.name} ({dup.id}): same content (sha256), recorded as another name, not stored again"
        log.info("%s: %s", path, reason)
        return FileResult(str(path), "duplicate", reason, dup.pages, 0, time.perf_counter() - t0, doc_id=dup.id)

    def build(self, todo: "ToParse", stop: Stop | None = None) -> "FileResult | Prepared":
        """The slow part, without the store (so it can run in another process): parse, chunk, write the HTML."""
        path, t0 = todo.path, todo.t0
        try:
            parsed = self.parse(path, stop)
            _warn_addressing_pages(parsed)
            doc_id = document_id(todo.collection, todo.ident, todo.digest)
            chunks = chunks_with(parsed, doc_id, self.services.settings.chunks)
            if not chunks:
                raise EmptyFile(f"no readable text found in {path.name}")
            layout = to_html(parsed)
            _write_layout(self.services.settings.data_dir, doc_id, layout)
            if parsed.kind in PAGED_KINDS and self.services.settings.pages.keep_originals:
                _keep_original(self.services.settings.data_dir, doc_id, path)
            tags = _tags_for(todo.old, todo.tags)
            metadata = pdf_metadata(path) if parsed.kind == "pdf" else dict(parsed.metadata)
            profile = apply_tags(build_profile(Path(todo.ident).name, layout, metadata, len(parsed.pages)), tags)
            doc = Document(
                id=doc_id,
                name=Path(todo.ident).name,
                path=todo.ident,
                collection=todo.collection,
                sha256=todo.digest,
                status="ok",
                pages=len(parsed.pages),
                tags=tags,
                profile=profile,
                text_sha256=text_sha256([c.text for c in chunks]),
            )
            stat = path.stat()
            result = FileResult(str(path), "ok", "", len(parsed.pages), 0, 0.0, parsed.errors + parsed.notes, doc_id)
            old_id = todo.old.id if todo.old else None
            return Prepared(result, doc, stat.st_size, stat.st_mtime, chunks, None, old_id, t0, parsed.attachments)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
            return _failed(path, exc, t0)

    def apply(self, p: "Prepared") -> FileResult:
        """Write a prepared document (one transaction) and drop its old version's HTML; then its attachments."""
        kb = self.services.kb
        dup = kb.store.find_duplicate(p.doc.collection, p.doc.sha256, p.doc.path)
        if dup:  # the same content was written under another name since `check` (two copies in one batch)
            if dup.id != p.doc.id:
                remove_document_files(self.services.settings.data_dir, p.doc.id)
            return self._duplicate(Path(p.result.path), p.doc.collection, p.doc.path, dup, p.old_id is not None, p.t0)
        try:
            p.result.chunks = (
                kb.put_document(p.doc, p.size, p.mtime, p.chunks)
                if p.vecs is None
                else kb.put_prepared(p.doc, p.size, p.mtime, p.chunks, p.vecs)
            )
        except Exception as exc:  # noqa: BLE001 - reported per file
            log.exception("could not store %s", p.result.path)
            p.result.status, p.result.reason = "failed", f"{type(exc).__name__}: {exc}"
        if p.result.status == "ok" and p.old_id and p.old_id != p.doc.id and kb.store.document(p.old_id) is None:
            remove_document_files(self.services.settings.data_dir, p.old_id)
        near = kb.store.find_near_duplicate(p.doc.collection, p.doc.text_sha256, p.doc.sha256)
        if p.result.status == "ok" and near is not None and near.id != p.doc.id:
            p.result.warnings.append(f"near duplicate of {near.name} ({near.id}): the same text in other bytes; both kept")
        if p.result.status == "ok" and p.attachments and p.doc.path.count(ATTACHED) < MAX_ATTACHMENT_DEPTH:
            p.result.warnings += self._attachments(p.doc, p.attachments)
        p.result.seconds = time.perf_counter() - p.t0
        return p.result

    def _attachments(self, message: Document, files: list[tuple[str, bytes]]) -> list[str]:
        """Ingest each attachment of a message as a document of its own, keyed `<message key>#attachments/<name>`
        and tagged `attached_to=<message id>`; one report line each."""
        folder = self.services.settings.data_dir / "attachments" / message.id
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for n, (filename, data) in enumerate(files, 1):
            safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in Path(filename).name).strip() or f"attachment-{n}"
            path = folder / f"{n}-{safe}"
            path.write_bytes(data)
            tags = {**message.tags, "attached_to": message.id}
            r = self.ingest_file(path, message.collection, key=f"{message.path}{ATTACHED}{safe}", tags=tags)
            lines.append(
                f"attachment {filename}: {r.status}"
                + (f" ({r.reason})" if r.reason else "")
                + (f" {r.doc_id}" if r.doc_id else "")
            )
        return lines

    def ingest_text(self, name: str, text: str, collection: str = "default", tags: dict[str, str] | None = None) -> FileResult:
        """Ingest a plain-text record (one paragraph per line) as a one-page document named `name`;
        `tags` as in `ingest_file`."""
        t0 = time.perf_counter()
        kb = self.services.kb
        digest = hashlib.sha256(text.encode()).hexdigest()
        key = f"text:{name}"
        old = kb.store.find_document(collection, key)
        if old and old.sha256 == digest and not _profile_retagged(old, tags):
            return FileResult(key, "skipped", _retag(kb.store, old, tags), 1, 0, time.perf_counter() - t0)
        blocks = [Block(kind="paragraph", bbox=(0, 0, 0, 0), text=line.strip()) for line in text.splitlines() if line.strip()]
        if not blocks:
            return FileResult(key, "failed", f"empty text record: {name}")
        doc_id = document_id(collection, key, digest)
        parsed = ParsedDocument(name, [Page(1, 0, 0, blocks)], "text")
        chunks = chunks_with(parsed, doc_id, self.services.settings.chunks)
        doc_tags = _tags_for(old, tags)
        layout = to_html(parsed)
        _write_layout(self.services.settings.data_dir, doc_id, layout)  # like a file's: `rag index rebuild` reads it
        profile = apply_tags(build_profile(name, layout, {}, 1), doc_tags)
        doc = Document(
            id=doc_id,
            name=name,
            path=key,
            collection=collection,
            sha256=digest,
            status="ok",
            pages=1,
            tags=doc_tags,
            profile=profile,
        )
        n = kb.put_document(doc, len(text), 0.0, chunks)
        if old and old.id != doc_id:
            remove_document_files(self.services.settings.data_dir, old.id)
        return FileResult(key, "ok", "", 1, n, time.perf_counter() - t0)

    def ingest_paths(
        self,
        paths: list[Path],
        collection: str = "default",
        fail_fast: bool = False,
        progress=None,
        tags: dict[str, str] | None = None,
    ) -> Report:
        """Ingest files and folders (recursively), each tagged with `tags`; every file gets a line in the report.

        With `processes` > 1, files are parsed in that many processes while this one hashes, embeds (across
        documents, in blocks) and writes; files are written, and reported, in the order given."""
        t0 = time.perf_counter()
        files, missing = expand(paths)
        report = Report(files=list(missing))
        if fail_fast and missing:
            report.seconds = time.perf_counter() - t0
            return report
        with self.services.kb.bulk(), ExitStack() as stack:  # one index publication for the whole batch
            if self.processes > 1 and len(files) > 1:
                pool = stack.enter_context(
                    ParsePool(self.services.settings, min(self.processes, len(files)), parse_process_ingestor)
                )
                todo = (self.check(f, collection, tags=tags) for f in files)
                prepared = pool.build_all(todo)
            else:
                prepared = (self.prepare_file(f, collection, tags=tags, embed=False) for f in files)
            for i, p in enumerate(prepared, 1):
                result = p if isinstance(p, FileResult) else self.apply(p)
                report.files.append(result)
                if progress:
                    progress(i, len(files), result)
                if fail_fast and result.status == "failed":
                    break
        report.seconds = time.perf_counter() - t0
        return report


def _warn_addressing_pages(parsed: ParsedDocument) -> None:
    """A page whose text speaks to a model ("ignore previous instructions") gets a warning (its chunks are flagged
    by the chunker and quoted to the model)."""
    for page in parsed.pages:
        phrase = addressed_phrase(" ".join(b.text for b in page.blocks))
        if phrase:
            note = f'text addressing a model ("{phrase}"): given to the model only as quoted document text'
            page.warning = f"{page.warning}; {note}" if page.warning else note


def _tags_for(old: Document | None, tags: dict[str, str] | None) -> dict[str, str]:
    """The tags a new version of a document gets: those given, else those of the version it replaces."""
    if tags is not None:
        return dict(tags)
    return dict(old.tags) if old else {}


def _write_layout(data_dir, doc_id: str, layout: str) -> None:
    path = layout_html_path(data_dir, doc_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(layout, encoding="utf-8")


def _keep_original(data_dir, doc_id: str, path: Path) -> None:
    """A copy of the file a paged document (PDF, page image) was read from, which its page images are rendered
    from (the upload it came from is removed when its job ends); written beside, then renamed into place."""
    target = original_path(data_dir, doc_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, target)


def _profile_retagged(old: Document, tags: dict[str, str] | None) -> bool:
    """Whether new tags change a profile field (org, period, ...): the chunks' labels change, so the document is
    indexed again rather than skipped as unchanged."""
    return tags is not None and any(tags.get(k) != old.tags.get(k) for k in PROFILE_TAGS)


def _retag(store, old: Document, tags: dict[str, str] | None) -> str:
    """For an unchanged document: store new tags when they differ; the report's reason."""
    if tags is None or tags == old.tags:
        return "unchanged"
    store.set_tags(old.id, tags)
    return "unchanged; tags updated"


def relative(path: str) -> str:
    """A path as the user would like to read it: relative to here when it is below here."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def parse_process_ingestor(settings) -> "Ingestor":
    """The Ingestor of one parse process of a `ParsePool` (one worker thread, no processes of its own)."""
    return Ingestor(Services(settings), workers=1, processes=1)


def document_id(collection: str, key: str, digest: str) -> str:
    """A document's id: its collection, its key (path or record name) and its content hash, hashed."""
    return hashlib.sha256(f"{collection}\x00{key}\x00{digest}".encode()).hexdigest()[:16]


def rebuild(services: Services, rechunk: bool = False, progress=None) -> dict:
    """`rag index rebuild`: profiles recomputed and every chunk re-embedded; with `rechunk`, every document is first
    chunked again from its kept layout HTML (no file is parsed again), so a chunker change reaches stored documents."""
    if not rechunk:
        return services.kb.rebuild(progress=progress)
    cfg = services.settings.chunks

    def chunks_of(doc: Document, layout: str) -> list[Chunk]:
        return chunks_with(read_layout_html(layout), doc.id, cfg)

    return services.kb.rebuild(rechunk=chunks_of, progress=progress)
