"""The one place where backends are chosen from settings. Built once by the CLI or the app lifespan.

The generator is the current model version's (`rag.models.versions`): the version pointer is read at every
question, and when `rag models use` or `rollback` changed it, a new generator is built and loaded while the
requests already running finish on the one they hold (nothing restarts, nothing in flight is lost).

The embedder is the current embedder version's (`rag.models.embedder_versions`). Switching it is blue/green:
`use_embedder` re-embeds every chunk with the new version into a new index version while the live one keeps
serving, publishes it, then moves the pointer. Every process follows the pointer at its next use of the knowledge
base (a new embedder is loaded, then a knowledge base on it); until then the index it finds was made by another
embedder and search refuses it (409), so mismatched vectors are never searched.
"""

import logging
import platform
import threading
from functools import cached_property

import rag
from rag.answering.answer import ask, search
from rag.core.errors import ModelError, RagError
from rag.core.settings import GeneratorSettings, Settings
from rag.core.types import Answer, Filters, SearchResult
from rag.generation.build_check import BuildCheckFailed
from rag.generation.factory import isolated_generator, make_generator
from rag.generation.protocol import OPENAI, Generator, OnToken, backend_kind
from rag.models.embedder_versions import EmbedderVersion, EmbedderVersions
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
        self.isolate_generator = False  # the server sets it (RAG_GENERATOR__ISOLATE): a model crash then costs a request
        self._served: tuple[ModelVersion, Generator] | None = None
        self._switch = threading.Lock()
        self.generator_error: BuildCheckFailed | None = None
        self._kb: KnowledgeBase | None = None
        self._kb_switch = threading.Lock()
        self._own_embedder: SentenceTransformerEmbedder | None = None  # the one built here (not one a caller set)

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.settings)

    @cached_property
    def embedder_versions(self) -> EmbedderVersions:
        return EmbedderVersions(self.settings, self.registry)

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        """The current embedder version's embedder (a caller may set its own in `__dict__`: it is then kept)."""
        self._own_embedder = self.make_embedder(self.embedder_versions.current())
        return self._own_embedder

    def make_embedder(self, version: EmbedderVersion) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(self.settings.embedder, self.registry, version)

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
            make = isolated_generator if self.isolate_generator else make_generator
            generator = make(version_settings(self.settings.generator, version), self.registry, version=version.id)
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

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base on the current embedder version. When the embedder pointer moved (`rag models use
        --embedder`, in any process), the next use loads the new embedder, then builds a knowledge base on it;
        callers holding the old one finish with it."""
        kb = self._kb
        if kb is not None and not self._embedder_moved():
            return kb
        with self._kb_switch:
            if self._kb is None:
                self._kb = KnowledgeBase(self.settings, self.embedder)
            elif self._embedder_moved():
                version = self.embedder_versions.current()
                embedder = self.make_embedder(version)
                embedder.warm_up()  # the old knowledge base serves whoever holds it until this is loaded
                log.info("switching the embedder to version %s", version.id)
                self._adopt(embedder)
            return self._kb

    def _adopt(self, embedder: SentenceTransformerEmbedder, kb: KnowledgeBase | None = None) -> None:
        self.__dict__["embedder"] = self._own_embedder = embedder
        self._kb = kb or KnowledgeBase(self.settings, embedder)

    def _embedder_moved(self) -> bool:
        """Whether the embedder pointer names another version than the one loaded here (never for an embedder a
        caller set)."""
        own = self._own_embedder
        if own is None or id(self.__dict__.get("embedder")) != id(own):
            return False
        loaded = own.version
        if loaded is None:
            return False
        try:
            return loaded.key != self.embedder_versions.current().key
        except RagError as exc:  # an unreadable pointer: keep serving what is loaded, and say why
            log.warning("embedder version pointer: %s; keeping %s", exc.message, loaded.id)
            return False

    def use_embedder(self, version_id: str) -> dict:
        """Embed with `version_id` from now on, blue/green: every chunk is re-embedded with it into a new index
        version (readers keep the live one meanwhile), which is published; then the pointer moves."""
        versions = self.embedder_versions
        target = versions.verify(versions.get(version_id))
        return self._switch_embedder(target, lambda: versions.use(target.id))

    def rollback_embedder(self) -> dict:
        """Back to the embedder version before the last switch, the same way (re-embed, publish, point)."""
        versions = self.embedder_versions
        return self._switch_embedder(versions.previous(), versions.rollback)

    def _switch_embedder(self, target: EmbedderVersion, point) -> dict:
        embedder = self.make_embedder(target)
        embedder.warm_up()
        kb = KnowledgeBase(self.settings, embedder)
        rebuilt = kb.rebuild()
        version = point()
        with self._kb_switch:
            self._adopt(embedder, kb)
        return {"version": version.as_dict(), "index": rebuilt, "index_version": kb.versions.manifest().get("version")}

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

    def info(self, collections: frozenset[str] | None = None) -> dict:
        """Versions, models with their sha256, and the index size (for `GET /v1/info`). With `collections` (an API
        key's scope): documents and chunks of those collections only, and no path or total of the server."""
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
        if collections is not None:
            return {
                "service": "grounded-rag",
                "version": rag.__version__,
                "models": [{k: v for k, v in m.items() if k not in SERVER_ONLY} for m in models],
                "model_version": {"id": served.id, "base": served.base} if served else None,
                "index": self.kb.scoped_info(sorted(collections)),
            }
        return {
            "service": "grounded-rag",
            "version": rag.__version__,
            "python": platform.python_version(),
            "packages": {p: version(p) for p in pkgs},
            "models": models,
            "model_version": served.as_dict() if served else None,
            "embedder_version": self.embedder_versions.current().id,
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


SERVER_ONLY = ("path", "error")  # what a model's row shows only to the operator: where the server keeps its files


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
