"""The one place where backends are chosen from settings. Built once by the CLI or the app lifespan.

The generator is the current model version's (`rag.models.versions`): the version pointer is read at every
question, and when `rag models use` or `rollback` changed it, a new generator is built and loaded while the
requests already running finish on the one they hold (nothing restarts, nothing in flight is lost).
"""

import logging
import platform
import threading
from functools import cached_property

import rag
from rag.answering.answer import ask, search
from rag.core.errors import ModelError
from rag.core.settings import GeneratorSettings, Settings
from rag.core.types import Answer, Filters, SearchResult
from rag.generation.build_check import BuildCheckFailed
from rag.generation.factory import make_generator
from rag.generation.protocol import OPENAI, Generator, OnToken, backend_kind
from rag.models.registry import ModelRegistry
from rag.models.versions import ModelVersion, ModelVersions
from rag.retrieval.embedder import SentenceTransformerEmbedder
from rag.retrieval.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)


class Services:
    """Cheap to build: every backend loads its weights on first use (or `warm_up()`).

    `generator` fixes the generator (tests, embedding): model versions are then not consulted.
    """

    def __init__(self, settings: Settings | None = None, generator: Generator | None = None):
        self.settings = settings or Settings()
        self._fixed = generator
        self._served: tuple[ModelVersion, Generator] | None = None
        self._switch = threading.Lock()
        self.generator_error: BuildCheckFailed | None = None

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.settings)

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(self.settings.embedder, self.registry)

    @cached_property
    def versions(self) -> ModelVersions:
        return ModelVersions(self.settings, self.registry)

    @property
    def generator(self) -> Generator:
        """The current model version's generator; a new one (loaded before it serves) after a switch."""
        if self._fixed is not None:
            return self._fixed
        version = self.versions.current()
        served = self._served
        if served is not None and served[0].key == version.key:
            return served[1]
        with self._switch:  # one switch at a time; requests arriving meanwhile wait for it
            served = self._served
            if served is not None and served[0].key == version.key:
                return served[1]
            generator = make_generator(version_settings(self.settings.generator, version), self.registry, version=version.id)
            if served is not None:
                log.info("switching the answer model from version %s to %s", served[0].id, version.id)
                generator.warm_up()  # the old generator serves whoever holds it until this is loaded
            self._served = (version, generator)
            return generator

    @property
    def model_version(self) -> ModelVersion:
        """The version being served (or, before the first answer, the one that will be)."""
        if self._served is not None:
            return self._served[0]
        return self.versions.current()

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.settings, self.embedder)

    def warm_up(self) -> None:
        """Verify and load every model the query path needs, and make the index agree with the store.

        A generator whose llama.cpp build cannot run here (its test generation crashed in a child process) does not
        stop the warm-up: answers then fail with the reason (503) and search keeps serving (`answers_unavailable`).
        """
        self.embedder.warm_up()
        try:
            self.generator.warm_up()
        except BuildCheckFailed as exc:
            self.generator_error = exc
        self.kb.repair()
        self.kb.index()

    @property
    def answers_unavailable(self) -> str | None:
        """Why answers cannot be generated on this machine (found at warm-up), or None."""
        return self.generator_error.message if self.generator_error is not None else None

    def search(
        self, question: str, k: int | None = None, collection: str | None = None, filters: Filters | None = None
    ) -> SearchResult:
        return search(self.kb, question, k or self.settings.top_k, collection, filters)

    def ask(
        self,
        question: str,
        k: int | None = None,
        collection: str | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
        summarize: bool = False,
        on_token: OnToken | None = None,
    ) -> Answer:
        """A checked, cited answer; `on_token` receives generated text as it is produced."""
        g = self.settings.generator
        return ask(
            self.kb,
            self.generator,
            question,
            k or self.settings.top_k,
            collection,
            max_tokens=g.max_tokens,
            n_ctx=g.n_ctx,
            filters=filters,
            settings=self.settings.answer,
            mode=mode,
            summarize=summarize,
            on_token=on_token,
        )

    def info(self) -> dict:
        """Versions, models with their sha256, and the index size (for `GET /v1/info`)."""
        import importlib.metadata as md

        def version(pkg: str) -> str | None:
            try:
                return md.version(pkg)
            except md.PackageNotFoundError:
                return None

        pkgs = ["torch", "sentence-transformers", "faiss-cpu", "llama-cpp-python", "pdfplumber", "rapidocr", "fastapi"]
        served = None if self._fixed is not None else self.model_version
        generator = served.base if served else self.settings.generator.model
        models = [dict(m, in_use=m["name"] in (self.settings.embedder.model, generator)) for m in self.registry.status()]
        return {
            "service": "grounded-rag",
            "version": rag.__version__,
            "python": platform.python_version(),
            "packages": {p: version(p) for p in pkgs},
            "models": models,
            "model_version": served.as_dict() if served else None,
            "index": self.kb.info(),
            "settings": {
                "data_dir": str(self.settings.data_dir),
                "top_k": self.settings.top_k,
                "generator": generator,
                "embedder": self.settings.embedder.model,
                "generator_backend": self.settings.generator.backend,
                "ocr_engine": self.settings.parse.ocr_engine,
            },
        }


def version_settings(settings: GeneratorSettings, version: ModelVersion) -> GeneratorSettings:
    """The generator settings that serve `version`: its base, and its adapter pinned by sha256."""
    if version.source == "settings":
        return settings
    if backend_kind(settings.backend) == OPENAI:
        raise ModelError(
            f"model version {version.id!r} is chosen (`rag models use`), but the generator backend is "
            "an OpenAI-compatible endpoint, which serves its own model: use the llama.cpp backend, "
            "or `rag models rollback` until the settings decide again"
        )
    return settings.model_copy(
        update={"model": version.base, "lora_path": version.adapter, "lora_sha256": version.adapter_sha256}
    )
