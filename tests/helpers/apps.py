"""An app on a fake embedder (no model weights), for fast API tests: documents are put straight into the store."""

import hashlib

import numpy as np
from fastapi.testclient import TestClient

from api.http.app import create_app
from rag.core.settings import Settings
from rag.core.types import Chunk, Document, DocumentProfile, ModelRef
from rag.generation.protocol import Generation
from rag.service.services import Services

TEST_HOST = "testserver"  # the Host header of starlette's TestClient


class HashEmbedder:
    """Bag of hashed words, L2-normalised: deterministic, instant, good enough to rank a few chunks."""

    name, sha256, dim = "hash-embedder", "0" * 64, 64

    def warm_up(self) -> None:
        pass

    def identity(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "backend": "hash"}

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype="float32")
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class EchoGenerator:
    """Answers with the first source's first sentence and cites it: deterministic, no model."""

    name = "echo"

    def warm_up(self) -> None:
        pass

    def ref(self) -> ModelRef:
        return ModelRef(name="echo", backend="test")

    def generate(self, messages, max_tokens=256, stop=None, on_token=None) -> Generation:
        text = "Not found in the documents."
        for line in messages[-1]["content"].splitlines():
            if line.startswith("[1]"):
                text = line.split("]", 1)[-1].split(":", 1)[-1].strip().split(". ")[0] + " [1]"
                break
        if on_token is not None:
            on_token(text)
        return Generation(text, 10, 5, 1.0, 1.0, 2.0)


def make_app(data_dir, host: str | None = "127.0.0.1", **settings):
    """(app, services) on `data_dir` with the fake embedder and generator; `host` decides whether keys are required.
    TestClient's host name (`testserver`) is answered besides the loopback names unless `http` settings are given."""
    settings.setdefault("http", {"allowed_hosts": [TEST_HOST, "localhost", "127.0.0.1", "::1"]})
    services = Services(Settings(data_dir=data_dir, **settings), generator=EchoGenerator())
    services.__dict__["embedder"] = HashEmbedder()  # replaces the cached_property before anything uses it
    app = create_app(warm_up=False, host=host, services=services)
    return app, services


def put(services, collection: str, name: str, sentences: list[str], profile: DocumentProfile | None = None) -> Document:
    """A one-page document in `collection` with one chunk per sentence (and the profile given, else an empty one)."""
    doc_id = hashlib.sha256(f"{collection}/{name}".encode()).hexdigest()[:16]
    doc = Document(
        id=doc_id,
        name=name,
        path=f"/docs/{collection}/{name}",
        collection=collection,
        sha256=doc_id,
        status="ok",
        pages=1,
        profile=profile or DocumentProfile(),
    )
    chunks = [Chunk(id=f"{doc_id}-{i}", doc_id=doc_id, page=1, bbox=[0, 0, 1, 1], text=t) for i, t in enumerate(sentences)]
    services.kb.put_document(doc, 1, 0.0, chunks)
    return doc


def put_pages(services, name: str, pages: list[tuple[str, str]]) -> Document:
    """A 10-K of Contoso Ltd (FY2022) in collection "c" with one chunk a page: (heading, text) for each page."""
    doc_id = hashlib.sha256(name.encode()).hexdigest()[:16]
    doc = Document(
        id=doc_id, name=name, path=f"/d/{name}", collection="c", sha256=doc_id, status="ok", pages=len(pages),
        profile=DocumentProfile(organizations=["Contoso Ltd"], kind="10-K", period="FY2022", year=2022),
    )  # fmt: skip
    rows = [
        Chunk(id=f"{doc_id}-{i}", doc_id=doc_id, page=i + 1, bbox=[0, 0, 1, 1], heading=heading, text=text)
        for i, (heading, text) in enumerate(pages)
    ]
    services.kb.put_document(doc, 1, 0.0, rows)
    return doc


def client(app, key: str | None = None) -> TestClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False)


def wait_ready(proc, base: str, log_path, timeout_s: float = 300, path: str = "/readyz") -> None:
    """Wait until a started server (`rag serve`: /readyz) answers `base + path` with 200; AssertionError with its log
    if it exits or times out."""
    import time
    from pathlib import Path

    import httpx

    deadline = time.time() + timeout_s
    while True:
        if proc.poll() is not None:
            raise AssertionError("server exited:\n" + Path(log_path).read_text())
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.time() > deadline:
            raise AssertionError("server did not become ready:\n" + Path(log_path).read_text())
        time.sleep(0.5)


def asgi_call(app, method: str, path: str, headers: dict[str, str], chunks) -> tuple[list[dict], list[bytes]]:
    """Call `app` as a server would, the body sent in `chunks` (an iterable, read only as the app asks for it,
    no Content-Length unless given; then the client is gone): (the messages sent back, the chunks read)."""
    import asyncio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", TEST_HOST.encode())] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": (TEST_HOST, 80),
    }
    source, read, sent = iter(chunks), [], []
    pending = [next(source, None)]

    async def receive():
        chunk = pending[0]
        if chunk is None:
            return {"type": "http.disconnect"}
        read.append(chunk)
        pending[0] = next(source, None)
        return {"type": "http.request", "body": chunk, "more_body": pending[0] is not None}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent, read


def stored_content(services) -> dict:
    """What the knowledge base holds: document ids, chunks, vectors of the live index."""
    return {
        "documents": [d.id for d in services.kb.store.documents()],
        "chunks": services.kb.store.count_chunks(),
        "vectors": services.kb.index().size,
    }


def stored_state(services) -> dict:
    """What a refused request must leave as it was: the stored content, the job rows and the uploaded files."""
    from pathlib import Path

    uploads = Path(services.settings.data_dir) / "uploads"
    return {
        **stored_content(services),
        "jobs": services.kb.store.sql.one("SELECT COUNT(*) FROM jobs")[0],
        "uploads": sorted(p.name for p in uploads.glob("*/*")),
    }
