"""The one place where backends are chosen from settings. Built once by the CLI or the app lifespan."""

import logging
import platform
from functools import cached_property

import rag
from rag.answer import ask, search
from rag.embedder import SentenceTransformerEmbedder
from rag.generator import Generator, OnToken, make_generator
from rag.knowledge import KnowledgeBase
from rag.models import ModelRegistry
from rag.settings import Settings
from rag.types import Answer, Filters, SearchResult

log = logging.getLogger(__name__)


class Services:
    """Cheap to build: every backend loads its weights on first use (or `warm_up()`)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.settings)

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(self.settings.embedder, self.registry)

    @cached_property
    def generator(self) -> Generator:
        return make_generator(self.settings.generator, self.registry)

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.settings, self.embedder)

    def warm_up(self) -> None:
        """Verify and load every model the query path needs, and make the index agree with the store."""
        self.embedder.warm_up()
        self.generator.warm_up()
        self.kb.repair()
        self.kb.index()

    def search(self, question: str, k: int | None = None, collection: str | None = None,
               filters: Filters | None = None) -> SearchResult:
        return search(self.kb, question, k or self.settings.top_k, collection, filters)

    def ask(self, question: str, k: int | None = None, collection: str | None = None,
            filters: Filters | None = None, mode: str | None = None, summarize: bool = False,
            on_token: OnToken | None = None) -> Answer:
        """A checked, cited answer; `on_token` receives generated text as it is produced."""
        g = self.settings.generator
        return ask(self.kb, self.generator, question, k or self.settings.top_k, collection,
                   max_tokens=g.max_tokens, n_ctx=g.n_ctx, filters=filters, settings=self.settings.answer,
                   mode=mode, summarize=summarize, on_token=on_token)

    def info(self) -> dict:
        """Versions, models with their sha256, and the index size (for `GET /v1/info`)."""
        import importlib.metadata as md

        def version(pkg: str) -> str | None:
            try:
                return md.version(pkg)
            except md.PackageNotFoundError:
                return None

        pkgs = ["torch", "sentence-transformers", "faiss-cpu", "llama-cpp-python", "pdfplumber", "rapidocr", "fastapi"]
        models = [dict(m, in_use=m["name"] in (self.settings.embedder.model, self.settings.generator.model))
                  for m in self.registry.status()]
        return {"service": "grounded-rag", "version": rag.__version__, "python": platform.python_version(),
                "packages": {p: version(p) for p in pkgs}, "models": models, "index": self.kb.info(),
                "settings": {"data_dir": str(self.settings.data_dir), "top_k": self.settings.top_k,
                             "generator": self.settings.generator.model, "embedder": self.settings.embedder.model,
                             "generator_backend": self.settings.generator.backend,
                             "ocr_engine": self.settings.parse.ocr_engine}}
